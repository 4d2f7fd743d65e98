//! `{{placeholder}}` templating of profile strings: which names exist where, how a template is
//! checked at load, and how it is filled. One rule for every request string: an entry (header,
//! query parameter, cookie, body field) whose template names a value this request does not have
//! (no code on the missing-code request, no token on the no-token request) is left out, never
//! sent empty. A path always renders (a missing value becomes empty text).

use base64::Engine as _;
use serde_json::Value;

use super::validate::invalid;
use crate::error::HarnessError;

/// Values of the whole run: usable in every templated string (backend command, env, requests).
pub const RUN_PLACEHOLDERS: &[&str] = &["wechat_base_url", "appid", "secret", "port"];

/// Values of the moment: usable in request strings only (`token.NAME` for each named part).
pub const REQUEST_PLACEHOLDERS: &[&str] = &[
    "code",
    "encrypted_data",
    "iv",
    "raw_data",
    "signature",
    "phone_code",
    "token",
];

/// Every placeholder name (without `token.NAME`), for messages and docs.
pub const PLACEHOLDERS: &[&str] = &[
    "wechat_base_url",
    "appid",
    "secret",
    "port",
    "code",
    "encrypted_data",
    "iv",
    "raw_data",
    "signature",
    "phone_code",
    "token",
];

/// Filters a placeholder may carry: `{{token|basic}}`.
pub const FILTERS: &[&str] = &["basic", "base64", "urlencode"];

/// Where a template is used, which decides the names it may use.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scope<'a> {
    /// Backend command, env, URLs, setup commands: run values only.
    Run,
    /// A request: run values, values of the moment, and `token.NAME` for these part names.
    Request { parts: &'a [String] },
}

/// One `{{…}}` occurrence: its byte span, name and optional filter.
struct Placeholder<'s> {
    start: usize,
    end: usize,
    name: &'s str,
    filter: Option<&'s str>,
}

/// Splits `s` into its placeholders; `Err` carries the unclosed-brace message.
fn placeholders(s: &str) -> Result<Vec<Placeholder<'_>>, String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(rel) = s[from..].find("{{") {
        let start = from + rel;
        let Some(len) = s[start + 2..].find("}}") else {
            return Err(format!("has an unclosed '{{{{' in {s:?}"));
        };
        let inner = &s[start + 2..start + 2 + len];
        let (name, filter) = match inner.split_once('|') {
            Some((n, f)) => (n.trim(), Some(f.trim())),
            None => (inner.trim(), None),
        };
        let end = start + 2 + len + 2;
        out.push(Placeholder {
            start,
            end,
            name,
            filter,
        });
        from = end;
    }
    Ok(out)
}

/// Every `{{name}}` in `s` must be known in `scope`; errors name `field`.
pub(crate) fn check_template(
    field: &str,
    s: &str,
    scope: Scope<'_>,
    origin: &str,
) -> Result<(), HarnessError> {
    let found = placeholders(s).map_err(|m| invalid(origin, field, m))?;
    for p in found {
        let known = match scope {
            Scope::Run => RUN_PLACEHOLDERS.contains(&p.name),
            Scope::Request { parts } => {
                RUN_PLACEHOLDERS.contains(&p.name)
                    || REQUEST_PLACEHOLDERS.contains(&p.name)
                    || p.name
                        .strip_prefix("token.")
                        .is_some_and(|n| parts.iter().any(|x| x == n))
            }
        };
        if !known {
            let hint = match scope {
                Scope::Run
                    if REQUEST_PLACEHOLDERS.contains(&p.name) || p.name.starts_with("token.") =>
                {
                    format!("(here only run values are known: {RUN_PLACEHOLDERS:?}; {{{{{}}}}} exists in requests only)", p.name)
                }
                Scope::Run => format!("(known here: {RUN_PLACEHOLDERS:?})"),
                Scope::Request { parts } if p.name.starts_with("token.") => format!(
                    "(the named token parts are {parts:?}: declare them in [login.token_parts])"
                ),
                Scope::Request { .. } => format!("(known: {PLACEHOLDERS:?} and token.NAME)"),
            };
            return Err(invalid(
                origin,
                field,
                format!("uses unknown placeholder {{{{{}}}}} {hint}", p.name),
            ));
        }
        if let Some(f) = p.filter {
            if !FILTERS.contains(&f) {
                return Err(invalid(
                    origin,
                    field,
                    format!("uses unknown filter |{f} (known: {FILTERS:?})"),
                ));
            }
        }
    }
    Ok(())
}

