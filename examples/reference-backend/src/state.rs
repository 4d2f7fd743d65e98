//! What every handler shares.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::config::Config;
use crate::defect::Defect;
use crate::error::ApiError;
use crate::session::SessionStore;
use crate::wechat::{AccessTokenCache, UpstreamError, WeChat};

/// Cheap to clone: one `Arc`.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub wechat: WeChat,
    pub sessions: SessionStore,
    pub access_tokens: AccessTokenCache,
    /// Set once a WeChat connection was reset while the defect `wedge-on-upstream-reset` is on.
    wedged: AtomicBool,
    /// The one login answer the defect `shared-response-object` keeps reusing. A std mutex: held
    /// for a map update, never across an await.
    pub shared_answer: std::sync::Mutex<serde_json::Map<String, serde_json::Value>>,
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(config: Config) -> Self {
        let timeout = (!config.has(Defect::NoUpstreamTimeout)).then_some(config.upstream_timeout);
        let wechat = WeChat::new(
            &config.wechat_base_url,
            &config.appid,
            &config.secret,
            timeout,
            !config.has(Defect::NoGrantType),
        );
        let access_tokens = AccessTokenCache::new(
            !config.has(Defect::NoAccessTokenCache),
            !config.has(Defect::NoTokenRefresh),
            config.has(Defect::RefreshUnbounded),
            config.clock.clone(),
        );
        AppState(Arc::new(Shared {
            config,
            wechat,
            sessions: SessionStore::default(),
            access_tokens,
            wedged: AtomicBool::new(false),
            shared_answer: std::sync::Mutex::new(serde_json::Map::new()),
        }))
    }
}

impl Shared {
    pub fn has(&self, defect: Defect) -> bool {
        self.config.has(defect)
    }

    /// The answer for a failed WeChat call that is not about the request itself: 502, logged
    /// (without secrets: the error carries none).
    pub fn upstream_failure(&self, err: UpstreamError) -> ApiError {
        tracing::warn!(error = %err, "wechat call failed");
        if err == UpstreamError::Reset && self.has(Defect::WedgeOnUpstreamReset) {
            self.wedged.store(true, Ordering::Relaxed);
        }
        ApiError::Upstream
    }

    /// The answer for `err`, carrying the caught error's own text under the defect
    /// `internal-detail` (what `res.status(500).json({error: e.message})` does).
    pub fn exposed(&self, err: ApiError, detail: &str) -> ApiError {
        if self.has(Defect::InternalDetail) {
            ApiError::Exposed(err.status(), detail.to_owned())
        } else {
            err
        }
    }

    pub fn is_wedged(&self) -> bool {
        self.wedged.load(Ordering::Relaxed)
    }
}
