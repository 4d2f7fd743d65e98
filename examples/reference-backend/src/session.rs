//! Server-side login state: one session per login (`sid` → openid, unionid, session_key) and one
//! stable user record per openid (`openid` → userId, plus the session_keys it has had).
//!
//! The session_key stays here: clients only ever get a JWT that names the session.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use rand::RngCore;

/// A WeChat session_key (base64 of 16 bytes). `Debug` prints `***` so it cannot end up in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey(String);

impl SessionKey {
    pub fn new(text: impl Into<String>) -> Self {
        SessionKey(text.into())
    }

    /// The key as WeChat sent it (base64 text): what AES, rawData signatures and the
    /// checksession HMAC are computed from.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(***)")
    }
}

/// One successful login.
#[derive(Clone, Debug)]
pub struct Session {
    pub sid: String,
    pub user_id: String,
    pub openid: String,
    pub unionid: Option<String>,
    pub session_key: SessionKey,
}

#[derive(Debug)]
struct User {
    user_id: String,
    /// Every session_key this openid has had, oldest first (only the defect
    /// `fallback-old-session-key` ever looks past the current session's key).
    session_keys: Vec<SessionKey>,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<String, Session>,
    users: HashMap<String, User>,
    /// userId → the sid of that user's latest login.
    latest_by_user: HashMap<String, String>,
    /// Opaque token → sid (only the defect `predictable-token` issues opaque tokens).
    opaque: HashMap<String, String>,
    /// The sid of the latest login of anyone (only the defect `shared-identity` reads it).
    last_login: Option<String>,
}

/// What a login brings back from WeChat.
#[derive(Clone, Debug)]
pub struct WeChatIdentity {
    pub openid: String,
    pub unionid: Option<String>,
    pub session_key: SessionKey,
}

/// All login state. A std mutex: every operation is a few map look-ups and never awaits, so a
/// tokio mutex would only add cost.
#[derive(Debug, Default)]
pub struct SessionStore {
    inner: Mutex<Inner>,
}

impl SessionStore {
    /// Records a login and returns its new session. The user record for the openid is reused
    /// (same userId every time) unless `new_user` asks for a fresh one.
    pub fn login(&self, identity: WeChatIdentity, new_user: bool) -> Session {
        let mut inner = self.lock();
        let user = inner
            .users
            .entry(identity.openid.clone())
            .or_insert_with(|| User {
                user_id: random_user_id(),
                session_keys: Vec::new(),
            });
        if new_user {
            user.user_id = random_user_id();
        }
        if user.session_keys.last() != Some(&identity.session_key) {
            user.session_keys.push(identity.session_key.clone());
        }
        let session = Session {
            sid: random_hex(16),
            user_id: user.user_id.clone(),
            openid: identity.openid,
            unionid: identity.unionid,
            session_key: identity.session_key,
        };
        inner
            .latest_by_user
            .insert(session.user_id.clone(), session.sid.clone());
        inner.last_login = Some(session.sid.clone());
        inner.sessions.insert(session.sid.clone(), session.clone());
        session
    }

    pub fn session(&self, sid: &str) -> Option<Session> {
        self.lock().sessions.get(sid).cloned()
    }

    /// The latest session of a user, for a (validly signed) token that names no session.
    pub fn latest_session_of(&self, user_id: &str) -> Option<Session> {
        let inner = self.lock();
        let sid = inner.latest_by_user.get(user_id)?;
        inner.sessions.get(sid).cloned()
    }

    /// Every session_key the openid has had, oldest first.
    pub fn session_keys_of(&self, openid: &str) -> Vec<SessionKey> {
        self.lock()
            .users
            .get(openid)
            .map(|u| u.session_keys.clone())
            .unwrap_or_default()
    }

    /// The latest session of the user with this openid (only the defect `openid-as-password`
    /// looks users up this way).
    pub fn latest_session_of_openid(&self, openid: &str) -> Option<Session> {
        let inner = self.lock();
        let user = inner.users.get(openid)?;
        let sid = inner.latest_by_user.get(&user.user_id)?;
        inner.sessions.get(sid).cloned()
    }

    pub fn bind_opaque_token(&self, token: &str, sid: &str) {
        self.lock().opaque.insert(token.to_owned(), sid.to_owned());
    }

    pub fn session_for_opaque_token(&self, token: &str) -> Option<Session> {
        let inner = self.lock();
        let sid = inner.opaque.get(token)?;
        inner.sessions.get(sid).cloned()
    }

    pub fn last_login(&self) -> Option<Session> {
        let inner = self.lock();
        let sid = inner.last_login.as_ref()?;
        inner.sessions.get(sid).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves the maps consistent (every update is a
        // single insert), so a poisoned lock is safe to keep using.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn random_user_id() -> String {
    format!("u-{}", random_hex(8))
}

/// `len` random bytes as lowercase hex.
pub fn random_hex(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(openid: &str, key: &str) -> WeChatIdentity {
        WeChatIdentity {
            openid: openid.into(),
            unionid: None,
            session_key: SessionKey::new(key),
        }
    }

    #[test]
    fn the_same_openid_keeps_its_user_id_across_logins() {
        let store = SessionStore::default();
        let a = store.login(identity("o1", "k1"), false);
        let b = store.login(identity("o1", "k2"), false);
        assert_eq!(a.user_id, b.user_id);
        assert_ne!(a.sid, b.sid);
        assert_eq!(store.session_keys_of("o1").len(), 2);
        assert_eq!(store.latest_session_of(&a.user_id).unwrap().sid, b.sid);
    }

    #[test]
    fn different_openids_get_different_user_ids() {
        let store = SessionStore::default();
        let a = store.login(identity("o1", "k1"), false);
        let b = store.login(identity("o2", "k1"), false);
        assert_ne!(a.user_id, b.user_id);
        assert_eq!(store.last_login().unwrap().sid, b.sid);
    }

    #[test]
    fn session_key_debug_is_redacted() {
        assert_eq!(format!("{:?}", SessionKey::new("abc")), "SessionKey(***)");
    }
}
