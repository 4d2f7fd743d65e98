//! The WeChat API the fake serves, one file per API area (`sns`, `token`, `wxa`) plus the
//! request parsing they share (`request`). Handlers parse, call the engine, and encode through
//! `crate::wire`; every answer is HTTP 200 in WeChat's envelope.

mod request;
mod sns;
mod token;
mod wxa;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use axum::routing::any;
use axum::Router;

use crate::errcode::{WxError, INVALID_URL, REQUIRE_POST};
use crate::state::AppState;
use crate::wire::Family;

pub use request::QueryParams;

/// The WeChat endpoints. Methods are checked inside the handlers (GET endpoints read only the
/// query whatever the method, as WeChat does; POST-only ones answer 43002 to anything else).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sns/jscode2session", any(sns::jscode2session))
        .route("/cgi-bin/token", any(token::token))
        .route("/cgi-bin/stable_token", any(token::stable_token))
        .route("/wxa/checksession", any(wxa::check_session))
        .route("/wxa/resetusersessionkey", any(wxa::reset_session_key))
        .route(
            "/wxa/business/getuserphonenumber",
            any(wxa::get_phone_number),
        )
}

/// Any other path (paths are case-sensitive): `40066 invalid url`.
pub async fn unknown_path(State(state): State<AppState>, uri: Uri) -> Response {
    state
        .wire
        .error(Family::of_path(uri.path()), &WxError::new(INVALID_URL))
}

/// `CONNECT` (a proxy tunnel): WeChat's wrong-method envelope (43002) with HTTP 405 rather than
/// 200, since a 2xx answer to CONNECT means "tunnel open" and would leave the client with a
/// dead connection. `Connection: close`, as the client may send anything next.
pub fn connect_refused(state: &AppState) -> Response {
    let mut response = state
        .wire
        .error(Family::CgiBin, &WxError::new(REQUIRE_POST));
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    let headers = response.headers_mut();
    headers.insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
