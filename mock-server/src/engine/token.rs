//! Access tokens: `/cgi-bin/token` mints a new one per call (the previous one lives on for a
//! grace period), `/cgi-bin/stable_token` returns the same one while it is valid.

use std::sync::Arc;

use super::id;
use super::quota::{DAY, MINUTE};
use super::registry::{unknown_app, Engine, Inner, FIRST_SWEEP};
use crate::errcode::{
    WxError, ACCESS_TOKEN_EXPIRED, DAILY_QUOTA, INVALID_APPID, INVALID_APPSECRET,
    INVALID_CREDENTIAL, MINUTE_QUOTA, STABLE_TOKEN_HINT,
};
use crate::error::EngineError;

/// Which endpoint minted a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Minted by `/cgi-bin/token`: a new one supersedes the app's older ones.
    Normal,
    /// Minted by `/cgi-bin/stable_token`: the same token is handed out until it nears its expiry.
    Stable,
}

/// An access token's record as read once: its app and when it stops being valid.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    /// The app the token was minted for.
    pub appid: Arc<str>,
    expires_at: i64,
    dead_at: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct TokenRecord {
    /// Shared rather than copied: every request with the token hands it to the journal.
    pub appid: Arc<str>,
    /// Which endpoint minted it (kept for the journal-reading harness and debugging).
    #[allow(dead_code)]
    pub kind: TokenKind,
    pub expires_at: i64,
    /// When a superseded token stops working (40001 from then on).
    pub dead_at: Option<i64>,
}

/// A token handed out, with the `expires_in` to report.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The token string to give to WeChat calls as `access_token`.
    pub access_token: String,
    /// Seconds until the token expires, as `expires_in` reports it (7200 by default).
    pub expires_in: i64,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &"***")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl Inner {
    fn mint(&mut self, appid: &str, kind: TokenKind, now: i64, ttl: i64) -> String {
        if self.tokens.len() >= self.sweep_tokens_at {
            self.tokens
                .retain(|_, t| now < t.expires_at && t.dead_at.is_none_or(|d| now < d));
            self.sweep_tokens_at = (self.tokens.len() * 2).max(FIRST_SWEEP);
        }
        let token = loop {
            let candidate = id::access_token(&mut self.rng);
            if !self.tokens.contains_key(&candidate) {
                break candidate;
            }
        };
        self.tokens.insert(
            token.clone(),
            TokenRecord {
                appid: Arc::from(appid),
                kind,
                expires_at: now + ttl,
                dead_at: None,
            },
        );
        token
    }

    /// Makes `token` stop working at `at` (or earlier, if it was already going to).
    fn supersede(&mut self, token: Option<&String>, at: i64) {
        if let Some(record) = token.and_then(|t| self.tokens.get_mut(t)) {
            record.dead_at = Some(record.dead_at.map_or(at, |d| d.min(at)));
        }
    }
}

impl Engine {
    /// The appid a token was issued to, whatever its state.
    pub fn appid_of_access_token(&self, token: &str) -> Option<String> {
        self.shared_appid_of_access_token(token)
            .map(|appid| appid.to_string())
    }

    /// [`Engine::appid_of_access_token`], shared with the token's record (no copy).
    pub(crate) fn shared_appid_of_access_token(&self, token: &str) -> Option<Arc<str>> {
        self.lock().tokens.get(token).map(|t| t.appid.clone())
    }

    /// Checks an `access_token` query value: the appid it grants, or 40014 (malformed, per
    /// `rules.malformed_token_errcode`), 40001 (unknown or superseded), 42001 (expired).
    pub fn authorize(&self, token: &str) -> Result<String, WxError> {
        self.authorize_shared(token).map(|appid| appid.to_string())
    }

    /// [`Engine::authorize`], the appid shared with the token's record (no copy).
    pub(crate) fn authorize_shared(&self, token: &str) -> Result<Arc<str>, WxError> {
        let grant = self.grant_of(token);
        self.authorize_grant(token, grant.as_ref(), self.now())
    }

    /// What the record of `token` says, read under one lock, for a caller that needs both the
    /// token's app (the journal) and its validity (the handler): see
    /// [`Engine::authorize_grant`].
    pub(crate) fn grant_of(&self, token: &str) -> Option<Grant> {
        self.lock().tokens.get(token).map(|record| Grant {
            appid: record.appid.clone(),
            expires_at: record.expires_at,
            dead_at: record.dead_at,
        })
    }

    /// [`Engine::authorize_shared`] for `token` at time `now`, whose record
    /// [`Engine::grant_of`] has read (`None`: there is none).
    pub(crate) fn authorize_grant(
        &self,
        token: &str,
        grant: Option<&Grant>,
        now: i64,
    ) -> Result<Arc<str>, WxError> {
        let Some(grant) = grant else {
            // Only tokens the engine minted are kept, and every one of them is well-formed, so
            // the shape is checked only for a token that is not there (saving a scan of a
            // long string on every valid call).
            if !id::looks_like_access_token(token) {
                return Err(WxError::new(self.rules.malformed_token_errcode));
            }
            return Err(WxError::new(INVALID_CREDENTIAL));
        };
        if now >= grant.expires_at {
            return Err(WxError::new(ACCESS_TOKEN_EXPIRED));
        }
        if grant.dead_at.is_some_and(|d| now >= d) {
            return Err(WxError::new(INVALID_CREDENTIAL));
        }
        Ok(grant.appid.clone())
    }

