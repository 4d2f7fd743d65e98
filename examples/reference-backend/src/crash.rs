//! How a broken backend fails, for the two defects that act on every answer: `stack-traces`
//! (error bodies carry a debug backtrace) and `wedge-on-upstream-reset` (once wedged, every
//! request but the health check answers 500). With neither switch on this layer passes
//! requests and answers through untouched.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::defect::Defect;
use crate::error::ApiError;
use crate::state::AppState;

/// Error bodies are small JSON objects; anything bigger is left alone.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn simulate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response =
        if state.has(Defect::WedgeOnUpstreamReset) && state.is_wedged() && path != "/healthz" {
            ApiError::Internal.into_response()
        } else {
            next.run(request).await
        };
    let status = response.status();
    if state.has(Defect::StackTraces) && (status.is_client_error() || status.is_server_error()) {
        return with_backtrace(response, &path).await;
    }
    response
}

async fn with_backtrace(response: Response, path: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return (parts.status, "").into_response();
    };
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let message = object
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("error")
        .to_owned();
    object.insert("trace".to_owned(), Value::from(backtrace(&message, path)));
    let text = Value::Object(object).to_string();
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.insert(
        CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(text))
}

/// What a debug-mode error handler prints: a panic message with a source location and a
/// backtrace with file paths.
fn backtrace(message: &str, path: &str) -> String {
    let handler = path.trim_start_matches("/api/").replace('-', "_");
    format!(
        "thread 'tokio-runtime-worker' panicked at {file}:{line}:5:\n\
         called `Result::unwrap()` on an `Err` value: {message}\n\
         stack backtrace:\n   \
         0: wxmock_reference_backend::api::{handler}::handle\n             at ./src/api/{handler}.rs:{line}:9\n   \
         1: <axum::routing::route::Route<E> as tower_service::Service<http::request::Request<B>>>::call\n             \
         at /root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/axum-0.8.9/src/routing/route.rs:140:18\n   \
         2: tokio::runtime::task::core::Core<T,S>::poll\n             \
         at /root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/tokio-1.47.1/src/runtime/task/core.rs:331:17\n\
         note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
        file = file!(),
        line = line!(),
    )
}
