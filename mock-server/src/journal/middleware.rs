//! Records every WeChat-API request on arrival and completes the entry with the answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{to_bytes, Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt as _;

use super::entry::{Target, NO_ANSWER};
use super::store::Arrival;
use crate::errcode::{WxError, DATA_FORMAT_ERROR};
use crate::fault::{self, Applied};
use crate::state::AppState;
use crate::wire::Family;

/// The journal entry of a request in flight, as a request extension, so the fault injector can
/// mark a connection it holds. Only attached while fault rules are installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket(pub u64);

/// Records every WeChat-API request and the answer given (the fault injector runs inside it,
/// around the handler `next` leads to).
pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    record(&state, request, |request| next.run(request)).await
}

/// [`middleware`] as a plain function around `normal`, the handler that gives the normal
/// answer (the fault injector runs between them), so the WeChat API needs no layer.
///
/// Both bodies are buffered: WeChat's bodies are small, and the journal must keep them. A body
/// that fails mid-way (a `reset` fault) is recorded as [`NO_ANSWER`] and the failure is passed
/// on so the client still sees the connection drop.
pub async fn record<N, F>(state: &AppState, request: Request, normal: N) -> Response
where
    N: FnOnce(Request) -> F,
    F: Future<Output = Response>,
{
    let (mut parts, body) = request.into_parts();
    // Most WeChat calls are GETs without a body: skip the collect-and-rewrap for them.
    let body = if body.is_end_stream() {
        Bytes::new()
    } else {
        // Boxed: only the requests that carry a body pay for this future's space.
        match Box::pin(to_bytes(body, fault::MAX_BODY_BYTES)).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return state.wire.error(
                    Family::of_path(parts.uri.path()),
                    &WxError::new(DATA_FORMAT_ERROR),
                )
            }
        }
    };
    let id = arrive(state, &mut parts, &body);
    let response = if parts.method == Method::CONNECT {
        // Not a proxy: answered here, before any fault or handler, with a status hyper does not
        // take as a tunnel being opened.
        crate::api::connect_refused(state)
    } else {
        // An empty `Body` costs no allocation; a `Body` of empty bytes would.
        let body = if body.is_empty() {
            Body::empty()
        } else {
            Body::from(body)
        };
        // The fault injector, called here rather than as a layer of its own.
        fault::apply(state, Request::from_parts(parts, body), normal).await
    };
    complete(state, id, response, Bytes::new()).await
}

/// [`record`] without waiting, for a request that gives nothing to wait for: no body, no fault
/// rule for its path (the caller has checked both), and `normal` answers at once. The steps and
/// their order are [`record`]'s. When the answer's body is not there at once (never the case for
/// the fake's own answers), the entry's id and the answer so far come back, for [`complete`].
///
/// `time` is the request's arrival time and `appid` the app it is filed under, as
/// [`fault::shared_appid_of`] finds it (the caller has read the clock and parsed the query
/// already). No [`Ticket`] is attached: only a fault rule for the path reads it, and there is
/// none.
pub(crate) fn record_at_once(
    state: &AppState,
    parts: &Parts,
    time: i64,
    appid: Option<Arc<str>>,
    normal: impl FnOnce() -> Response,
) -> Result<Response, Box<Unfinished>> {
    let id = arrival(state, parts, &Bytes::new(), time, appid);
    let response = if parts.method == Method::CONNECT {
        crate::api::connect_refused(state)
    } else {
        fault::apply_at_once(state, &parts.uri, normal)
    };
    let (parts, mut body) = response.into_parts();
    let mut first = Bytes::new();
    let waker = std::task::Waker::noop();
    match Pin::new(&mut body).poll_frame(&mut Context::from_waker(waker)) {
        Poll::Ready(None) => {}
        Poll::Ready(Some(Ok(frame))) => {
            // Trailers carry no body bytes.
            if let Ok(data) = frame.into_data() {
                first = data;
            }
        }
        Poll::Ready(Some(Err(_))) => {
            state
                .journal
                .complete(id, NO_ANSWER, Bytes::new(), applied(&parts));
            return Ok(fault::dropped_connection());
        }
        Poll::Pending => {}
    }
    if !body.is_end_stream() {
        return Err(Box::new(Unfinished {
            id,
            response: Response::from_parts(parts, body),
            first,
        }));
    }
    state
        .journal
        .complete(id, parts.status.as_u16(), first.clone(), applied(&parts));
    Ok(Response::from_parts(parts, body_of(first)))
}

