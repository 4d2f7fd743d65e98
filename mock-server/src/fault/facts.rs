//! What a WeChat-API request concerns: its appid, openid and js_code, read from the query, the
//! JSON body, or the engine (an access token names its app; a login code names its user). Fault
//! rules match on these facts and the journal files entries under the appid.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

use crate::engine::Engine;

/// The path whose `js_code` is a login code (magic codes and `code_owner` apply there).
pub const JSCODE2SESSION: &str = "/sns/jscode2session";

/// The first value of a query parameter, percent-decoded.
pub fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<Cow<'a, str>> {
    // Hand-rolled rather than `form_urlencoded::parse` for the common case: this runs on every
    // request (the journal files each one under its appid), and most values need no decoding.
    for (pair, key, value) in raw_pairs(query?) {
        if key == name {
            if !needs_decoding(value) {
                return Some(Cow::Borrowed(value));
            }
            return form_urlencoded::parse(pair.as_bytes())
                .next()
                .map(|(_, v)| Cow::Owned(v.into_owned()));
        }
        if needs_decoding(key) {
            // An encoded key could still spell `name`: decode it the slow way.
            let decoded = form_urlencoded::parse(pair.as_bytes()).next();
            if let Some((k, v)) = decoded {
                if k == name {
                    return Some(Cow::Owned(v.into_owned()));
                }
            }
        }
    }
    None
}

/// The pairs of a raw query string as `(pair, key, value)`, split at each `&` and at a pair's
/// first `=` (no `=`: an empty value), exactly as `split('&')` and `split_once('=')` would, with
/// the quicker [`find_byte`].
pub(crate) fn raw_pairs(query: &str) -> impl Iterator<Item = (&str, &str, &str)> {
    let mut rest = Some(query);
    std::iter::from_fn(move || {
        let text = rest?;
        // Both bytes are ASCII, so each position found is a character boundary.
        let pair = match find_byte(text.as_bytes(), b'&') {
            Some(at) => {
                rest = Some(&text[at + 1..]);
                &text[..at]
            }
            None => {
                rest = None;
                text
            }
        };
        Some(match find_byte(pair.as_bytes(), b'=') {
            Some(at) => (pair, &pair[..at], &pair[at + 1..]),
            None => (pair, pair, ""),
        })
    })
}

/// The first position of `byte` (SIMD search: the queries scanned on every request carry long
/// tokens and signatures).
fn find_byte(haystack: &[u8], byte: u8) -> Option<usize> {
    memchr::memchr(byte, haystack)
}

/// The value of `pair` (whose raw value part is `value`), percent-decoded.
fn decoded<'a>(pair: &'a str, value: &'a str) -> Cow<'a, str> {
    if !needs_decoding(value) {
        return Cow::Borrowed(value);
    }
    form_urlencoded::parse(pair.as_bytes())
        .next()
        .map_or(Cow::Borrowed(""), |(_, v)| Cow::Owned(v.into_owned()))
}

/// True when a query component has escapes (`%XX` or `+`). A SIMD search: the values scanned
/// on every request are long tokens and signatures that almost never have an escape.
pub(crate) fn needs_decoding(component: &str) -> bool {
    memchr::memchr2(b'%', b'+', component.as_bytes()).is_some()
}

/// A string field of a JSON object body (bodies that are not JSON objects have none).
fn body_field(body: &[u8], name: &str) -> Option<String> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    match serde_json::from_slice::<Value>(body).ok()?.get(name)? {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The tenant a request concerns: `appid` in the query, else the app owning the query's
/// `access_token`, else `appid` in a JSON body (stable_token).
pub fn appid_of(engine: &Engine, query: Option<&str>, body: &[u8]) -> Option<String> {
    shared_appid_of(engine, query, body).map(|appid| appid.to_string())
}

/// [`appid_of`], shared with the engine's token record when it comes from a token (no copy).
pub(crate) fn shared_appid_of(
    engine: &Engine,
    query: Option<&str>,
    body: &[u8],
) -> Option<Arc<str>> {
    // One pass for both names (this runs on every request): the first `appid` wins wherever it
    // is, else the first `access_token`.
    let mut token = None;
    for (pair, key, value) in raw_pairs(query.unwrap_or("")) {
        let key = if needs_decoding(key) {
            match form_urlencoded::parse(pair.as_bytes()).next() {
                Some((key, _)) => key,
                None => continue,
            }
        } else {
            Cow::Borrowed(key)
        };
        if key == "appid" {
            return Some(Arc::from(decoded(pair, value)));
        }
        if key == "access_token" && token.is_none() {
            token = Some(decoded(pair, value));
        }
    }
    if let Some(token) = token {
        return engine.shared_appid_of_access_token(&token);
    }
    if body.is_empty() {
        return None;
    }
    body_field(body, "appid").map(Arc::from)
}

/// Everything a fault rule can match on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestFacts {
    /// The app the request is for (`appid` parameter, or the app of its access token).
    pub appid: Option<String>,
    /// The user it concerns (`openid` parameter, or the owner of its login code).
    pub openid: Option<String>,
    /// The login code it carries (`js_code`).
    pub js_code: Option<String>,
}

