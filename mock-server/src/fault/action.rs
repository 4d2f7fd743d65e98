//! What an injected fault does to a request: a WeChat errcode, a slow or held answer, a broken
//! HTTP answer, or a dropped connection.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::errcode::WxError;
use crate::state::AppState;
use crate::wire::Family;

/// How long a `timeout` fault holds the connection unless told otherwise: past any sane client
/// timeout, yet bounded so a forgotten rule cannot pin sockets forever.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// The longest `delay` or `timeout` a rule may ask for (five minutes).
pub const MAX_DELAY_MS: u64 = 300_000;

/// The action fields of a fault rule or of one sequence step, as they appear in JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionFields {
    /// Answer WeChat's error envelope with this errcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// The errmsg with `errcode`; WeChat's usual one for that code when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errmsg: Option<String>,
    /// `delay`, `timeout`, `http_status`, `garbage`, `empty`, `reset`, `content_type` or
    /// `errcode_zero`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// Milliseconds to wait, for `delay` and `timeout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// HTTP status, for `http_status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Body to send with `http_status`; a gateway's HTML page when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Content-Type to answer under, for `content_type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

impl ActionFields {
    /// True when no action field is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A validated fault action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// WeChat's error envelope (HTTP 200) with this errcode.
    Errcode {
        /// The errcode to answer.
        errcode: i64,
        /// The errmsg; WeChat's usual one for that code when absent.
        errmsg: Option<String>,
    },
    /// Wait, then give the normal answer.
    Delay {
        /// Milliseconds to wait, at most five minutes.
        delay_ms: u64,
    },
    /// Hold the connection without answering, then drop it.
    Timeout {
        /// Milliseconds to hold the connection before dropping it, at most five minutes.
        delay_ms: u64,
    },
    /// A non-200 status with an HTML page (a gateway's) or a chosen body.
    HttpStatus {
        /// The HTTP status, 100 to 599.
        status: u16,
        /// The body to send; a gateway's HTML page when absent.
        body: Option<String>,
    },
    /// HTTP 200 with bytes that are not JSON.
    Garbage,
    /// HTTP 200 with an empty body.
    Empty,
    /// Drop the connection without an answer.
    Reset,
    /// The normal answer under another Content-Type.
    ContentType {
        /// The Content-Type header to send instead of WeChat's.
        content_type: String,
    },
    /// The normal answer, with `"errcode":0,"errmsg":"ok"` appended when it is a success (the
    /// shape WeChat's docs show; real answers omit both fields).
    ErrcodeZero,
}

impl Action {
    /// Validates the fields of one action; the message says what is wrong.
    pub fn from_fields(fields: &ActionFields) -> Result<Self, String> {
        let ActionFields {
            errcode,
            errmsg,
            fault,
            delay_ms,
            status,
            body,
            content_type,
        } = fields;
        let unexpected = |allowed: &[&str]| -> Result<(), String> {
            let given = [
                ("errcode", errcode.is_some()),
                ("errmsg", errmsg.is_some()),
                ("delay_ms", delay_ms.is_some()),
                ("status", status.is_some()),
                ("body", body.is_some()),
                ("content_type", content_type.is_some()),
            ];
            match given
                .iter()
                .find(|(name, set)| *set && !allowed.contains(name))
            {
                Some((name, _)) => Err(format!(
                    "field \"{name}\" does not apply to this action{}",
                    fault
                        .as_deref()
                        .map(|f| format!(" (\"fault\": \"{f}\")"))
                        .unwrap_or_default()
                )),
                None => Ok(()),
            }
        };
        let delay = |default: Option<u64>| -> Result<u64, String> {
            match delay_ms.or(default) {
                None => Err("\"delay_ms\" is required for \"fault\": \"delay\"".to_owned()),
                Some(ms) if ms > MAX_DELAY_MS => Err(format!(
                    "\"delay_ms\" must be at most {MAX_DELAY_MS} (five minutes), got {ms}"
                )),
                Some(ms) => Ok(ms),
            }
        };
        match (fault.as_deref(), errcode) {
            (Some(_), Some(_)) => {
                Err("give either \"errcode\" or \"fault\", not both".to_owned())
            }
            (None, Some(errcode)) => {
                unexpected(&["errcode", "errmsg"])?;
                Ok(Action::Errcode {
                    errcode: *errcode,
                    errmsg: errmsg.clone(),
                })
            }
            (None, None) => Err(
                "a fault rule needs an action: \"errcode\" or \"fault\" (delay, timeout, http_status, garbage, empty, reset, content_type, errcode_zero)"
                    .to_owned(),
            ),
            (Some("delay"), None) => {
                unexpected(&["delay_ms"])?;
                Ok(Action::Delay { delay_ms: delay(None)? })
            }
            (Some("timeout"), None) => {
                unexpected(&["delay_ms"])?;
                Ok(Action::Timeout {
                    delay_ms: delay(Some(DEFAULT_TIMEOUT_MS))?,
                })
            }
            (Some("http_status"), None) => {
                unexpected(&["status", "body"])?;
                let status = status.ok_or("\"status\" is required for \"fault\": \"http_status\"")?;
                if StatusCode::from_u16(status).is_err() || !(100..=599).contains(&status) {
                    return Err(format!("\"status\" must be an HTTP status (100-599), got {status}"));
                }
                Ok(Action::HttpStatus {
                    status,
                    body: body.clone(),
                })
            }
            (Some("garbage"), None) => unexpected(&[]).map(|_| Action::Garbage),
            (Some("empty"), None) => unexpected(&[]).map(|_| Action::Empty),
            (Some("reset"), None) => unexpected(&[]).map(|_| Action::Reset),
            (Some("errcode_zero"), None) => unexpected(&[]).map(|_| Action::ErrcodeZero),
            (Some("content_type"), None) => {
                unexpected(&["content_type"])?;
                let content_type = content_type
                    .clone()
                    .ok_or("\"content_type\" is required for \"fault\": \"content_type\"")?;
                if HeaderValue::from_str(&content_type).is_err() {
                    return Err(format!(
                        "\"content_type\" is not a valid header value: {content_type:?}"
                    ));
                }
                Ok(Action::ContentType { content_type })
            }
            (Some(other), None) => Err(format!(
                "unknown \"fault\": \"{other}\" (expected delay, timeout, http_status, garbage, empty, reset, content_type or errcode_zero)"
            )),
        }
    }

