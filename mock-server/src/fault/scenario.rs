//! Named scenarios: the failures developers replay most, one control-API call each. Most install
//! a fault rule; the session and token ones change the engine's state instead.

use super::action::Action;
use crate::errcode;

/// A named scenario of `POST /__admin/scenarios/{name}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    InvalidCode,
    CodeReused,
    WechatBusy,
    RateLimited,
    HighRisk,
    SessionExpired,
    AccessTokenExpired,
    AccessTokenSuperseded,
    SlowWechat,
    GarbageBody,
    ConnectionReset,
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
}

/// How long `slow-wechat` delays unless told otherwise.
pub const SLOW_WECHAT_DEFAULT_MS: u64 = 3_000;

impl Scenario {
    pub const ALL: [Scenario; 12] = [
        Scenario::InvalidCode,
        Scenario::CodeReused,
        Scenario::WechatBusy,
        Scenario::RateLimited,
        Scenario::HighRisk,
        Scenario::SessionExpired,
        Scenario::AccessTokenExpired,
        Scenario::AccessTokenSuperseded,
        Scenario::SlowWechat,
        Scenario::GarbageBody,
        Scenario::ConnectionReset,
        Scenario::ErrcodeZero,
    ];

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
            Scenario::SlowWechat => "slow-wechat",
            Scenario::GarbageBody => "garbage-body",
            Scenario::ConnectionReset => "connection-reset",
            Scenario::ErrcodeZero => "errcode-zero",
        }
    }

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
            Scenario::SlowWechat => Effect::Fault(Action::Delay {
                delay_ms: delay_ms.unwrap_or(SLOW_WECHAT_DEFAULT_MS),
            }),
            Scenario::GarbageBody => Effect::Fault(Action::Garbage),
            Scenario::ConnectionReset => Effect::Fault(Action::Reset),
            Scenario::ErrcodeZero => Effect::Fault(Action::ErrcodeZero),
        }
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
