//! The console's files, served under `/__admin/console`. Each answer says not to cache (a new
//! wxmock must not run an old script) and carries a CSP that allows this origin only: the page
//! loads nothing from elsewhere and talks only to the control API it was served by.

use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::admin::AdminError;
use crate::engine::persona::{DEMO_APPID, DEMO_SECRET, PERSONAS};
use crate::state::AppState;

const INDEX: &str = include_str!("assets/index.html");
/// The `wx.login` shim for mini-program dev builds (see docs/frontend.md), also served at
/// `/__admin/console/wxmock-login.js` so it can be fetched with curl.
pub const LOGIN_SHIM: &str = include_str!("assets/wxmock-login.js");

const JS: &str = "text/javascript; charset=utf-8";

/// The console's scripts, in the order the page loads them: the shared parts, one per view, and
/// the start-up (public so a test can check they only call control-API routes).
pub const SCRIPTS: &[(&str, &str)] = &[
    ("core.js", include_str!("assets/core.js")),
    ("users.js", include_str!("assets/users.js")),
    ("journal.js", include_str!("assets/journal.js")),
    ("faults.js", include_str!("assets/faults.js")),
    ("clock.js", include_str!("assets/clock.js")),
    ("data.js", include_str!("assets/data.js")),
    ("main.js", include_str!("assets/main.js")),
];

/// Every other file under `/__admin/console/`: name, content type, body.
const FILES: &[(&str, &str, &str)] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("assets/console.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("assets/favicon.svg"),
    ),
    ("wxmock-login.js", JS, LOGIN_SHIM),
];

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The console's routes, with their full paths. They sit outside the control API's guard: the
/// files are the same for everyone and hold nothing secret (the demo app's credentials are
/// published), so a browser can load the page and then be asked for the token its calls need.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__admin/console", get(index))
        .route("/__admin/console/", get(index))
        .route("/__admin/console/{file}", get(file))
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

/// One of the console's files, or the control API's 404 naming it.
async fn file(Path(name): Path<String>) -> Response {
    let script = SCRIPTS
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, body)| (JS, *body));
    let other = || {
        FILES
            .iter()
            .find(|(file, _, _)| *file == name)
            .map(|(_, content_type, body)| (*content_type, *body))
    };
    match script.or_else(other) {
        Some((content_type, body)) => with_headers(content_type, body.to_owned()),
        None => AdminError::not_found(format!(
            "no console file /__admin/console/{name} (the console: /__admin/console)"
        ))
        .into_response(),
    }
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
