//! The auth styles `discover` tries on a protected path, in order, and how it reads the
//! rejection signal from the answers with and without the credential.

use super::probe::{Answer, RejectionFound};

/// JSON fields a backend answering HTTP 200 to everything uses to say no.
const SIGNAL_POINTERS: [&str; 6] = ["/code", "/errcode", "/status", "/success", "/ret", "/ok"];

type Apply = Box<dyn Fn(reqwest::RequestBuilder, &str) -> reqwest::RequestBuilder + Send + Sync>;

/// The auth styles, in the order tried: (comment label, `[auth]` TOML, how to apply).
pub(super) fn styles(cookie: Option<&str>) -> Vec<(String, String, Apply)> {
    let header = |name: &'static str, scheme: &'static str| -> Apply {
        Box::new(move |r, t| r.header(name, format!("{scheme}{t}")))
    };
    let mut out: Vec<(String, String, Apply)> = Vec::new();
    if let Some(name) = cookie {
        let n = name.to_string();
        out.push((
            format!("the `{name}` cookie the login set"),
            format!("style = \"cookie\"\ncookie = \"{name}\""),
            Box::new(move |r, t| r.header("Cookie", format!("{n}={t}"))),
        ));
    }
    out.push((
        "`Authorization: Bearer <token>`".into(),
        "style = \"bearer\"".into(),
        header("Authorization", "Bearer "),
    ));
    out.push((
        "a raw `Authorization: <token>` (no scheme)".into(),
        "headers = { Authorization = \"{{token}}\" }".into(),
        header("Authorization", ""),
    ));
    out.push((
        "`Authorization: Token <token>`".into(),
        "style = \"scheme\"\nscheme = \"Token\"".into(),
        header("Authorization", "Token "),
    ));
    out.push((
        "`Authorization: JWT <token>`".into(),
        "style = \"scheme\"\nscheme = \"JWT\"".into(),
        header("Authorization", "JWT "),
    ));
    for name in ["Token", "X-Token", "X-Access-Token", "X-Auth-Token"] {
        out.push((
            format!("a `{name}: <token>` header"),
            format!("style = \"header\"\nheader = \"{name}\""),
            header(name, ""),
        ));
    }
    out.push((
        "`Authorization: Basic` with the token as user name".into(),
        "style = \"basic\"".into(),
        Box::new(|r, t| r.basic_auth(t, Some(""))),
    ));
    if cookie.is_none() {
        out.push((
            "a `token` cookie".into(),
            "style = \"cookie\"\ncookie = \"token\"".into(),
            Box::new(|r, t| r.header("Cookie", format!("token={t}"))),
        ));
    }
    out.push((
        "a `?token=` query parameter".into(),
        "style = \"query\"\nfield = \"token\"".into(),
        Box::new(|r, t| r.query(&[("token", t)])),
    ));
    out
}

/// How the answer without a credential differs from the accepted one (None: it does not).
pub(super) fn rejection(with: &Answer, without: &Answer) -> Option<RejectionFound> {
    if without.status >= 400 && without.status < 500 {
        return Some(RejectionFound::Status(without.status));
    }
    if without.status != with.status {
        return None;
    }
    SIGNAL_POINTERS.iter().find_map(|p| {
        let w = with.json.as_ref()?.pointer(p)?;
        let wo = without.json.as_ref()?.pointer(p)?;
        (w != wo).then(|| RejectionFound::Field {
            status: without.status,
            pointer: p.to_string(),
            value: wo.to_string(),
        })
    })
}
