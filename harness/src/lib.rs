//! wxmock-harness: drives any mini-program login backend through the WeChat login flow against
//! the fake, and judges it case by case.
//!
//! - [`profile`]: how a backend is described (TOML), validated once.
//! - [`case`]: the catalogue; each case gets a [`context::Ctx`] and returns an [`case::Outcome`].
//! - [`runner`]: starts the fake and the backend, runs cases, emits [`report::Event`]s.
//! - [`report`]: plain result data and the reporters (terminal, JSON, JUnit, HTML).
//! - [`fake`]: the fake's control-API client; [`exchange`]: recorded HTTP exchanges/evidence.

pub mod backend;
pub mod case;
pub mod clock;
pub mod context;
pub mod detail;
pub mod discover;
pub mod error;
pub mod exchange;
pub mod fake;
pub mod impersonate;
pub mod inspect;
pub mod jwt;
pub mod limits;
pub mod output;
pub mod profile;
pub mod report;
pub mod runner;
pub mod selection;
pub mod transport;

pub use case::{Case, CaseFuture, Outcome, Severity};
pub use context::{Credential, Ctx, LoginResult, Session, Values};
pub use error::{CaseError, ErrorClass, HarnessError};
pub use profile::Profile;
pub use report::RunReport;
pub use runner::{run, FakeInfo, LaunchedBackend, Launcher, RunOptions};
