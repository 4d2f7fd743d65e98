//! One journal entry, in two forms: the cheap one stored on every request ([`Recorded`]: raw
//! query, `Bytes` bodies) and the readable one handed out ([`JournalEntry`]: query as an object,
//! bodies as text), built only when someone reads the journal.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{Method, Uri};

use serde::{Deserialize, Serialize};

/// `status` of an entry whose request got no HTTP answer: the connection is still held (a
/// `timeout` fault) or was dropped (a `reset` fault, or the client went away).
pub const NO_ANSWER: u16 = 0;

/// Ends a body the journal kept only the start of, followed by the size in all:
/// `…[truncated: 1048576 bytes in all]`.
pub const TRUNCATED_MARKER: &str = "…[truncated: ";

/// A request the fake received and what it answered, as `GET /__admin/journal` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Increases by one per request and is never reused, even across resets.
    pub id: u64,
    /// When the request arrived, in Unix seconds on the fake's clock.
    pub time: i64,
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The request path without the query, e.g. `/sns/jscode2session`.
    pub path: String,
    /// The query string as an object; for a repeated key the first value wins.
    pub query: serde_json::Map<String, serde_json::Value>,
    /// The request body (lossy UTF-8), its first `journal_body_limit` bytes: a longer body
    /// ends with [`TRUNCATED_MARKER`] and the size received.
    pub body: String,
    /// How many body bytes the request carried (more than `body` holds when truncated).
    #[serde(default)]
    pub body_size: usize,
    /// The HTTP status answered, or [`NO_ANSWER`] (0).
    pub status: u16,
    /// The response body (lossy UTF-8), truncated like `body`.
    pub response_body: String,
    /// How many body bytes the answer carried.
    #[serde(default)]
    pub response_size: usize,
    /// The tenant the request concerned (from `appid`, the access token, or the JSON body).
    pub appid: Option<String>,
    /// The fault rule that answered (`f-1`…), `magic-code`, or `null` for a normal answer.
    pub fault: Option<String>,
}

impl JournalEntry {
    /// A query parameter, when present and a string.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.get(name).and_then(|v| v.as_str())
    }

    /// The response body parsed as JSON, when it is JSON.
    pub fn response_json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.response_body).ok()
    }

    /// The request body parsed as JSON, when it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// WeChat's `errcode` in the answer, if it carried one.
    pub fn errcode(&self) -> Option<i64> {
        self.response_json()?.get("errcode")?.as_i64()
    }
}

/// A request's path and query in one allocation. Copied rather than sharing the request's
/// `Uri`: hyper parses that out of its read buffer, and keeping it would pin the whole buffer
/// for as long as the entry lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target(Box<str>);

impl Target {
    pub fn of(uri: &Uri) -> Self {
        Self(
            uri.path_and_query()
                .map_or_else(|| uri.path(), |pq| pq.as_str())
                .into(),
        )
    }

    pub fn path(&self) -> &str {
        self.0.split_once('?').map_or(&*self.0, |(path, _)| path)
    }

    pub fn query(&self) -> Option<&str> {
        self.0.split_once('?').map(|(_, query)| query)
    }
}

/// The stored form: raw and cheap to make; parsed only when read.
#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    pub id: u64,
    pub time: i64,
    pub method: Method,
    pub target: Target,
    /// The kept start of the body (all of it when short enough).
    pub body: Bytes,
    pub body_size: usize,
    pub status: u16,
    pub response_body: Bytes,
    pub response_size: usize,
    /// Shared with the engine's token record when the token named it.
    pub appid: Option<Arc<str>>,
    pub fault: Option<String>,
}

impl Recorded {
    /// What the entry costs the journal's byte budget: the kept bodies and texts, plus the
    /// entry itself and the ring slot.
    pub fn cost(&self) -> usize {
        std::mem::size_of::<Self>()
            + 32
            + self.body.len()
            + self.response_body.len()
            + self.target.0.len()
            + self.appid.as_ref().map_or(0, |appid| appid.len())
            + self.fault.as_ref().map_or(0, String::len)
    }

    pub fn to_entry(&self) -> JournalEntry {
        let mut query = serde_json::Map::new();
        if let Some(raw) = self.target.query() {
            for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
                query
                    .entry(key.into_owned())
                    .or_insert_with(|| serde_json::Value::String(value.into_owned()));
            }
        }
        JournalEntry {
            id: self.id,
            time: self.time,
            method: self.method.to_string(),
            path: self.target.path().to_owned(),
            query,
            body: text_of(&self.body, self.body_size),
            body_size: self.body_size,
            status: self.status,
            response_body: text_of(&self.response_body, self.response_size),
            response_size: self.response_size,
            appid: self.appid.as_deref().map(str::to_owned),
            fault: self.fault.clone(),
        }
    }
}

/// The kept start of a body, as text; cut at a character boundary and marked when it is not the
/// whole body.
fn text_of(kept: &Bytes, size: usize) -> String {
    if kept.len() >= size {
        return String::from_utf8_lossy(kept).into_owned();
    }
    let text = String::from_utf8_lossy(kept);
    // A multi-byte character cut in two shows as a trailing U+FFFD: drop it.
    let text = text.strip_suffix('\u{fffd}').unwrap_or(&text);
    format!("{text}{TRUNCATED_MARKER}{size} bytes in all]")
}

/// The start of `bytes` that the journal keeps: shared when it is all of it and `share` allows,
/// copied otherwise (so a kept prefix never pins a large buffer).
pub(crate) fn keep(bytes: &Bytes, limit: usize, share: bool) -> Bytes {
    if bytes.len() <= limit && share {
        bytes.clone()
    } else {
        Bytes::copy_from_slice(&bytes[..bytes.len().min(limit)])
    }
}
