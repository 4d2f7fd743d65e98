//! The checks of a profile that serde cannot express; every error names the field.

use serde_json::Value;

use super::template::check_template;
use super::{AuthStyle, CommandSpec, Placement, Profile};
use crate::error::HarnessError;

impl Profile {
    /// Checks every rule serde cannot express; errors name the field.
    pub fn validate(&self, origin: &str) -> Result<(), HarnessError> {
        let err = |field: &str, message: String| HarnessError::ProfileInvalid {
            origin: origin.into(),
            field: field.into(),
            message,
        };
        let b = &self.backend;
        match (&b.base_url, &b.command) {
            (None, None) => {
                return Err(err(
                    "backend",
                    "needs `base_url` (and optionally `command`)".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(err(
                    "backend.base_url",
                    "is required with `command` (use {{port}} for the picked port)".into(),
                ))
            }
            _ => {}
        }
        if let Some(url) = &b.base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(err(
                    "backend.base_url",
                    format!("must start with http:// or https://, got {url:?}"),
                ));
            }
            check_template("backend.base_url", url, origin)?;
        }
        match &b.command {
            Some(CommandSpec::Argv(argv)) if argv.is_empty() => {
                return Err(err("backend.command", "must not be empty".into()))
            }
            Some(CommandSpec::Shell(s)) if s.trim().is_empty() => {
                return Err(err("backend.command", "must not be empty".into()))
            }
            Some(CommandSpec::Argv(argv)) => {
                for a in argv {
                    check_template("backend.command", a, origin)?;
                }
            }
            Some(CommandSpec::Shell(s)) => check_template("backend.command", s, origin)?,
            None => {}
        }
        for (k, v) in &b.env {
            check_template(&format!("backend.env.{k}"), v, origin)?;
        }
        if let Some(r) = &b.ready_url {
            if !(r.starts_with('/') || r.starts_with("http://") || r.starts_with("https://")) {
                return Err(err(
                    "backend.ready_url",
                    "must be a URL or a path starting with '/'".into(),
                ));
            }
            check_template("backend.ready_url", r, origin)?;
        }
        if b.ready_timeout_secs == 0 {
            return Err(err(
                "backend.ready_timeout_secs",
                "must be at least 1".into(),
            ));
        }
        if self.fake.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(err(
                "fake.listen",
                format!(
                    "must be an address like 127.0.0.1:0, got {:?}",
                    self.fake.listen
                ),
            ));
        }
        if self.fake.appid.is_some() != self.fake.secret.is_some() {
            return Err(err("fake", "`appid` and `secret` go together".into()));
        }
        check_method("login.method", &self.login.method, origin)?;
        check_path("login.path", &self.login.path, origin)?;
        check_pointer("login.token_pointer", &self.login.token_pointer, origin)?;
        if self.login.token_pointer.is_empty() {
            return Err(err(
                "login.token_pointer",
                "must point at the token, e.g. /token".into(),
            ));
        }
        if self.login.token_cookie.is_some() && self.login.token_header.is_some() {
            return Err(err(
                "login.token_cookie",
                "and `login.token_header` exclude each other: the token comes from one place"
                    .into(),
            ));
        }
        for (field, name) in [
            ("login.token_cookie", &self.login.token_cookie),
            ("login.token_header", &self.login.token_header),
        ] {
            if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                return Err(err(field, "must not be empty".into()));
            }
        }
        if self.login.code_in == Placement::Header && self.login_code_field().is_none() {
            return Err(err(
                "login.code_field",
                "is required with code_in = \"header\"".into(),
            ));
        }
        check_fields("login.fields", &self.login.fields, origin)?;
        for (k, v) in self.login.query.iter().chain(self.login.headers.iter()) {
            check_template(&format!("login.{k}"), v, origin)?;
        }
        let a = &self.auth;
        if a.style == AuthStyle::Header && a.header.is_none() {
            return Err(err(
                "auth.header",
                "is required with style = \"header\" (e.g. \"Token\")".into(),
            ));
        }
        if a.style == AuthStyle::Scheme && !matches!(a.scheme.as_deref(), Some(s) if !s.is_empty())
        {
            return Err(err(
                "auth.scheme",
                "is required with style = \"scheme\" (e.g. \"JWT\")".into(),
            ));
        }
        if a.style == AuthStyle::Cookie && !matches!(a.cookie.as_deref(), Some(c) if !c.is_empty())
        {
            return Err(err(
                "auth.cookie",
                "is required with style = \"cookie\" (or set `login.token_cookie`)".into(),
            ));
        }
        if a.cookie.is_some() && a.style != AuthStyle::Cookie {
            return Err(err(
                "auth.cookie",
                "only applies to style = \"cookie\"".into(),
            ));
        }
        if a.scheme.is_some() && a.style != AuthStyle::Scheme {
            return Err(err(
                "auth.scheme",
                "only applies to style = \"scheme\"".into(),
            ));
        }
        if a.field.is_some() && !matches!(a.style, AuthStyle::Json | AuthStyle::Query) {
            return Err(err(
                "auth.field",
                "only applies to style = \"json\" or \"query\"".into(),
            ));
        }
        check_method("protected.method", &self.protected.method, origin)?;
        check_path("protected.path", &self.protected.path, origin)?;
        check_fields("protected.fields", &self.protected.fields, origin)?;
        if let Some(p) = &self.protected.identity_pointer {
            check_pointer("protected.identity_pointer", p, origin)?;
        }
        if a.style == AuthStyle::Json && self.protected.method.eq_ignore_ascii_case("GET") {
            return Err(err(
                "protected.method",
                "cannot be GET when the token goes in a JSON body".into(),
            ));
        }
        let r = &self.rejected;
        for s in &r.statuses {
            if !(100..=599).contains(s) {
                return Err(err(
                    "rejected.statuses",
                    format!("{s} is not an HTTP status"),
                ));
            }
        }
        if let Some(p) = &r.pointer {
            check_pointer("rejected.pointer", p, origin)?;
            if r.values.is_empty() && r.success_values.is_empty() {
                return Err(err(
                    "rejected",
                    "`pointer` needs `values` or `success_values`".into(),
                ));
            }
        } else if !r.values.is_empty() || !r.success_values.is_empty() {
            return Err(err(
                "rejected.pointer",
                "is required with `values`/`success_values`".into(),
            ));
        }
        if r.statuses.is_empty() && r.pointer.is_none() {
            return Err(err("rejected", "needs `statuses` or a `pointer`".into()));
        }
        if let Some(u) = &self.user_info {
            check_method("user_info.method", &u.method, origin)?;
            check_path("user_info.path", &u.path, origin)?;
            check_pointer("user_info.result_pointer", &u.result_pointer, origin)?;
            check_fields("user_info.fields", &u.fields, origin)?;
            if !matches!(u.body_in, Placement::Json | Placement::Form) {
                return Err(err(
                    "user_info.body_in",
                    "must be \"json\" or \"form\"".into(),
                ));
            }
            if u.encrypted_data_field.is_empty() || u.iv_field.is_empty() {
                return Err(err(
                    "user_info",
                    "`encrypted_data_field` and `iv_field` must not be empty".into(),
                ));
            }
        }
        if let Some(p) = &self.phone {
            check_method("phone.method", &p.method, origin)?;
            check_path("phone.path", &p.path, origin)?;
            check_pointer(
                "phone.phone_number_pointer",
                &p.phone_number_pointer,
                origin,
            )?;
            check_fields("phone.fields", &p.fields, origin)?;
            if p.code_field.is_empty() {
                return Err(err("phone.code_field", "must not be empty".into()));
            }
        }
        for (i, op) in self.access_token.operations.iter().enumerate() {
            check_method(
                &format!("access_token.operations[{i}].method"),
                &op.method,
                origin,
            )?;
            check_path(
                &format!("access_token.operations[{i}].path"),
                &op.path,
                origin,
            )?;
            check_fields(
                &format!("access_token.operations[{i}].fields"),
                &op.fields,
                origin,
            )?;
        }
        if self.jwt.max_lifetime_secs == 0 {
            return Err(err("jwt.max_lifetime_secs", "must be at least 1".into()));
        }
        if self.limits.upstream_timeout_secs == 0 || self.limits.request_timeout_secs == 0 {
            return Err(err("limits", "timeouts must be at least 1 s".into()));
        }
        Ok(())
    }
}

