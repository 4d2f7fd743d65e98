//! The fake's configuration: plain serde data (TOML on disk), validated once by
//! [`Config::validate`], then turned into engine state. Handlers never read files or env.
//!
//! Every field has a default equal to WeChat's documented behaviour; open points of
//! docs/wechat-api.md (section 9) are switches here.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::admin::guard::AdminConfig;
use crate::connection::ConnectionConfig;
use crate::engine::{persona, Secret};
use crate::error::ConfigError;
use crate::journal::{JournalLimits, DEFAULT_BODY_LIMIT, DEFAULT_MAX_BYTES};
use crate::wire::WireConfig;

/// The whole configuration of one fake.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Seed of the generator for ids, codes, keys and tokens; `None`: random each run.
    pub seed: Option<u64>,
    /// How many requests the journal keeps (oldest dropped first).
    pub journal_capacity: Option<usize>,
    /// How many bytes of each request and response body a journal entry keeps (default 8 KiB);
    /// a longer body is kept truncated, with a marker and its full size.
    pub journal_body_limit: Option<usize>,
    /// How many bytes the whole journal may hold (default 8 MiB; oldest dropped first).
    pub journal_max_bytes: Option<usize>,
    /// WeChat's behaviour rules (lifetimes, quotas, switches).
    pub rules: Rules,
    /// How answers are written (content types, escaping, rid).
    pub wire: WireConfig,
    /// Browser origins that may call the control API (CORS): exact `scheme://host[:port]`
    /// origins, and `"loopback"` for every localhost / 127.0.0.1 / `[::1]` origin. Unset: loopback
    /// origins only. The console, served by the fake itself, is always allowed.
    pub cors_origins: Option<Vec<String>>,
    /// Who may use the control API, and how its journal shows credentials.
    pub admin: AdminConfig,
    /// Timeouts and the limit of client connections.
    pub connections: ConnectionConfig,
    /// Apps (tenants) and their users. Empty: the built-in demo app and personas. An app that
    /// lists no users gets the personas (alice, bob, mallory).
    pub apps: Vec<AppConfig>,
}

/// Default journal size.
pub const DEFAULT_JOURNAL_CAPACITY: usize = 10_000;

/// One mini-program (a tenant of the fake).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The mini-program's appid.
    pub appid: String,
    /// Its appsecret, which `/sns/jscode2session` and `/cgi-bin/token` must be given.
    pub secret: Secret,
    /// None listed: the personas alice, bob and mallory.
    #[serde(default)]
    pub users: Vec<UserConfig>,
}

impl AppConfig {
    /// True when the app lists no users and therefore starts with the personas.
    pub fn has_personas(&self) -> bool {
        self.users.is_empty()
    }
}

/// One WeChat user of an app. Profile fields use WeChat's own (camelCase) names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct UserConfig {
    /// Generated in WeChat's format (28 chars, starting with `o`) when absent.
    pub openid: Option<String>,
    /// Only users of apps bound to an open-platform account have one.
    pub unionid: Option<String>,
    /// Profile nickname.
    pub nick_name: Option<String>,
    /// Profile picture URL.
    pub avatar_url: Option<String>,
    /// 0 unknown, 1 male, 2 female.
    pub gender: Option<i64>,
    /// Profile language, e.g. `zh_CN`.
    pub language: Option<String>,
    /// Profile city.
    pub city: Option<String>,
    /// Profile province.
    pub province: Option<String>,
    /// Profile country.
    pub country: Option<String>,
    /// Without the country prefix (`purePhoneNumber`).
    pub phone_number: Option<String>,
    /// Defaults to `86`.
    pub country_code: Option<String>,
    /// A high-risk user: WeChat refuses their codes with 40226.
    pub blocked: bool,
}

