//! Named scenarios: the failures developers replay most, one control-API call each. Most install
//! a fault rule; the session and token ones change the engine's state instead.

use std::time::Duration;

use serde_json::Value;

use super::action::Action;
use super::builder::{FaultId, Path};
use super::rule::FaultSpec;
use crate::errcode;
use crate::error::{FaultError, ScenarioError};
use crate::server::MockWeChat;
use crate::state::AppState;

/// A named scenario of `POST /__admin/scenarios/{name}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// `invalid-code`: the next jscode2session answers 40029.
    InvalidCode,
    /// `code-reused`: the next jscode2session answers 40163.
    CodeReused,
    /// `wechat-busy`: the next jscode2session answers -1 (system busy, retry).
    WechatBusy,
    /// `rate-limited`: the next jscode2session answers 45011 (minute quota reached).
    RateLimited,
    /// `high-risk`: the next jscode2session answers 40226 (high-risk user).
    HighRisk,
    /// `session-expired`: rotates one user's session_key now (needs an openid).
    SessionExpired,
    /// `access-token-expired`: every access token of the app is expired (42001).
    AccessTokenExpired,
    /// `access-token-superseded`: every access token of the app was replaced (40001).
    AccessTokenSuperseded,
    /// `access-token-rejected`: every access token of the app, new ones included, answers
    /// 40001 until the app's faults are cleared.
    AccessTokenRejected,
    /// `slow-wechat`: the next jscode2session answers after a delay (default 3000 ms).
    SlowWechat,
    /// `garbage-body`: the next jscode2session answers HTTP 200 with bytes that are not JSON.
    GarbageBody,
    /// `connection-reset`: the next jscode2session's connection is dropped unanswered.
    ConnectionReset,
    /// `errcode-zero`: the next successful jscode2session also carries `"errcode":0`.
    ErrcodeZero,
}

/// What applying a scenario does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Install a fault rule with this action (on jscode2session unless another path is given).
    Fault(Action),
    /// Rotate the user's session_key now: data encrypted and signatures made with the old key fail.
    RotateSessionKey,
    /// Every access token of the app is past its lifetime (42001).
    ExpireAccessTokens,
    /// Every access token of the app has been replaced by a newer one (40001).
    SupersedeAccessTokens,
    /// Every access token of the app, those issued from now on included, answers 40001 until
    /// the app's faults are cleared.
    RejectAccessTokens,
}

/// How long `slow-wechat` delays unless told otherwise.
pub const SLOW_WECHAT_DEFAULT_MS: u64 = 3_000;

impl Scenario {
    /// Every scenario, in the order `GET /__admin/scenarios` lists them.
    pub const ALL: [Scenario; 13] = [
        Scenario::InvalidCode,
        Scenario::CodeReused,
        Scenario::WechatBusy,
        Scenario::RateLimited,
        Scenario::HighRisk,
        Scenario::SessionExpired,
        Scenario::AccessTokenExpired,
        Scenario::AccessTokenSuperseded,
        Scenario::AccessTokenRejected,
        Scenario::SlowWechat,
        Scenario::GarbageBody,
        Scenario::ConnectionReset,
        Scenario::ErrcodeZero,
    ];

