//! Reading WeChat requests without axum's extractors, so that malformed input is answered in
//! WeChat's envelope instead of axum's plain-text rejections.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use serde_json::{Map, Value};

use crate::engine::{Engine, Grant};
use crate::errcode::{WxError, DATA_FORMAT_ERROR, EMPTY_POST_DATA};

/// Largest body a POST endpoint reads; WeChat's bodies are tiny.
const BODY_LIMIT: usize = 64 * 1024;

/// The decoded `key=value` pairs of a query string. The first occurrence of a key wins; an
/// empty value counts as absent.
#[derive(Debug, Default)]
pub struct QueryParams<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> QueryParams<'a> {
    /// Splits and percent-decodes a raw query string (`None`: no query, no pairs).
    pub fn parse(raw: Option<&'a str>) -> Self {
        let raw = raw.unwrap_or("");
        // One search of the whole query: most have no escape anywhere, and then no key or
        // value needs a search of its own.
        let escaped = crate::fault::needs_decoding(raw);
        let pairs = crate::fault::raw_pairs(raw)
            .filter(|(pair, _, _)| !pair.is_empty())
            .map(|(_, key, value)| {
                if escaped {
                    (decode(key), decode(value))
                } else {
                    (Cow::Borrowed(key), Cow::Borrowed(value))
                }
            })
            .collect();
        Self { pairs }
    }

    /// The value of `key`, if present and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    }

    /// The value of the first `key`, empty or not.
    fn first(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }
}

/// A WeChat query parsed once for both the journal and the handler, with the record of its
/// access token read at most once (a token is looked up for the journal's appid and checked by
/// the handler).
pub(crate) struct Query<'a> {
    /// The decoded pairs.
    pub params: QueryParams<'a>,
    /// The record of the first `access_token`, once read (`None`: not read yet).
    grant: Option<Option<Grant>>,
    /// The time the request is answered at, once read (`None`: read it when needed).
    now: Option<i64>,
}

impl<'a> Query<'a> {
    /// Splits and percent-decodes a raw query string; nothing is looked up yet.
    pub fn parse(raw: Option<&'a str>) -> Self {
        Self {
            params: QueryParams::parse(raw),
            grant: None,
            now: None,
        }
    }

    /// The query of a request answered at `now` (the journal's arrival time): the handler's
    /// checks use that time instead of reading the clock again.
    pub fn at(mut self, now: i64) -> Self {
        self.now = Some(now);
        self
    }

    /// The time the request is answered at.
    pub fn now(&self, engine: &Engine) -> i64 {
        self.now.unwrap_or_else(|| engine.now())
    }

    /// The app the journal files the request under, as
    /// [`crate::fault::shared_appid_of`] finds it for a request without a body: the first
    /// `appid`, else the app of the first `access_token` (kept for the handler).
    pub fn journal_appid(&mut self, engine: &Engine) -> Option<Arc<str>> {
        if let Some(appid) = self.params.first("appid") {
            return Some(Arc::from(appid));
        }
        let token = self.params.first("access_token")?;
        let grant = engine.grant_of(token);
        let appid = grant.as_ref().map(|g| g.appid.clone());
        self.grant = Some(grant);
        appid
    }

    /// The appid the query's `access_token` grants (see [`Engine::authorize_grant`]), from the
    /// record already read for the journal when there is one.
    pub fn authorize(&self, engine: &Engine, token: &str) -> Result<Arc<str>, WxError> {
        match &self.grant {
            // Read for the first `access_token`, which is the one `QueryParams::get` gives.
            Some(grant) => engine.authorize_grant(token, grant.as_ref(), self.now(engine)),
            None => match self.now {
                Some(now) => engine.authorize_grant(token, engine.grant_of(token).as_ref(), now),
                None => engine.authorize_shared(token),
            },
        }
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte. Invalid
/// escapes are kept as they are; invalid UTF-8 is replaced.
fn decode(text: &str) -> Cow<'_, str> {
    if !crate::fault::needs_decoding(text) {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                    out.push(hex_value(*h) * 16 + hex_value(*l));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

/// The whole body, bounded. A body that cannot be read is a data format error.
pub async fn read_body(body: Body) -> Result<Bytes, WxError> {
    axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| WxError::new(DATA_FORMAT_ERROR))
}

/// A JSON object body: 44002 when empty, 47001 when not a JSON object.
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, WxError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(WxError::new(EMPTY_POST_DATA));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(WxError::new(DATA_FORMAT_ERROR)),
    }
}

