//! The WeChat API as one plain function: the journal around the fault injector around the
//! handler of the request's path. The server's front calls [`answer`] straight from hyper for
//! every WeChat path, and the axum router (`crate::server::app`) calls the same function, so a
//! request answered either way goes through exactly the same code.

use axum::extract::Request;
use axum::http::Uri;
use axum::response::Response;

use super::{sns, token, wxa};
use crate::errcode::{WxError, INVALID_URL};
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
        "/sns/jscode2session" => sns::jscode2session(state, request.uri()),
        "/cgi-bin/token" => token::token(state, request.uri()),
        // The POST endpoints' futures (body reads) boxed: GET requests do not carry them.
        "/cgi-bin/stable_token" => Box::pin(token::stable_token(state, request)).await,
        "/wxa/checksession" => wxa::check_session(state, request.uri()),
        "/wxa/resetusersessionkey" => wxa::reset_session_key(state, request.uri()),
        "/wxa/business/getuserphonenumber" => Box::pin(wxa::get_phone_number(state, request)).await,
        _ => unknown(state, request.uri()),
    }
}

/// Any other path: `40066 invalid url`, in the content type of the family the path looks like.
pub fn unknown(state: &AppState, uri: &Uri) -> Response {
    state
        .wire
        .error(Family::of_path(uri.path()), &WxError::new(INVALID_URL))
}
