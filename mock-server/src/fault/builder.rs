//! The typed way to bend the fake from Rust: [`Fault`] builds a fault rule (the same rule
//! `POST /__admin/faults` installs, through the same store), [`Path`] names the endpoint, and
//! [`MockWeChat::fault`] installs it and hands back a [`FaultId`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use wxmock_server::{Fault, MockWeChat, Path};
//!
//! let wechat = MockWeChat::start().await;
//! // WeChat is busy twice, then answers normally: a backend must retry with the same code.
//! let id = wechat
//!     .fault(Fault::errcode(-1).times(2).on(Path::Code2Session))
//!     .unwrap();
//! assert_eq!(wechat.fault_hits(&id), Some(0));
//! // … the backend under test logs in: it sees -1 twice and must retry …
//! # }
//! ```

use std::time::Duration;

use serde_json::Value;

use super::action::Action;
use super::rule::FaultSpec;
use crate::error::FaultError;
use crate::server::MockWeChat;

/// A WeChat endpoint the fake answers, for [`Fault::on`] and [`Scenario`](super::Scenario)
/// runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    /// `GET /sns/jscode2session` (code2Session), the login exchange.
    Code2Session,
    /// `GET /cgi-bin/token`.
    Token,
    /// `POST /cgi-bin/stable_token`.
    StableToken,
    /// `GET /wxa/checksession`.
    CheckSession,
    /// `GET /wxa/resetusersessionkey`.
    ResetUserSessionKey,
    /// `POST /wxa/business/getuserphonenumber`.
    GetUserPhoneNumber,
    /// Any other path, exactly as requested (it must start with `/`).
    Other(String),
}

impl Path {
    /// The request path, e.g. `/sns/jscode2session`.
    ///
    /// ```
    /// assert_eq!(wxmock_server::Path::Token.as_str(), "/cgi-bin/token");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            Path::Code2Session => "/sns/jscode2session",
            Path::Token => "/cgi-bin/token",
            Path::StableToken => "/cgi-bin/stable_token",
            Path::CheckSession => "/wxa/checksession",
            Path::ResetUserSessionKey => "/wxa/resetusersessionkey",
            Path::GetUserPhoneNumber => "/wxa/business/getuserphonenumber",
            Path::Other(path) => path,
        }
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fault rule, built up and then installed with [`MockWeChat::fault`]. Without
/// [`on`](Fault::on) it applies to `/sns/jscode2session`; without [`times`](Fault::times) or
/// [`probability`](Fault::probability), to every matching call until removed.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    what: What,
    path: Path,
    appid: Option<String>,
    openid: Option<String>,
    js_code: Option<String>,
    times: Option<u32>,
    probability: Option<(f64, u64)>,
}

#[derive(Clone, Debug, PartialEq)]
enum What {
    Action(Action),
    Sequence(Vec<Step>),
}

/// One step of a [`Fault::sequence`]: a fault for that call, or WeChat's normal answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// This call gets the fault (its own path, scope and counts are ignored: the sequence's
    /// rule decides which calls it sees).
    Fault(Fault),
    /// This call gets the normal answer.
    Normal,
}

impl Fault {
    fn action(action: Action) -> Self {
        Self {
            what: What::Action(action),
            path: Path::Code2Session,
            appid: None,
            openid: None,
            js_code: None,
            times: None,
            probability: None,
        }
    }

    /// WeChat's error envelope (HTTP 200) with this errcode and WeChat's text for it.
    pub fn errcode(errcode: i64) -> Self {
        Self::action(Action::Errcode {
            errcode,
            errmsg: None,
        })
    }

    /// Replaces the errmsg text of an [`errcode`](Fault::errcode) fault (the rid is still
    /// appended). Has no effect on other faults.
    pub fn message(mut self, errmsg: impl Into<String>) -> Self {
        if let What::Action(Action::Errcode { errmsg: text, .. }) = &mut self.what {
            *text = Some(errmsg.into());
        }
        self
    }

    /// The normal answer, after a delay (at most five minutes).
    pub fn delay(delay: Duration) -> Self {
        Self::action(Action::Delay {
            delay_ms: millis(delay),
        })
    }

    /// No answer: the connection is held for `hold`, then dropped (a client timeout test).
    pub fn timeout(hold: Duration) -> Self {
        Self::action(Action::Timeout {
            delay_ms: millis(hold),
        })
    }

    /// A non-200 status with a gateway's HTML page.
    pub fn http_status(status: u16) -> Self {
        Self::action(Action::HttpStatus { status, body: None })
    }

    /// A non-200 status with this body.
    pub fn http_status_with_body(status: u16, body: impl Into<String>) -> Self {
        Self::action(Action::HttpStatus {
            status,
            body: Some(body.into()),
        })
    }

    /// HTTP 200 with bytes that are not JSON.
    pub fn garbage() -> Self {
        Self::action(Action::Garbage)
    }

    /// HTTP 200 with an empty body.
    pub fn empty() -> Self {
        Self::action(Action::Empty)
    }

    /// The connection is dropped without an answer.
    pub fn reset() -> Self {
        Self::action(Action::Reset)
    }

    /// The normal answer under another `Content-Type`.
    pub fn content_type(content_type: impl Into<String>) -> Self {
        Self::action(Action::ContentType {
            content_type: content_type.into(),
        })
    }

    /// A success that also carries `"errcode":0,"errmsg":"ok"`, as WeChat's docs show it.
    pub fn errcode_zero() -> Self {
        Self::action(Action::ErrcodeZero)
    }

