//! The server crate's error types. WeChat-facing failures are not errors here: they are
//! [`crate::errcode::WxError`] answers. These are for the Rust and control-API callers.

use std::net::SocketAddr;
use std::path::PathBuf;

/// A control-API or Rust-API call on the engine that cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// No app with this appid is configured or created.
    #[error("unknown app {appid}")]
    UnknownApp {
        /// The appid asked for.
        appid: String,
    },
    /// The app has no user with this openid.
    #[error("unknown user {openid} in app {appid}")]
    UnknownUser {
        /// The app's appid.
        appid: String,
        /// The openid asked for.
        openid: String,
    },
    /// A phone code was asked for a user who has no phone number.
    #[error("user {openid} in app {appid} has no phone number")]
    NoPhoneNumber {
        /// The app's appid.
        appid: String,
        /// The user's openid.
        openid: String,
    },
    /// Data to encrypt was asked for a user who has never logged in, so has no session_key.
    #[error("user {openid} in app {appid} has no session_key yet (log in first)")]
    NoSessionKey {
        /// The app's appid.
        appid: String,
        /// The user's openid.
        openid: String,
    },
    /// A field of the request is malformed or out of range.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field's name, as the request spells it.
        field: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
}

/// A fault rule from the Rust API ([`crate::MockWeChat::fault`]) that cannot be installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// The rule names an app the fake does not have.
    #[error("unknown app {appid}")]
    UnknownApp {
        /// The appid the rule names.
        appid: String,
    },
    /// The rule makes no sense (an empty sequence, a probability above 1, …).
    #[error("invalid fault rule: {reason}")]
    Invalid {
        /// What is wrong with the rule, in plain words.
        reason: String,
    },
}

/// A scenario ([`crate::MockWeChat::scenario`], `POST /__admin/scenarios/{name}`) that cannot
/// be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The scenario names an app the fake does not have.
    #[error("unknown app {appid}")]
    UnknownApp {
        /// The appid the scenario names.
        appid: String,
    },
    /// A scenario that changes one user's state was given no user.
    #[error("{scenario} needs \"openid\": whose session_key to rotate")]
    NeedsUser {
        /// The scenario's name.
        scenario: &'static str,
    },
    /// `delay` was given to a scenario other than `slow-wechat`.
    #[error("\"delay_ms\" only applies to slow-wechat, not {scenario}")]
    DelayNotApplicable {
        /// The scenario's name.
        scenario: &'static str,
    },
    /// `times` or `path` was given to a scenario that changes state once instead of
    /// installing a fault rule.
    #[error(
        "\"{field}\" does not apply to {scenario}: it changes state once, it is not a fault rule"
    )]
    NotAFault {
        /// The scenario's name.
        scenario: &'static str,
        /// The field that does not apply (`times` or `path`).
        field: &'static str,
    },
    /// The fault rule the scenario installs was refused.
    #[error("scenario {scenario} cannot install its fault rule")]
    Fault {
        /// The scenario's name.
        scenario: &'static str,
        /// Why the rule was refused.
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
    /// The config file cannot be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file's path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not valid TOML or does not match the config's shape.
    #[error("cannot parse config file {path} (line {line})")]
    Parse {
        /// The file's path.
        path: PathBuf,
        /// 1-based line of the error (0 when unknown).
        line: usize,
        /// Boxed: a TOML error is large and config errors are rare.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The configuration parses but makes no sense (a duplicate appid, a zero capacity, …).
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// Starting or running the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The listen address cannot be bound (in use, or not this machine's).
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An I/O error while serving.
    #[error("server failed")]
    Io(#[from] std::io::Error),
    /// The configuration is not valid.
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
    /// rcgen cannot generate a key or a certificate.
    #[error("cannot generate a certificate")]
    Generate(#[source] rcgen::Error),
    /// A CA file cannot be read or written.
    #[error("cannot read or write {path}")]
    Io {
        /// The file's path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file in the CA directory is not a PEM certificate or key that wxmock wrote.
    #[error("{path} is not a wxmock CA file")]
    Parse {
        /// The file's path.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: rcgen::Error,
    },
    /// The CA directory holds one of its two files but not the other.
    #[error(
        "the CA directory {dir} lacks {missing}: restore it, or empty the directory for a new CA"
    )]
    Incomplete {
        /// The CA directory.
        dir: PathBuf,
        /// The file that is missing.
        missing: &'static str,
    },
    /// rustls refuses the certificate or key.
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
