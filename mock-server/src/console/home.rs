//! `GET /` from a browser: a short page saying what this is and linking the console. Everything
//! else, including `GET /` from an API client (no `text/html` in `Accept`), goes on to the WeChat
//! router and gets WeChat's answer (40066 for `/`), journaled as before.

use axum::extract::Request;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("assets/home.html");

/// Answers a browser's `GET /` with the home page; passes everything else on.
pub async fn home(request: Request, next: Next) -> Response {
    if request.uri().path() == "/" && request.method() == Method::GET && wants_html(&request) {
        let page = PAGE.replace("{{VERSION}}", env!("CARGO_PKG_VERSION"));
        let mut response = page.into_response();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return response;
    }
    next.run(request).await
}

/// A browser navigating asks for `text/html` first; curl sends `*/*`, SDKs JSON or nothing.
fn wants_html(request: &Request) -> bool {
    request
        .headers()
        .get(ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}
