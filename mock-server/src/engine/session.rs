//! Session keys: rotation on login (per policy), the login-state signature checked by
//! checksession, and resetusersessionkey (a new key that keeps the old expiry).

use rand::Rng;

use super::quota::MINUTE;
use super::registry::{find_user, find_user_mut, Engine};
use super::tenant::User;
use crate::config::{Rules, SessionKeyRotation};
use crate::errcode::{WxError, INVALID_SIGNATURE, MINUTE_QUOTA};
use crate::error::EngineError;

/// Applies the rotation policy when `user` logs in at `now`.
pub(super) fn on_login<R: Rng + ?Sized>(user: &mut User, rules: &Rules, rng: &mut R, now: i64) {
    let rotate = match (user.live_session_key(now), rules.session_key_rotation) {
        (None, _) => true,
        (Some(_), SessionKeyRotation::EveryLogin) => true,
        (Some(_), SessionKeyRotation::Never) => false,
        (Some(key), SessionKeyRotation::MinPeriodSecs(period)) => {
            now - key.rotated_at >= i64::try_from(period).unwrap_or(i64::MAX)
        }
    };
    if rotate {
        user.rotate_session_key(rng, now, rules.session_key_ttl_secs);
    }
}

/// Whether `signature` is the login-state signature of the user's live session_key.
fn signature_matches(user: &User, now: i64, signature: &str) -> bool {
    user.live_session_key(now)
        .is_some_and(|key| key.signature == signature)
}

impl Engine {
    /// Replaces the user's session_key now (a fresh lifetime); the old one stops working.
    pub fn rotate_session_key(&self, appid: &str, openid: &str) -> Result<(), EngineError> {
        let now = self.now();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let user = find_user_mut(&mut inner.tenants, appid, openid)?;
        user.rotate_session_key(&mut inner.rng, now, self.rules.session_key_ttl_secs);
        Ok(())
    }

    /// The user's current (live) session_key and the one before it, for forging encrypted
    /// data the way WeChat would.
    pub fn session_keys(
        &self,
        appid: &str,
        openid: &str,
    ) -> Result<(String, Option<String>), EngineError> {
        let now = self.now();
        let inner = self.lock();
        let user = find_user(&inner.tenants, appid, openid)?;
        let current = user
            .live_session_key(now)
            .ok_or_else(|| EngineError::NoSessionKey {
                appid: appid.to_owned(),
                openid: openid.to_owned(),
            })?;
        Ok((
            current.key.expose().to_owned(),
            user.previous_session_key
                .as_ref()
                .map(|k| k.expose().to_owned()),
        ))
    }

    /// `/wxa/checksession` once the token named `appid`: 87009 for an unknown user, a stale
    /// or expired key, or a wrong signature.
    pub fn check_session(&self, appid: &str, openid: &str, signature: &str) -> Result<(), WxError> {
        self.check_session_at(self.now(), appid, openid, signature)
    }

    /// [`Engine::check_session`] at time `now` (read once by a caller that needs it for more).
    pub(crate) fn check_session_at(
        &self,
        now: i64,
        appid: &str,
        openid: &str,
        signature: &str,
    ) -> Result<(), WxError> {
        let inner = self.lock();
        let ok = inner
            .tenants
            .get(appid)
            .and_then(|t| t.users.get(openid))
            .is_some_and(|user| signature_matches(user, now, signature));
        if ok {
            Ok(())
        } else {
            Err(WxError::new(INVALID_SIGNATURE))
        }
    }

    /// `/wxa/resetusersessionkey`: a new session_key that keeps the old one's expiry.
    pub fn reset_session_key(
        &self,
        appid: &str,
        openid: &str,
        signature: &str,
    ) -> Result<String, WxError> {
        let now = self.now();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(tenant) = inner.tenants.get_mut(appid) else {
            return Err(WxError::new(INVALID_SIGNATURE));
        };
        if !tenant
            .reset_minute
            .admit(now, MINUTE, self.rules.reset_session_key_per_minute)
        {
            return Err(WxError::new(MINUTE_QUOTA));
        }
        let Some(user) = tenant.users.get_mut(openid) else {
            return Err(WxError::new(INVALID_SIGNATURE));
        };
        if !signature_matches(user, now, signature) {
            return Err(WxError::new(INVALID_SIGNATURE));
        }
        let expires_at = user.session.as_ref().map_or(now, |s| s.expires_at);
        user.rotate_keeping_expiry(&mut inner.rng, now, expires_at);
        Ok(user
            .session
            .as_ref()
            .map(|s| s.key.expose().to_owned())
            .unwrap_or_default())
    }
}
