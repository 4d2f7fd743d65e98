//! wiremock-style expectations on a [`MockWeChat`]: "jscode2session exactly once", checked
//! against the journal when the fake is dropped (or on [`MockWeChat::verify`]), failing with a
//! message that lists what was received, secrets masked.
//!
//! ```no_run
//! # async fn demo() {
//! use wxmock_server::expect::Expectation;
//! use wxmock_server::MockWeChat;
//!
//! let wechat = MockWeChat::start().await;
//! wechat.expect(Expectation::path("/sns/jscode2session").times(1));
//! // … run the backend under test against wechat.base_url() …
//! drop(wechat); // panics here if jscode2session was not called exactly once
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::panic::Location;
use std::sync::Mutex;

use crate::fault::Path;
use crate::journal::{Journal, JournalEntry, JournalFilter};
use crate::server::MockWeChat;

/// How many matching requests an expectation allows, as given; unset means "at least one",
/// and an upper bound alone means "from zero to that".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct Bounds {
    min: Option<usize>,
    max: Option<usize>,
}

impl Bounds {
    fn min(&self) -> usize {
        match (self.min, self.max) {
            (Some(min), _) => min,
            (None, Some(_)) => 0,
            (None, None) => 1,
        }
    }

    fn allows(&self, count: usize) -> bool {
        count >= self.min() && self.max.is_none_or(|max| count <= max)
    }
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min(), self.max) {
            (min, Some(max)) if min == max => write!(f, "exactly {min}"),
            (0, Some(max)) => write!(f, "at most {max}"),
            (min, None) => write!(f, "at least {min}"),
            (min, Some(max)) => write!(f, "between {min} and {max}"),
        }
    }
}

/// Requests to one endpoint (optionally one app), and how many of them there must be.
/// Without a count: at least one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    filter: JournalFilter,
    method: Option<String>,
    openid: Option<String>,
    js_code: Option<String>,
    query: Vec<(String, String)>,
    bounds: Bounds,
    name: Option<String>,
    /// Where the test registered it ([`MockWeChat::expect`] is `#[track_caller]`), so a
    /// failure on drop still points at the test's line.
    registered_at: Option<&'static Location<'static>>,
}

impl Expectation {
    /// Requests to `path` (exact), e.g. `/sns/jscode2session`.
    pub fn path(path: impl Into<String>) -> Self {
        Self {
            filter: JournalFilter::path(path),
            method: None,
            openid: None,
            js_code: None,
            query: Vec::new(),
            bounds: Bounds::default(),
            name: None,
            registered_at: None,
        }
    }

    /// Requests to a WeChat endpoint named by [`Path`].
    ///
    /// ```
    /// use wxmock_server::expect::Expectation;
    /// use wxmock_server::Path;
    /// let once = Expectation::on(Path::Code2Session).times(1);
    /// # let _ = once;
    /// ```
    pub fn on(path: Path) -> Self {
        Self::path(path.as_str())
    }

    /// Only requests concerning this user: `openid` in the query or the JSON body, or the
    /// openid the fake answered (a jscode2session login of that user).
    pub fn openid(mut self, openid: impl Into<String>) -> Self {
        self.openid = Some(openid.into());
        self
    }

    /// Only requests carrying this `js_code`.
    pub fn js_code(mut self, js_code: impl Into<String>) -> Self {
        self.js_code = Some(js_code.into());
        self
    }

    /// Only requests whose query has `key=value` (repeatable; all must match), e.g.
    /// `.query("grant_type", "authorization_code")`.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Only requests concerning this app.
    pub fn appid(mut self, appid: impl Into<String>) -> Self {
        self.filter.appid = Some(appid.into());
        self
    }

