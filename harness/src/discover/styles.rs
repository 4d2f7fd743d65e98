//! The auth styles `discover` tries on a protected path, in order, and how it reads the
//! rejection signal from the answers with and without the credential.

use serde_json::Value;

use super::found::RejectionFound;
use crate::exchange::Response;

/// JSON fields a backend answering HTTP 200 to everything uses to say no.
const SIGNAL_POINTERS: [&str; 6] = ["/code", "/errcode", "/status", "/success", "/ret", "/ok"];
/// Fields a refusal may carry that an accepted answer lacks altogether.
const ERROR_POINTERS: [&str; 4] = ["/error", "/err", "/errmsg", "/error_code"];

/// The auth styles for a one-value token, in the order tried: (comment label, `[auth]` TOML).
pub(super) fn styles(cookie: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    if let Some(name) = cookie {
        out.push((
            format!("the `{name}` cookie the login set"),
            format!("style = \"cookie\"\ncookie = \"{name}\""),
        ));
    }
    let mut add = |label: &str, toml: &str| out.push((label.to_string(), toml.to_string()));
    add("`Authorization: Bearer <token>`", "style = \"bearer\"");
    add(
        "a raw `Authorization: <token>` (no scheme)",
        "headers = { Authorization = \"{{token}}\" }",
    );
    add(
        "`Authorization: Token <token>`",
        "style = \"scheme\"\nscheme = \"Token\"",
    );
    add(
        "`Authorization: JWT <token>`",
        "style = \"scheme\"\nscheme = \"JWT\"",
    );
    for name in ["Token", "X-Token", "X-Access-Token", "X-Auth-Token"] {
        out.push((
            format!("a `{name}: <token>` header"),
            format!("style = \"header\"\nheader = \"{name}\""),
        ));
    }
    out.push((
        "`Authorization: Basic` with the token as user name".into(),
        "style = \"basic\"".into(),
    ));
    if cookie.is_none() {
        out.push((
            "a `token` cookie".into(),
            "style = \"cookie\"\ncookie = \"token\"".into(),
        ));
    }
    out.push((
        "a `?token=` query parameter".into(),
        "style = \"query\"\nfield = \"token\"".into(),
    ));
    out
}

/// `session_id` → `Session-Id`.
fn header_word(name: &str) -> String {
    name.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The auth styles for a credential of several parts (`id`, `skey`): each part in its own
/// header (`X-WX-Id`, `X-Id`, `id`), cookie or query parameter.
pub(super) fn part_styles(names: &[String]) -> Vec<(String, String)> {
    let table = |key: &dyn Fn(&str) -> String| -> String {
        let entries: Vec<String> = names
            .iter()
            .map(|n| format!("{} = \"{{{{token.{n}}}}}\"", key(n)))
            .collect();
        format!("{{ {} }}", entries.join(", "))
    };
    let listed = |key: &dyn Fn(&str) -> String| -> String {
        let keys: Vec<String> = names.iter().map(|n| format!("`{}`", key(n))).collect();
        keys.join(" and ")
    };
    let wafer = |n: &str| format!("X-WX-{}", header_word(n));
    let x = |n: &str| format!("X-{}", header_word(n));
    let bare = |n: &str| n.to_string();
    vec![
        (
            format!("the parts in the headers {}", listed(&wafer)),
            format!("headers = {}", table(&wafer)),
        ),
        (
            format!("the parts in the headers {}", listed(&x)),
            format!("headers = {}", table(&x)),
        ),
        (
            format!("the parts in the headers {}", listed(&bare)),
            format!("headers = {}", table(&bare)),
        ),
        (
            format!("the parts as the cookies {}", listed(&bare)),
            format!("cookies = {}", table(&bare)),
        ),
        (
            format!("the parts as the query parameters {}", listed(&bare)),
            format!("query = {}", table(&bare)),
        ),
    ]
}

/// How the answer without a credential differs from the accepted one (None: it does not).
pub(super) fn rejection(with: &Response, without: &Response) -> Option<RejectionFound> {
    if without.status >= 400 && without.status < 500 {
        return Some(RejectionFound::Status(without.status));
    }
    if without.status != with.status {
        return None;
    }
    let differs = SIGNAL_POINTERS.iter().find_map(|p| {
        let w = with.pointer(p)?;
        let wo = without.pointer(p)?;
        (w != wo).then(|| RejectionFound::Field {
            status: without.status,
            pointer: p.to_string(),
            value: wo.to_string(),
        })
    });
    differs.or_else(|| {
        // A field only the refusal has (Wafer's `error`), when the accepted answer lacks it.
        ERROR_POINTERS.iter().find_map(|p| {
            let wo = without.pointer(p)?;
            let present = !matches!(wo, Value::Null | Value::Bool(false))
                && wo.as_str().is_none_or(|s| !s.is_empty());
            (present && with.json.is_some() && with.pointer(p).is_none()).then(|| {
                RejectionFound::Present {
                    status: without.status,
                    pointer: p.to_string(),
                }
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: Value) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.to_string(),
            json: Some(body),
        }
    }

    #[test]
    fn a_4xx_without_the_credential_is_the_signal() {
        let with = answer(200, json!({"id": 1}));
        let without = answer(401, json!({"detail": "no"}));
        assert_eq!(
            rejection(&with, &without),
            Some(RejectionFound::Status(401))
        );
    }

    #[test]
    fn a_field_only_the_refusal_has_is_the_signal_of_an_always_200_backend() {
        let with = answer(200, json!({"code": 0, "data": {}}));
        let without = answer(
            200,
            json!({"error": "ERR_INVALID_SESSION", "message": "login"}),
        );
        assert_eq!(
            rejection(&with, &without),
            Some(RejectionFound::Present {
                status: 200,
                pointer: "/error".into()
            })
        );
        // An empty or false `error` says nothing; nor does one the accepted answer has too.
        let empty = answer(200, json!({"error": ""}));
        assert_eq!(rejection(&with, &empty), None);
        let both = answer(200, json!({"error": "x", "data": {}}));
        assert_eq!(rejection(&both, &without), None);
    }

    #[test]
    fn a_field_both_have_with_another_value_wins_over_a_field_only_the_refusal_has() {
        let with = answer(200, json!({"code": 0}));
        let without = answer(200, json!({"code": 401, "error": "no"}));
        assert_eq!(
            rejection(&with, &without),
            Some(RejectionFound::Field {
                status: 200,
                pointer: "/code".into(),
                value: "401".into()
            })
        );
    }

    #[test]
    fn the_same_answer_with_and_without_the_credential_is_no_signal() {
        let same = answer(200, json!({"ok": true}));
        assert_eq!(rejection(&same, &same), None);
    }

    #[test]
    fn each_part_of_a_session_goes_in_its_own_header_cookie_or_query_parameter() {
        let styles = part_styles(&["id".into(), "session_key".into()]);
        let tomls: Vec<&str> = styles.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            tomls,
            [
                "headers = { X-WX-Id = \"{{token.id}}\", X-WX-Session-Key = \"{{token.session_key}}\" }",
                "headers = { X-Id = \"{{token.id}}\", X-Session-Key = \"{{token.session_key}}\" }",
                "headers = { id = \"{{token.id}}\", session_key = \"{{token.session_key}}\" }",
                "cookies = { id = \"{{token.id}}\", session_key = \"{{token.session_key}}\" }",
                "query = { id = \"{{token.id}}\", session_key = \"{{token.session_key}}\" }",
            ]
        );
    }
}
