//! Harness errors: what aborts a run (bad profile, backend unreachable, the fake refusing a
//! control call). Kept apart from case outcomes, which are data (see `case::Outcome`).

use std::path::PathBuf;

/// Which documented exit status a harness error maps to (the CLI owns the numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// The profile (or the expected-failures file) is missing or invalid.
    ProfileInvalid,
    /// The backend under test could not be started or reached.
    BackendUnreachable,
    /// Bad command-line usage (e.g. `--only` matching no case).
    Usage,
    /// Anything else: a bug or a runtime failure in wxmock itself.
    Internal,
}

/// An error that aborts a whole run.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("cannot read profile {path}")]
    ProfileRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid profile {origin}: {message}")]
    ProfileParse { origin: String, message: String },
    #[error("invalid profile {origin}: `{field}` {message}")]
    ProfileInvalid {
        origin: String,
        field: String,
        message: String,
    },
    #[error("cannot read expected-failures file {path}")]
    ExpectedFailuresRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid selection: {0}")]
    Selection(String),
    #[error("cannot start the backend command `{command}`")]
    BackendSpawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("backend did not become ready at {url} within {secs} s{detail}")]
    BackendNotReady {
        url: String,
        secs: u64,
        detail: String,
    },
    #[error("backend could not be started: {0}")]
    BackendStart(String),
    #[error("cannot start the fake WeChat on {listen}: {message}")]
    FakeStart { listen: String, message: String },
    #[error("the fake's control API failed on {what}: {message}")]
    Control { what: String, message: String },
    #[error("cannot write report {path}")]
    ReportWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl HarnessError {
    /// The exit class of this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::ProfileRead { .. }
            | Self::ProfileParse { .. }
            | Self::ProfileInvalid { .. }
            | Self::ExpectedFailuresRead { .. } => ErrorClass::ProfileInvalid,
            Self::BackendSpawn { .. } | Self::BackendNotReady { .. } | Self::BackendStart(_) => {
                ErrorClass::BackendUnreachable
            }
            Self::Selection(_) => ErrorClass::Usage,
            Self::FakeStart { .. }
            | Self::Control { .. }
            | Self::ReportWrite { .. }
            | Self::Internal(_) => ErrorClass::Internal,
        }
    }
}

/// Why a case could not be judged (it becomes an `errored` outcome, never a pass).
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("request to the backend failed: {0}")]
    Backend(String),
    #[error("the fake's control API failed on {what}: {message}")]
    Control { what: String, message: String },
    /// A valid login gave no credential, so the case cannot be judged.
    #[error("{0}")]
    NoLogin(String),
    /// A fresh valid credential was refused by the protected endpoint.
    #[error("{0}")]
    TokenRefused(String),
    #[error("{0}")]
    Other(String),
}

impl From<HarnessError> for CaseError {
    fn from(e: HarnessError) -> Self {
        match e {
            HarnessError::Control { what, message } => CaseError::Control { what, message },
            other => CaseError::Other(other.to_string()),
        }
    }
}
