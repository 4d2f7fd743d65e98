//! The engine: every tenant, code and token behind one lock, plus the configured seed state
//! that resets go back to.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;

use super::code::LoginCode;
use super::id;
use super::phone::PhoneCode;
use super::secret::Secret;
use super::tenant::{Tenant, User, UserView};
use super::token::TokenRecord;
use crate::clock::Clock;
use crate::config::{AppConfig, Config, Rules, UserConfig};
use crate::error::EngineError;

/// A map looked up on every WeChat call (tokens, apps, users) with a quicker hasher than the
/// standard one: its keys are ids the fake minted or was configured with (a caller's lookup
/// with any string is cheap either way), and a token is 136 characters long.
pub(crate) type FastMap<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// The fake's whole WeChat-side state. Cheap to share behind an `Arc`; every method is sync.
///
/// Why a std `Mutex` and not tokio's: every critical section is a few map look-ups with no
/// `.await` inside, so a blocking lock is cheaper and cannot be held across a suspension.
/// One lock for everything keeps cross-map rules (a code names a user, a token names an app)
/// atomic; contention is not a concern at the request rates a fake sees.
pub struct Engine {
    pub(super) rules: Rules,
    pub(super) clock: Clock,
    seed: Option<u64>,
    /// The configured apps with every openid resolved, so a reset restores the same ids.
    seed_apps: Vec<AppConfig>,
    inner: Mutex<Inner>,
}

pub(super) struct Inner {
    pub tenants: FastMap<Tenant>,
    /// Login codes by code, across apps (a code names its app).
    pub codes: HashMap<String, LoginCode>,
    pub phone_codes: HashMap<String, PhoneCode>,
    /// Access tokens by token, across apps.
    pub tokens: FastMap<TokenRecord>,
    pub rng: StdRng,
    /// Sizes at which expired codes / dead tokens are next swept. Doubling after each sweep
    /// keeps sweeping amortised O(1) per insert even when nothing has expired yet.
    pub sweep_codes_at: usize,
    pub sweep_tokens_at: usize,
}

/// The first sweep threshold of codes and tokens.
pub(super) const FIRST_SWEEP: usize = 4096;

/// An app as the control API shows it.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AppView {
    /// The mini-program's appid.
    pub appid: String,
    /// Its appsecret, in clear (the control API is guarded instead: loopback, token or --admin-open).
    pub secret: String,
}

impl std::fmt::Debug for AppView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppView")
            .field("appid", &self.appid)
            .field("secret", &"***")
            .finish()
    }
}

fn new_rng(seed: Option<u64>) -> StdRng {
    match seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_entropy(),
    }
}

