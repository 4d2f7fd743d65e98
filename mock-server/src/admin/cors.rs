//! CORS on the control API, so a page in a browser (the console, a mini-program's H5 build, a
//! dev tool on `localhost:5173`) can call it. Allowed by default: pages on loopback origins
//! (`http://localhost:*`, `http://127.0.0.1:*`, `http://[::1]:*`, and their https forms) and the
//! fake's own origin. `cors_origins` in the config (or `--cors-origin`) replaces that list: exact
//! origins, plus the word `loopback` to keep the loopback ones. A cross-origin request from an
//! origin not on the list is refused with a JSON 403, preflight included; a request without an
//! `Origin` header (curl, a backend, a test) is not a browser's and is not concerned.

use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, HOST,
    ORIGIN, VARY,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AdminError;
use crate::state::AppState;

/// The word in `cors_origins` that stands for every loopback origin.
pub const LOOPBACK: &str = "loopback";

/// What the control API's preflight answers allow.
const METHODS: &str = "GET, POST, DELETE, OPTIONS";
/// Headers allowed when the preflight names none.
const HEADERS: &str = "content-type, authorization";
/// How long a browser may cache a preflight answer, seconds.
const MAX_AGE: &str = "600";

/// Which browser origins may call the control API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsPolicy {
    loopback: bool,
    /// Exact origins, lowercased (`http://192.168.1.5:8080`).
    origins: Vec<String>,
}

impl Default for CorsPolicy {
    /// Loopback origins only.
    fn default() -> Self {
        Self {
            loopback: true,
            origins: Vec::new(),
        }
    }
}

impl CorsPolicy {
    /// From a `cors_origins` list already checked by [`check_entry`]; `None`: loopback only.
    pub fn from_list(list: Option<&[String]>) -> Self {
        let Some(list) = list else {
            return Self::default();
        };
        Self {
            loopback: list.iter().any(|entry| entry == LOOPBACK),
            origins: list
                .iter()
                .filter(|entry| *entry != LOOPBACK)
                .map(|entry| entry.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        }
    }

    /// True when a page on `origin` may call the control API.
    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        (self.loopback && is_loopback(&origin)) || self.origins.contains(&origin)
    }

    /// The allowed origins in words, for the refusal.
    fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.loopback {
            parts.push("loopback origins".to_owned());
        }
        parts.extend(self.origins.iter().cloned());
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// Why a `cors_origins` entry is not usable, or `Ok` (`loopback`, or `scheme://host[:port]`).
pub fn check_entry(entry: &str) -> Result<(), String> {
    if entry == LOOPBACK {
        return Ok(());
    }
    match split_origin(&entry.trim_end_matches('/').to_ascii_lowercase()) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{entry:?} is not an origin: write scheme://host[:port] (e.g. http://192.168.1.5:8080), or \"{LOOPBACK}\""
        )),
    }
}

/// `(scheme, host, port)` of an `http(s)://host[:port]` origin (lowercase input), no path.
fn split_origin(origin: &str) -> Option<(&str, &str, Option<&str>)> {
    let (scheme, authority) = origin.split_once("://")?;
    if !matches!(scheme, "http" | "https") || authority.is_empty() || authority.contains('/') {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        // An IPv6 literal: `[::1]` or `[::1]:5173`.
        let (host, after) = rest.split_once(']')?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty()
        || port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some((scheme, host, port))
}

/// `http(s)://localhost`, `*.localhost`, `127.*.*.*` or `[::1]`, any port.
pub fn is_loopback(origin: &str) -> bool {
    let Some((_, host, _)) = split_origin(origin) else {
        return false;
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The page is on the fake's own origin (the console): its `Origin` names the `Host` it asked.
fn same_origin(origin: &str, request: &Request) -> bool {
    let Some(host) = request.headers().get(HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// Applies the policy to every control-API request (see the module comment).
pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(ORIGIN).cloned() else {
        return next.run(request).await;
    };
    let Ok(origin_text) = origin.to_str() else {
        return refuse("<not text>", &state.cors);
    };
    if same_origin(origin_text, &request) {
        return next.run(request).await;
    }
    if !state.cors.allows(origin_text) {
        return refuse(origin_text, &state.cors);
    }
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let headers = request
            .headers()
            .get(ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
            .unwrap_or(HeaderValue::from_static(HEADERS));
        let mut response = StatusCode::NO_CONTENT.into_response();
        let out = response.headers_mut();
        out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        out.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(METHODS),
        );
        out.insert(ACCESS_CONTROL_ALLOW_HEADERS, headers);
        out.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
        out.insert(VARY, HeaderValue::from_static("origin"));
        return response;
    }
    let mut response = next.run(request).await;
    let out = response.headers_mut();
    out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    out.append(VARY, HeaderValue::from_static("origin"));
    response
}

fn refuse(origin: &str, policy: &CorsPolicy) -> Response {
    AdminError {
        status: StatusCode::FORBIDDEN,
        message: format!(
            "origin {origin} may not call the control API from a browser (allowed: {}); list it in cors_origins or pass --cors-origin",
            policy.describe()
        ),
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins_are_recognised_and_others_are_not() {
        for origin in [
            "http://localhost:5173",
            "http://127.0.0.1:7070",
            "https://127.1.2.3",
            "http://[::1]:8080",
            "http://app.localhost:3000",
        ] {
            assert!(is_loopback(origin), "{origin}");
        }
        for origin in [
            "http://192.168.1.5:8080",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "null",
            "file://",
            "ftp://localhost",
            "http://localhost:abc",
        ] {
            assert!(!is_loopback(origin), "{origin}");
        }
    }

    #[test]
    fn a_configured_list_replaces_the_default_and_loopback_keeps_it() {
        let lan = vec!["http://192.168.1.5:8080/".to_owned()];
        let policy = CorsPolicy::from_list(Some(&lan));
        assert!(policy.allows("http://192.168.1.5:8080"));
        assert!(!policy.allows("http://localhost:5173"));
        let both = vec![LOOPBACK.to_owned(), "http://192.168.1.5:8080".to_owned()];
        let policy = CorsPolicy::from_list(Some(&both));
        assert!(policy.allows("http://localhost:5173"));
        assert!(policy.allows("HTTP://192.168.1.5:8080"));
        assert!(!CorsPolicy::from_list(Some(&[])).allows("http://localhost:5173"));
    }

    #[test]
    fn entries_must_be_origins() {
        assert!(check_entry("loopback").is_ok());
        assert!(check_entry("http://192.168.1.5:8080").is_ok());
        assert!(check_entry("*").is_err());
        assert!(check_entry("192.168.1.5").is_err());
        assert!(check_entry("http://host/path").is_err());
    }
}