/// A string field of a JSON body; numbers are accepted as their text. Empty counts as absent.
pub fn json_str<'a>(map: &'a Map<String, Value>, key: &str) -> Option<Cow<'a, str>> {
    match map.get(key)? {
        Value::String(s) if !s.is_empty() => Some(Cow::Borrowed(s.as_str())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_decoded_and_the_first_occurrence_wins() {
        let q = QueryParams::parse(Some("a=1&b=x%2By+z&a=2&c=&d%3D=%zz"));
        assert_eq!(q.get("a"), Some("1"));
        assert_eq!(q.get("b"), Some("x+y z"));
        assert_eq!(q.get("c"), None);
        assert_eq!(q.get("d="), Some("%zz"));
        assert_eq!(q.get("missing"), None);
    }

    #[test]
    fn the_query_parsed_once_files_a_request_under_the_appid_the_journal_finds() {
        let engine = crate::engine::Engine::new(
            &crate::Config::default(),
            crate::Clock::fixed(1_700_000_000),
        );
        let token = engine.mint_access_token(crate::DEMO_APPID).unwrap();
        for query in [
            format!("access_token={token}&appid=wx9"),
            format!("%61ppid=wx%39&access_token={token}"),
            format!("access_%74oken={token}&openid=o1"),
            format!("access_token={token}&access_token=other"),
            format!("access_token=other&access_token={token}"),
            format!("access_token=&access_token={token}"),
            format!("&&=&access_token={token}&"),
            "appid=&appid=wx1".to_owned(),
            "appid=a+b%2Bc%zz%e4%b8%ad%ff".to_owned(),
            "appid".to_owned(),
            "openid=o1".to_owned(),
            String::new(),
        ] {
            let mut parsed = Query::parse(Some(&query));
            assert_eq!(
                parsed.journal_appid(&engine),
                crate::fault::shared_appid_of(&engine, Some(&query), b""),
                "{query}"
            );
        }
        assert_eq!(Query::parse(None).journal_appid(&engine), None);
    }

    #[test]
    fn a_token_read_for_the_journal_authorizes_as_a_fresh_lookup_does() {
        let clock = crate::Clock::fixed(1_700_000_000);
        let engine = crate::engine::Engine::new(&crate::Config::default(), clock.clone());
        let token = engine.mint_access_token(crate::DEMO_APPID).unwrap();
        for value in [token.as_str(), "other", "89_unknown"] {
            let raw = format!("access_token={value}");
            let mut read = Query::parse(Some(&raw));
            read.journal_appid(&engine);
            let unread = Query::parse(Some(&raw));
            assert_eq!(
                read.authorize(&engine, value),
                unread.authorize(&engine, value),
                "{value}"
            );
            assert_eq!(
                read.authorize(&engine, value),
                engine.authorize_shared(value),
                "{value}"
            );
        }
        // Expired since it was read: the handler's check is made at its own time.
        let raw = format!("access_token={token}");
        let mut read = Query::parse(Some(&raw));
        assert!(read.journal_appid(&engine).is_some());
        assert!(read.authorize(&engine, &token).is_ok());
        clock.advance(8 * 3600);
        assert_eq!(
            read.authorize(&engine, &token),
            engine.authorize_shared(&token)
        );
        assert!(read.authorize(&engine, &token).is_err());
    }

    #[test]
    fn a_query_answered_at_a_time_is_checked_at_that_time_not_the_clocks() {
        let engine = crate::engine::Engine::new(
            &crate::Config::default(),
            crate::Clock::fixed(1_700_000_000),
        );
        let token = engine.mint_access_token(crate::DEMO_APPID).unwrap();
        let raw = format!("access_token={token}");
        let later = 1_700_000_000 + 8 * 3600;
        let expired = engine.authorize_grant(&token, engine.grant_of(&token).as_ref(), later);
        assert!(expired.is_err());
        // Whether or not the journal read the token's record first.
        let mut read = Query::parse(Some(&raw)).at(later);
        read.journal_appid(&engine);
        assert_eq!(read.authorize(&engine, &token), expired);
        let unread = Query::parse(Some(&raw)).at(later);
        assert_eq!(unread.authorize(&engine, &token), expired);
        assert!(Query::parse(Some(&raw)).authorize(&engine, &token).is_ok());
        assert_eq!(unread.now(&engine), later);
        assert_eq!(Query::parse(None).now(&engine), 1_700_000_000);
    }

    #[test]
    fn an_empty_body_and_a_form_body_are_told_apart() {
        assert_eq!(json_object(b"").unwrap_err().errcode, EMPTY_POST_DATA);
        assert_eq!(json_object(b"a=1").unwrap_err().errcode, DATA_FORMAT_ERROR);
        assert_eq!(json_object(b"[1]").unwrap_err().errcode, DATA_FORMAT_ERROR);
        assert!(json_object(br#"{"code":"x"}"#).is_ok());
    }
}