/// The rules the fake enforces, each defaulting to the documented behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Lifetime of a login code (`wx.login`), seconds.
    pub code_ttl_secs: i64,
    /// A failed exchange (wrong secret, blocked user, rate limit, other appid) uses the code up.
    pub consume_code_on_failure: bool,
    /// `grant_type` on jscode2session (UNCONFIRMED upstream).
    pub jscode2session_grant_type: GrantTypePolicy,
    /// Add the historical `"expires_in":7200` to a code2Session success.
    pub code2session_expires_in: bool,
    /// jscode2session calls one user may make per minute (45011 above).
    pub code2session_user_per_minute: u64,
    /// jscode2session calls per app per day (45009 above); none by default (undocumented).
    pub code2session_daily_quota: Option<u64>,
    /// When a login rotates the user's session_key.
    pub session_key_rotation: SessionKeyRotation,
    /// Lifetime of a session_key, seconds (undisclosed by WeChat; an old answer said 3 days).
    pub session_key_ttl_secs: i64,
    /// Lifetime of an access token, seconds.
    pub access_token_ttl_secs: i64,
    /// How long a superseded access token keeps working, seconds.
    pub access_token_grace_secs: i64,
    /// `/cgi-bin/token` calls per app per day (45009 above).
    pub token_daily_quota: u64,
    /// `/cgi-bin/stable_token` calls per app per minute (45011 above).
    pub stable_token_per_minute: u64,
    /// `/cgi-bin/stable_token` calls per app per day (45009 above).
    pub stable_token_daily_quota: u64,
    /// `force_refresh=true` refreshes per app per day (45009 above).
    pub force_refresh_daily_limit: u64,
    /// A `force_refresh` closer than this to the previous one returns the current token.
    pub force_refresh_min_interval_secs: i64,
    /// Grace of the old stable token after a forced refresh (UNCONFIRMED; default none).
    pub force_refresh_grace_secs: i64,
    /// stable_token reports the remaining lifetime on repeat calls (else always the full TTL).
    pub stable_token_remaining_expires_in: bool,
    /// A new token from either endpoint supersedes the other endpoint's token (documented: no).
    pub tokens_invalidate_each_other: bool,
    /// Errcode for an access_token that is not even shaped like one: 40014 (doc) or 40001.
    pub malformed_token_errcode: i64,
    /// resetusersessionkey calls per app per minute (45011 above).
    pub reset_session_key_per_minute: u64,
    /// Lifetime of a phone code (getPhoneNumber button), seconds.
    pub phone_code_ttl_secs: i64,
    /// Write `countryCode` as the number 86 (doc example) instead of the string "86" (wire).
    pub country_code_as_number: bool,
    /// A persona name or openid that a js_code the fake never issued logs in (once: the code is
    /// then used up like any other). For a mini-program running in WeChat's devtools, whose
    /// `wx.login` codes come from the real WeChat. Unset (the default): unknown codes answer
    /// 40029, as WeChat does.
    pub unknown_code_user: Option<String>,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            code_ttl_secs: 300,
            consume_code_on_failure: true,
            jscode2session_grant_type: GrantTypePolicy::AcceptMissing,
            code2session_expires_in: false,
            code2session_user_per_minute: 100,
            code2session_daily_quota: None,
            session_key_rotation: SessionKeyRotation::EveryLogin,
            session_key_ttl_secs: 3 * 24 * 3600,
            access_token_ttl_secs: 7200,
            access_token_grace_secs: 300,
            token_daily_quota: 2000,
            stable_token_per_minute: 10_000,
            stable_token_daily_quota: 500_000,
            force_refresh_daily_limit: 20,
            force_refresh_min_interval_secs: 30,
            force_refresh_grace_secs: 0,
            stable_token_remaining_expires_in: true,
            tokens_invalidate_each_other: false,
            malformed_token_errcode: crate::errcode::INVALID_ACCESS_TOKEN,
            reset_session_key_per_minute: 60_000,
            phone_code_ttl_secs: 300,
            country_code_as_number: false,
            unknown_code_user: None,
        }
    }
}

/// How jscode2session treats `grant_type` (WeChat's behaviour is UNCONFIRMED).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantTypePolicy {
    /// Missing is fine; present must be `authorization_code` (else 40002).
    AcceptMissing,
    /// Must be `authorization_code` (missing or other: 40002).
    Require,
    /// Never looked at.
    Ignore,
}

/// When a login (`wx.login`, i.e. `POST /__admin/login`) rotates the user's session_key.
/// In TOML: `"every-login"`, `"never"` (only when there is none or it expired), or a number of
/// seconds (rotate when the current key is at least that old).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRotation", into = "RawRotation")]
pub enum SessionKeyRotation {
    /// Every login gives a new session_key.
    EveryLogin,
    /// Keep the key until it expires (a new one only when there is none or it expired).
    Never,
    /// Rotate when the current key is at least this many seconds old.
    MinPeriodSecs(u64),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum RawRotation {
    Secs(u64),
    Name(String),
}

impl TryFrom<RawRotation> for SessionKeyRotation {
    type Error = String;

