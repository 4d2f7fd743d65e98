//! `{{placeholder}}` templating of profile strings and JSON field templates.

use serde_json::Value;

use super::validate::invalid;
use crate::error::HarnessError;

/// Placeholders a profile may use in templated strings.
pub const PLACEHOLDERS: &[&str] = &["wechat_base_url", "appid", "secret", "port", "code"];

pub(super) fn value_mentions_code(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{{code}}"),
        Value::Array(a) => a.iter().any(value_mentions_code),
        Value::Object(o) => o.values().any(value_mentions_code),
        _ => false,
    }
}

/// Every `{{name}}` in `s` must be a known placeholder.
pub(super) fn check_template(field: &str, s: &str, origin: &str) -> Result<(), HarnessError> {
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(invalid(
                origin,
                field,
                format!("has an unclosed '{{{{' in {s:?}"),
            ));
        };
        let name = after[..end].trim();
        if !PLACEHOLDERS.contains(&name) {
            return Err(invalid(
                origin,
                field,
                format!("uses unknown placeholder {{{{{name}}}}} (known: {PLACEHOLDERS:?})"),
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// Values substituted into templated strings.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    pub wechat_base_url: String,
    pub appid: String,
    pub secret: String,
    pub port: Option<u16>,
    pub code: Option<String>,
}

impl Vars {
    /// Substitutes every known placeholder in `s`.
    pub fn render(&self, s: &str) -> String {
        let port = self.port.map(|p| p.to_string()).unwrap_or_default();
        s.replace("{{wechat_base_url}}", &self.wechat_base_url)
            .replace("{{appid}}", &self.appid)
            .replace("{{secret}}", &self.secret)
            .replace("{{port}}", &port)
            .replace("{{code}}", self.code.as_deref().unwrap_or(""))
    }

    /// Renders a JSON template; a string that is exactly `{{code}}` is dropped when there is no
    /// code (the "missing code" request), so no empty field is sent in its place.
    pub fn render_value(&self, v: &Value) -> Option<Value> {
        match v {
            Value::String(s) if s.trim() == "{{code}}" && self.code.is_none() => None,
            Value::String(s) => Some(Value::String(self.render(s))),
            Value::Array(a) => Some(Value::Array(
                a.iter().filter_map(|x| self.render_value(x)).collect(),
            )),
            Value::Object(o) => Some(Value::Object(self.render_map(o))),
            other => Some(other.clone()),
        }
    }

    /// Renders every field of a JSON object template.
    pub fn render_map(&self, m: &serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
        m.iter()
            .filter_map(|(k, v)| self.render_value(v).map(|v| (k.clone(), v)))
            .collect()
    }
}
