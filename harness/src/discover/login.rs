//! The login probes: each usual shape of the login request, with a fresh code (and, for the
//! shapes that carry it, encrypted userInfo minted for this very code by the harness's own
//! context), POST first and GET when the path refuses the method; and where a 2xx answer keeps
//! the credential (one token at the usual pointers, a two-part session, a cookie, a header).

use serde_json::Value;

use super::found::{Discovery, LoginFound};
use super::probe::{control, Prober};
use crate::context::Values;
use crate::error::HarnessError;
use crate::exchange::Response;
use crate::fake::Encrypted;

/// The code field names tried, in order.
pub const CODE_NAMES: [&str; 4] = ["code", "js_code", "jsCode", "wxcode"];
/// Where a login answer usually keeps a single token.
pub const TOKEN_POINTERS: [&str; 7] = [
    "/token",
    "/data/token",
    "/access_token",
    "/data/access_token",
    "/jwt",
    "/skey",
    "/data/skey",
];
/// Where a login answer keeps a session of several parts (Wafer's `{id, skey}`).
const SESSION_POINTERS: [&str; 2] = ["/session", "/data/session"];
/// Login answer headers that may carry the token.
const TOKEN_HEADERS: [&str; 5] = [
    "Authorization",
    "X-Token",
    "Token",
    "X-Auth-Token",
    "X-Access-Token",
];

/// One way of sending the code.
pub(super) struct Shape {
    pub request: String,
    pub label: String,
    pub carries_data: bool,
    /// No body: the shape also works as a GET.
    pub bodyless: bool,
}

fn shape(request: String, label: String, carries_data: bool, bodyless: bool) -> Shape {
    Shape {
        request,
        label,
        carries_data,
        bodyless,
    }
}

/// Every shape, in the order tried.
pub(super) fn shapes() -> Vec<Shape> {
    let mut out = Vec::new();
    for (code_in, bodyless, place) in [
        ("json", false, "JSON body"),
        ("query", true, "query"),
        ("form", false, "form body"),
    ] {
        for name in CODE_NAMES {
            out.push(shape(
                format!("code_in = \"{code_in}\"\ncode_field = \"{name}\""),
                format!("the code goes in the {place} as `{name}`"),
                false,
                bodyless,
            ));
        }
    }
    for name in ["X-WX-Code", "X-Code", "code"] {
        out.push(shape(
            format!("code_in = \"header\"\ncode_field = \"{name}\""),
            format!("the code goes in the request header `{name}`"),
            false,
            true,
        ));
    }
    out.push(shape(
        "headers = { X-WX-Code = \"{{code}}\", X-WX-Encrypted-Data = \"{{encrypted_data}}\", X-WX-IV = \"{{iv}}\" }".into(),
        "the code and the user's encrypted data go in the headers `X-WX-Code`, `X-WX-Encrypted-Data` and `X-WX-IV` (Wafer)".into(),
        true,
        true,
    ));
    out.push(shape(
        "json = { code = \"{{code}}\", encryptedData = \"{{encrypted_data}}\", iv = \"{{iv}}\", rawData = \"{{raw_data}}\", signature = \"{{signature}}\" }".into(),
        "the code and the user's encrypted data go in one JSON body `{code, encryptedData, iv, rawData, signature}`".into(),
        true,
        false,
    ));
    out
}

/// A login that gave a credential: the shape found, its answer and the data it carried.
pub(super) struct LoginHit {
    pub found: LoginFound,
    pub response: Response,
    /// Every credential the answer offers, most likely first: each a list of (name, source).
    pub credentials: Vec<Vec<(String, String)>>,
    pub data: Option<Encrypted>,
}

