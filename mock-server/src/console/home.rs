//! `GET /` from a browser: a short page saying what this is and linking the console. Everything
//! else, including `GET /` from an API client (no `text/html` in `Accept`), goes on to the WeChat
//! router and gets WeChat's answer (40066 for `/`), journaled as before.

use axum::extract::Request;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;

const PAGE: &str = include_str!("assets/home.html");

/// The handler of `/`: a browser's `GET` gets the home page; anything else goes to the WeChat
/// router (`wechat`, with its journal and faults) as any other path would. A route rather than a
/// layer, so the other WeChat requests do not pay for the check.
pub async fn home(wechat: Router, request: Request) -> Response {
    if request.method() == Method::GET && wants_html(&request) {
        let page = PAGE.replace("{{VERSION}}", env!("CARGO_PKG_VERSION"));
        let mut response = page.into_response();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return response;
    }
    match wechat.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// A browser navigating asks for `text/html` first; curl sends `*/*`, SDKs JSON or nothing.
fn wants_html(request: &Request) -> bool {
    request
        .headers()
        .get(ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}
