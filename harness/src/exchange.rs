//! One HTTP exchange with the backend, recorded as plain data: what a case saw, what a report
//! shows as evidence, and what the run-level checks (no secret leak, no stack trace) scan.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

/// A request body.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Json(Value),
    Form(Vec<(String, String)>),
    /// Raw text with its content type (malformed requests, e.g. broken JSON).
    Raw {
        content_type: String,
        text: String,
    },
}

/// A request to the backend, before it is sent.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path (with `?query` if any) on the backend's base URL, or an absolute URL.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
    /// Client timeout (default: the profile's `limits.request_timeout_secs`).
    pub timeout: Option<Duration>,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.to_ascii_uppercase(),
            path: path.into(),
            query: vec![],
            headers: vec![],
            body: None,
            timeout: None,
        }
    }
    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }
    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }
    pub fn json(mut self, v: Value) -> Self {
        self.body = Some(Body::Json(v));
        self
    }
    pub fn form(mut self, pairs: Vec<(String, String)>) -> Self {
        self.body = Some(Body::Form(pairs));
        self
    }
    pub fn raw(mut self, content_type: &str, text: &str) -> Self {
        self.body = Some(Body::Raw {
            content_type: content_type.into(),
            text: text.into(),
        });
        self
    }
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
}

/// What the backend answered.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body parsed as JSON, whatever the content type said.
    #[serde(skip)]
    pub json: Option<Value>,
}

impl Response {
    /// The value at a JSON pointer of the body (`""` = the whole body).
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        self.json.as_ref().and_then(|j| j.pointer(pointer))
    }
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The value of the cookie `name` set by this answer (`Set-Cookie: name=value; …`), as sent
    /// (still URL-encoded, as it must be sent back).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next()?.split_once('='))
            .find(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim())
    }
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    pub fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status)
    }
    pub fn is_server_error(&self) -> bool {
        self.status >= 500
    }
}

/// A recorded exchange: the request as sent and the answer (or the transport error).
#[derive(Clone, Debug, Serialize)]
pub struct Exchange {
    /// What the case was doing (`login`, `protected call`, `user-info`, …).
    pub label: String,
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    pub response: Option<Response>,
    /// Set when no answer came (connection refused, reset, client timeout).
    pub error: Option<String>,
    /// What kind of failure `error` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<crate::transport::Failure>,
    /// Set when the answer's body was longer than the harness reads (the body is the start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_cut: Option<crate::transport::Cut>,
    pub duration_ms: u64,
}

impl Exchange {
    /// A one-line summary for terminal output.
    pub fn summary(&self) -> String {
        let outcome = match (&self.response, &self.error) {
            (Some(r), _) if self.body_cut.is_some() => format!(
                "{} {} [body cut at {}]",
                r.status,
                truncate(&r.body, 160),
                crate::transport::size_text(r.body.len())
            ),
            (Some(r), _) => format!("{} {}", r.status, truncate(&r.body, 160)),
            (None, Some(e)) => format!("no answer: {e}"),
            (None, None) => "no answer".into(),
        };
        format!("{} {} {} → {}", self.label, self.method, self.url, outcome)
    }
}

/// A piece of evidence attached to a failed or errored case.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Evidence lists are short and built once per failure: boxing the big variant buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum Evidence {
    /// A request the harness made to the backend and what it answered.
    Exchange(Exchange),
    /// A request the backend made to the fake WeChat (from the fake's journal).
    Journal { entry: Value },
    /// A free-form observation.
    Note { text: String },
}

impl Evidence {
    pub fn note(text: impl Into<String>) -> Self {
        Evidence::Note { text: text.into() }
    }
    /// A one-line summary for terminal output.
    pub fn summary(&self) -> String {
        match self {
            Evidence::Exchange(x) => x.summary(),
            Evidence::Journal { entry } => {
                let g = |k: &str| {
                    entry
                        .get(k)
                        .map(crate::profile::value_text)
                        .unwrap_or_default()
                };
                format!(
                    "wechat saw {} {} → {} {}",
                    g("method"),
                    g("path"),
                    g("status"),
                    truncate(&g("response_body"), 120)
                )
            }
            Evidence::Note { text } => text.clone(),
        }
    }
}

/// Cuts `s` to at most `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// A started stopwatch for an exchange.
pub(crate) struct Stopwatch(Instant);

impl Stopwatch {
    pub(crate) fn start() -> Self {
        Self(Instant::now())
    }
    pub(crate) fn ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}
