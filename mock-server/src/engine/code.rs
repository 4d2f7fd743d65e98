//! Login codes (`wx.login`) and their exchange on `/sns/jscode2session`: five minutes, single
//! use, bound to their appid, used up by a failed exchange too (switchable).

use super::quota::{DAY, MINUTE};
use super::registry::{find_user_mut, Engine, FIRST_SWEEP};
use super::{id, session};
use crate::errcode::{
    WxError, CODE_BEEN_USED, CODE_BLOCKED, DAILY_QUOTA, INVALID_APPID, INVALID_APPSECRET,
    INVALID_CODE, MINUTE_QUOTA,
};
use crate::error::EngineError;

/// An outstanding (or used) login code.
#[derive(Clone, Debug)]
pub struct LoginCode {
    pub appid: String,
    pub openid: String,
    pub issued_at: i64,
    pub used: bool,
}

/// What a successful code2Session gives.
#[derive(Clone, PartialEq, Eq)]
pub struct Code2Session {
    /// The user's current session_key, base64 (16 bytes).
    pub session_key: String,
    /// The user's openid in this app.
    pub openid: String,
    /// The user's unionid, when the app is bound to an open-platform account.
    pub unionid: Option<String>,
}

impl std::fmt::Debug for Code2Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Code2Session")
            .field("session_key", &"***")
            .field("openid", &self.openid)
            .field("unionid", &self.unionid)
            .finish()
    }
}

impl Engine {
    /// What `wx.login` gives `openid` in `appid`: a fresh code. Applies the session_key
    /// rotation policy (default: a new key on every login).
    pub fn login(&self, appid: &str, openid: &str) -> Result<String, EngineError> {
        // Without a code to adopt there is always a fresh one.
        self.issue_code(appid, openid, None)
            .map(|code| code.unwrap_or_default())
    }

    /// Takes `js_code`, a code this fake never issued (one the real `wx.login` gave a
    /// mini-program in WeChat's devtools, say), as `openid`'s fresh login code: from now on it
    /// follows every rule of a code the fake issued (5 minutes, single use, this app only).
    /// Returns false, changing nothing, when the fake already knows the code.
    pub fn adopt_code(
        &self,
        appid: &str,
        openid: &str,
        js_code: &str,
    ) -> Result<bool, EngineError> {
        self.issue_code(appid, openid, Some(js_code))
            .map(|code| code.is_some())
    }

    /// A login of `openid`: the rotation policy, then a new code (or `adopt`, unless it is
    /// known already: then `None`). One lock for the check and the insert, so two requests
    /// with the same unknown code cannot both adopt it.
    fn issue_code(
        &self,
        appid: &str,
        openid: &str,
        adopt: Option<&str>,
    ) -> Result<Option<String>, EngineError> {
        let now = self.now();
        let mut guard = self.lock();
        let inner = &mut *guard;
        if adopt.is_some_and(|code| inner.codes.contains_key(code)) {
            return Ok(None);
        }
        let user = find_user_mut(&mut inner.tenants, appid, openid)?;
        session::on_login(user, &self.rules, &mut inner.rng, now);
        // Expired codes only matter until they expire (then any code is 40029): sweep them.
        if inner.codes.len() >= inner.sweep_codes_at {
            let ttl = self.rules.code_ttl_secs;
            inner.codes.retain(|_, c| c.issued_at + ttl > now);
            inner.sweep_codes_at = (inner.codes.len() * 2).max(FIRST_SWEEP);
        }
        let code = match adopt {
            Some(code) => code.to_owned(),
            None => loop {
                let candidate = id::js_code(&mut inner.rng);
                if !inner.codes.contains_key(&candidate) {
                    break candidate;
                }
            },
        };
        inner.codes.insert(
            code.clone(),
            LoginCode {
                appid: appid.to_owned(),
                openid: openid.to_owned(),
                issued_at: now,
                used: false,
            },
        );
        Ok(Some(code))
    }

    /// The openid of an outstanding (unused, unexpired) login code of `appid`, without using
    /// it up.
    pub fn code_owner(&self, appid: &str, js_code: &str) -> Option<String> {
        let now = self.now();
        let inner = self.lock();
        inner
            .codes
            .get(js_code)
            .filter(|c| c.appid == appid && !c.used && now < c.issued_at + self.rules.code_ttl_secs)
            .map(|c| c.openid.clone())
    }

    /// `/sns/jscode2session` once its parameters are present: credentials, then the code,
    /// then the user and the limits, in WeChat's order.
    pub fn code2session(
        &self,
        appid: &str,
        secret: &str,
        js_code: &str,
    ) -> Result<Code2Session, WxError> {
        let now = self.now();
        let rules = &self.rules;
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(tenant) = inner.tenants.get_mut(appid) else {
            return Err(WxError::new(INVALID_APPID));
        };
        let code = inner.codes.get_mut(js_code);
        // Used up by a failed exchange when the switch is on and the code is this app's.
        let fail = |code: Option<&mut LoginCode>, errcode: i64| {
            if let Some(code) = code {
                if rules.consume_code_on_failure {
                    code.used = true;
                }
            }
            Err(WxError::new(errcode))
        };
        if tenant.secret.expose() != secret {
            return fail(code.filter(|c| c.appid == appid), INVALID_APPSECRET);
        }
        let Some(code) = code else {
            return Err(WxError::new(INVALID_CODE));
        };
        if code.appid != appid {
            return fail(Some(code), INVALID_CODE);
        }
        if now >= code.issued_at + rules.code_ttl_secs {
            return Err(WxError::new(INVALID_CODE));
        }
        if code.used {
            return Err(WxError::new(CODE_BEEN_USED));
        }
        let Some(user) = tenant.users.get_mut(&code.openid) else {
            return fail(Some(code), INVALID_CODE);
        };
        if user.blocked {
            return fail(Some(code), CODE_BLOCKED);
        }
        if !user
            .minute
            .admit(now, MINUTE, rules.code2session_user_per_minute)
        {
            return fail(Some(code), MINUTE_QUOTA);
        }
        if let Some(limit) = rules.code2session_daily_quota {
            if !tenant.code2session_daily.admit(now, DAY, limit) {
                return fail(Some(code), DAILY_QUOTA);
            }
        }
        code.used = true;
        if user.live_session_key(now).is_none() {
            user.rotate_session_key(&mut inner.rng, now, rules.session_key_ttl_secs);
        }
        let session_key = user
            .session
            .as_ref()
            .map(|s| s.key.expose().to_owned())
            .unwrap_or_default();
        Ok(Code2Session {
            session_key,
            openid: user.openid.clone(),
            unionid: user.unionid.clone(),
        })
    }
}