    /// The JSON fields that describe this action (the inverse of [`Action::from_fields`]).
    pub fn to_fields(&self) -> ActionFields {
        let fault = |name: &str| Some(name.to_owned());
        match self {
            Action::Errcode { errcode, errmsg } => ActionFields {
                errcode: Some(*errcode),
                errmsg: errmsg.clone(),
                ..ActionFields::default()
            },
            Action::Delay { delay_ms } => ActionFields {
                fault: fault("delay"),
                delay_ms: Some(*delay_ms),
                ..ActionFields::default()
            },
            Action::Timeout { delay_ms } => ActionFields {
                fault: fault("timeout"),
                delay_ms: Some(*delay_ms),
                ..ActionFields::default()
            },
            Action::HttpStatus { status, body } => ActionFields {
                fault: fault("http_status"),
                status: Some(*status),
                body: body.clone(),
                ..ActionFields::default()
            },
            Action::Garbage => ActionFields {
                fault: fault("garbage"),
                ..ActionFields::default()
            },
            Action::Empty => ActionFields {
                fault: fault("empty"),
                ..ActionFields::default()
            },
            Action::Reset => ActionFields {
                fault: fault("reset"),
                ..ActionFields::default()
            },
            Action::ErrcodeZero => ActionFields {
                fault: fault("errcode_zero"),
                ..ActionFields::default()
            },
            Action::ContentType { content_type } => ActionFields {
                fault: fault("content_type"),
                content_type: Some(content_type.clone()),
                ..ActionFields::default()
            },
        }
    }

    /// The action as a JSON object.
    pub fn to_json(&self) -> Map<String, Value> {
        match serde_json::to_value(self.to_fields()) {
            Ok(Value::Object(map)) => map,
            // `ActionFields` is a plain struct of strings and numbers: always an object.
            _ => Map::new(),
        }
    }

