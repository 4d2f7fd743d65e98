//! A tenant (one mini-program) and its users, as the engine keeps them.

use rand::Rng;
use serde::Serialize;

use super::id;
use super::quota::Window;
use super::registry::FastMap;
use super::secret::Secret;
use crate::config::{AppConfig, UserConfig};

/// The anonymised profile WeChat has returned since its late-2021 privacy change.
pub const ANONYMOUS_NICKNAME: &str = "微信用户";
/// The grey default avatar URL of an anonymised profile.
pub const DEFAULT_AVATAR: &str = "https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg/132";

/// One app: its secret, users, current access tokens and quota counters.
#[derive(Debug)]
pub struct Tenant {
    /// The appsecret jscode2session and cgi-bin/token check.
    pub secret: Secret,
    /// The app's users by openid.
    pub users: FastMap<User>,
    /// The latest `/cgi-bin/token` token.
    pub current_token: Option<String>,
    /// The latest `/cgi-bin/stable_token` token.
    pub stable_token: Option<String>,
    /// When the stable token was last force-refreshed (Unix seconds).
    pub last_force_refresh: Option<i64>,
    /// `/cgi-bin/token` calls today (the 2000-a-day quota).
    pub token_daily: Window,
    /// `/cgi-bin/stable_token` calls this minute.
    pub stable_minute: Window,
    /// `/cgi-bin/stable_token` calls today.
    pub stable_daily: Window,
    /// `force_refresh` stable-token calls today (20 a day).
    pub force_refresh_daily: Window,
    /// jscode2session calls today (when a daily quota is configured).
    pub code2session_daily: Window,
    /// resetusersessionkey calls this minute.
    pub reset_minute: Window,
}

impl Tenant {
    /// An app with this secret and no users, tokens or calls yet.
    pub fn new(secret: Secret) -> Self {
        Self {
            secret,
            users: FastMap::default(),
            current_token: None,
            stable_token: None,
            last_force_refresh: None,
            token_daily: Window::default(),
            stable_minute: Window::default(),
            stable_daily: Window::default(),
            force_refresh_daily: Window::default(),
            code2session_daily: Window::default(),
            reset_minute: Window::default(),
        }
    }

    /// A tenant in its configured state (users without session keys, no codes or tokens).
    /// Every configured user must already have an openid.
    pub fn from_config(app: &AppConfig) -> Self {
        let mut tenant = Self::new(app.secret.clone());
        for user in &app.users {
            let openid = user.openid.clone().unwrap_or_default();
            tenant.users.insert(openid.clone(), User::new(openid, user));
        }
        tenant
    }
}

/// A user's current session_key.
#[derive(Clone, Debug)]
pub struct SessionKey {
    /// The key, base64 of 16 random bytes.
    pub key: Secret,
    /// Its login-state signature (HMAC-SHA256 of "" keyed with the key text), computed once:
    /// checksession compares against it on every call.
    pub signature: String,
    /// When the key stops working (Unix seconds).
    pub expires_at: i64,
    /// When the key was issued (Unix seconds): the rotation policy reads its age.
    pub rotated_at: i64,
}

/// One WeChat user of one app.
#[derive(Clone, Debug)]
pub struct User {
    /// The user's openid in this app (28 characters, starting with `o`).
    pub openid: String,
    /// The unionid, for an app bound to an open-platform account.
    pub unionid: Option<String>,
    /// Profile: the nickname (`微信用户` when anonymised).
    pub nick_name: String,
    /// Profile: the avatar URL.
    pub avatar_url: String,
    /// Profile: 0 unknown, 1 male, 2 female.
    pub gender: i64,
    /// Profile: the language, e.g. `zh_CN`.
    pub language: String,
    /// Profile: the city.
    pub city: String,
    /// Profile: the province.
    pub province: String,
    /// Profile: the country.
    pub country: String,
    /// The bound phone number, with its country prefix for non-mainland numbers.
    pub phone_number: Option<String>,
    /// The phone number's country code, e.g. `86`.
    pub country_code: String,
    /// A high-risk user: WeChat refuses her codes with 40226.
    pub blocked: bool,
    /// The current session_key, once the user has logged in.
    pub session: Option<SessionKey>,
    /// The key before the last rotation (the forge's `stale-session-key` encrypts under it).
    pub previous_session_key: Option<Secret>,
    /// The user's jscode2session calls this minute (100 a minute, then 45011).
    pub minute: Window,
}

