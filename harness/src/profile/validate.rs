//! The checks of the non-request sections that serde cannot express; every error names the
//! field (the request sections are checked as they compile, in `compile`).

use super::template::{check_template, Scope};
use super::{CommandSpec, Profile};
use crate::error::HarnessError;

impl Profile {
    /// Checks the backend, fake, JWT and limits sections; errors name the field.
    pub(crate) fn validate(&self, origin: &str) -> Result<(), HarnessError> {
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
            check_template("backend.base_url", url, Scope::Run, origin)?;
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
                    check_template("backend.command", a, Scope::Run, origin)?;
                }
            }
            Some(CommandSpec::Shell(s)) => {
                check_template("backend.command", s, Scope::Run, origin)?
            }
            None => {}
        }
        for (i, spec) in b.setup.iter().enumerate() {
            let field = format!("backend.setup[{i}]");
            match spec {
                CommandSpec::Argv(argv) if argv.is_empty() => {
                    return Err(err(&field, "must not be empty".into()))
                }
                CommandSpec::Shell(s) if s.trim().is_empty() => {
                    return Err(err(&field, "must not be empty".into()))
                }
                CommandSpec::Argv(argv) => {
                    for a in argv {
                        check_template(&field, a, Scope::Run, origin)?;
                    }
                }
                CommandSpec::Shell(s) => check_template(&field, s, Scope::Run, origin)?,
            }
        }
        if b.setup_timeout_secs == 0 {
            return Err(err(
                "backend.setup_timeout_secs",
                "must be at least 1".into(),
            ));
        }
        for (k, v) in &b.env {
            check_template(&format!("backend.env.{k}"), v, Scope::Run, origin)?;
        }
        if let Some(r) = &b.ready_url {
            if !(r.starts_with('/') || r.starts_with("http://") || r.starts_with("https://")) {
                return Err(err(
                    "backend.ready_url",
                    "must be a URL or a path starting with '/'".into(),
                ));
            }
            check_template("backend.ready_url", r, Scope::Run, origin)?;
        }
        if b.clock == super::ClockMode::Faketime && b.command.is_none() {
            return Err(err(
                "backend.clock",
                "\"faketime\" needs `command`: the harness can only preload libfaketime into a backend it starts (use `clock_command` for one it does not)".into(),
            ));
        }
        if let Some(c) = &b.clock_command {
            if b.clock == super::ClockMode::Faketime {
                return Err(err(
                    "backend.clock_command",
                    "cannot be combined with clock = \"faketime\": choose one way to move the clock".into(),
                ));
            }
            if c.trim().is_empty() {
                return Err(err("backend.clock_command", "must not be empty".into()));
            }
            if !c.contains("{{advance_secs}}") && !c.contains("{{offset_secs}}") {
                return Err(err(
                    "backend.clock_command",
                    "must use {{advance_secs}} or {{offset_secs}}: it is told how far to move the clock".into(),
                ));
            }
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
