//! The WeChat API the fake serves, one file per API area (`sns`, `token`, `wxa`) plus the
//! request parsing they share (`request`) and the path dispatch in front of them (`dispatch`).
//! Handlers parse, call the engine, and encode through `crate::wire`; every answer is HTTP 200
//! in WeChat's envelope.

mod dispatch;
mod request;
mod sns;
mod token;
mod wxa;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use axum::routing::any;
use axum::Router;

use crate::errcode::{WxError, REQUIRE_POST};
use crate::state::AppState;
use crate::wire::Family;

pub use dispatch::{answer, handle};
pub(crate) use dispatch::{answer_at_once, AtOnce};
pub use request::QueryParams;

/// The WeChat endpoints as axum routes, without journal or faults (the server itself calls
/// [`answer`] instead). Methods are checked inside the handlers (GET endpoints read only the
/// query whatever the method, as WeChat does; POST-only ones answer 43002 to anything else).
pub fn routes() -> Router<AppState> {
    async fn handled(State(state): State<AppState>, request: Request) -> Response {
        handle(&state, request).await
    }
    [
        "/sns/jscode2session",
        "/cgi-bin/token",
        "/cgi-bin/stable_token",
        "/wxa/checksession",
        "/wxa/resetusersessionkey",
        "/wxa/business/getuserphonenumber",
    ]
    .into_iter()
    .fold(Router::new(), |router, path| {
        router.route(path, any(handled))
    })
}

/// Any other path (paths are case-sensitive): `40066 invalid url`.
pub async fn unknown_path(State(state): State<AppState>, uri: Uri) -> Response {
    dispatch::unknown(&state, &uri)
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