    /// The kebab-case name the control API and the CLI use, e.g. `invalid-code`.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::InvalidCode => "invalid-code",
            Scenario::CodeReused => "code-reused",
            Scenario::WechatBusy => "wechat-busy",
            Scenario::RateLimited => "rate-limited",
            Scenario::HighRisk => "high-risk",
            Scenario::SessionExpired => "session-expired",
            Scenario::AccessTokenExpired => "access-token-expired",
            Scenario::AccessTokenSuperseded => "access-token-superseded",
            Scenario::AccessTokenRejected => "access-token-rejected",
            Scenario::SlowWechat => "slow-wechat",
            Scenario::GarbageBody => "garbage-body",
            Scenario::ConnectionReset => "connection-reset",
            Scenario::ErrcodeZero => "errcode-zero",
        }
    }

    /// The scenario with this kebab-case name, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// What the scenario reproduces, for `GET /__admin/scenarios` and the docs.
    pub fn description(self) -> &'static str {
        match self {
            Scenario::InvalidCode => "the next jscode2session answers 40029 invalid code (an expired, forged or other-app code); the code itself stays redeemable",
            Scenario::CodeReused => "the next jscode2session answers 40163 code been used (a double submit, or a retry after a lost answer)",
            Scenario::WechatBusy => "the next jscode2session answers -1 system error (WeChat's transient failure: retry with the same code)",
            Scenario::RateLimited => "the next jscode2session answers 45011 minute-quota reached (a user logging in too often)",
            Scenario::HighRisk => "the next jscode2session answers 40226 code blocked (WeChat refuses a high-risk user)",
            Scenario::SessionExpired => "rotates the user's session_key now: checksession answers 87009 and data encrypted under the old key no longer decrypts (needs openid)",
            Scenario::AccessTokenExpired => "every access token of the app is past its 7200 s lifetime: calls answer 42001 until the backend fetches a new one",
            Scenario::AccessTokenSuperseded => "every access token of the app was replaced (someone else called /cgi-bin/token): calls answer 40001",
            Scenario::AccessTokenRejected => "every access token of the app answers 40001 on use, the ones /cgi-bin/token and stable_token hand out from now on included, until the app's faults are cleared (DELETE /__admin/faults) or it is reset: a backend that refreshes and retries without a bound loops",
            Scenario::SlowWechat => "the next jscode2session answers normally after a delay (delay_ms, default 3000): checks client timeouts",
            Scenario::GarbageBody => "the next jscode2session answers HTTP 200 with bytes that are not JSON",
            Scenario::ConnectionReset => "the next jscode2session gets no answer: the connection is dropped",
            Scenario::ErrcodeZero => "the next successful jscode2session also carries \"errcode\":0,\"errmsg\":\"ok\", as WeChat's docs show it (real answers omit both): a backend must read success from the session_key, not from a missing errcode",
        }
    }

    /// What applying the scenario does; `delay_ms` only matters for `slow-wechat`.
    pub fn effect(self, delay_ms: Option<u64>) -> Effect {
        let errcode = |errcode| {
            Effect::Fault(Action::Errcode {
                errcode,
                errmsg: None,
            })
        };
        match self {
            Scenario::InvalidCode => errcode(errcode::INVALID_CODE),
            Scenario::CodeReused => errcode(errcode::CODE_BEEN_USED),
            Scenario::WechatBusy => errcode(errcode::SYSTEM_ERROR),
            Scenario::RateLimited => errcode(errcode::MINUTE_QUOTA),
            Scenario::HighRisk => errcode(errcode::CODE_BLOCKED),
            Scenario::SessionExpired => Effect::RotateSessionKey,
            Scenario::AccessTokenExpired => Effect::ExpireAccessTokens,
            Scenario::AccessTokenSuperseded => Effect::SupersedeAccessTokens,
            Scenario::AccessTokenRejected => Effect::RejectAccessTokens,
            Scenario::SlowWechat => Effect::Fault(Action::Delay {
                delay_ms: delay_ms.unwrap_or(SLOW_WECHAT_DEFAULT_MS),
            }),
            Scenario::GarbageBody => Effect::Fault(Action::Garbage),
            Scenario::ConnectionReset => Effect::Fault(Action::Reset),
            Scenario::ErrcodeZero => Effect::Fault(Action::ErrcodeZero),
        }
    }
}

/// A scenario with its options, for [`MockWeChat::scenario`]; a bare [`Scenario`] converts
/// into one (the default app, one call, jscode2session).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use wxmock_server::{MockWeChat, Path, Scenario, ALICE_OPENID};
///
/// let wechat = MockWeChat::start().await;
/// wechat.scenario(Scenario::WechatBusy).unwrap();
/// wechat.scenario(Scenario::GarbageBody.times(3).on(Path::Token)).unwrap();
/// wechat.scenario(Scenario::SessionExpired.user(ALICE_OPENID)).unwrap();
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioRun {
    scenario: Scenario,
    appid: Option<String>,
    openid: Option<String>,
    times: Option<u32>,
    path: Option<Path>,
    delay: Option<Duration>,
}

impl From<Scenario> for ScenarioRun {
    fn from(scenario: Scenario) -> Self {
        Self {
            scenario,
            appid: None,
            openid: None,
            times: None,
            path: None,
            delay: None,
        }
    }
}

impl Scenario {
    /// This scenario for another app than the fake's default one.
    pub fn app(self, appid: impl Into<String>) -> ScenarioRun {
        ScenarioRun::from(self).app(appid)
    }

    /// This scenario for one user (a fault then only hits that user's codes;
    /// `session-expired` needs it).
    pub fn user(self, openid: impl Into<String>) -> ScenarioRun {
        ScenarioRun::from(self).user(openid)
    }

    /// A fault scenario for the next `n` calls instead of one.
    pub fn times(self, n: u32) -> ScenarioRun {
        ScenarioRun::from(self).times(n)
    }

    /// A fault scenario on another endpoint than jscode2session.
    pub fn on(self, path: Path) -> ScenarioRun {
        ScenarioRun::from(self).on(path)
    }

    /// The delay of `slow-wechat` (default 3 s).
    pub fn delay(self, delay: Duration) -> ScenarioRun {
        ScenarioRun::from(self).delay(delay)
    }
}

impl ScenarioRun {
    /// See [`Scenario::app`].
    pub fn app(mut self, appid: impl Into<String>) -> Self {
        self.appid = Some(appid.into());
        self
    }

    /// See [`Scenario::user`].
    pub fn user(mut self, openid: impl Into<String>) -> Self {
        self.openid = Some(openid.into());
        self
    }

    /// See [`Scenario::times`].
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// See [`Scenario::on`].
    pub fn on(mut self, path: Path) -> Self {
        self.path = Some(path);
        self
    }

