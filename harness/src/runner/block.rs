//! No cascades: when a root case shows that a valid code gives no credential (`login.happy`) or
//! that a fresh credential is refused (`token.accepted`), every later case whose declared need is
//! unmet is skipped as "blocked by <root>: <its reason>" without running, a body that still runs
//! into the missing login is skipped the same way, and the run's warnings name the root once.

use crate::case::{Case, Needs, Outcome, Root};
use crate::error::CaseError;

/// The root cause of the run so far, and how many cases it blocked.
#[derive(Default)]
pub(super) struct Blocker {
    root: Option<Root>,
    blocked: usize,
}

impl Blocker {
    /// The root cause blocking cases so far (handed to each case's context).
    pub fn root(&self) -> Option<Root> {
        self.root.clone()
    }

    /// The skip of a case whose declared need the root leaves unmet (None: run it).
    pub fn before(&self, case: &Case) -> Option<Outcome> {
        let reason = self.root.as_ref()?.blocking(case.needs)?;
        Some(Outcome::skipped(reason))
    }

    /// The outcome of a case body: a missing login or a refused fresh credential is "blocked
    /// by" the root once there is one; every other error is the case's own.
    pub fn outcome(&self, result: Result<Outcome, CaseError>) -> Outcome {
        match result {
            Ok(outcome) => outcome,
            Err(e @ (CaseError::NoLogin(_) | CaseError::TokenRefused(_))) => {
                let needs = match e {
                    CaseError::NoLogin(_) => Needs::Login,
                    _ => Needs::AcceptedToken,
                };
                match self.root.as_ref().and_then(|r| r.blocking(needs)) {
                    Some(reason) => Outcome::skipped(reason),
                    None => Outcome::errored(e.to_string()),
                }
            }
            Err(e) => Outcome::errored(e.to_string()),
        }
    }

    /// Notes a case's final (redacted) outcome: a blocked skip is counted, and the first root
    /// failure (a case that said its failure leaves `unmet` missing) becomes the root.
    pub fn observe(&mut self, case: &Case, outcome: &Outcome, unmet: Option<Needs>) {
        if let Outcome::Skipped { reason } = outcome {
            if reason.starts_with("blocked by ") {
                self.blocked += 1;
            }
        }
        if self.root.is_some() {
            return;
        }
        if let (Some(blocks), Outcome::Failed { reason, .. }) = (unmet, outcome) {
            self.root = Some(Root {
                case: case.id,
                reason: reason.clone(),
                blocks,
            });
        }
    }

    /// The one line the run's warnings carry about the root cause.
    pub fn warning(&self) -> Option<String> {
        let root = self.root.as_ref()?;
        (self.blocked > 0).then(|| {
            format!(
                "{} case(s) needing a working login were skipped, blocked by {}: {}",
                self.blocked, root.case, root.reason
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{CaseFuture, Severity};
    use crate::context::Ctx;

    fn body(_: &mut Ctx) -> CaseFuture<'_> {
        Box::pin(async { Ok(Outcome::Passed) })
    }

    fn case(id: &'static str, needs: Needs) -> Case {
        Case::new(id, Severity::Must, "rule", body).needs(needs)
    }

    #[test]
    fn only_a_failure_its_case_marked_as_a_root_blocks_anything() {
        let mut b = Blocker::default();
        // Failed, but not said to leave anything unmet (login.happy failing on the call's shape).
        b.observe(
            &case("login.happy", Needs::Nothing),
            &Outcome::failed("two calls"),
            None,
        );
        assert!(b
            .before(&case("token.tampered", Needs::AcceptedToken))
            .is_none());
        // Marked, but passed: nothing either.
        b.observe(
            &case("login.happy", Needs::Nothing),
            &Outcome::Passed,
            Some(Needs::Login),
        );
        assert!(b.root().is_none());
        b.observe(
            &case("token.accepted", Needs::Login),
            &Outcome::failed("HTTP 404"),
            Some(Needs::AcceptedToken),
        );
        assert!(b.before(&case("login.code-reused", Needs::Login)).is_none());
        let skipped = b.before(&case("token.tampered", Needs::AcceptedToken));
        assert_eq!(
            skipped.as_ref().and_then(Outcome::reason),
            Some("blocked by token.accepted: HTTP 404")
        );
        // The first root stays the root.
        b.observe(
            &case("login.happy", Needs::Nothing),
            &Outcome::failed("no token"),
            Some(Needs::Login),
        );
        assert_eq!(b.root().map(|r| r.case), Some("token.accepted"));
    }

    #[test]
    fn a_body_running_into_the_missing_login_is_blocked_only_once_there_is_a_root() {
        let mut b = Blocker::default();
        let no_login = || Err(CaseError::NoLogin("a valid login gave no token".into()));
        assert_eq!(b.outcome(no_login()).status(), "errored");
        b.observe(
            &case("login.happy", Needs::Nothing),
            &Outcome::failed("HTTP 500"),
            Some(Needs::Login),
        );
        let o = b.outcome(no_login());
        assert_eq!(o.reason(), Some("blocked by login.happy: HTTP 500"));
        b.observe(&case("token.tampered", Needs::AcceptedToken), &o, None);
        let warning = b.warning().unwrap_or_default();
        assert!(
            warning.starts_with(
                "1 case(s) needing a working login were skipped, blocked by login.happy: HTTP 500"
            ),
            "{warning}"
        );
        // Any other error stays the case's own.
        assert_eq!(
            b.outcome(Err(CaseError::Other("the fake refused".into())))
                .status(),
            "errored"
        );
    }
}
