//! The tokens clients carry: HS256 JWTs naming a server-side session, issued at login and
//! checked on every protected request. Several defect switches live here because this is where
//! real backends get tokens wrong.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::defect::Defect;
use crate::session::Session;

/// No leeway on `exp`: tokens are issued and checked by the same server, so there is no clock
/// skew to forgive (the contract allows at most 5 s).
pub const EXP_LEEWAY_SECS: u64 = 0;

/// The key the defect `weak-secret` signs with: the one in countless tutorials.
const WEAK_SECRET: &str = "secret";

/// What a token says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The userId.
    pub sub: String,
    /// The server-side session (random, so two logins never give the same token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// Only ever set by the defect `session-key-in-jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
}

/// Why a token was refused. Both answer 401; only the defect `crash-on-bad-token` tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT at all (not two or three base64url JSON parts).
    #[error("token is not a well-formed jwt")]
    Malformed,
    /// A JWT, but its signature, algorithm, expiry or claims are not acceptable.
    #[error("token is not acceptable")]
    Rejected,
}

/// The HS256 key tokens are really signed with.
pub fn signing_key(config: &Config) -> &str {
    if config.has(Defect::WeakSecret) {
        WEAK_SECRET
    } else {
        &config.jwt_secret
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Issues the JWT for a fresh session.
pub fn issue(
    config: &Config,
    session: &Session,
    now: u64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = Claims {
        sub: session.user_id.clone(),
        sid: Some(session.sid.clone()),
        iat: Some(now),
        exp: (!config.has(Defect::NoExp)).then(|| now + config.token_ttl_secs),
        session_key: config
            .has(Defect::SessionKeyInJwt)
            .then(|| session.session_key.expose().to_owned()),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(signing_key(config).as_bytes()),
    )
}

/// The defect `predictable-token`: md5 hex of the openid, which anyone can compute.
pub fn predictable_token(openid: &str) -> String {
    hex::encode(Md5::digest(openid.as_bytes()))
}

/// Whether `token` has the shape of a [`predictable_token`].
pub fn looks_opaque(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks a JWT and returns its claims.
pub fn verify(config: &Config, token: &str) -> Result<Claims, TokenError> {
    let (header, payload) = split_unverified(token).ok_or(TokenError::Malformed)?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let skip_signature = config.has(Defect::AcceptTampered)
        || (config.has(Defect::AlgNone) && alg.eq_ignore_ascii_case("none"));
    if skip_signature {
        let claims: Claims =
            serde_json::from_value(Value::Object(payload)).map_err(|_| TokenError::Rejected)?;
        if !config.has(Defect::IgnoreExp) && is_expired(claims.exp, config.clock.now()) {
            return Err(TokenError::Rejected);
        }
        if claims.exp.is_none() && !config.has(Defect::NoExp) {
            return Err(TokenError::Rejected);
        }
        return Ok(claims);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = EXP_LEEWAY_SECS;
    validation.validate_aud = false;
    // exp is checked below on the backend's own (movable) clock, not jsonwebtoken's.
    validation.validate_exp = false;
    validation.required_spec_claims = if config.has(Defect::NoExp) {
        HashSet::new()
    } else {
        HashSet::from(["exp".to_owned()])
    };
    jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(signing_key(config).as_bytes()),
        &validation,
    )
    .map(|data| data.claims)
    .map_err(|_| TokenError::Rejected)
    .and_then(|claims| {
        if !config.has(Defect::IgnoreExp) && is_expired(claims.exp, config.clock.now()) {
            Err(TokenError::Rejected)
        } else {
            Ok(claims)
        }
    })
}

fn is_expired(exp: Option<u64>, now: u64) -> bool {
    // RFC 7519 §4.1.4: the token is expired from `exp` on (not one second later).
    matches!(exp, Some(exp) if now >= exp.saturating_add(EXP_LEEWAY_SECS))
}

/// Header and payload of a compact JWS, without looking at the signature. Two-part tokens
/// (an `alg:none` token without its trailing dot) count as well formed.
fn split_unverified(token: &str) -> Option<(Map<String, Value>, Map<String, Value>)> {
    let parts: Vec<&str> = token.split('.').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    Some((json_object(parts[0])?, json_object(parts[1])?))
}

fn json_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionKey;

    fn config(defects: &[Defect]) -> Config {
        let mut c = Config::new("http://127.0.0.1:9", "wx1", "s");
        c.defects = defects.iter().copied().collect();
        c
    }

    fn session() -> Session {
        Session {
            sid: "sid-1".into(),
            user_id: "u-1".into(),
            openid: "o1".into(),
            unionid: None,
            session_key: SessionKey::new("tiihtNczf5v6AKRyjwEUhQ=="),
        }
    }

    fn sign(claims: &Value, key: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    }

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[test]
    fn an_issued_token_verifies_and_carries_sub_sid_iat_exp_only() {
        let c = config(&[]);
        let now = unix_now();
        let token = issue(&c, &session(), now).unwrap();
        let claims = verify(&c, &token).unwrap();
        assert_eq!(claims.sub, "u-1");
        assert_eq!(claims.sid.as_deref(), Some("sid-1"));
        assert_eq!(claims.exp, Some(now + 7200));
        assert_eq!(claims.session_key, None);
    }

    #[test]
    fn an_expired_token_is_rejected_and_a_valid_one_accepted() {
        let c = config(&[]);
        let now = unix_now();
        let expired = sign(
            &serde_json::json!({"sub":"u","sid":"s","exp": now - 1}),
            &c.jwt_secret,
        );
        let valid = sign(
            &serde_json::json!({"sub":"u","sid":"s","exp": now + 2}),
            &c.jwt_secret,
        );
        assert_eq!(verify(&c, &expired), Err(TokenError::Rejected));
        assert!(verify(&c, &valid).is_ok());
    }

    #[test]
    fn a_token_without_exp_is_rejected() {
        let c = config(&[]);
        let token = sign(&serde_json::json!({"sub":"u","sid":"s"}), &c.jwt_secret);
        assert_eq!(verify(&c, &token), Err(TokenError::Rejected));
    }

    #[test]
    fn alg_none_is_rejected_and_non_jwts_are_malformed() {
        let c = config(&[]);
        let exp = unix_now() + 100;
        let none = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg":"none"})),
            b64(&serde_json::json!({"sub":"u","exp":exp}))
        );
        assert_eq!(verify(&c, &none), Err(TokenError::Rejected));
        assert_eq!(verify(&c, "garbage"), Err(TokenError::Malformed));
        assert_eq!(verify(&c, "a.b.c"), Err(TokenError::Malformed));
        let c = config(&[Defect::AlgNone]);
        assert!(verify(&c, &none).is_ok());
        assert!(verify(&c, none.trim_end_matches('.')).is_ok());
    }

    #[test]
    fn a_token_signed_with_another_key_is_rejected_unless_signatures_are_skipped() {
        let exp = unix_now() + 100;
        let token = sign(&serde_json::json!({"sub":"u","sid":"s","exp":exp}), "other");
        assert_eq!(verify(&config(&[]), &token), Err(TokenError::Rejected));
        assert!(verify(&config(&[Defect::AcceptTampered]), &token).is_ok());
    }

    #[test]
    fn weak_secret_signs_with_the_tutorial_key() {
        let c = config(&[Defect::WeakSecret]);
        assert_eq!(signing_key(&c), "secret");
        let token = issue(&c, &session(), unix_now()).unwrap();
        assert!(jsonwebtoken::decode::<Claims>(
            &token,
            &DecodingKey::from_secret(b"secret"),
            &Validation::new(Algorithm::HS256)
        )
        .is_ok());
    }

    #[test]
    fn the_predictable_token_is_md5_hex_of_the_openid() {
        assert_eq!(predictable_token(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert!(looks_opaque(&predictable_token("o1")));
    }
}
