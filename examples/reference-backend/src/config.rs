//! What the backend needs to know, read once when it starts; handlers never read the environment.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::RngCore;

use crate::defect::Defect;
use crate::error::ConfigError;

/// WeChat's production API host, the default upstream.
pub const DEFAULT_WECHAT_BASE_URL: &str = "https://api.weixin.qq.com";
/// How long an issued JWT lives (two hours, like WeChat's own access tokens).
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 7200;
/// How long one WeChat call may take before the login answers 502.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(3);

/// The backend's configuration. `Debug` hides both secrets.
#[derive(Clone)]
pub struct Config {
    /// Where WeChat is: `https://api.weixin.qq.com`, or a fake such as wxmock.
    pub wechat_base_url: String,
    pub appid: String,
    /// The mini-program's appsecret; sent to WeChat only.
    pub secret: String,
    /// The HS256 key the JWTs are signed with.
    pub jwt_secret: String,
    pub token_ttl_secs: u64,
    pub upstream_timeout: Duration,
    pub defects: BTreeSet<Defect>,
    /// The clock tokens are issued and checked on: real time plus an offset a test can move
    /// (a harness moves it to test expiry without waiting; libfaketime does the same to the
    /// process's real time).
    pub clock: Clock,
    /// Where log lines go when the backend runs inside another process (None: the process's
    /// own tracing subscriber, stderr for the binary).
    pub log: Option<crate::log::LogSink>,
}

/// Real time plus a shared, movable offset in seconds. Clones share the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// Seconds since the Unix epoch, offset included.
    pub fn now(&self) -> u64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        u64::try_from(real + self.offset.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Sets the offset from real time.
    pub fn set_offset(&self, secs: i64) {
        self.offset.store(secs, Ordering::Relaxed);
    }
}

impl Config {
    /// A correct configuration (no defects) with a random 256-bit JWT key.
    pub fn new(
        wechat_base_url: impl Into<String>,
        appid: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        Config {
            wechat_base_url: wechat_base_url.into(),
            appid: appid.into(),
            secret: secret.into(),
            jwt_secret: random_jwt_secret(),
            token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            upstream_timeout: DEFAULT_UPSTREAM_TIMEOUT,
            defects: BTreeSet::new(),
            clock: Clock::default(),
            log: None,
        }
    }

    /// Reads `WX_API_BASE`, `WX_APPID`, `WX_SECRET` (required), `JWT_SECRET`, `TOKEN_TTL_SECS`,
    /// `WX_TIMEOUT_MS` and `DEFECTS` (comma-separated defect names) from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`Config::from_env`] with the variables looked up through `var`, so it can be tested
    /// without touching the process environment.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let base = non_empty("WX_API_BASE").unwrap_or_else(|| DEFAULT_WECHAT_BASE_URL.to_owned());
        let appid = non_empty("WX_APPID").ok_or(ConfigError::Missing("WX_APPID"))?;
        let secret = non_empty("WX_SECRET").ok_or(ConfigError::Missing("WX_SECRET"))?;
        let mut config = Config::new(base, appid, secret);
        if let Some(key) = non_empty("JWT_SECRET") {
            config.jwt_secret = key;
        }
        if let Some(value) = non_empty("TOKEN_TTL_SECS") {
            config.token_ttl_secs = parse_number("TOKEN_TTL_SECS", &value)?;
        }
        if let Some(value) = non_empty("WX_TIMEOUT_MS") {
            config.upstream_timeout = Duration::from_millis(parse_number("WX_TIMEOUT_MS", &value)?);
        }
        if let Some(list) = non_empty("DEFECTS") {
            config.defects = parse_defects(&list).map_err(ConfigError::Defect)?;
        }
        Ok(config)
    }

    /// Whether the defect switch `defect` is on.
    pub fn has(&self, defect: Defect) -> bool {
        self.defects.contains(&defect)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("wechat_base_url", &self.wechat_base_url)
            .field("appid", &self.appid)
            .field("secret", &"***")
            .field("jwt_secret", &"***")
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("upstream_timeout", &self.upstream_timeout)
            .field("defects", &self.defects)
            .finish()
    }
}

/// Parses a comma-separated list of defect names (blanks ignored).
pub fn parse_defects(list: &str) -> Result<BTreeSet<Defect>, crate::error::UnknownDefect> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::parse)
        .collect()
}

fn parse_number(name: &'static str, value: &str) -> Result<u64, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|source| ConfigError::NotANumber {
            name,
            value: value.to_owned(),
            source,
        })
}

fn random_jwt_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn env_config_needs_appid_and_secret() {
        let err = Config::from_vars(vars(&[("WX_APPID", "wx1")])).unwrap_err();
        assert!(err.to_string().contains("WX_SECRET"));
    }

    #[test]
    fn env_config_reads_every_variable() {
        let c = Config::from_vars(vars(&[
            ("WX_API_BASE", "http://127.0.0.1:9"),
            ("WX_APPID", "wx1"),
            ("WX_SECRET", "s"),
            ("JWT_SECRET", "k"),
            ("TOKEN_TTL_SECS", "60"),
            ("WX_TIMEOUT_MS", "250"),
            ("DEFECTS", "alg-none, no-exp,"),
        ]))
        .unwrap();
        assert_eq!(c.wechat_base_url, "http://127.0.0.1:9");
        assert_eq!(c.jwt_secret, "k");
        assert_eq!(c.token_ttl_secs, 60);
        assert_eq!(c.upstream_timeout, Duration::from_millis(250));
        assert!(c.has(Defect::AlgNone) && c.has(Defect::NoExp) && c.defects.len() == 2);
    }

    #[test]
    fn an_unknown_defect_in_the_environment_is_an_error() {
        let err = Config::from_vars(vars(&[
            ("WX_APPID", "a"),
            ("WX_SECRET", "s"),
            ("DEFECTS", "nope"),
        ]))
        .unwrap_err();
        assert!(matches!(err, ConfigError::Defect(_)));
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let mut c = Config::new("http://x", "wx1", "the-app-secret");
        c.jwt_secret = "the-jwt-key".into();
        let text = format!("{c:?}");
        assert!(!text.contains("the-app-secret") && !text.contains("the-jwt-key"));
    }

    #[test]
    fn new_configs_get_distinct_strong_jwt_keys() {
        let a = Config::new("http://x", "wx1", "s");
        let b = Config::new("http://x", "wx1", "s");
        assert_ne!(a.jwt_secret, b.jwt_secret);
        assert_eq!(a.jwt_secret.len(), 64);
    }
}
