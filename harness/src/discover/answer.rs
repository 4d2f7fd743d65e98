//! Reading answers: where a value sits in a JSON answer (as a pointer), where a protected
//! answer names the user, and which of the given environment values signs the token.

use serde_json::Value;

use crate::exchange::Response;

/// Where a protected answer usually names the user, when it does not show the openid.
const IDENTITY_POINTERS: [&str; 7] = [
    "/userId",
    "/id",
    "/openid",
    "/user/id",
    "/data/id",
    "/data/userId",
    "/data/openid",
];

/// The JSON pointer of `at` + `key`.
pub(super) fn child(at: &str, key: &str) -> String {
    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// The first pointer (depth first) where `v` holds the string `want`.
pub(super) fn pointer_of(v: &Value, want: &str, at: &str) -> Option<String> {
    match v {
        Value::String(s) if s == want => Some(at.to_string()),
        Value::Object(m) => m
            .iter()
            .find_map(|(k, x)| pointer_of(x, want, &child(at, k))),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| pointer_of(x, want, &child(at, &i.to_string()))),
        _ => None,
    }
}

/// Where the accepted answer names the user: the openid wherever it appears, a usual id
/// field, a header holding the openid or `X-User-Id`, or a claim of the JWT.
pub(super) fn identity(with: &Response, openid: &str, token: &str) -> Option<String> {
    if let Some(p) = with.json.as_ref().and_then(|j| pointer_of(j, openid, "")) {
        return Some(p);
    }
    if let Some(p) = IDENTITY_POINTERS
        .iter()
        .find(|p| with.pointer(p).is_some_and(|v| !v.is_null()))
    {
        return Some(p.to_string());
    }
    if let Some((k, _)) = with.headers.iter().find(|(_, v)| v == openid) {
        return Some(format!("header:{}", header_case(k)));
    }
    if with.header("x-user-id").is_some() {
        return Some("header:X-User-Id".into());
    }
    let jws = crate::jwt::decode(token).ok()?;
    pointer_of(jws.payload.as_ref()?, openid, "").map(|p| format!("jwt:{p}"))
}

/// `x-user-id` → `X-User-Id` (headers are case-insensitive; this reads better).
fn header_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The environment variable whose value verifies the token's HMAC signature.
pub(super) fn jwt_key(token: &str, env: &[(String, String)]) -> Option<(String, String)> {
    let jws = crate::jwt::decode(token).ok()?;
    env.iter()
        .find(|(_, v)| !v.is_empty() && jws.verifies_with(v.as_bytes()))
        .cloned()
}