impl Engine {
    /// The engine in the configured state: `config.seed_apps()` with their users, nothing else.
    pub fn new(config: &Config, clock: Clock) -> Self {
        let mut rng = new_rng(config.seed);
        let mut seed_apps = config.seed_apps();
        for app in &mut seed_apps {
            for user in &mut app.users {
                if user.openid.is_none() {
                    user.openid = Some(id::openid(&mut rng));
                }
            }
        }
        let inner = Inner {
            tenants: seed_apps
                .iter()
                .map(|app| (app.appid.clone(), Tenant::from_config(app)))
                .collect(),
            codes: HashMap::new(),
            phone_codes: HashMap::new(),
            tokens: FastMap::default(),
            rng,
            sweep_codes_at: FIRST_SWEEP,
            sweep_tokens_at: FIRST_SWEEP,
        };
        Self {
            rules: config.rules.clone(),
            clock,
            seed: config.seed,
            seed_apps,
            inner: Mutex::new(inner),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The clock every expiry reads.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while the lock was held cannot leave a half-applied rule behind (every
        // update is a single map write), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` with the engine's seeded generator (e.g. to forge encrypted data), so a fixed
    /// `seed` makes its output repeatable too.
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        f(&mut self.lock().rng)
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Back to the configured seed state: configured apps and users, no codes, session keys
    /// or tokens, quotas cleared, the generator re-seeded.
    pub fn reset_all(&self) {
        let mut inner = self.lock();
        inner.tenants = self
            .seed_apps
            .iter()
            .map(|app| (app.appid.clone(), Tenant::from_config(app)))
            .collect();
        inner.codes.clear();
        inner.phone_codes.clear();
        inner.tokens.clear();
        inner.rng = new_rng(self.seed);
        inner.sweep_codes_at = FIRST_SWEEP;
        inner.sweep_tokens_at = FIRST_SWEEP;
    }

    /// One tenant back to its configured state (or removed, if it was created at runtime),
    /// with its codes and tokens gone. False if the app is unknown.
    pub fn reset_app(&self, appid: &str) -> bool {
        let mut inner = self.lock();
        if !inner.tenants.contains_key(appid) {
            return false;
        }
        match self.seed_apps.iter().find(|app| app.appid == appid) {
            Some(app) => {
                inner
                    .tenants
                    .insert(appid.to_owned(), Tenant::from_config(app));
            }
            None => {
                inner.tenants.remove(appid);
            }
        }
        inner.codes.retain(|_, code| code.appid != appid);
        inner.phone_codes.retain(|_, code| code.appid != appid);
        inner.tokens.retain(|_, token| &*token.appid != appid);
        true
    }

    /// True when the fake has an app with this appid.
    pub fn has_app(&self, appid: &str) -> bool {
        self.lock().tenants.contains_key(appid)
    }

    /// Every appid, sorted.
    pub fn appids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.lock().tenants.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// The app's secret, if the app exists.
    pub fn app_secret(&self, appid: &str) -> Option<Secret> {
        self.lock().tenants.get(appid).map(|t| t.secret.clone())
    }

    /// Creates an app, or replaces the secret of an existing one (its users, codes and tokens
    /// stay).
    pub fn upsert_app(&self, appid: &str, secret: Secret) -> Result<AppView, EngineError> {
        if appid.trim().is_empty() {
            return Err(EngineError::Invalid {
                field: "appid",
                reason: "must not be empty".into(),
            });
        }
        if secret.expose().is_empty() {
            return Err(EngineError::Invalid {
                field: "secret",
                reason: "must not be empty".into(),
            });
        }
        let mut inner = self.lock();
        let view = AppView {
            appid: appid.to_owned(),
            secret: secret.expose().to_owned(),
        };
        match inner.tenants.get_mut(appid) {
            Some(tenant) => tenant.secret = secret,
            None => {
                inner.tenants.insert(appid.to_owned(), Tenant::new(secret));
            }
        }
        Ok(view)
    }

    /// Creates a user (openid generated in WeChat's format when absent), or replaces the
    /// profile of an existing one (its session_key stays).
    pub fn add_user(&self, appid: &str, config: &UserConfig) -> Result<UserView, EngineError> {
        if let Some(gender) = config.gender {
            if !(0..=2).contains(&gender) {
                return Err(EngineError::Invalid {
                    field: "gender",
                    reason: format!("must be 0, 1 or 2, not {gender}"),
                });
            }
        }
        if config.openid.as_deref() == Some("") {
            return Err(EngineError::Invalid {
                field: "openid",
                reason: "must not be empty".into(),
            });
        }
        let mut guard = self.lock();
        let inner = &mut *guard;
        let tenant = inner
            .tenants
            .get_mut(appid)
            .ok_or_else(|| unknown_app(appid))?;
        let openid = match &config.openid {
            Some(openid) => openid.clone(),
            None => loop {
                let candidate = id::openid(&mut inner.rng);
                if !tenant.users.contains_key(&candidate) {
                    break candidate;
                }
            },
        };
        let mut user = User::new(openid.clone(), config);
        if let Some(existing) = tenant.users.get(&openid) {
            user.session = existing.session.clone();
            user.previous_session_key = existing.previous_session_key.clone();
        }
        let view = user.view(appid);
        tenant.users.insert(openid, user);
        Ok(view)
    }

    /// A user as the control API shows it, with the current session_key.
    pub fn user(&self, appid: &str, openid: &str) -> Result<UserView, EngineError> {
        let inner = self.lock();
        find_user(&inner.tenants, appid, openid).map(|u| u.view(appid))
    }

    /// Every user of an app, sorted by openid.
    pub fn users(&self, appid: &str) -> Result<Vec<UserView>, EngineError> {
        let inner = self.lock();
        let tenant = inner.tenants.get(appid).ok_or_else(|| unknown_app(appid))?;
        let mut users: Vec<UserView> = tenant.users.values().map(|u| u.view(appid)).collect();
        users.sort_by(|a, b| a.openid.cmp(&b.openid));
        Ok(users)
    }
}

pub(super) fn unknown_app(appid: &str) -> EngineError {
    EngineError::UnknownApp {
        appid: appid.to_owned(),
    }
}

/// The user `openid` of the app `appid`, or the error naming which of the two is unknown.
pub(super) fn find_user<'a>(
    tenants: &'a FastMap<Tenant>,
    appid: &str,
    openid: &str,
) -> Result<&'a User, EngineError> {
    tenants
        .get(appid)
        .ok_or_else(|| unknown_app(appid))?
        .users
        .get(openid)
        .ok_or_else(|| unknown_user(appid, openid))
}

/// [`find_user`], for changing the user. Takes the tenants alone so the caller can still borrow
/// the engine's other fields (the RNG) at the same time.
pub(super) fn find_user_mut<'a>(
    tenants: &'a mut FastMap<Tenant>,
    appid: &str,
    openid: &str,
) -> Result<&'a mut User, EngineError> {
    tenants
        .get_mut(appid)
        .ok_or_else(|| unknown_app(appid))?
        .users
        .get_mut(openid)
        .ok_or_else(|| unknown_user(appid, openid))
}

fn unknown_user(appid: &str, openid: &str) -> EngineError {
    EngineError::UnknownUser {
        appid: appid.to_owned(),
        openid: openid.to_owned(),
    }
}
