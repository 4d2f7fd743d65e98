//! Who may use the control API: the one gate every `/__admin` request passes before its
//! handler (the CORS layer, for browsers, sits beside it).
//!
//! In order:
//! 1. **Host** (DNS rebinding): a `Host` that is a loopback name (`localhost`, `*.localhost`),
//!    an IP literal, or a configured host name. A page on `evil.example` whose name was rebound
//!    to 127.0.0.1 sends `Host: evil.example` and is refused. A request without `Host` (not a
//!    browser: HTTP/1.0 tools, in-process tests) passes.
//! 2. **Token**: with a token configured, every call but `GET /__admin/health` and the console's
//!    static files must carry it
//!    (`Authorization: Bearer <token>` or `X-Wxmock-Admin-Token`), compared in constant time. On
//!    a non-loopback listen address without a token the control API is closed unless it was
//!    opened on purpose (`open`).
//! 3. **JSON**: POST, PUT and PATCH (and any request with a body) must say
//!    `Content-Type: application/json`. A web page can send a "simple" cross-origin POST
//!    (`text/plain`, a form, or no type at all) without a CORS preflight; a JSON type forces one.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::AdminError;
use crate::engine::Secret;
use crate::state::AppState;

/// The `[admin]` section of the config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// A token every control-API call must carry. Required on a non-loopback listen address
    /// unless `open`.
    pub token: Option<Secret>,
    /// Leave the control API open to anyone who reaches a non-loopback listen address.
    pub open: bool,
    /// Host names, besides loopback names and IP literals, the control API answers to (e.g. the
    /// name of the machine, for a fake shared on a network). Any port.
    pub allowed_hosts: Vec<String>,
    /// How `GET /__admin/journal` shows credentials unless the request asks otherwise
    /// (`?secrets=clear|masked`). Unset: masked for `wxmock serve`, clear for an in-process
    /// `MockWeChat`, whose journal belongs to the test that started it.
    pub journal_secrets: Option<SecretsView>,
}

impl AdminConfig {
    /// Checks the host names (plain names, no scheme, path or port).
    pub fn validate(&self) -> Result<(), String> {
        if self.token.as_ref().is_some_and(|t| t.expose().is_empty()) {
            return Err("admin.token must not be empty".into());
        }
        for host in &self.allowed_hosts {
            if host.is_empty()
                || host
                    .chars()
                    .any(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'))
            {
                return Err(format!(
                    "admin.allowed_hosts: {host:?} is not a host name (no scheme, port or path)"
                ));
            }
        }
        Ok(())
    }
}

/// How credentials (appsecret, access tokens, session keys, login and phone codes) appear in the
/// journal API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretsView {
    /// Shown as `***`, as in the logs.
    #[default]
    Masked,
    /// Shown as received: for local debugging.
    Clear,
}

/// The guard's settings, resolved from [`AdminConfig`] once.
#[derive(Clone, Debug)]
pub struct AdminGuard {
    token: Option<Secret>,
    open: bool,
    hosts: Vec<String>,
    /// The journal API's default view of credentials.
    pub journal_secrets: SecretsView,
}

/// Who may reach the control API on a given listen address: what `wxmock serve` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Loopback address, no token: anyone on this machine.
    Local,
    /// A token is required.
    Token,
    /// Non-loopback, opened on purpose: anyone who reaches the port.
    Open,
    /// Non-loopback, no token: closed (health only).
    Closed,
}

impl Access {
    /// One line for the start-up banner.
    pub fn describe(self) -> &'static str {
        match self {
            Access::Local => "open to this machine only (loopback address)",
            Access::Token => "token required (Authorization: Bearer <token>)",
            Access::Open => {
                "OPEN to anyone who reaches this address (--admin-open): they can mint logins and read session keys"
            }
            Access::Closed => {
                "closed on this non-loopback address: give --admin-token (or WXMOCK_ADMIN_TOKEN), or --admin-open"
            }
        }
    }
}

impl AdminGuard {
    /// A guard for the control API from its configuration (token, open flag, allowed hosts);
    /// `default_secrets` is the journal's view of credentials when the configuration sets none.
    pub fn new(config: &AdminConfig, default_secrets: SecretsView) -> Self {
        Self {
            token: config.token.clone(),
            open: config.open,
            hosts: config
                .allowed_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            journal_secrets: config.journal_secrets.unwrap_or(default_secrets),
        }
    }

