//! One journal entry, in two forms: the cheap one stored on every request ([`Recorded`]: raw
//! query, `Bytes` bodies) and the readable one handed out ([`JournalEntry`]: query as an object,
//! bodies as text), built only when someone reads the journal.

use axum::body::Bytes;
use axum::http::{Method, Uri};

use serde::{Deserialize, Serialize};

/// `status` of an entry whose request got no HTTP answer: the connection is still held (a
/// `timeout` fault) or was dropped (a `reset` fault, or the client went away).
pub const NO_ANSWER: u16 = 0;

/// A request the fake received and what it answered, as `GET /__admin/journal` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Increases by one per request and is never reused, even across resets.
    pub id: u64,
    /// When the request arrived, in Unix seconds on the fake's clock.
    pub time: i64,
    pub method: String,
    pub path: String,
    /// The query string as an object; for a repeated key the first value wins.
    pub query: serde_json::Map<String, serde_json::Value>,
    /// The raw request body (lossy UTF-8).
    pub body: String,
    /// The HTTP status answered, or [`NO_ANSWER`] (0).
    pub status: u16,
    /// The raw response body (lossy UTF-8).
    pub response_body: String,
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
    pub body: Bytes,
    pub status: u16,
    pub response_body: Bytes,
    pub appid: Option<String>,
    pub fault: Option<String>,
}

impl Recorded {
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
            body: String::from_utf8_lossy(&self.body).into_owned(),
            status: self.status,
            response_body: String::from_utf8_lossy(&self.response_body).into_owned(),
            appid: self.appid.clone(),
            fault: self.fault.clone(),
        }
    }
}
