//! The server crate's error types. WeChat-facing failures are not errors here: they are
//! [`crate::errcode::WxError`] answers. These are for the Rust and control-API callers.

use std::net::SocketAddr;
use std::path::PathBuf;

/// A control-API or Rust-API call on the engine that cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("unknown app {appid}")]
    UnknownApp { appid: String },
    #[error("unknown user {openid} in app {appid}")]
    UnknownUser { appid: String, openid: String },
    #[error("user {openid} in app {appid} has no phone number")]
    NoPhoneNumber { appid: String, openid: String },
    #[error("user {openid} in app {appid} has no session_key yet (log in first)")]
    NoSessionKey { appid: String, openid: String },
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

/// A fault rule from the Rust API ([`crate::MockWeChat::fault`]) that cannot be installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// The rule names an app the fake does not have.
    #[error("unknown app {appid}")]
    UnknownApp { appid: String },
    /// The rule makes no sense (an empty sequence, a probability above 1, …).
    #[error("invalid fault rule: {reason}")]
    Invalid { reason: String },
}

/// A scenario ([`crate::MockWeChat::scenario`], `POST /__admin/scenarios/{name}`) that cannot
/// be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The scenario names an app the fake does not have.
    #[error("unknown app {appid}")]
    UnknownApp { appid: String },
    /// A scenario that changes one user's state was given no user.
    #[error("{scenario} needs \"openid\": whose session_key to rotate")]
    NeedsUser { scenario: &'static str },
    /// `delay` was given to a scenario other than `slow-wechat`.
    #[error("\"delay_ms\" only applies to slow-wechat, not {scenario}")]
    DelayNotApplicable { scenario: &'static str },
    /// `times` or `path` was given to a scenario that changes state once instead of
    /// installing a fault rule.
    #[error(
        "\"{field}\" does not apply to {scenario}: it changes state once, it is not a fault rule"
    )]
    NotAFault {
        scenario: &'static str,
        field: &'static str,
    },
    /// The fault rule the scenario installs was refused.
    #[error("scenario {scenario} cannot install its fault rule")]
    Fault {
        scenario: &'static str,
        #[source]
        source: FaultError,
    },
    /// The engine refused the change (an unknown user, …).
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// A configuration that cannot be read or makes no sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot parse config file {path} (line {line})")]
    Parse {
        path: PathBuf,
        /// 1-based line of the error (0 when unknown).
        line: usize,
        /// Boxed: a TOML error is large and config errors are rare.
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// Starting or running the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server failed")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl ConfigError {
    /// The error and its cause on one line (for a CLI's one-line error message).
    pub fn one_line(&self) -> String {
        let cause = match self {
            ConfigError::Read { source, .. } => source.to_string(),
            ConfigError::Parse { source, .. } => source.message().to_owned(),
            ConfigError::Invalid(_) => return self.to_string(),
        };
        let text = format!("{self}: {cause}");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// The local CA or the impersonation front cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("cannot generate a certificate")]
    Generate(#[source] rcgen::Error),
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a wxmock CA file")]
    Parse {
        path: PathBuf,
        #[source]
        source: rcgen::Error,
    },
    #[error(
        "the CA directory {dir} lacks {missing}: restore it, or empty the directory for a new CA"
    )]
    Incomplete { dir: PathBuf, missing: &'static str },
    #[error("cannot set up TLS")]
    Tls(#[source] rustls::Error),
}

impl CaError {
    pub(crate) fn generate(source: rcgen::Error) -> Self {
        CaError::Generate(source)
    }

    /// The error and its cause on one line (for a CLI's one-line error message).
    pub fn one_line(&self) -> String {
        match std::error::Error::source(self) {
            Some(cause) => format!("{self}: {cause}"),
            None => self.to_string(),
        }
    }
}