impl User {
    /// A user with this openid and the config's profile, phone and flags; no session_key yet.
    pub fn new(openid: String, config: &UserConfig) -> Self {
        Self {
            openid,
            unionid: config.unionid.clone(),
            nick_name: config
                .nick_name
                .clone()
                .unwrap_or_else(|| ANONYMOUS_NICKNAME.to_owned()),
            avatar_url: config
                .avatar_url
                .clone()
                .unwrap_or_else(|| DEFAULT_AVATAR.to_owned()),
            gender: config.gender.unwrap_or(0),
            language: config.language.clone().unwrap_or_default(),
            city: config.city.clone().unwrap_or_default(),
            province: config.province.clone().unwrap_or_default(),
            country: config.country.clone().unwrap_or_default(),
            phone_number: config.phone_number.clone(),
            country_code: config.country_code.clone().unwrap_or_else(|| "86".into()),
            blocked: config.blocked,
            session: None,
            previous_session_key: None,
            minute: Window::default(),
        }
    }

    /// The current session_key if it has not expired at `now`.
    pub fn live_session_key(&self, now: i64) -> Option<&SessionKey> {
        self.session.as_ref().filter(|s| now < s.expires_at)
    }

    /// Replaces the session_key with a fresh one; the old one becomes `previous_session_key`.
    pub fn rotate_session_key<R: Rng + ?Sized>(&mut self, rng: &mut R, now: i64, ttl: i64) {
        self.rotate_keeping_expiry(rng, now, now + ttl);
    }

    /// Replaces the session_key; the new one expires at `expires_at`.
    pub fn rotate_keeping_expiry<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: i64,
        expires_at: i64,
    ) {
        if let Some(old) = self.session.take() {
            self.previous_session_key = Some(old.key);
        }
        let key = id::session_key(rng);
        self.session = Some(SessionKey {
            signature: wxmock_fixtures::signature::login_state_signature(&key, ""),
            key: Secret::new(key),
            expires_at,
            rotated_at: now,
        });
    }

    /// The user as the control API and the Rust API show it.
    pub fn view(&self, appid: &str) -> UserView {
        UserView {
            appid: appid.to_owned(),
            openid: self.openid.clone(),
            unionid: self.unionid.clone(),
            nick_name: self.nick_name.clone(),
            avatar_url: self.avatar_url.clone(),
            gender: self.gender,
            language: self.language.clone(),
            city: self.city.clone(),
            province: self.province.clone(),
            country: self.country.clone(),
            phone_number: self.phone_number.clone(),
            country_code: self.country_code.clone(),
            blocked: self.blocked,
            session_key: self.session.as_ref().map(|s| s.key.expose().to_owned()),
            session_key_expires_at: self.session.as_ref().map(|s| s.expires_at),
            previous_session_key: self
                .previous_session_key
                .as_ref()
                .map(|k| k.expose().to_owned()),
        }
    }
}

/// A user as the control API and the Rust API show it (session keys in clear: this is the
/// test-facing side; never log it).
#[derive(Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserView {
    /// The app the user belongs to.
    pub appid: String,
    /// The user's openid in this app (28 characters, starting with `o`).
    pub openid: String,
    /// The unionid, for an app bound to an open-platform account.
    pub unionid: Option<String>,
    /// Profile: the nickname (`微信用户` when anonymised).
    #[serde(rename = "nickName")]
    pub nick_name: String,
    /// Profile: the avatar URL.
    #[serde(rename = "avatarUrl")]
    pub avatar_url: String,
    /// Profile: 0 unknown, 1 male, 2 female.
    pub gender: i64,
    /// Profile: the language, e.g. `zh_CN`.
    pub language: String,
    /// Profile: the city.
    pub city: String,
    /// Profile: the province.
    pub province: String,
    /// Profile: the country.
    pub country: String,
    /// The bound phone number, with its country prefix for non-mainland numbers.
    #[serde(rename = "phoneNumber")]
    pub phone_number: Option<String>,
    /// The phone number's country code, e.g. `86`.
    #[serde(rename = "countryCode")]
    pub country_code: String,
    /// A high-risk user: WeChat refuses her codes with 40226.
    pub blocked: bool,
    /// The current session_key in clear (absent before the first login).
    pub session_key: Option<String>,
    /// When the current session_key expires (Unix seconds).
    pub session_key_expires_at: Option<i64>,
    /// The key before the last rotation, in clear.
    pub previous_session_key: Option<String>,
}

impl std::fmt::Debug for UserView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserView")
            .field("appid", &self.appid)
            .field("openid", &self.openid)
            .field("unionid", &self.unionid)
            .field("nick_name", &self.nick_name)
            .field("blocked", &self.blocked)
            .field("session_key", &self.session_key.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}
