//! The WeChat API as one plain function: the journal around the fault injector around the
//! handler of the request's path. The server's front calls [`answer`] straight from hyper for
//! every WeChat path, and the axum router (`crate::server::app`) calls the same function, so a
//! request answered either way goes through exactly the same code.

use axum::body::HttpBody;
use axum::extract::Request;
use axum::http::Uri;
use axum::response::Response;

use super::request::Query;
use super::{sns, token, wxa};
use crate::errcode::{WxError, INVALID_URL};
use crate::journal::Unfinished;
use crate::state::AppState;
use crate::wire::Family;

/// Answers a WeChat-API request as the fake does: logged (when someone listens), journaled,
/// faults applied, then the handler of its path (40066 for an unknown one).
pub async fn answer(state: &AppState, request: Request) -> Response {
    // Only when someone listens: building the log line costs CPU on every request.
    if tracing::enabled!(tracing::Level::INFO) {
        // Boxed, like every path most requests do not take, so that they do not carry its space.
        return Box::pin(crate::log::around(request, |request| {
            journaled(state, request)
        }))
        .await;
    }
    journaled(state, request).await
}

async fn journaled(state: &AppState, request: Request) -> Response {
    crate::journal::record(state, request, |request| handle(state, request)).await
}

/// The handler of the request's path, without journal or faults (paths are case-sensitive).
pub async fn handle(state: &AppState, request: Request) -> Response {
    match request.uri().path() {
        // The POST endpoints' futures (body reads) boxed: GET requests do not carry them.
        STABLE_TOKEN => Box::pin(token::stable_token(state, request)).await,
        PHONE_NUMBER => Box::pin(wxa::get_phone_number(state, request)).await,
        _ => handle_query(state, request.uri(), &Query::parse(request.uri().query())),
    }
}

/// The endpoints that read a body; every other path is answered from its query alone.
const STABLE_TOKEN: &str = "/cgi-bin/stable_token";
const PHONE_NUMBER: &str = "/wxa/business/getuserphonenumber";

/// The handler of a path answered from its query alone (any but the two POST endpoints), given
/// the query of `uri` parsed.
fn handle_query(state: &AppState, uri: &Uri, query: &Query<'_>) -> Response {
    match uri.path() {
        "/sns/jscode2session" => sns::jscode2session(state, &query.params),
        "/cgi-bin/token" => token::token(state, &query.params),
        "/wxa/checksession" => wxa::check_session(state, query),
        "/wxa/resetusersessionkey" => wxa::reset_session_key(state, query),
        _ => unknown(state, uri),
    }
}

/// What [`answer_at_once`] did with a request.
pub(crate) enum AtOnce<B> {
    /// Answered (and journaled) without waiting.
    Answered(Response),
    /// Answered, but the answer's body is still coming: finish it to journal it.
    Unfinished(Box<Unfinished>),
    /// Not a request for this path: here it is back, untouched, for [`answer`].
    Declined(Request<B>),
}

/// [`answer`] without waiting, for a request that gives nothing to wait for: no log line to
/// write, no body, no fault rule for its path, and a path answered from its query alone — the
/// usual WeChat call. Its answer is then ready before the server reads on, and the request
/// (whose head still shares the connection's read buffer) is gone by then.
pub(crate) fn answer_at_once<B: HttpBody>(state: &AppState, request: Request<B>) -> AtOnce<B> {
    let path = request.uri().path();
    if tracing::enabled!(tracing::Level::INFO)
        || !request.body().is_end_stream()
        || path == STABLE_TOKEN
        || path == PHONE_NUMBER
        || state.faults.has_rules_for(path)
    {
        return AtOnce::Declined(request);
    }
    let (parts, _empty) = request.into_parts();
    // Parsed once for the journal (its appid) and the handler, which also share the record of
    // the query's access token.
    // The clock, too, is read once: for the journal's arrival time and the handler's checks.
    let now = state.clock.now();
    let mut query = Query::parse(parts.uri.query()).at(now);
    let appid = query.journal_appid(&state.engine);
    match crate::journal::record_at_once(state, &parts, now, appid, || {
        handle_query(state, &parts.uri, &query)
    }) {
        Ok(response) => AtOnce::Answered(response),
        Err(unfinished) => AtOnce::Unfinished(unfinished),
    }
}

/// Any other path: `40066 invalid url`, in the content type of the family the path looks like.
pub fn unknown(state: &AppState, uri: &Uri) -> Response {
    state
        .wire
        .error(Family::of_path(uri.path()), &WxError::new(INVALID_URL))
}