    /// Only requests with this HTTP method (`GET`, `POST`).
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into().to_ascii_uppercase());
        self
    }

    /// Exactly `n` matching requests.
    pub fn times(mut self, n: usize) -> Self {
        self.bounds = Bounds {
            min: Some(n),
            max: Some(n),
        };
        self
    }

    /// No matching request at all.
    pub fn never(self) -> Self {
        self.times(0)
    }

    /// At least `n` matching requests.
    pub fn at_least(mut self, n: usize) -> Self {
        self.bounds.min = Some(n);
        self
    }

    /// At most `n` matching requests.
    pub fn at_most(mut self, n: usize) -> Self {
        self.bounds.max = Some(n);
        self
    }

    /// A name shown in the failure message.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    fn matches(&self, entry: &JournalEntry) -> bool {
        self.filter.path.as_deref().is_none_or(|p| p == entry.path)
            && self
                .filter
                .appid
                .as_deref()
                .is_none_or(|a| entry.appid.as_deref() == Some(a))
            && self.method.as_deref().is_none_or(|m| m == entry.method)
            && self
                .js_code
                .as_deref()
                .is_none_or(|code| query_value(entry, "js_code").as_deref() == Some(code))
            && self
                .query
                .iter()
                .all(|(key, value)| query_value(entry, key).as_deref() == Some(value.as_str()))
            && self.openid.as_deref().is_none_or(|openid| {
                query_value(entry, "openid").as_deref() == Some(openid)
                    || json_field(&entry.body, "openid").as_deref() == Some(openid)
                    || json_field(&entry.response_body, "openid").as_deref() == Some(openid)
            })
    }

    fn describe(&self) -> String {
        let mut text = String::new();
        if let Some(name) = &self.name {
            text.push_str(&format!("\"{name}\": "));
        }
        if let Some(method) = &self.method {
            text.push_str(method);
            text.push(' ');
        }
        text.push_str(self.filter.path.as_deref().unwrap_or("any path"));
        if let Some(appid) = &self.filter.appid {
            text.push_str(&format!(" for app {appid}"));
        }
        if let Some(openid) = &self.openid {
            text.push_str(&format!(" for user {openid}"));
        }
        if let Some(code) = &self.js_code {
            text.push_str(&format!(" with js_code={code}"));
        }
        for (key, value) in &self.query {
            let value = if crate::redact::is_secret_name(key) {
                crate::redact::MASK
            } else {
                value.as_str()
            };
            text.push_str(&format!(" with {key}={value}"));
        }
        if let Some(location) = self.registered_at {
            text.push_str(&format!(" (expected at {location})"));
        }
        text
    }
}

/// A query parameter as text (numbers and booleans as they were written).
fn query_value(entry: &JournalEntry, key: &str) -> Option<String> {
    entry.query.get(key).map(|value| match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    })
}

/// A top-level string field of a JSON text, when it is one.
fn json_field(text: &str, key: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    json.get(key)?.as_str().map(str::to_owned)
}

/// One expectation that was not met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmet {
    /// What was expected, in words (its name, method and path, and any app, user, code or query).
    pub expectation: String,
    /// How many calls were expected, e.g. `exactly 1` or `at least 2`.
    pub expected: String,
    /// How many matching calls arrived.
    pub received: usize,
}

/// Why [`Expectations::check`] failed: the unmet expectations and everything received.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectationFailure {
    /// The expectations that were not met.
    pub unmet: Vec<Unmet>,
    /// Every request the fake received, to show what came instead.
    pub received: Vec<JournalEntry>,
}

impl fmt::Display for ExpectationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.unmet.len();
        writeln!(
            f,
            "wxmock: {count} expectation{} not met:",
            if count == 1 { "" } else { "s" }
        )?;
        for unmet in &self.unmet {
            writeln!(
                f,
                "  - {}: expected {}, received {}",
                unmet.expectation, unmet.expected, unmet.received
            )?;
        }
        if self.received.is_empty() {
            return writeln!(f, "the fake received no request at all");
        }
        writeln!(
            f,
            "the fake received {} request{} (secrets masked):",
            self.received.len(),
            if self.received.len() == 1 { "" } else { "s" }
        )?;
        for entry in &self.received {
            writeln!(f, "  {}", describe_entry(entry))?;
        }
        Ok(())
    }
}

impl std::error::Error for ExpectationFailure {}

/// `#3 GET /sns/jscode2session?appid=wx1&secret=*** → 200 {"errcode":40029,…} [fault f-1]`.
fn describe_entry(entry: &JournalEntry) -> String {
    let query = entry
        .query
        .iter()
        .map(|(key, value)| {
            if crate::redact::is_secret_name(key) {
                format!("{key}={}", crate::redact::MASK)
            } else {
                format!("{key}={}", value.as_str().unwrap_or_default())
            }
        })
        .collect::<Vec<_>>()
        .join("&");
    let answer = match entry.response_json() {
        Some(_) => crate::redact::body_text(&entry.response_body).into_owned(),
        None if entry.response_body.len() > 80 => {
            format!(
                "{}…",
                entry.response_body.chars().take(80).collect::<String>()
            )
        }
        None => entry.response_body.clone(),
    };
    let mut line = format!("#{} {} {}", entry.id, entry.method, entry.path);
    if !query.is_empty() {
        line.push('?');
        line.push_str(&query);
    }
    if entry.status == crate::journal::NO_ANSWER {
        line.push_str(" → no answer (connection held or dropped)");
    } else {
        line.push_str(&format!(" → {} {answer}", entry.status));
    }
    if let Some(fault) = &entry.fault {
        line.push_str(&format!(" [fault {fault}]"));
    }
    line
}