impl Prober {
    /// Tries each shape (POST, then GET when the path answers 404 or 405 and the shape has no
    /// body), each try with its own code, until a 2xx answer offers a credential.
    pub(super) async fn find_login(
        &self,
        openid: &str,
        d: &mut Discovery,
    ) -> Result<Option<LoginHit>, HarnessError> {
        for s in shapes() {
            for method in ["POST", "GET"] {
                if method == "GET" && !s.bodyless {
                    break;
                }
                let found = LoginFound {
                    method: method.into(),
                    request: s.request.clone(),
                    label: s.label.clone(),
                    carries_data: s.carries_data,
                    parts: vec![("token".into(), "/token".into())],
                    data_pointer: None,
                    data_read_back: None,
                };
                self.progress.stage(format!(
                    "the login ({method} {}, {}; try {})",
                    d.login_path,
                    s.label,
                    d.login_probes + 1
                ));
                self.progress.save(d);
                let candidate = Discovery {
                    login: Some(found.clone()),
                    ..d.clone()
                };
                let mut ctx = self.ctx(&candidate)?;
                let code = ctx.login_code(openid).await.map_err(control)?;
                let values: Values = ctx.login_values(Some(&code)).await.map_err(control)?;
                let req = ctx.render(&ctx.profile.compiled.login.clone(), &values);
                d.login_probes += 1;
                let Ok(response) = ctx.send("login", req).await else {
                    break;
                };
                if matches!(response.status, 404 | 405) {
                    continue;
                }
                if !response.is_success() {
                    break;
                }
                let credentials = credentials(&response);
                if credentials.is_empty() {
                    break;
                }
                return Ok(Some(LoginHit {
                    found,
                    response,
                    credentials,
                    data: values.data,
                }));
            }
        }
        Ok(None)
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The credentials a successful login answer offers, most likely first.
pub(super) fn credentials(r: &Response) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let single = |source: String| vec![("token".to_string(), source)];
    for p in TOKEN_POINTERS {
        if r.pointer(p).and_then(text).is_some() {
            out.push(single(p.to_string()));
            break;
        }
    }
    for p in SESSION_POINTERS {
        let Some(Value::Object(fields)) = r.pointer(p) else {
            continue;
        };
        let parts: Vec<(String, String)> = fields
            .iter()
            .filter(|(_, v)| matches!(v, Value::String(s) if !s.is_empty()))
            .filter(|(k, _)| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .take(3)
            .map(|(k, _)| (k.clone(), format!("{p}/{k}")))
            .collect();
        match parts.len() {
            0 => {}
            1 => out.push(single(parts[0].1.clone())),
            _ => out.push(parts),
        }
    }
    for (k, v) in &r.headers {
        if !k.eq_ignore_ascii_case("set-cookie") {
            continue;
        }
        let name = v
            .split(';')
            .next()
            .and_then(|pair| pair.split_once('='))
            .map(|(n, _)| n.trim());
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            out.push(single(format!("cookie:{n}")));
            break;
        }
    }
    for h in TOKEN_HEADERS {
        if r.header(h).is_some_and(|v| !v.trim().is_empty()) {
            out.push(single(format!("header:{h}")));
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(headers: &[(&str, &str)], body: Value) -> Response {
        Response {
            status: 200,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_string(),
            json: Some(body),
        }
    }

    fn parts(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect()
    }

    #[test]
    fn a_wafer_session_is_one_credential_of_two_parts() {
        let r = answer(&[], json!({"F2C2": 1, "session": {"id": "I", "skey": "K"}}));
        assert_eq!(
            credentials(&r),
            [parts(&[("id", "/session/id"), ("skey", "/session/skey")])]
        );
    }

    #[test]
    fn a_token_field_comes_before_a_cookie_and_a_header() {
        let r = answer(
            &[
                ("set-cookie", "sid=abc; Path=/; HttpOnly"),
                ("x-token", "T"),
            ],
            json!({"data": {"token": "J"}}),
        );
        assert_eq!(
            credentials(&r),
            [
                parts(&[("token", "/data/token")]),
                parts(&[("token", "cookie:sid")]),
                parts(&[("token", "header:X-Token")]),
            ]
        );
    }

    #[test]
    fn an_answer_without_any_credential_offers_none() {
        let r = answer(&[], json!({"code": 0, "token": "", "session": {"n": 3}}));
        assert!(credentials(&r).is_empty());
    }

    #[test]
    fn every_shape_is_tried_once_and_only_bodyless_ones_as_a_get() {
        let all = shapes();
        assert_eq!(all.len(), 4 * 3 + 3 + 2);
        assert_eq!(all.iter().filter(|s| s.bodyless).count(), 4 + 3 + 1);
        assert_eq!(all.iter().filter(|s| s.carries_data).count(), 2);
    }
}