    /// One step per matching call, in order; the rule ends after the last step.
    ///
    /// ```
    /// use wxmock_server::{Fault, Step};
    /// let busy_twice = Fault::sequence([
    ///     Step::Fault(Fault::errcode(-1)),
    ///     Step::Fault(Fault::errcode(-1)),
    ///     Step::Normal,
    /// ]);
    /// # let _ = busy_twice;
    /// ```
    pub fn sequence(steps: impl IntoIterator<Item = Step>) -> Self {
        Self {
            what: What::Sequence(steps.into_iter().collect()),
            ..Self::errcode(0)
        }
    }

    /// The endpoint the rule applies to (default: [`Path::Code2Session`]).
    pub fn on(mut self, path: Path) -> Self {
        self.path = path;
        self
    }

    /// Only requests concerning this app (default: every app).
    pub fn app(mut self, appid: impl Into<String>) -> Self {
        self.appid = Some(appid.into());
        self
    }

    /// Only requests concerning this user (for jscode2session: the owner of the code).
    pub fn user(mut self, openid: impl Into<String>) -> Self {
        self.openid = Some(openid.into());
        self
    }

    /// Only requests carrying this js_code.
    pub fn js_code(mut self, js_code: impl Into<String>) -> Self {
        self.js_code = Some(js_code.into());
        self
    }

    /// Only the next `n` matching calls.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Each matching call with this probability (0 to 1), drawn from a generator seeded with
    /// `seed`: the same seed hits the same calls on every run.
    pub fn probability(mut self, probability: f64, seed: u64) -> Self {
        self.probability = Some((probability, seed));
        self
    }

    /// The rule as the control API would receive it.
    pub(crate) fn to_spec(&self) -> FaultSpec {
        let mut spec = match &self.what {
            What::Action(action) => FaultSpec::new(self.path.as_str(), action),
            What::Sequence(steps) => FaultSpec {
                path: self.path.as_str().to_owned(),
                sequence: Some(steps.iter().map(Step::to_json).collect()),
                ..FaultSpec::default()
            },
        };
        spec.appid = self.appid.clone();
        spec.openid = self.openid.clone();
        spec.js_code = self.js_code.clone();
        spec.times = self.times;
        if let Some((probability, seed)) = self.probability {
            spec.probability = Some(probability);
            spec.seed = Some(seed);
        }
        spec
    }
}

impl Step {
    fn to_json(&self) -> Value {
        match self {
            Step::Normal => Value::String("normal".to_owned()),
            Step::Fault(fault) => match &fault.what {
                What::Action(action) => Value::Object(action.to_json()),
                // Rejected by the rule's validation with a message naming the step.
                What::Sequence(_) => Value::String("a nested sequence".to_owned()),
            },
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// An installed fault rule, as returned by [`MockWeChat::fault`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FaultId(pub(crate) String);

impl FaultId {
    /// The rule's id as the control API shows it (`f-1`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for FaultId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Faults, on the test-facing handle.
impl MockWeChat {
    /// Installs a fault rule; the error says what is wrong with it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use wxmock_server::{Fault, FaultError, MockWeChat, Path};
    ///
    /// let wechat = MockWeChat::start().await;
    /// wechat.fault(Fault::delay(Duration::from_millis(50)).on(Path::Token)).unwrap();
    /// let refused = wechat.fault(Fault::errcode(-1).probability(1.5, 7));
    /// assert!(matches!(refused, Err(FaultError::Invalid { .. })));
    /// # }
    /// ```
    pub fn fault(&self, fault: Fault) -> Result<FaultId, FaultError> {
        if let Some(appid) = &fault.appid {
            if !self.state().engine.has_app(appid) {
                return Err(FaultError::UnknownApp {
                    appid: appid.clone(),
                });
            }
        }
        let rule = self
            .state()
            .faults
            .add(fault.to_spec())
            .map_err(|reason| FaultError::Invalid { reason })?;
        let id = rule
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(FaultId(id))
    }

    /// How many calls the rule has answered so far; `None` once it is removed or used up (a
    /// rule with [`Fault::times`] or a sequence leaves the store after its last call).
    pub fn fault_hits(&self, id: &FaultId) -> Option<u64> {
        self.state()
            .faults
            .list(None)
            .into_iter()
            .find(|rule| rule.get("id").and_then(Value::as_str) == Some(id.as_str()))
            .and_then(|rule| rule.get("hits").and_then(Value::as_u64))
    }

    /// Removes one rule; false when it was already gone.
    pub fn remove_fault(&self, id: &FaultId) -> bool {
        self.state().faults.remove(id.as_str())
    }

    /// Removes every fault rule (and releases connections they hold); returns how many.
    pub fn clear_faults(&self) -> usize {
        self.state().faults.clear()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_fault_is_the_rule_the_control_api_would_install() {
        let spec = Fault::errcode(-1)
            .times(2)
            .on(Path::CheckSession)
            .app("wx1")
            .to_spec();
        assert_eq!(spec.path, "/wxa/checksession");
        assert_eq!(spec.times, Some(2));
        assert_eq!(spec.appid.as_deref(), Some("wx1"));
        assert_eq!(spec.action.errcode, Some(-1));
    }

    #[test]
    fn a_sequence_becomes_json_steps() {
        let spec = Fault::sequence([Step::Fault(Fault::garbage()), Step::Normal]).to_spec();
        assert_eq!(
            spec.sequence,
            Some(vec![
                serde_json::json!({"fault": "garbage"}),
                serde_json::json!("normal")
            ])
        );
        assert!(spec.action.is_empty());
    }
}
