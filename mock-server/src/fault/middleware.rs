//! The fault injector in front of the WeChat-API handlers: installed rules first, then magic
//! codes, then the normal handler. An injected answer comes before the handler looks at the
//! request, so a login code hit by a fault stays redeemable.

use std::future::Future;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::Response;

use super::facts::{query_param, RequestFacts, JSCODE2SESSION};
use super::magic;
use super::rule::Outcome;
use crate::errcode::{WxError, DATA_FORMAT_ERROR};
use crate::journal::Ticket;
use crate::state::AppState;
use crate::wire::Family;

/// Largest request body the fake reads (WeChat bodies are tiny; this only bounds abuse).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Names the fault that answered a request, as a response extension the journal reads:
/// a rule id (`f-1`) or `magic-code`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied(pub String);

/// What [`Applied`] says for a magic code.
pub const MAGIC_CODE: &str = "magic-code";

/// Answers with an injected fault (or a magic code's errcode) before the handler looks at the
/// request; otherwise passes it on.
pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    apply(&state, request, |request| next.run(request)).await
}

/// [`middleware`] as a plain function around `normal`, the handler that gives the normal
/// answer: the journal calls it directly, with the WeChat handlers as `normal`, so a request
/// goes through no layer at all (each layer boxes the service it wraps and its future).
pub async fn apply<N, F>(state: &AppState, request: Request, normal: N) -> Response
where
    N: FnOnce(Request) -> F,
    F: Future<Output = Response>,
{
    let path = request.uri().path();
    if state.faults.has_rules_for(path) {
        // Boxed: the rule path's future (holds, sleeps) is large, and no request pays for its
        // space unless a rule is installed for its path.
        return Box::pin(with_rules(state, request, normal)).await;
    }
    if let Some(response) = magic_answer(state, request.uri()) {
        return response;
    }
    normal(request).await
}

/// [`apply`] without waiting, for a request no rule targets (the caller has checked
/// [`crate::fault::FaultStore::has_rules_for`]): the magic code's answer, or `normal`'s.
pub(crate) fn apply_at_once(
    state: &AppState,
    uri: &Uri,
    normal: impl FnOnce() -> Response,
) -> Response {
    magic_answer(state, uri).unwrap_or_else(normal)
}

fn magic_answer(state: &AppState, uri: &Uri) -> Option<Response> {
    if uri.path() != JSCODE2SESSION {
        return None;
    }
    let query = uri.query();
    // Cheap test first: ordinary requests never contain the prefix.
    if !query?.contains(magic::PREFIX) {
        return None;
    }
    let errcode = magic::errcode_of(&query_param(query, "js_code")?)?;
    let mut response = state.wire.error(Family::Sns, &WxError::new(errcode));
    response
        .extensions_mut()
        .insert(Applied(MAGIC_CODE.to_owned()));
    Some(response)
}

async fn with_rules<N, F>(state: &AppState, request: Request, normal: N) -> Response
where
    N: FnOnce(Request) -> F,
    F: Future<Output = Response>,
{
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return state
            .wire
            .error(Family::of_path(&path), &WxError::new(DATA_FORMAT_ERROR));
    };
    let facts = RequestFacts::gather(&state.engine, &path, parts.uri.query(), &bytes);
    let decision = state.faults.decide(&path, &facts);
    let request = Request::from_parts(parts, Body::from(bytes));
    match decision {
        None | Some((_, Outcome::Normal)) => match magic_answer(state, request.uri()) {
            Some(response) => response,
            None => normal(request).await,
        },
        Some((id, Outcome::Act(action))) => {
            // Tell the journal now: a held connection shows its fault before it ends.
            if let Some(Ticket(entry)) = request.extensions().get::<Ticket>() {
                state.journal.mark_fault(*entry, &id);
            }
            tracing::debug!(fault = %id, path = %crate::log::Escaped(&path), "injecting fault");
            let mut response = action.perform(state, request, normal).await;
            response.extensions_mut().insert(Applied(id));
            response
        }
    }
}