    /// Who may use the control API when listening on an address that is (or is not) loopback.
    pub fn access(&self, loopback: bool) -> Access {
        match (&self.token, loopback, self.open) {
            (Some(_), _, _) => Access::Token,
            (None, true, _) => Access::Local,
            (None, false, true) => Access::Open,
            (None, false, false) => Access::Closed,
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        let name = name.trim_end_matches('.');
        name == "localhost"
            || name.ends_with(".localhost")
            || name.parse::<std::net::IpAddr>().is_ok()
            || self.hosts.iter().any(|h| h == name)
    }

    fn token_matches(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token else {
            return true;
        };
        let offered = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .or_else(|| {
                headers
                    .get("x-wxmock-admin-token")
                    .and_then(|v| v.to_str().ok())
            });
        offered.is_some_and(|offered| {
            bool::from(
                offered
                    .trim()
                    .as_bytes()
                    .ct_eq(expected.expose().as_bytes()),
            )
        })
    }
}

/// The host part of a `Host` header value: `[::1]:7070` → `::1`, `localhost:7070` → `localhost`.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Whether the listen address the request came in on is loopback: attached by the server as
/// the guard's state. In-process routers without a socket count as loopback.
#[derive(Clone)]
pub struct Gate {
    /// The server's shared state.
    pub state: AppState,
    /// True when the request arrived on a loopback address.
    pub loopback: bool,
}

/// The control API's gate (see the module docs).
pub async fn middleware(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let guard = &gate.state.admin;
    if let Some(host) = request.headers().get(header::HOST) {
        let host = host.to_str().unwrap_or("");
        if !guard.host_allowed(host) {
            return refuse(
                StatusCode::FORBIDDEN,
                format!(
                    "the control API does not answer to Host {:?} (a guard against DNS rebinding): use localhost or an IP address, or allow the name with --admin-host",
                    crate::log::Escaped(host).to_string()
                ),
            );
        }
    }
    if !exempt_from_token(&request) {
        match guard.access(gate.loopback) {
            Access::Local | Access::Open => {}
            Access::Token => {
                if !guard.token_matches(request.headers()) {
                    let mut response = refuse(
                        StatusCode::UNAUTHORIZED,
                        "the control API needs its token: send Authorization: Bearer <token>",
                    );
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Bearer realm=\"wxmock\""),
                    );
                    return response;
                }
            }
            Access::Closed => {
                return refuse(
                    StatusCode::FORBIDDEN,
                    "the control API is closed on a non-loopback address: start wxmock with --admin-token (then send Authorization: Bearer <token>) or --admin-open",
                );
            }
        }
    }
    if needs_json(&request) && !is_json(request.headers()) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the control API takes JSON: send Content-Type: application/json (also with an empty body)",
        );
    }
    next.run(request).await
}

/// `GET /__admin/health` (liveness) and the console's static files (the page asks for the token
/// and sends it with every call it makes) need no token: they hold no data.
fn exempt_from_token(request: &Request) -> bool {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return false;
    }
    // Paths relative to `/__admin` (the guard sits inside the nest).
    let path = request.uri().path();
    path == "/health" || path == "/console" || path.starts_with("/console/")
}

/// POST, PUT and PATCH always; other methods when they carry a body.
fn needs_json(request: &Request) -> bool {
    let method = request.method();
    if method == Method::POST || method == Method::PUT || method == Method::PATCH {
        return true;
    }
    let headers = request.headers();
    headers
        .get(header::CONTENT_LENGTH)
        .is_some_and(|len| len.as_bytes() != b"0")
        || headers.contains_key(header::TRANSFER_ENCODING)
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let media = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    AdminError {
        status,
        message: message.into(),
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(hosts: &[&str]) -> AdminGuard {
        AdminGuard::new(
            &AdminConfig {
                allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
                ..AdminConfig::default()
            },
            SecretsView::Masked,
        )
    }

    #[test]
    fn loopback_names_ip_literals_and_configured_hosts_pass_the_host_check() {
        let g = guard(&["devbox.lan"]);
        for host in [
            "localhost",
            "localhost:7070",
            "LOCALHOST.",
            "app.localhost:1",
            "127.0.0.1:7070",
            "[::1]:7070",
            "192.168.1.20",
            "DevBox.lan:7070",
        ] {
            assert!(g.host_allowed(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:7070",
            "localhost.evil.example",
            "",
            "devbox",
        ] {
            assert!(!g.host_allowed(host), "{host}");
        }
    }

    #[test]
    fn access_follows_token_address_and_open() {
        let plain = guard(&[]);
        assert_eq!(plain.access(true), Access::Local);
        assert_eq!(plain.access(false), Access::Closed);
        let open = AdminGuard::new(
            &AdminConfig {
                open: true,
                ..AdminConfig::default()
            },
            SecretsView::Masked,
        );
        assert_eq!(open.access(false), Access::Open);
        let token = AdminGuard::new(
            &AdminConfig {
                token: Some(Secret::new("t0ken")),
                ..AdminConfig::default()
            },
            SecretsView::Masked,
        );
        assert_eq!(token.access(true), Access::Token);
        assert_eq!(token.access(false), Access::Token);
    }

    #[test]
    fn host_names_in_the_config_are_validated() {
        let bad = AdminConfig {
            allowed_hosts: vec!["http://devbox".into()],
            ..AdminConfig::default()
        };
        assert!(bad.validate().is_err());
        assert!(AdminConfig::default().validate().is_ok());
    }
}
