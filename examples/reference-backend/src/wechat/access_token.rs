//! The access token (`GET /cgi-bin/token`): fetched once, cached until 300 s before WeChat says
//! it expires (on the backend's own clock), refreshed once when WeChat calls it invalid (40001,
//! 40014) or expired (42001).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::client::{errcode, UpstreamError, WeChat};
use crate::config::Clock;

/// Refresh this long before WeChat's own expiry, so a token never dies mid-request.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// An access token. `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(***)")
    }
}

/// How many refresh-and-retry rounds the defect `refresh-unbounded` makes before it gives up:
/// unbounded in spirit (the SDKs it copies recurse until the stack overflows), capped so a test
/// run always ends.
pub const UNBOUNDED_REFRESH_CAP: usize = 50;

/// The errcodes that mean "this access token is no good": refresh and retry once.
pub fn is_token_error(code: i64) -> bool {
    matches!(code, 40001 | 40014 | 42001)
}

#[derive(Debug)]
struct Cached {
    token: AccessToken,
    /// Unix seconds on the backend's clock.
    fresh_until: u64,
}

/// The cached access token and its refresh policy.
#[derive(Debug)]
pub struct AccessTokenCache {
    // A tokio mutex, held across the fetch on purpose: concurrent operations that find no
    // fresh token queue behind the one fetching it and then reuse its result, so N
    // simultaneous requests cost one /cgi-bin/token call (single flight). A std mutex cannot
    // be held across an await.
    slot: Mutex<Option<Cached>>,
    /// Off only for the defect `no-access-token-cache`.
    cache: bool,
    /// Off only for the defect `no-token-refresh`.
    refresh: bool,
    /// How many refresh rounds one call may make: 1, or [`UNBOUNDED_REFRESH_CAP`] for the
    /// defect `refresh-unbounded`.
    max_refreshes: usize,
    /// The backend's clock (movable in tests, like the one tokens are checked on).
    clock: Clock,
}

impl AccessTokenCache {
    pub fn new(cache: bool, refresh: bool, unbounded: bool, clock: Clock) -> Self {
        AccessTokenCache {
            slot: Mutex::new(None),
            cache,
            refresh,
            max_refreshes: if unbounded { UNBOUNDED_REFRESH_CAP } else { 1 },
            clock,
        }
    }

    /// A fresh token: the cached one, or a newly fetched one.
    pub async fn get(&self, wechat: &WeChat) -> Result<AccessToken, UpstreamError> {
        let mut slot = self.slot.lock().await;
        if self.cache {
            let now = self.clock.now();
            if let Some(cached) = slot.as_ref().filter(|c| c.fresh_until > now) {
                return Ok(cached.token.clone());
            }
        }
        let (token, expires_in) = wechat.fetch_access_token().await?;
        tracing::info!(
            expires_in = expires_in.as_secs(),
            "fetched a new access token"
        );
        if self.cache {
            *slot = Some(Cached {
                token: token.clone(),
                fresh_until: self.clock.now() + expires_in.saturating_sub(REFRESH_MARGIN).as_secs(),
            });
        }
        Ok(token)
    }

    /// Forgets `stale` if it is still the cached token (another request may already have
    /// replaced it, and that newer token must not be thrown away).
    pub async fn forget(&self, stale: &AccessToken) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|c| &c.token == stale) {
            *slot = None;
        }
    }

    /// Runs `operation` with a token; if WeChat says the token is bad, drops it, fetches a new
    /// one and retries once (the defect `refresh-unbounded`: again and again, up to
    /// [`UNBOUNDED_REFRESH_CAP`] times). Returns the answer and the token it was obtained with.
    pub async fn call<F, Fut>(
        &self,
        wechat: &WeChat,
        operation: F,
    ) -> Result<(Map<String, Value>, AccessToken), UpstreamError>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<Map<String, Value>, UpstreamError>>,
    {
        let mut token = self.get(wechat).await?;
        let mut answer = operation(token.clone()).await?;
        for _ in 0..self.max_refreshes {
            match errcode(&answer) {
                Some(code) if self.refresh && is_token_error(code) => {
                    tracing::info!(errcode = code, "access token refused, refreshing it");
                    self.forget(&token).await;
                    token = self.get(wechat).await?;
                    answer = operation(token.clone()).await?;
                }
                _ => break,
            }
        }
        Ok((answer, token))
    }
}

impl WeChat {
    /// `GET /cgi-bin/token`: a new access token and its lifetime.
    pub async fn fetch_access_token(&self) -> Result<(AccessToken, Duration), UpstreamError> {
        let request = self.http.get(self.url("/cgi-bin/token")).query(&[
            ("grant_type", "client_credential"),
            ("appid", self.appid.as_str()),
            ("secret", self.secret()),
        ]);
        let answer = self.json(request).await?;
        if let Some(code) = errcode(&answer) {
            return Err(UpstreamError::Errcode(code));
        }
        let token = answer
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or(UpstreamError::MissingFields)?;
        let expires_in = answer
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(7200);
        Ok((
            AccessToken(token.to_owned()),
            Duration::from_secs(expires_in),
        ))
    }
}
