//! What a case needs of the run before its body can judge anything, and the root cause that
//! blocks it: when `login.happy` shows that a valid code gives no credential, or `token.accepted`
//! that the protected endpoint refuses a fresh one, every later case that needs what is missing
//! is skipped as "blocked by <root>: <its reason>" instead of failing or erroring after it.

use serde::Serialize;

/// What a case's body needs to judge its rule. Ordered: each level includes the one before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Needs {
    /// Nothing: the case judges answers to requests that need no working login (an invalid or
    /// missing code, WeChat failing, a protected call without a credential, the whole run).
    Nothing,
    /// A working login: a valid code gives a credential (`login.happy`).
    Login,
    /// A credential the protected endpoint (and the endpoints that take the same credential)
    /// accepts (`token.accepted`): the verdict reads what the backend does with a session, or a
    /// refusal that only means something next to the acceptance of the real credential.
    AcceptedToken,
}

/// The case whose failure blocks the cases after it, and what it blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    /// The root case's id (`login.happy`, `token.accepted`).
    pub case: &'static str,
    /// Its (redacted) failure reason.
    pub reason: String,
    /// The least need it leaves unmet: cases needing this or more are blocked.
    pub blocks: Needs,
}

impl Root {
    /// The skip reason of a case needing `needs`, when this root blocks it.
    pub fn blocking(&self, needs: Needs) -> Option<String> {
        (needs >= self.blocks).then(|| format!("blocked by {}: {}", self.case, self.reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(blocks: Needs) -> Root {
        Root {
            case: "token.accepted",
            reason: "HTTP 404".into(),
            blocks,
        }
    }

    #[test]
    fn a_refused_credential_blocks_only_the_cases_that_need_one_accepted() {
        let r = root(Needs::AcceptedToken);
        assert_eq!(r.blocking(Needs::Nothing), None);
        assert_eq!(r.blocking(Needs::Login), None);
        assert_eq!(
            r.blocking(Needs::AcceptedToken).as_deref(),
            Some("blocked by token.accepted: HTTP 404")
        );
    }

    #[test]
    fn a_broken_login_blocks_every_case_that_needs_a_login_or_more() {
        let r = root(Needs::Login);
        assert_eq!(r.blocking(Needs::Nothing), None);
        assert!(r.blocking(Needs::Login).is_some());
        assert!(r.blocking(Needs::AcceptedToken).is_some());
    }
}