    fn try_from(raw: RawRotation) -> Result<Self, Self::Error> {
        match raw {
            RawRotation::Secs(secs) => Ok(Self::MinPeriodSecs(secs)),
            RawRotation::Name(name) => match name.as_str() {
                "every-login" => Ok(Self::EveryLogin),
                "never" => Ok(Self::Never),
                other => Err(format!(
                    "session_key_rotation must be \"every-login\", \"never\" or a number of seconds, not {other:?}"
                )),
            },
        }
    }
}

impl From<SessionKeyRotation> for RawRotation {
    fn from(rotation: SessionKeyRotation) -> Self {
        match rotation {
            SessionKeyRotation::EveryLogin => RawRotation::Name("every-login".into()),
            SessionKeyRotation::Never => RawRotation::Name("never".into()),
            SessionKeyRotation::MinPeriodSecs(secs) => RawRotation::Secs(secs),
        }
    }
}

impl Config {
    /// Reads, parses and validates a TOML config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|source| {
            let line = source.span().map_or(0, |span| {
                let before = &text.as_bytes()[..span.start.min(text.len())];
                before.iter().filter(|b| **b == b'\n').count() + 1
            });
            ConfigError::Parse {
                path: path.to_owned(),
                line,
                source: Box::new(source),
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Parses and validates TOML text (for tests and embedding).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text, Path::new("<inline>"))
    }

    /// The built-in demo: one app and the personas (alice, bob, mallory).
    pub fn demo() -> Self {
        Self {
            apps: vec![persona::demo_app()],
            ..Self::default()
        }
    }

    /// The apps the fake starts with: the configured ones (the personas in each that lists no
    /// users), or the demo app when none are.
    pub fn seed_apps(&self) -> Vec<AppConfig> {
        if self.apps.is_empty() {
            return vec![persona::demo_app()];
        }
        self.apps
            .iter()
            .map(|app| {
                let mut app = app.clone();
                if app.has_personas() {
                    app.users = persona::users();
                }
                app
            })
            .collect()
    }

    /// The journal capacity, defaulted.
    pub fn journal_capacity(&self) -> usize {
        self.journal_capacity.unwrap_or(DEFAULT_JOURNAL_CAPACITY)
    }

    /// The journal's bounds, defaulted.
    pub fn journal_limits(&self) -> JournalLimits {
        JournalLimits {
            capacity: self.journal_capacity(),
            body_limit: self.journal_body_limit.unwrap_or(DEFAULT_BODY_LIMIT),
            max_bytes: self.journal_max_bytes.unwrap_or(DEFAULT_MAX_BYTES),
        }
    }

