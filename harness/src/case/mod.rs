//! The conformance catalogue: the `Case` abstraction and the registry in catalogue order. One
//! file per case family (login, token, crypto = data.*, access_token, robustness, leak), because each
//! family needs different parts of the profile and of the fake.

pub mod access_token;
pub mod auth;
pub mod crypto;
pub mod isolation;
pub mod leak;
pub mod lifetime;
pub mod login;
mod needs;
pub mod robustness;
pub mod token;
pub mod upstream;

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use crate::context::Ctx;
use crate::error::CaseError;
use crate::exchange::Evidence;

pub use needs::{Needs, Root};

/// How much a rule matters. MUST and SHOULD failures fail the run; INFO never does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Must,
    Should,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Must => "MUST",
            Severity::Should => "SHOULD",
            Severity::Info => "INFO",
        }
    }
}

/// An observation a case reports without changing its verdict, shown as INFO in every report:
/// "the backend revokes the previous session on re-login", "the JWT payload carries the openid".
/// A passing case may carry some, and so may a failing one; they never fail the run. A case
/// body records them with `ctx.info(…)`; the runner puts them in the case's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// One sentence, for people.
    pub text: String,
}

impl Finding {
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }
}

/// What a case concluded. Plain data: reporters and the runner only read it.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    /// The backend broke the rule.
    Failed {
        reason: String,
        evidence: Vec<Evidence>,
    },
    /// The profile cannot exercise this case (never counted as a pass).
    Skipped {
        reason: String,
    },
    /// The case could not be judged (the fake refused a control call, the backend vanished…).
    Errored {
        reason: String,
        evidence: Vec<Evidence>,
    },
}

impl Outcome {
    pub fn failed(reason: impl Into<String>) -> Self {
        Outcome::Failed {
            reason: reason.into(),
            evidence: vec![],
        }
    }
    pub fn skipped(reason: impl Into<String>) -> Self {
        Outcome::Skipped {
            reason: reason.into(),
        }
    }
    pub fn errored(reason: impl Into<String>) -> Self {
        Outcome::Errored {
            reason: reason.into(),
            evidence: vec![],
        }
    }
    /// Adds a piece of evidence (ignored for passed/skipped outcomes).
    pub fn with_evidence(mut self, e: Evidence) -> Self {
        if let Outcome::Failed { evidence, .. } | Outcome::Errored { evidence, .. } = &mut self {
            evidence.push(e);
        }
        self
    }
    /// Adds a note as evidence.
    pub fn with_note(self, text: impl Into<String>) -> Self {
        self.with_evidence(Evidence::note(text))
    }
    /// `passed`, `failed`, `skipped` or `errored`.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed { .. } => "failed",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Errored { .. } => "errored",
        }
    }
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Passed => None,
            Outcome::Failed { reason, .. }
            | Outcome::Skipped { reason }
            | Outcome::Errored { reason, .. } => Some(reason),
        }
    }
    pub fn evidence(&self) -> &[Evidence] {
        match self {
            Outcome::Failed { evidence, .. } | Outcome::Errored { evidence, .. } => evidence,
            _ => &[],
        }
    }
    pub(crate) fn evidence_mut(&mut self) -> Option<&mut Vec<Evidence>> {
        match self {
            Outcome::Failed { evidence, .. } | Outcome::Errored { evidence, .. } => Some(evidence),
            _ => None,
        }
    }
}

/// What a case body returns: an outcome, or an error that makes the case `errored`.
pub type CaseFuture<'a> = Pin<Box<dyn Future<Output = Result<Outcome, CaseError>> + Send + 'a>>;

/// A case body: `fn my_case(ctx: &mut Ctx) -> CaseFuture<'_> { Box::pin(async move { … }) }`.
pub type CaseFn = for<'a> fn(&'a mut Ctx) -> CaseFuture<'a>;

/// One conformance case.
#[derive(Clone, Copy)]
pub struct Case {
    /// Stable id, e.g. `login.happy`.
    pub id: &'static str,
    pub severity: Severity,
    /// The rule in one line.
    pub rule: &'static str,
    pub body: CaseFn,
    /// What the body needs of the run: when a root case shows it missing, the runner skips
    /// the case as blocked instead of running it (see [`Needs`]).
    pub needs: Needs,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.id)
            .field("severity", &self.severity)
            .field("needs", &self.needs)
            .finish()
    }
}

impl Case {
    /// A case that needs an accepted credential (the safe default: when the login or the
    /// credential is broken it is skipped as blocked, never judged on a broken session). A case
    /// that judges less says so with [`Case::needs`].
    pub const fn new(
        id: &'static str,
        severity: Severity,
        rule: &'static str,
        body: CaseFn,
    ) -> Self {
        Self {
            id,
            severity,
            rule,
            body,
            needs: Needs::AcceptedToken,
        }
    }

    /// Declares what the body needs of the run (see [`Needs`]).
    pub const fn needs(mut self, needs: Needs) -> Self {
        self.needs = needs;
        self
    }

    /// Runs the case; an error becomes an `errored` outcome.
    pub async fn execute(&self, ctx: &mut Ctx) -> Outcome {
        match (self.body)(ctx).await {
            Ok(outcome) => outcome,
            Err(e) => Outcome::errored(e.to_string()),
        }
    }
}

/// The whole catalogue, in run order (robust.* last: they look back over the whole run).
pub fn catalogue() -> Vec<Case> {
    // `login.no-secret-leak` judges every client-visible answer of the run, so it runs after the
    // token, data and access-token families have produced theirs (a session_key leaked only by a
    // user-info answer must be caught too), and before robust.* which must come last.
    //
    // `token.accepted` runs right after `login.happy`: the two are the root causes every case
    // needing a working login is blocked by, so both are known before those cases run.
    //
    // `login.no-access-token-dependency` runs first of all: before the run's first login, a
    // backend that fetches an access token on the login path has none cached yet, so it must
    // fetch while the token endpoints fail (a cached token would hide the dependency).
    let (run_level, mut all): (Vec<Case>, Vec<Case>) = login::cases()
        .into_iter()
        .partition(|case| case.id == "login.no-secret-leak");
    let (accepted, tokens): (Vec<Case>, Vec<Case>) = token::cases()
        .into_iter()
        .partition(|case| case.id == "token.accepted");
    let after_happy = all
        .iter()
        .position(|c| c.id == "login.happy")
        .map_or(0, |i| i + 1);
    all.splice(after_happy..after_happy, accepted);
    all.extend(tokens);
    let (last, upstream): (Vec<Case>, Vec<Case>) = upstream::cases()
        .into_iter()
        .partition(|case| case.id == "login.upstream-error-status");
    let (first, upstream): (Vec<Case>, Vec<Case>) = upstream
        .into_iter()
        .partition(|case| case.id == "login.no-access-token-dependency");
    all.splice(0..0, first);
    all.extend(upstream);
    all.extend(isolation::cases());
    all.extend(lifetime::cases());
    all.extend(auth::cases());
    all.extend(crypto::cases());
    all.extend(access_token::cases());
    all.extend(run_level);
    let (logs, leaks): (Vec<Case>, Vec<Case>) = leak::cases()
        .into_iter()
        .partition(|case| case.id == "robust.no-secret-in-logs");
    all.extend(robustness::cases());
    all.extend(leaks);
    // After robust.*: a reset from WeChat may poison a backend's connection pool for the rest of
    // the run, which robust.survives judges on its own.
    all.extend(last);
    // Very last: it judges the backend's output of the whole run, after every other case made
    // the backend handle (and maybe log) its secrets.
    all.extend(logs);
    all
}