    /// See [`Scenario::delay`].
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// The run the control API's JSON body describes.
    pub(crate) fn from_request(
        scenario: Scenario,
        appid: String,
        openid: Option<String>,
        times: Option<u32>,
        path: Option<String>,
        delay_ms: Option<u64>,
    ) -> Self {
        Self {
            scenario,
            appid: Some(appid),
            openid,
            times,
            path: path.map(Path::Other),
            delay: delay_ms.map(Duration::from_millis),
        }
    }
}

/// What applying a scenario did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioApplied {
    /// A fault rule was installed.
    Fault(FaultId),
    /// The user's session_key was rotated.
    RotatedSessionKey {
        /// The user's app.
        appid: String,
        /// The user whose key was rotated.
        openid: String,
    },
    /// Every access token of the app was expired.
    ExpiredAccessTokens {
        /// The app whose tokens were expired.
        appid: String,
    },
    /// Every access token of the app was superseded.
    SupersededAccessTokens {
        /// The app whose tokens were superseded.
        appid: String,
    },
    /// Every access token of the app, new ones included, is refused until its faults are
    /// cleared.
    RejectingAccessTokens {
        /// The app whose tokens are refused.
        appid: String,
    },
}

/// Applies a run: the one code path behind the control API and [`MockWeChat::scenario`].
/// Returns what was done and, for a fault, the installed rule as the control API shows it.
pub(crate) fn apply(
    state: &AppState,
    run: &ScenarioRun,
    default_appid: &str,
) -> Result<(ScenarioApplied, Option<Value>), ScenarioError> {
    let name = run.scenario.name();
    let appid = run
        .appid
        .clone()
        .unwrap_or_else(|| default_appid.to_owned());
    if !state.engine.has_app(&appid) {
        return Err(ScenarioError::UnknownApp { appid });
    }
    if run.delay.is_some() && run.scenario != Scenario::SlowWechat {
        return Err(ScenarioError::DelayNotApplicable { scenario: name });
    }
    let delay_ms = run
        .delay
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let effect = run.scenario.effect(delay_ms);
    if !matches!(effect, Effect::Fault(_)) {
        let misplaced = [("times", run.times.is_some()), ("path", run.path.is_some())]
            .into_iter()
            .find_map(|(field, set)| set.then_some(field));
        if let Some(field) = misplaced {
            return Err(ScenarioError::NotAFault {
                scenario: name,
                field,
            });
        }
    }
    match effect {
        Effect::Fault(action) => {
            let path = run.path.clone().unwrap_or(Path::Code2Session);
            let spec = FaultSpec {
                appid: Some(appid),
                openid: run.openid.clone(),
                times: Some(run.times.unwrap_or(1)),
                ..FaultSpec::new(path.as_str(), &action)
            };
            let rule = state
                .faults
                .add(spec)
                .map_err(|reason| ScenarioError::Fault {
                    scenario: name,
                    source: FaultError::Invalid { reason },
                })?;
            let id = rule
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            Ok((ScenarioApplied::Fault(FaultId(id)), Some(rule)))
        }
        Effect::RotateSessionKey => {
            let openid = run
                .openid
                .clone()
                .ok_or(ScenarioError::NeedsUser { scenario: name })?;
            state.engine.rotate_session_key(&appid, &openid)?;
            Ok((ScenarioApplied::RotatedSessionKey { appid, openid }, None))
        }
        Effect::ExpireAccessTokens => {
            state.engine.expire_access_tokens(&appid);
            Ok((ScenarioApplied::ExpiredAccessTokens { appid }, None))
        }
        Effect::SupersedeAccessTokens => {
            state.engine.supersede_access_tokens(&appid);
            Ok((ScenarioApplied::SupersededAccessTokens { appid }, None))
        }
        Effect::RejectAccessTokens => {
            state.faults.refuse_access_tokens(&appid);
            Ok((ScenarioApplied::RejectingAccessTokens { appid }, None))
        }
    }
}

/// Scenarios, on the test-facing handle.
impl MockWeChat {
    /// Applies a named scenario, to the default app unless the run names another; the error
    /// says why it cannot be.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wxmock_server::{MockWeChat, Scenario, ScenarioApplied, ScenarioError};
    ///
    /// let wechat = MockWeChat::start().await;
    /// assert!(matches!(wechat.scenario(Scenario::RateLimited), Ok(ScenarioApplied::Fault(_))));
    /// assert!(matches!(
    ///     wechat.scenario(Scenario::SessionExpired),
    ///     Err(ScenarioError::NeedsUser { .. })
    /// ));
    /// # }
    /// ```
    pub fn scenario(&self, run: impl Into<ScenarioRun>) -> Result<ScenarioApplied, ScenarioError> {
        apply(self.state(), &run.into(), &self.default_app().appid).map(|(applied, _)| applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_is_found_by_its_name() {
        for scenario in Scenario::ALL {
            assert_eq!(Scenario::from_name(scenario.name()), Some(scenario));
            assert!(!scenario.description().is_empty());
        }
        assert_eq!(Scenario::from_name("sunny-day"), None);
    }
}
