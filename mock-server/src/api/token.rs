//! `GET /cgi-bin/token` (getAccessToken) and `POST /cgi-bin/stable_token`
//! (getStableAccessToken).

use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use super::request::{json_object, json_str, read_body, QueryParams};
use crate::engine::IssuedToken;
use crate::errcode::{
    WxError, APPID_MISSING, APPSECRET_MISSING, DATA_FORMAT_ERROR, INVALID_GRANT_TYPE, REQUIRE_POST,
};
use crate::state::AppState;
use crate::wire::Family;

const GRANT_TYPE: &str = "client_credential";

fn answer(state: &AppState, result: Result<IssuedToken, WxError>) -> Response {
    match result {
        Ok(token) => state.wire.json(
            Family::CgiBin,
            &json!({"access_token": token.access_token, "expires_in": token.expires_in}),
        ),
        Err(err) => state.wire.error(Family::CgiBin, &err),
    }
}

/// A new token on every call; reads only the query (any method).
pub fn token(state: &AppState, query: &QueryParams<'_>) -> Response {
    let result = (|| {
        if query.get("grant_type") != Some(GRANT_TYPE) {
            return Err(WxError::new(INVALID_GRANT_TYPE));
        }
        let appid = query
            .get("appid")
            .ok_or_else(|| WxError::new(APPID_MISSING))?;
        let secret = query
            .get("secret")
            .ok_or_else(|| WxError::new(APPSECRET_MISSING))?;
        state.engine.issue_token(appid, secret)
    })();
    answer(state, result)
}

/// POST with a JSON body only: 43002 for another method, 44002 for an empty body, 47001 for
/// a body that is not a JSON object (or a `force_refresh` that is not a boolean).
pub async fn stable_token(state: &AppState, request: Request) -> Response {
    if request.method() != Method::POST {
        return state
            .wire
            .error(Family::CgiBin, &WxError::new(REQUIRE_POST));
    }
    let result = match read_body(request.into_body()).await {
        Ok(body) => stable(state, &body),
        Err(err) => Err(err),
    };
    answer(state, result)
}

fn stable(state: &AppState, body: &[u8]) -> Result<IssuedToken, WxError> {
    let map = json_object(body)?;
    if json_str(&map, "grant_type").as_deref() != Some(GRANT_TYPE) {
        return Err(WxError::new(INVALID_GRANT_TYPE));
    }
    let appid = json_str(&map, "appid").ok_or_else(|| WxError::new(APPID_MISSING))?;
    let secret = json_str(&map, "secret").ok_or_else(|| WxError::new(APPSECRET_MISSING))?;
    let force_refresh = match map.get("force_refresh") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(WxError::new(DATA_FORMAT_ERROR)),
    };
    state.engine.stable_token(&appid, &secret, force_refresh)
}