    /// `/cgi-bin/token` once its parameters are present.
    pub fn issue_token(&self, appid: &str, secret: &str) -> Result<IssuedToken, WxError> {
        let now = self.now();
        let rules = &self.rules;
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(tenant) = inner.tenants.get_mut(appid) else {
            return Err(WxError::new(INVALID_APPID));
        };
        if tenant.secret.expose() != secret {
            return Err(WxError::new(INVALID_APPSECRET));
        }
        if !tenant.token_daily.admit(now, DAY, rules.token_daily_quota) {
            return Err(WxError::with_msg(
                DAILY_QUOTA,
                format!("reach max api daily quota limit{STABLE_TOKEN_HINT}"),
            ));
        }
        let previous = tenant.current_token.take();
        let stable = tenant.stable_token.clone();
        let token = inner.mint(appid, TokenKind::Normal, now, rules.access_token_ttl_secs);
        inner.supersede(previous.as_ref(), now + rules.access_token_grace_secs);
        if rules.tokens_invalidate_each_other {
            inner.supersede(stable.as_ref(), now + rules.access_token_grace_secs);
        }
        if let Some(tenant) = inner.tenants.get_mut(appid) {
            tenant.current_token = Some(token.clone());
        }
        Ok(IssuedToken {
            access_token: token,
            expires_in: rules.access_token_ttl_secs,
        })
    }

    /// `/cgi-bin/stable_token` once its parameters are present: the same token while it is
    /// valid (the next one from the last grace period of its life), a new one on
    /// `force_refresh` (at most 20 a day, and not within 30 s of the previous refresh).
    pub fn stable_token(
        &self,
        appid: &str,
        secret: &str,
        force_refresh: bool,
    ) -> Result<IssuedToken, WxError> {
        let now = self.now();
        let rules = &self.rules;
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(tenant) = inner.tenants.get_mut(appid) else {
            return Err(WxError::new(INVALID_APPID));
        };
        if tenant.secret.expose() != secret {
            return Err(WxError::new(INVALID_APPSECRET));
        }
        if !tenant
            .stable_minute
            .admit(now, MINUTE, rules.stable_token_per_minute)
        {
            return Err(WxError::new(MINUTE_QUOTA));
        }
        if !tenant
            .stable_daily
            .admit(now, DAY, rules.stable_token_daily_quota)
        {
            return Err(WxError::new(DAILY_QUOTA));
        }
        let live = |record: &TokenRecord| {
            now < record.expires_at && record.dead_at.is_none_or(|d| now < d)
        };
        let current = tenant
            .stable_token
            .clone()
            .filter(|t| inner.tokens.get(t).is_some_and(live));
        let recently_forced = tenant
            .last_force_refresh
            .is_some_and(|at| now - at < rules.force_refresh_min_interval_secs);
        let mut mint = current.is_none();
        let mut grace = rules.access_token_grace_secs;
        if let Some(token) = &current {
            let remaining = inner.tokens.get(token).map_or(0, |t| t.expires_at - now);
            if force_refresh && !recently_forced {
                if !tenant
                    .force_refresh_daily
                    .admit(now, DAY, rules.force_refresh_daily_limit)
                {
                    return Err(WxError::new(DAILY_QUOTA));
                }
                tenant.last_force_refresh = Some(now);
                grace = rules.force_refresh_grace_secs;
                mint = true;
            } else if remaining <= rules.access_token_grace_secs {
                // In the last minutes of its life the next token is issued; the old one runs
                // out on its own, so the two overlap.
                grace = remaining;
                mint = true;
            }
        }
        if !mint {
            let token = current.unwrap_or_default();
            let expires_in = if rules.stable_token_remaining_expires_in {
                inner.tokens.get(&token).map_or(0, |t| t.expires_at - now)
            } else {
                rules.access_token_ttl_secs
            };
            return Ok(IssuedToken {
                access_token: token,
                expires_in,
            });
        }
        let normal = tenant.current_token.clone();
        let token = inner.mint(appid, TokenKind::Stable, now, rules.access_token_ttl_secs);
        inner.supersede(current.as_ref(), now + grace);
        if rules.tokens_invalidate_each_other {
            inner.supersede(normal.as_ref(), now + rules.access_token_grace_secs);
        }
        if let Some(tenant) = inner.tenants.get_mut(appid) {
            tenant.stable_token = Some(token.clone());
        }
        Ok(IssuedToken {
            access_token: token,
            expires_in: rules.access_token_ttl_secs,
        })
    }

    /// A valid `/cgi-bin/token` token for `appid`, minted without secret or quota checks
    /// (for Rust tests). Supersedes the previous one like a real call.
    pub fn mint_access_token(&self, appid: &str) -> Result<String, EngineError> {
        let secret = self.app_secret(appid).ok_or_else(|| unknown_app(appid))?;
        self.issue_token(appid, secret.expose())
            .map(|t| t.access_token)
            .map_err(|e| EngineError::Invalid {
                field: "appid",
                reason: format!("cannot mint a token: {}", e.errmsg),
            })
    }

    /// Every token of the app now answers 42001.
    pub fn expire_access_tokens(&self, appid: &str) {
        let now = self.now();
        let mut inner = self.lock();
        for record in inner.tokens.values_mut().filter(|t| &*t.appid == appid) {
            record.expires_at = record.expires_at.min(now);
        }
    }

    /// Every token of the app now answers 40001, as if superseded past its grace.
    pub fn supersede_access_tokens(&self, appid: &str) {
        let now = self.now();
        let mut inner = self.lock();
        for record in inner.tokens.values_mut().filter(|t| &*t.appid == appid) {
            record.dead_at = Some(record.dead_at.map_or(now, |d| d.min(now)));
        }
    }
}