impl RequestFacts {
    /// Reads the facts of a request. The openid of a jscode2session call is the owner of its
    /// code (peeked, not consumed), so a rule can target one user before the code is redeemed.
    pub fn gather(engine: &Engine, path: &str, query: Option<&str>, body: &[u8]) -> Self {
        let appid = appid_of(engine, query, body);
        let js_code = query_param(query, "js_code")
            .map(Cow::into_owned)
            .or_else(|| body_field(body, "js_code"));
        let mut openid = query_param(query, "openid")
            .map(Cow::into_owned)
            .or_else(|| body_field(body, "openid"));
        if openid.is_none() && path == JSCODE2SESSION {
            if let (Some(appid), Some(code)) = (&appid, &js_code) {
                openid = engine.code_owner(appid, code);
            }
        }
        Self {
            appid,
            openid,
            js_code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_decoded_and_the_first_one_wins() {
        let q = Some("appid=wx%31&js_code=a+b&appid=wx2");
        assert_eq!(query_param(q, "appid").as_deref(), Some("wx1"));
        assert_eq!(query_param(q, "js_code").as_deref(), Some("a b"));
        assert_eq!(query_param(q, "secret"), None);
        assert_eq!(query_param(None, "appid"), None);
        assert_eq!(
            query_param(Some("%61ppid=wx3"), "appid").as_deref(),
            Some("wx3")
        );
        assert_eq!(
            query_param(Some("js_code&appid="), "js_code").as_deref(),
            Some("")
        );
        assert_eq!(query_param(Some("xappid=1"), "appid"), None);
    }

    #[test]
    fn the_appid_comes_from_the_query_wherever_it_is_then_from_the_first_token() {
        let engine = Engine::new(
            &crate::Config::default(),
            crate::Clock::fixed(1_700_000_000),
        );
        let token = engine.mint_access_token(crate::DEMO_APPID).unwrap();
        let of = |query: &str| appid_of(&engine, Some(query), b"");
        assert_eq!(
            of(&format!("access_token={token}&appid=wx9")).as_deref(),
            Some("wx9")
        );
        assert_eq!(
            of(&format!("%61ppid=wx%39&access_token={token}")).as_deref(),
            Some("wx9")
        );
        assert_eq!(
            of(&format!("access_token={token}&access_token=other")).as_deref(),
            Some(crate::DEMO_APPID)
        );
        assert_eq!(
            of(&format!("access_token=other&access_token={token}")),
            None
        );
        assert_eq!(of("appid=&appid=wx1").as_deref(), Some(""));
        assert_eq!(
            appid_of(&engine, None, br#"{"appid":"wx2"}"#).as_deref(),
            Some("wx2")
        );
    }

    #[test]
    fn query_pairs_split_like_split_and_split_once() {
        for query in [
            "",
            "a",
            "a=1",
            "a=1&b",
            "&&a=&=b&",
            "k=v=w&x==",
            "access_token=89_0123456789abcdefghijklmnopqrstuvwxyz_0123456789&openid=o1&s=é&t=1",
        ] {
            let expected: Vec<(&str, &str, &str)> = query
                .split('&')
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (pair, key, value)
                })
                .collect();
            assert_eq!(raw_pairs(query).collect::<Vec<_>>(), expected, "{query}");
        }
        let long = format!("{}&{}=", "x".repeat(40), "y".repeat(33));
        assert_eq!(find_byte(long.as_bytes(), b'&'), Some(40));
        assert_eq!(find_byte(long.as_bytes(), b'='), Some(74));
        assert_eq!(find_byte(b"abc", b'='), None);
        for at in [0, 15, 16, 40, 99] {
            for escape in ['%', '+'] {
                let mut text = "x".repeat(100);
                text.replace_range(at..=at, &escape.to_string());
                assert!(needs_decoding(&text), "{escape} at {at}");
            }
        }
        assert!(!needs_decoding(&"x".repeat(100)));
        assert!(!needs_decoding(""));
    }

    #[test]
    fn only_string_fields_of_json_objects_count() {
        assert_eq!(
            body_field(br#" {"appid":"wx1"}"#, "appid").as_deref(),
            Some("wx1")
        );
        assert_eq!(body_field(br#"{"appid":1}"#, "appid"), None);
        assert_eq!(body_field(b"appid=wx1", "appid"), None);
    }
}