pub(super) fn invalid(origin: &str, field: &str, message: String) -> HarnessError {
    HarnessError::ProfileInvalid {
        origin: origin.into(),
        field: field.into(),
        message,
    }
}

fn check_method(field: &str, m: &str, origin: &str) -> Result<(), HarnessError> {
    const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
    if METHODS.iter().any(|x| x.eq_ignore_ascii_case(m)) {
        Ok(())
    } else {
        Err(invalid(
            origin,
            field,
            format!("must be one of {METHODS:?}, got {m:?}"),
        ))
    }
}

fn check_path(field: &str, p: &str, origin: &str) -> Result<(), HarnessError> {
    if !p.starts_with('/') {
        return Err(invalid(
            origin,
            field,
            format!("must start with '/', got {p:?}"),
        ));
    }
    check_template(field, p, origin)
}

fn check_pointer(field: &str, p: &str, origin: &str) -> Result<(), HarnessError> {
    if p.is_empty() || p.starts_with('/') {
        Ok(())
    } else {
        Err(invalid(
            origin,
            field,
            format!("must be a JSON pointer starting with '/', got {p:?}"),
        ))
    }
}

fn check_fields(
    field: &str,
    fields: &serde_json::Map<String, Value>,
    origin: &str,
) -> Result<(), HarnessError> {
    fn walk(field: &str, v: &Value, origin: &str) -> Result<(), HarnessError> {
        match v {
            Value::String(s) => check_template(field, s, origin),
            Value::Array(a) => a.iter().try_for_each(|x| walk(field, x, origin)),
            Value::Object(o) => o
                .iter()
                .try_for_each(|(k, x)| walk(&format!("{field}.{k}"), x, origin)),
            _ => Ok(()),
        }
    }
    fields
        .iter()
        .try_for_each(|(k, v)| walk(&format!("{field}.{k}"), v, origin))
}
