//! The console's files, served under `/__admin/console`. Each answer says not to cache (a new
//! wxmock must not run an old script) and carries a CSP that allows this origin only: the page
//! loads nothing from elsewhere and talks only to the control API it was served by.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::engine::persona::{DEMO_APPID, DEMO_SECRET, PERSONAS};
use crate::state::AppState;

const INDEX: &str = include_str!("assets/index.html");
/// The console's script (public so a test can check it only calls control-API routes).
pub const SCRIPT: &str = include_str!("assets/console.js");
const STYLE: &str = include_str!("assets/console.css");
const ICON: &str = include_str!("assets/favicon.svg");
/// The `wx.login` shim for mini-program dev builds (see docs/frontend.md), also served at
/// `/__admin/console/wxmock-login.js` so it can be fetched with curl.
pub const LOGIN_SHIM: &str = include_str!("assets/wxmock-login.js");

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The console's routes, with their full paths. They sit outside the control API's guard: the
/// files are the same for everyone and hold nothing secret (the demo app's credentials are
/// published), so a browser can load the page and then be asked for the token its calls need.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__admin/console", get(index))
        .route("/__admin/console/", get(index))
        .route(
            "/__admin/console/console.js",
            get(|| file("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/__admin/console/console.css",
            get(|| file("text/css; charset=utf-8", STYLE)),
        )
        .route(
            "/__admin/console/favicon.svg",
            get(|| file("image/svg+xml", ICON)),
        )
        .route(
            "/__admin/console/wxmock-login.js",
            get(|| file("text/javascript; charset=utf-8", LOGIN_SHIM)),
        )
}

/// The page, with the demo app's published credentials filled in (the curl it shows for the
/// demo app then runs as is; for other apps it names `$APPSECRET`).
async fn index() -> Response {
    let personas: Vec<serde_json::Value> = PERSONAS
        .iter()
        .map(|(name, openid, description)| {
            serde_json::json!({ "name": name, "openid": openid, "description": description })
        })
        .collect();
    let page = INDEX
        .replace(
            "{{PERSONAS}}",
            &serde_json::Value::from(personas).to_string(),
        )
        .replace("{{DEMO_APPID}}", DEMO_APPID)
        .replace("{{DEMO_SECRET}}", DEMO_SECRET)
        .replace("{{VERSION}}", env!("CARGO_PKG_VERSION"));
    with_headers("text/html; charset=utf-8", page)
}

async fn file(content_type: &'static str, body: &'static str) -> Response {
    with_headers(content_type, body.to_owned())
}

fn with_headers(content_type: &'static str, body: String) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    response
}