    /// Checks everything that serde cannot: uniqueness, ranges, known errcodes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        if self.journal_capacity == Some(0) {
            return invalid("journal_capacity must be at least 1".into());
        }
        for entry in self.cors_origins.iter().flatten() {
            crate::admin::cors::check_entry(entry)
                .map_err(|reason| ConfigError::Invalid(format!("cors_origins: {reason}")))?;
        }
        let journal = self.journal_limits();
        if journal.max_bytes < 64 * 1024 {
            return invalid(format!(
                "journal_max_bytes must be at least 65536, not {}",
                journal.max_bytes
            ));
        }
        if journal.body_limit > journal.max_bytes / 4 {
            return invalid(format!(
                "journal_body_limit ({}) must be at most a quarter of journal_max_bytes ({})",
                journal.body_limit, journal.max_bytes
            ));
        }
        self.admin.validate().map_err(ConfigError::Invalid)?;
        self.connections.validate().map_err(ConfigError::Invalid)?;
        let r = &self.rules;
        for (name, value) in [
            ("code_ttl_secs", r.code_ttl_secs),
            ("session_key_ttl_secs", r.session_key_ttl_secs),
            ("access_token_ttl_secs", r.access_token_ttl_secs),
            ("phone_code_ttl_secs", r.phone_code_ttl_secs),
        ] {
            if value <= 0 {
                return invalid(format!("rules.{name} must be positive, not {value}"));
            }
        }
        for (name, value) in [
            ("access_token_grace_secs", r.access_token_grace_secs),
            (
                "force_refresh_min_interval_secs",
                r.force_refresh_min_interval_secs,
            ),
            ("force_refresh_grace_secs", r.force_refresh_grace_secs),
        ] {
            if value < 0 {
                return invalid(format!("rules.{name} must not be negative, not {value}"));
            }
        }
        if ![
            crate::errcode::INVALID_CREDENTIAL,
            crate::errcode::INVALID_ACCESS_TOKEN,
        ]
        .contains(&r.malformed_token_errcode)
        {
            return invalid(format!(
                "rules.malformed_token_errcode must be 40001 or 40014, not {}",
                r.malformed_token_errcode
            ));
        }
        let mut appids = HashSet::new();
        for app in &self.apps {
            if app.appid.trim().is_empty() {
                return invalid("an app has an empty appid".into());
            }
            if app.secret.expose().is_empty() {
                return invalid(format!("app {} has an empty secret", app.appid));
            }
            if !appids.insert(app.appid.as_str()) {
                return invalid(format!("app {} is configured twice", app.appid));
            }
            let mut openids = HashSet::new();
            for user in &app.users {
                if let Some(openid) = &user.openid {
                    if openid.is_empty() {
                        return invalid(format!(
                            "app {} has a user with an empty openid",
                            app.appid
                        ));
                    }
                    if !openids.insert(openid.as_str()) {
                        return invalid(format!(
                            "user {openid} is configured twice in app {}",
                            app.appid
                        ));
                    }
                }
                if let Some(gender) = user.gender {
                    if !(0..=2).contains(&gender) {
                        return invalid(format!(
                            "user gender must be 0, 1 or 2, not {gender} (app {})",
                            app.appid
                        ));
                    }
                }
            }
        }
        self.validate_unknown_code_user()
    }

    /// `rules.unknown_code_user` must name someone: a persona of an app that has them, or the
    /// openid of a configured user. Naming nobody would make every adopted code answer 40029.
    fn validate_unknown_code_user(&self) -> Result<(), ConfigError> {
        let Some(who) = &self.rules.unknown_code_user else {
            return Ok(());
        };
        let openid = persona::openid_of(who);
        let apps = self.seed_apps();
        let found = apps.iter().any(|app| {
            app.users
                .iter()
                .any(|user| user.openid.as_deref() == Some(openid))
        });
        if found {
            return Ok(());
        }
        let personas = apps.iter().any(|app| {
            app.users
                .iter()
                .any(|user| user.openid.as_deref().and_then(persona::name_of).is_some())
        });
        let known = if personas {
            "a persona (alice, bob, mallory) or the openid of a configured user"
        } else {
            "the openid of a configured user (no app here has the personas: they only populate apps that list no users)"
        };
        Err(ConfigError::Invalid(format!(
            "rules.unknown_code_user = {who:?} names nobody: it must be {known}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_means_the_documented_defaults_and_the_demo_app() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config.rules, Rules::default());
        assert_eq!(config.seed_apps().len(), 1);
        assert_eq!(config.journal_capacity(), 10_000);
    }

    #[test]
    fn rotation_policy_reads_names_and_seconds() {
        let c = Config::from_toml("[rules]\nsession_key_rotation = 600").unwrap();
        assert_eq!(
            c.rules.session_key_rotation,
            SessionKeyRotation::MinPeriodSecs(600)
        );
        let c = Config::from_toml("[rules]\nsession_key_rotation = \"never\"").unwrap();
        assert_eq!(c.rules.session_key_rotation, SessionKeyRotation::Never);
        assert!(Config::from_toml("[rules]\nsession_key_rotation = \"often\"").is_err());
    }

    #[test]
    fn an_app_without_users_gets_the_personas_and_one_with_users_keeps_its_own() {
        let config = Config::from_toml(
            "[[apps]]\nappid='wxown'\nsecret='s'\n\
             [[apps]]\nappid='wxusers'\nsecret='t'\n[[apps.users]]\nopenid='oZed'\n",
        )
        .unwrap();
        let apps = config.seed_apps();
        let openids = |i: usize| -> Vec<String> {
            apps[i]
                .users
                .iter()
                .map(|u| u.openid.clone().unwrap())
                .collect()
        };
        assert_eq!(
            openids(0),
            [
                persona::ALICE_OPENID,
                persona::BOB_OPENID,
                persona::MALLORY_OPENID
            ]
        );
        assert_eq!(openids(1), ["oZed"]);
    }

    #[test]
    fn unknown_code_user_naming_nobody_is_an_error_that_names_the_key() {
        let err = Config::from_toml("[rules]\nunknown_code_user = 'zed'").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("rules.unknown_code_user"), "{text}");
        assert!(text.contains("\"zed\""), "{text}");
        // A persona of the demo app, of an app without users, or a configured openid: fine.
        Config::from_toml("[rules]\nunknown_code_user = 'alice'").unwrap();
        Config::from_toml("[rules]\nunknown_code_user = 'Bob'\n[[apps]]\nappid='wx1'\nsecret='s'")
            .unwrap();
        let own = "[[apps]]\nappid='wx1'\nsecret='s'\n[[apps.users]]\nopenid='oZed'\n";
        Config::from_toml(&format!("[rules]\nunknown_code_user = 'oZed'\n{own}")).unwrap();
        // An app with its own users has no alice.
        let err =
            Config::from_toml(&format!("[rules]\nunknown_code_user = 'alice'\n{own}")).unwrap_err();
        assert!(
            err.to_string().contains("no app here has the personas"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_and_duplicate_apps_are_rejected() {
        assert!(Config::from_toml("colour = 1").is_err());
        let twice = "[[apps]]\nappid='wx1'\nsecret='s'\n[[apps]]\nappid='wx1'\nsecret='t'\n";
        assert!(matches!(
            Config::from_toml(twice),
            Err(ConfigError::Invalid(_))
        ));
    }
}