    /// Answers `request` according to this action. `normal` is the normal handler, used by the
    /// actions that still give the normal answer.
    pub async fn perform<N, F>(&self, state: &AppState, request: Request, normal: N) -> Response
    where
        N: FnOnce(Request) -> F,
        F: Future<Output = Response>,
    {
        let family = Family::of_path(request.uri().path());
        match self {
            Action::Errcode { errcode, errmsg } => {
                let err = match errmsg {
                    Some(text) => WxError::with_msg(*errcode, text.clone()),
                    None => WxError::new(*errcode),
                };
                state.wire.error(family, &err)
            }
            Action::Delay { delay_ms } => {
                // A requested slow answer, not a way to make something expire: sleeping is the point.
                hold(state, *delay_ms).await;
                normal(request).await
            }
            Action::Timeout { delay_ms } => {
                // Held without an answer; if the client gives up first, hyper drops this future.
                hold(state, *delay_ms).await;
                dropped_connection()
            }
            Action::HttpStatus { status, body } => {
                let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY);
                let (content_type, body) = match body {
                    Some(body) => ("text/plain", body.clone()),
                    None => ("text/html", gateway_page(status)),
                };
                let mut response = Response::new(Body::from(body));
                *response.status_mut() = status;
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                response
            }
            Action::Garbage => {
                let mut response = state.wire.raw(family, StatusCode::OK, String::new());
                *response.body_mut() = Body::from(Bytes::from_static(GARBAGE));
                response
            }
            Action::Empty => state.wire.raw(family, StatusCode::OK, String::new()),
            Action::Reset => dropped_connection(),
            Action::ContentType { content_type } => {
                let mut response = normal(request).await;
                if let Ok(value) = HeaderValue::from_str(content_type) {
                    response.headers_mut().insert(header::CONTENT_TYPE, value);
                }
                response
            }
            Action::ErrcodeZero => {
                let response = normal(request).await;
                let (parts, body) = response.into_parts();
                // The fake's own answers are small JSON objects; anything larger is passed on as is.
                let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
                    return Response::from_parts(parts, Body::empty());
                };
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(Value::Object(mut map)) if !map.contains_key("errcode") => {
                        map.insert("errcode".into(), 0.into());
                        map.insert("errmsg".into(), "ok".into());
                        state.wire.json(family, &Value::Object(map))
                    }
                    _ => Response::from_parts(parts, Body::from(bytes)),
                }
            }
        }
    }
}

/// Waits `delay_ms`, or less if the faults are cleared or the server shuts down meanwhile.
async fn hold(state: &AppState, delay_ms: u64) {
    let released = state.faults.released();
    tokio::select! {
        () = tokio::time::sleep(Duration::from_millis(delay_ms)) => {}
        () = released => {}
    }
}

/// Bytes that no JSON parser accepts: a gzip magic number, stray braces, invalid UTF-8.
const GARBAGE: &[u8] = b"\x1f\x8b\x08\x00wxmock}{\xff\xfe not json <html>";

/// What nginx answers when its upstream fails, e.g. `502 Bad Gateway`.
fn gateway_page(status: StatusCode) -> String {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
}

/// A response that makes hyper close the connection before writing anything: its body fails on
/// the first poll, and hyper aborts a connection whose body errors (the status line is still
/// in its write buffer at that point, so the client sees the connection drop, not a response).
pub fn dropped_connection() -> Response {
    Response::new(Body::new(Dropped))
}

/// The error a [`dropped_connection`] body yields.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose by a wxmock fault")]
pub struct DroppedOnPurpose;

struct Dropped;

impl HttpBody for Dropped {
    type Data = Bytes;
    type Error = DroppedOnPurpose;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(DroppedOnPurpose)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: Value) -> ActionFields {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn every_action_round_trips_through_its_fields() {
        for json in [
            serde_json::json!({"errcode": -1}),
            serde_json::json!({"errcode": 40029, "errmsg": "nope"}),
            serde_json::json!({"fault": "delay", "delay_ms": 10}),
            serde_json::json!({"fault": "timeout", "delay_ms": 30000}),
            serde_json::json!({"fault": "http_status", "status": 502}),
            serde_json::json!({"fault": "garbage"}),
            serde_json::json!({"fault": "empty"}),
            serde_json::json!({"fault": "reset"}),
            serde_json::json!({"fault": "content_type", "content_type": "text/html"}),
        ] {
            let action = Action::from_fields(&fields(json.clone())).unwrap();
            assert_eq!(Value::Object(action.to_json()), json);
        }
    }

    #[test]
    fn a_timeout_holds_thirty_seconds_unless_told_otherwise() {
        let action = Action::from_fields(&fields(serde_json::json!({"fault": "timeout"}))).unwrap();
        assert_eq!(action, Action::Timeout { delay_ms: 30_000 });
    }

    #[test]
    fn invalid_actions_say_what_is_wrong() {
        let err = |json: Value| Action::from_fields(&fields(json)).unwrap_err();
        assert!(err(serde_json::json!({})).contains("needs an action"));
        assert!(err(serde_json::json!({"fault": "explode"})).contains("unknown \"fault\""));
        assert!(err(serde_json::json!({"fault": "delay"})).contains("delay_ms"));
        assert!(err(serde_json::json!({"fault": "http_status", "status": 42})).contains("100-599"));
        assert!(err(serde_json::json!({"errcode": 1, "fault": "reset"})).contains("not both"));
        assert!(err(serde_json::json!({"fault": "reset", "status": 502})).contains("\"status\""));
        assert!(
            err(serde_json::json!({"fault": "delay", "delay_ms": 999_999})).contains("at most")
        );
    }
}
