//! Who is calling: the `Authorization: Bearer <JWT>` check in front of every protected route.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::defect::Defect;
use crate::error::ApiError;
use crate::session::{Session, SessionKey};
use crate::state::AppState;
use crate::token::{self, TokenError};

/// An authenticated caller: the userId its token names and the server-side session it belongs to.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub session: Session,
}

impl Caller {
    /// What the defect `optional-auth` serves a request without a token as.
    fn anonymous() -> Self {
        Caller {
            user_id: "anonymous".to_owned(),
            session: Session {
                sid: String::new(),
                user_id: "anonymous".to_owned(),
                openid: String::new(),
                unionid: None,
                session_key: SessionKey::new(""),
            },
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.session.sid.is_empty()
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.has(Defect::OpenidAsPassword) {
            if let Some(caller) = openid_login(parts, state) {
                return Ok(caller);
            }
        }
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            if state.has(Defect::TokenInQuery) {
                if let Some(token) = query_token(parts) {
                    return authenticate(state, &token);
                }
            }
            if state.has(Defect::OptionalAuth) {
                return Ok(Caller::anonymous());
            }
            return Err(ApiError::Unauthorized);
        };
        let token = header
            .to_str()
            .ok()
            .and_then(bearer_token)
            .ok_or(ApiError::Unauthorized)?;
        authenticate(state, token)
    }
}

/// The bug of `openid-as-password`: `Basic openid:openid` (or an empty password), or the
/// openid as a bearer token, names a user.
fn openid_login(parts: &Parts, state: &AppState) -> Option<Caller> {
    use base64::Engine as _;
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let openid = if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        (password.is_empty() || password == user).then(|| user.to_owned())?
    } else {
        rest.trim().to_owned()
    };
    let session = state.sessions.latest_session_of_openid(&openid)?;
    Some(Caller {
        user_id: session.user_id.clone(),
        session,
    })
}

/// The bug of `token-in-query`: `?token=` or `?access_token=`.
fn query_token(parts: &Parts) -> Option<String> {
    let query = parts.uri.query()?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (matches!(k, "token" | "access_token") && !v.is_empty()).then(|| v.to_owned())
    })
}

/// The token of a `Bearer` credential (the scheme is case-insensitive, RFC 7235).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn authenticate(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let opaque = state.has(Defect::PredictableToken) || state.has(Defect::OpaqueTokenNoExpiry);
    if opaque && token::looks_opaque(token) {
        let session = state
            .sessions
            .session_for_opaque_token(token)
            .ok_or(ApiError::Unauthorized)?;
        return Ok(Caller {
            user_id: session.user_id.clone(),
            session,
        });
    }
    let claims = match token::verify(&state.config, token) {
        Ok(claims) => claims,
        Err(TokenError::Malformed) if state.has(Defect::CrashOnBadToken) => {
            return Err(ApiError::Internal)
        }
        Err(_) => return Err(ApiError::Unauthorized),
    };
    // A validly signed token without a sid (minted by someone holding the key) means the
    // user's latest session.
    let session = match &claims.sid {
        Some(sid) => state.sessions.session(sid),
        None => state.sessions.latest_session_of(&claims.sub),
    }
    .ok_or(ApiError::Unauthorized)?;
    // The identity is the token's `sub`: the signature is what vouches for it.
    Ok(Caller {
        user_id: claims.sub,
        session,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_non_empty_bearer_credential_yields_a_token() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("abc"), None);
    }
}
