//! How the backend says "rejected": a list of rules, any one of which means rejected, and an
//! optional explicit success rule. One decision ([`Rejection::is_rejected`]) every case uses.
//!
//! A rule matches when every condition it states holds (a rule `{statuses = [200], pointer =
//! "/code", not_equals = [0]}` means "HTTP 200 whose /code is present and not 0"). An answer is
//! *rejected* when any rule matches; it is *accepted* when it is 2xx, no rule matches and, if
//! the profile gives a success rule, that rule matches.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::validate::invalid;
use super::Profile;
use crate::error::HarnessError;
use crate::exchange::Response;

/// One rule as written in the profile (`[[rejected.rules]]` or `[rejected.success]`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The answer's HTTP status is one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<u16>,
    /// A JSON pointer into the answer body, for `equals` / `not_equals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The value at `pointer` equals one of these (compared as text: 10200 = "10200").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equals: Vec<Value>,
    /// The value at `pointer` is present and equals none of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_equals: Vec<Value>,
    /// The answer body contains this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
}

impl Rule {
    /// Whether every condition of the rule holds for `r`.
    pub fn matches(&self, r: &Response) -> bool {
        if !self.statuses.is_empty() && !self.statuses.contains(&r.status) {
            return false;
        }
        if let Some(p) = &self.pointer {
            let Some(found) = r.pointer(p) else {
                return false;
            };
            let text = value_text(found);
            if !self.equals.is_empty() && !self.equals.iter().any(|v| value_text(v) == text) {
                return false;
            }
            if !self.not_equals.is_empty() && self.not_equals.iter().any(|v| value_text(v) == text)
            {
                return false;
            }
        }
        if let Some(needle) = &self.body_contains {
            if !r.body.contains(needle.as_str()) {
                return false;
            }
        }
        true
    }

    /// Why a rule is unusable (None: fine).
    pub(crate) fn problem(&self) -> Option<&'static str> {
        let has_values = !self.equals.is_empty() || !self.not_equals.is_empty();
        if self.pointer.is_some() && !has_values {
            return Some("`pointer` needs `equals` or `not_equals`");
        }
        if self.pointer.is_none() && has_values {
            return Some("`equals`/`not_equals` need a `pointer`");
        }
        if self.statuses.is_empty() && self.pointer.is_none() && self.body_contains.is_none() {
            return Some("states no condition (`statuses`, `pointer`, `body_contains`)");
        }
        if self.body_contains.as_deref().is_some_and(str::is_empty) {
            return Some("`body_contains` must not be empty");
        }
        None
    }

    /// The rule in words, for reports and starter profiles.
    pub fn describe(&self) -> String {
        let mut parts = vec![];
        if !self.statuses.is_empty() {
            parts.push(format!("HTTP {:?}", self.statuses));
        }
        if let Some(p) = &self.pointer {
            if !self.equals.is_empty() {
                parts.push(format!("{p} in {}", list(&self.equals)));
            }
            if !self.not_equals.is_empty() {
                parts.push(format!("{p} present and not in {}", list(&self.not_equals)));
            }
        }
        if let Some(t) = &self.body_contains {
            parts.push(format!("body contains {t:?}"));
        }
        parts.join(" and ")
    }
}

fn list(values: &[Value]) -> String {
    let texts: Vec<String> = values.iter().map(value_text).collect();
    format!("[{}]", texts.join(", "))
}

/// A JSON value as comparable text (strings unquoted).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The compiled decision: the rules (legacy fields folded in) and the optional success rule.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rejection {
    pub rules: Vec<Rule>,
    pub success: Option<Rule>,
}

impl Rejection {
    /// Whether any rule says "rejected".
    pub fn is_rejected(&self, r: &Response) -> bool {
        self.rules.iter().any(|rule| rule.matches(r))
    }

    /// A success: 2xx, not rejected, and the success rule (if any) holds.
    pub fn is_accepted(&self, r: &Response) -> bool {
        let success = match &self.success {
            Some(rule) => rule.matches(r),
            None => true,
        };
        r.is_success() && !self.is_rejected(r) && success
    }

    /// Refused the way a correct backend refuses: not accepted, no 5xx, and a 4xx or a rule.
    pub fn is_refusal(&self, r: &Response) -> bool {
        !self.is_accepted(r) && !r.is_server_error() && (r.is_client_error() || self.is_rejected(r))
    }
}

/// The rejection rules: the shorthand fields folded into the list.
pub(super) fn compile_rejection(p: &Profile, origin: &str) -> Result<Rejection, HarnessError> {
    let r = &p.rejected;
    let err = |field: &str, m: String| invalid(origin, field, m);
    for s in r
        .statuses
        .iter()
        .chain(r.rules.iter().flat_map(|x| &x.statuses))
    {
        if !(100..=599).contains(s) {
            return Err(err(
                "rejected.statuses",
                format!("{s} is not an HTTP status"),
            ));
        }
    }
    let mut rules = Vec::new();
    if !r.statuses.is_empty() {
        rules.push(Rule {
            statuses: r.statuses.clone(),
            ..Rule::default()
        });
    }
    match &r.pointer {
        Some(ptr) => {
            let ptr = super::compile::pointer("rejected.pointer", ptr, origin)?;
            if r.values.is_empty() && r.success_values.is_empty() {
                return Err(err(
                    "rejected",
                    "`pointer` needs `values` or `success_values`".into(),
                ));
            }
            if !r.values.is_empty() {
                rules.push(Rule {
                    pointer: Some(ptr.clone()),
                    equals: r.values.clone(),
                    ..Rule::default()
                });
            }
            if !r.success_values.is_empty() {
                rules.push(Rule {
                    pointer: Some(ptr),
                    not_equals: r.success_values.clone(),
                    ..Rule::default()
                });
            }
        }
        None if !r.values.is_empty() || !r.success_values.is_empty() => {
            return Err(err(
                "rejected.pointer",
                "is required with `values`/`success_values`".into(),
            ))
        }
        None => {}
    }
    for (i, rule) in r.rules.iter().enumerate() {
        if let Some(m) = rule.problem() {
            return Err(err(&format!("rejected.rules[{i}]"), m.into()));
        }
        if let Some(ptr) = &rule.pointer {
            super::compile::pointer(&format!("rejected.rules[{i}].pointer"), ptr, origin)?;
        }
        rules.push(rule.clone());
    }
    if let Some(s) = &r.success {
        if let Some(m) = s.problem() {
            return Err(err("rejected.success", m.into()));
        }
    }
    if rules.is_empty() {
        return Err(err(
            "rejected",
            "needs `statuses`, a `pointer` or `rules`: otherwise nothing is ever rejected".into(),
        ));
    }
    Ok(Rejection {
        rules,
        success: r.success.clone(),
    })
}
