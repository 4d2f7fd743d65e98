//! Where a value is read from an answer: one small syntax for token parts and identities.
//!
//! - `/data/token` — a JSON pointer into the answer body (`""` = the whole body)
//! - `cookie:NAME` — the value of cookie NAME in the answer's `Set-Cookie`
//! - `header:NAME` — an answer header (a leading `Bearer ` is removed)
//! - `jwt:/uid` — a claim of the JWT token (the login's main token part); `jwt:` alone is the
//!   whole payload, e.g. a bare JSON string signed by jwt-simple

use base64::Engine as _;
use serde_json::Value;

use crate::exchange::Response;

/// A parsed source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Pointer(String),
    Cookie(String),
    Header(String),
    Jwt(String),
}

impl Source {
    /// Parses the source syntax; `Err` says what is expected.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(name) = s.strip_prefix("cookie:") {
            return non_empty(name, "cookie:NAME").map(Source::Cookie);
        }
        if let Some(name) = s.strip_prefix("header:") {
            return non_empty(name, "header:NAME").map(Source::Header);
        }
        if let Some(p) = s.strip_prefix("jwt:") {
            return pointer(p).map(Source::Jwt);
        }
        pointer(s).map(Source::Pointer).map_err(|_| {
            format!(
                "must be a JSON pointer (\"/data/token\"), \"cookie:NAME\", \"header:NAME\" or \"jwt:/claim\", got {s:?}"
            )
        })
    }

    /// The value in an answer as text (strings unquoted, numbers as written); None when absent
    /// or empty. `token` is the main token, for `jwt:` sources.
    pub fn read(&self, r: &Response, token: Option<&str>) -> Option<String> {
        let text = match self {
            Source::Pointer(p) => match r.pointer(p)? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => return None,
                other => other.to_string(),
            },
            Source::Cookie(name) => r.cookie(name)?.to_string(),
            Source::Header(name) => {
                let v = r.header(name)?.trim();
                v.strip_prefix("Bearer ").unwrap_or(v).trim().to_string()
            }
            Source::Jwt(p) => jwt_claim(token?, p)?,
        };
        (!text.is_empty()).then_some(text)
    }

    /// Whether the value lives in the answer itself (not in the token).
    pub fn is_cookie(&self) -> bool {
        matches!(self, Source::Cookie(_))
    }
}

fn non_empty(name: &str, what: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        Err(format!("needs a name: {what}"))
    } else {
        Ok(name.to_string())
    }
}

fn pointer(p: &str) -> Result<String, String> {
    if p.is_empty() || p.starts_with('/') {
        Ok(p.to_string())
    } else {
        Err(format!(
            "must be a JSON pointer starting with '/', got {p:?}"
        ))
    }
}

/// The claim at `pointer` of a JWT's payload, read without verifying (identity only).
fn jwt_claim(token: &str, pointer: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let json: Value = serde_json::from_slice(&bytes).ok()?;
    match json.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str, headers: &[(&str, &str)]) -> Response {
        Response {
            status: 200,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
            json: serde_json::from_str(body).ok(),
        }
    }

    #[test]
    fn every_source_kind_parses_and_reads() {
        let r = answer(
            r#"{"data":{"session":{"id":"I","skey":"K"}},"n":7}"#,
            &[("Set-Cookie", "sid=S1; Path=/"), ("X-Token", "Bearer H")],
        );
        let read = |s: &str| Source::parse(s).expect(s).read(&r, None);
        assert_eq!(read("/data/session/id").as_deref(), Some("I"));
        assert_eq!(read("/n").as_deref(), Some("7"));
        assert_eq!(read("cookie:sid").as_deref(), Some("S1"));
        assert_eq!(read("header:x-token").as_deref(), Some("H"));
        assert_eq!(read("/missing"), None);
        assert!(Source::parse("token").is_err());
        assert!(Source::parse("cookie:").is_err());
    }

    #[test]
    fn jwt_sources_read_claims_and_bare_string_payloads() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let claims = format!("{}.{}.sig", b64(r#"{"alg":"HS256"}"#), b64(r#"{"uid":42}"#));
        let bare = format!("{}.{}.sig", b64(r#"{"alg":"HS256"}"#), b64(r#""oUser1""#));
        let r = answer("{}", &[]);
        let uid = Source::parse("jwt:/uid").expect("valid");
        assert_eq!(uid.read(&r, Some(&claims)).as_deref(), Some("42"));
        let whole = Source::parse("jwt:").expect("valid");
        assert_eq!(whole.read(&r, Some(&bare)).as_deref(), Some("oUser1"));
        assert_eq!(uid.read(&r, Some("opaque")), None);
    }
}
