//! The HTTP client for WeChat and the ways a WeChat call fails. WeChat answers errors with HTTP
//! 200 and an `errcode` body, often as `text/plain`, so every answer is read as JSON whatever its
//! Content-Type says.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

/// How a WeChat call went wrong, as far as the backend cares.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    #[error("wechat did not answer in time")]
    Timeout,
    /// The connection was reset or closed before a whole answer arrived.
    #[error("wechat closed or reset the connection")]
    Reset,
    #[error("could not reach wechat")]
    Transport,
    #[error("wechat answered http {0}")]
    Status(u16),
    #[error("wechat answered something that is not a json object")]
    NotJson,
    #[error("wechat answered errcode {0}")]
    Errcode(i64),
    #[error("wechat's answer lacks a required field")]
    MissingFields,
}

impl UpstreamError {
    fn from_reqwest(err: &reqwest::Error) -> Self {
        if err.is_timeout() {
            return UpstreamError::Timeout;
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = source {
            if let Some(hyper_err) = e.downcast_ref::<hyper::Error>() {
                if hyper_err.is_incomplete_message() || hyper_err.is_closed() {
                    return UpstreamError::Reset;
                }
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                use std::io::ErrorKind::*;
                if matches!(
                    io.kind(),
                    ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
                ) {
                    return UpstreamError::Reset;
                }
                if io.kind() == TimedOut {
                    return UpstreamError::Timeout;
                }
            }
            source = e.source();
        }
        UpstreamError::Transport
    }
}

/// A failed WeChat call with the text the HTTP client or WeChat gave for it: the client
/// library's error chain, or the status and body WeChat answered. Only the defect
/// `internal-detail` passes `detail` on to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamFailure {
    pub error: UpstreamError,
    pub detail: String,
}

/// An error and its causes, `: `-separated, as `err.to_string()` on a caught exception reads.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The appsecret. `Debug` prints `***`.
#[derive(Clone)]
pub struct AppSecret(String);

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(***)")
    }
}

/// A WeChat API client for one mini-program.
#[derive(Debug, Clone)]
pub struct WeChat {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) appid: String,
    pub(crate) secret: AppSecret,
    /// Off only for the defect `no-grant-type`.
    pub(crate) send_grant_type: bool,
}

impl WeChat {
    /// `timeout` bounds each whole call; `None` (the defect `no-upstream-timeout`) waits forever.
    pub fn new(
        base_url: &str,
        appid: &str,
        secret: &str,
        timeout: Option<Duration>,
        send_grant_type: bool,
    ) -> Self {
        // WeChat is called directly: a proxy from the environment would also catch the
        // loopback fake the conformance harness runs.
        let mut builder = reqwest::Client::builder().no_proxy();
        if let Some(timeout) = timeout {
            builder = builder.timeout(timeout).connect_timeout(timeout);
        }
        WeChat {
            // Without TLS, proxies or custom resolvers there is nothing that can fail to build.
            http: builder.build().expect("plain http client builds"),
            base_url: base_url.trim_end_matches('/').to_owned(),
            appid: appid.to_owned(),
            secret: AppSecret(secret.to_owned()),
            send_grant_type,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub(crate) fn secret(&self) -> &str {
        &self.secret.0
    }

    /// Sends a request and reads its answer as a JSON object: HTTP 200 and a JSON object body,
    /// whatever the Content-Type. The `errcode` is left for the caller to judge.
    pub(crate) async fn json(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Map<String, Value>, UpstreamError> {
        self.json_detailed(request).await.map_err(|f| f.error)
    }

    /// [`WeChat::json`], keeping what the client library or WeChat said about a failure (the
    /// URL left out of the client's error: it carries the appsecret).
    pub(crate) async fn json_detailed(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Map<String, Value>, UpstreamFailure> {
        let transport = |e: reqwest::Error| UpstreamFailure {
            error: UpstreamError::from_reqwest(&e),
            detail: error_chain(&e.without_url()),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        let text = String::from_utf8_lossy(&body);
        let shown: String = text.chars().take(300).collect();
        if status != reqwest::StatusCode::OK {
            return Err(UpstreamFailure {
                error: UpstreamError::Status(status.as_u16()),
                detail: format!("wechat answered {status}: {shown}"),
            });
        }
        match serde_json::from_slice(&body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(UpstreamFailure {
                error: UpstreamError::NotJson,
                detail: format!("not an object: {shown}"),
            }),
            Err(e) => Err(UpstreamFailure {
                error: UpstreamError::NotJson,
                detail: format!("{e}: {shown}"),
            }),
        }
    }
}

/// The `errcode` of an answer, if it reports an error (absent and 0 mean success).
pub fn errcode(answer: &Map<String, Value>) -> Option<i64> {
    match answer.get("errcode") {
        None | Some(Value::Null) => None,
        Some(code) => match code.as_i64() {
            Some(0) => None,
            Some(code) => Some(code),
            // A non-numeric errcode is still an error, just an unknown one.
            None => Some(i64::MIN),
        },
    }
}