/// An answer [`record_at_once`] could not finish: its journal entry's id, the answer, and the
/// body bytes already taken from it.
pub(crate) struct Unfinished {
    pub id: u64,
    pub response: Response,
    pub first: Bytes,
}

impl Unfinished {
    /// Reads the rest of the answer, completes the journal entry and gives the answer back.
    pub async fn finish(self, state: &AppState) -> Response {
        complete(state, self.id, self.response, self.first).await
    }
}

/// Files an arriving request under its appid and, while fault rules are installed, tags it with
/// its entry's [`Ticket`]; returns the entry's id.
fn arrive(state: &AppState, parts: &mut Parts, body: &Bytes) -> u64 {
    let appid = fault::shared_appid_of(&state.engine, parts.uri.query(), body);
    let id = arrival(state, parts, body, state.clock.now(), appid);
    if state.faults.is_active() {
        parts.extensions.insert(Ticket(id));
    }
    id
}

/// Records a request that arrived at `time` under `appid`; returns the entry's id.
fn arrival(
    state: &AppState,
    parts: &Parts,
    body: &Bytes,
    time: i64,
    appid: Option<Arc<str>>,
) -> u64 {
    state.journal.arrive(Arrival {
        time,
        method: parts.method.clone(),
        target: Target::of(&parts.uri),
        // The journal copies what it keeps of it.
        body: body.clone(),
        appid,
    })
}

/// The fault that answered, as the journal names it.
fn applied(parts: &axum::http::response::Parts) -> Option<String> {
    parts.extensions.get::<Applied>().map(|a| a.0.clone())
}

/// Completes entry `id` with the answer (its body read in full after the bytes `first` already
/// taken from it) and gives the answer back.
async fn complete(state: &AppState, id: u64, response: Response, first: Bytes) -> Response {
    let (parts, body) = response.into_parts();
    let applied = applied(&parts);
    match answer_bytes(first, body).await {
        Ok(bytes) => {
            state
                .journal
                .complete(id, parts.status.as_u16(), bytes.clone(), applied);
            Response::from_parts(parts, body_of(bytes))
        }
        Err(_) => {
            state.journal.complete(id, NO_ANSWER, Bytes::new(), applied);
            fault::dropped_connection()
        }
    }
}

/// A body of these bytes (no allocation when there are none).
fn body_of(bytes: Bytes) -> Body {
    if bytes.is_empty() {
        Body::empty()
    } else {
        Body::from(bytes)
    }
}

/// The whole body of an answer, after the bytes `first` already taken from it: the fake's own
/// answers are a single frame, passed on as it is (no buffer list, no copy); a body of several
/// frames is joined.
async fn answer_bytes(mut first: Bytes, mut body: Body) -> Result<Bytes, axum::Error> {
    let mut joined: Option<Vec<u8>> = None;
    while let Some(frame) = body.frame().await {
        // Trailers carry no body bytes.
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        match &mut joined {
            Some(joined) => joined.extend_from_slice(&data),
            None if first.is_empty() => first = data,
            None => {
                let mut both = Vec::with_capacity(first.len() + data.len());
                both.extend_from_slice(&first);
                both.extend_from_slice(&data);
                joined = Some(both);
            }
        }
    }
    Ok(joined.map_or(first, Bytes::from))
}
