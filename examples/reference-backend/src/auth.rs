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
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
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

/// The token of a `Bearer` credential (the scheme is case-insensitive, RFC 7235).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn authenticate(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    if state.has(Defect::PredictableToken) && token::looks_opaque(token) {
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
