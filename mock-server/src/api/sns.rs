//! `GET /sns/jscode2session` (code2Session): parameters in WeChat's order (41002, 41004,
//! 41008, then the grant_type policy), then the engine's credential and code checks.

use axum::response::Response;
use serde_json::{Map, Value};

use super::request::QueryParams;
use crate::config::GrantTypePolicy;
use crate::engine::{persona, Code2Session};
use crate::errcode::{WxError, APPID_MISSING, APPSECRET_MISSING, INVALID_GRANT_TYPE, MISSING_CODE};
use crate::state::AppState;
use crate::wire::Family;

const GRANT_TYPE: &str = "authorization_code";

/// `js_code=wxmock-as-<persona or openid>` logs that user in with a fresh code, as if the
/// mini-program had called `wx.login` as them: for frontend developers, no admin call needed.
pub const LOGIN_AS_PREFIX: &str = "wxmock-as-";

/// Reads only the query, whatever the method: a POST with a form body therefore answers
/// 41002, as WeChat does.
pub fn jscode2session(state: &AppState, query: &QueryParams<'_>) -> Response {
    match exchange(state, query) {
        Ok(session) => {
            let mut body = Map::new();
            body.insert("session_key".into(), session.session_key.into());
            body.insert("openid".into(), session.openid.into());
            if let Some(unionid) = session.unionid {
                body.insert("unionid".into(), unionid.into());
            }
            if state.engine.rules().code2session_expires_in {
                body.insert("expires_in".into(), 7200.into());
            }
            if state.wire.config.success_errcode {
                body.insert("errcode".into(), 0.into());
                body.insert("errmsg".into(), "ok".into());
            }
            state.wire.json(Family::Sns, &Value::Object(body))
        }
        Err(err) => state.wire.error(Family::Sns, &err),
    }
}

fn exchange(state: &AppState, query: &QueryParams<'_>) -> Result<Code2Session, WxError> {
    let appid = query
        .get("appid")
        .ok_or_else(|| WxError::new(APPID_MISSING))?;
    let secret = query
        .get("secret")
        .ok_or_else(|| WxError::new(APPSECRET_MISSING))?;
    let js_code = query
        .get("js_code")
        .ok_or_else(|| WxError::new(MISSING_CODE))?;
    let grant_type = query.get("grant_type");
    let grant_ok = match state.engine.rules().jscode2session_grant_type {
        GrantTypePolicy::Ignore => true,
        GrantTypePolicy::AcceptMissing => grant_type.is_none_or(|g| g == GRANT_TYPE),
        GrantTypePolicy::Require => grant_type == Some(GRANT_TYPE),
    };
    if !grant_ok {
        return Err(WxError::new(INVALID_GRANT_TYPE));
    }
    let minted;
    let js_code = if let Some(who) = js_code.strip_prefix(LOGIN_AS_PREFIX) {
        // An unknown app or user keeps the magic code, which then answers like any unknown code.
        match state.engine.login(appid, persona::openid_of(who)) {
            Ok(code) => {
                minted = code;
                minted.as_str()
            }
            Err(_) => js_code,
        }
    } else {
        if let Some(who) = &state.engine.rules().unknown_code_user {
            // Failing to adopt (unknown app or user) leaves the code unknown: 40029 or 40013.
            let _ = state
                .engine
                .adopt_code(appid, persona::openid_of(who), js_code);
        }
        js_code
    };
    state.engine.code2session(appid, secret, js_code)
}