/// Checks every string leaf of a JSON template.
pub(crate) fn check_value(
    field: &str,
    v: &Value,
    scope: Scope<'_>,
    origin: &str,
) -> Result<(), HarnessError> {
    match v {
        Value::String(s) => check_template(field, s, scope, origin),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| check_value(&format!("{field}[{i}]"), x, scope, origin)),
        Value::Object(o) => o
            .iter()
            .try_for_each(|(k, x)| check_value(&format!("{field}.{k}"), x, scope, origin)),
        _ => Ok(()),
    }
}

/// Whether `s` names placeholder `name` (with or without a filter; `token` also matches
/// `token.NAME`).
pub(crate) fn mentions(s: &str, name: &str) -> bool {
    placeholders(s).is_ok_and(|ps| {
        ps.iter()
            .any(|p| p.name == name || (name == "token" && p.name.starts_with("token.")))
    })
}

/// Whether any string leaf of `v` names placeholder `name`.
pub(crate) fn value_mentions(v: &Value, name: &str) -> bool {
    match v {
        Value::String(s) => mentions(s, name),
        Value::Array(a) => a.iter().any(|x| value_mentions(x, name)),
        Value::Object(o) => o.values().any(|x| value_mentions(x, name)),
        _ => false,
    }
}

/// Values substituted into templated strings for the whole run.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    pub wechat_base_url: String,
    pub appid: String,
    pub secret: String,
    pub port: Option<u16>,
}

impl Vars {
    /// The value of a run placeholder (None for names that are not run values).
    pub fn get(&self, name: &str) -> Option<String> {
        match name {
            "wechat_base_url" => Some(self.wechat_base_url.clone()),
            "appid" => Some(self.appid.clone()),
            "secret" => Some(self.secret.clone()),
            "port" => Some(self.port.map(|p| p.to_string()).unwrap_or_default()),
            _ => None,
        }
    }

    /// Substitutes the run placeholders of `s` (backend command, env, URLs).
    pub fn render(&self, s: &str) -> String {
        fill(s, &|name| self.get(name)).unwrap_or_else(|| fill_lossy(s, &|name| self.get(name)))
    }
}

/// Fills every placeholder of `s` from `lookup`; None when one of them has no value.
pub(crate) fn fill(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let Ok(found) = placeholders(s) else {
        return Some(s.to_string());
    };
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for p in found {
        out.push_str(&s[last..p.start]);
        let value = lookup(p.name)?;
        out.push_str(&apply_filter(&value, p.filter));
        last = p.end;
    }
    out.push_str(&s[last..]);
    Some(out)
}

/// Fills `s`, a missing value becoming empty text (paths always render).
pub(crate) fn fill_lossy(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    fill(s, &|name| Some(lookup(name).unwrap_or_default())).unwrap_or_default()
}

/// Fills a JSON template: strings are filled, an entry whose template has a missing value is
/// left out (None for the whole value when it is itself such a string).
pub(crate) fn fill_value(v: &Value, lookup: &dyn Fn(&str) -> Option<String>) -> Option<Value> {
    match v {
        Value::String(s) => fill(s, lookup).map(Value::String),
        Value::Array(a) => Some(Value::Array(
            a.iter().filter_map(|x| fill_value(x, lookup)).collect(),
        )),
        Value::Object(o) => Some(Value::Object(
            o.iter()
                .filter_map(|(k, x)| fill_value(x, lookup).map(|x| (k.clone(), x)))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

fn apply_filter(value: &str, filter: Option<&str>) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    match filter {
        Some("basic") => b64.encode(format!("{value}:")),
        Some("base64") => b64.encode(value),
        Some("urlencode") => urlencode(value),
        _ => value.to_string(),
    }
}

/// Percent-encodes everything but the unreserved characters.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(name: &str) -> Option<String> {
        match name {
            "code" => Some("C".into()),
            "token" => Some("T".into()),
            _ => None,
        }
    }

    #[test]
    fn a_missing_value_leaves_the_entry_out() {
        assert_eq!(fill("Bearer {{token}}", &look).as_deref(), Some("Bearer T"));
        assert_eq!(fill("{{iv}}", &look), None);
        assert_eq!(fill_lossy("/a/{{iv}}/b", &look), "/a//b");
        assert_eq!(
            fill("Basic {{token|basic}}", &look).as_deref(),
            Some("Basic VDo=")
        );
    }

    #[test]
    fn nested_json_templates_drop_only_the_entries_without_a_value() {
        let t = serde_json::json!({"a": {"code": "{{code}}", "iv": "{{iv}}"}, "n": 1, "l": ["{{iv}}", "x"]});
        assert_eq!(
            fill_value(&t, &look),
            Some(serde_json::json!({"a": {"code": "C"}, "n": 1, "l": ["x"]}))
        );
    }

    #[test]
    fn mentions_sees_filters_and_named_parts() {
        assert!(mentions("x {{ token | basic }}", "token"));
        assert!(mentions("{{token.skey}}", "token"));
        assert!(!mentions("{{code}}", "token"));
    }
}