/// Expectations registered on a `MockWeChat`, verified when it is dropped.
#[derive(Debug, Default)]
pub struct Expectations {
    // A std Mutex: registered and checked from test code, never held across an `.await`.
    list: Mutex<Vec<Expectation>>,
}

impl Expectations {
    /// Registers an expectation.
    pub fn add(&self, expectation: Expectation) {
        self.list
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(expectation);
    }

    /// Checks every expectation against the journal.
    pub fn check(&self, journal: &Journal) -> Result<(), ExpectationFailure> {
        let expectations = self
            .list
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if expectations.is_empty() {
            return Ok(());
        }
        let received = journal.all();
        let unmet: Vec<Unmet> = expectations
            .iter()
            .filter_map(|expectation| {
                let count = received.iter().filter(|e| expectation.matches(e)).count();
                (!expectation.bounds.allows(count)).then(|| Unmet {
                    expectation: expectation.describe(),
                    expected: expectation.bounds.to_string(),
                    received: count,
                })
            })
            .collect();
        if unmet.is_empty() {
            Ok(())
        } else {
            Err(ExpectationFailure { unmet, received })
        }
    }

    /// Panics with a list of what was received when an expectation is not met.
    #[track_caller]
    pub fn verify(&self, journal: &Journal) {
        if let Err(failure) = self.check(journal) {
            panic!("{failure}");
        }
    }
}

/// The journal and expectations, on the test-facing handle.
impl MockWeChat {
    /// Every request the fake received (that the journal still keeps), oldest first.
    pub fn received_requests(&self) -> Vec<JournalEntry> {
        self.state().journal.all()
    }

    /// The requests matching `filter`, oldest first.
    pub fn requests(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        self.state().journal.entries(filter)
    }

    /// How many requests each endpoint received.
    pub fn request_counts(&self) -> BTreeMap<String, usize> {
        self.state().journal.counts_by_path()
    }

    /// Registers an expectation, checked when the fake is dropped and by [`MockWeChat::verify`].
    /// The failure message names the line that called `expect`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wxmock_server::expect::Expectation;
    /// use wxmock_server::{MockWeChat, Path, ALICE_OPENID};
    ///
    /// let wechat = MockWeChat::start().await;
    /// wechat.expect(
    ///     Expectation::on(Path::Code2Session)
    ///         .openid(ALICE_OPENID)
    ///         .query("grant_type", "authorization_code")
    ///         .never(),
    /// );
    /// wechat.verify(); // nothing was called: met
    /// # }
    /// ```
    #[track_caller]
    pub fn expect(&self, mut expectation: Expectation) {
        expectation.registered_at = Some(Location::caller());
        self.expectations.add(expectation);
    }

    /// Checks the expectations now; panics with what was received if one is not met (the
    /// panic points at the caller's line).
    #[track_caller]
    pub fn verify(&self) {
        self.expectations.verify(&self.state().journal);
    }

    /// Checks the expectations now, without panicking.
    pub fn check_expectations(&self) -> Result<(), ExpectationFailure> {
        self.expectations.check(&self.state().journal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_read_as_english() {
        assert_eq!(
            Expectation::path("/p").times(1).bounds.to_string(),
            "exactly 1"
        );
        assert_eq!(Expectation::path("/p").bounds.to_string(), "at least 1");
        assert_eq!(
            Expectation::path("/p").at_most(2).bounds.to_string(),
            "at most 2"
        );
        assert_eq!(
            Expectation::path("/p")
                .at_least(1)
                .at_most(3)
                .bounds
                .to_string(),
            "between 1 and 3"
        );
    }

    #[test]
    fn secrets_are_masked_in_the_received_list() {
        let entry = JournalEntry {
            id: 1,
            time: 0,
            method: "GET".into(),
            path: "/sns/jscode2session".into(),
            query: serde_json::json!({"appid": "wx1", "secret": "s3cr3t"})
                .as_object()
                .cloned()
                .unwrap(),
            body: String::new(),
            body_size: 0,
            status: 200,
            response_body: r#"{"session_key":"abc==","openid":"o1"}"#.into(),
            response_size: 38,
            appid: Some("wx1".into()),
            fault: None,
        };
        let line = describe_entry(&entry);
        assert!(
            !line.contains("s3cr3t") && !line.contains("abc=="),
            "{line}"
        );
        assert!(
            line.contains("secret=***") && line.contains("\"openid\":\"o1\""),
            "{line}"
        );
    }
}
