//! `GET /wxa/checksession`, `GET /wxa/resetusersessionkey` and
//! `POST /wxa/business/getuserphonenumber`: the access-token-guarded login APIs.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::request::{json_object, json_str, read_body, Query};
use crate::engine::PhoneInfo;
use crate::errcode::{
    WxError, ACCESS_TOKEN_MISSING, INVALID_CODE, INVALID_CREDENTIAL, INVALID_OPENID,
    INVALID_SIGNATURE, INVALID_SIG_METHOD, REQUIRE_POST,
};
use crate::state::AppState;
use crate::wire::Family;

const SIG_METHOD: &str = "hmac_sha256";

/// The appid granted by the query's `access_token` (41001 when absent; the body and headers
/// are never looked at, as on WeChat). 40001 for every token of an app under the
/// `access-token-rejected` scenario.
fn authorize(state: &AppState, query: &Query<'_>) -> Result<Arc<str>, WxError> {
    let token = query
        .params
        .get("access_token")
        .ok_or_else(|| WxError::new(ACCESS_TOKEN_MISSING))?;
    let appid = query.authorize(&state.engine, token)?;
    if state.faults.refuses_access_tokens(&appid) {
        return Err(WxError::new(INVALID_CREDENTIAL));
    }
    Ok(appid)
}

/// The checks checksession and resetusersessionkey share: token, sig_method, openid, and the
/// signature (absent signature: 87009).
fn signed_user<'q>(
    state: &AppState,
    query: &'q Query<'q>,
) -> Result<(Arc<str>, &'q str, &'q str), WxError> {
    let appid = authorize(state, query)?;
    let query = &query.params;
    if query.get("sig_method") != Some(SIG_METHOD) {
        return Err(WxError::new(INVALID_SIG_METHOD));
    }
    let openid = query
        .get("openid")
        .ok_or_else(|| WxError::new(INVALID_OPENID))?;
    let signature = query
        .get("signature")
        .ok_or_else(|| WxError::new(INVALID_SIGNATURE))?;
    Ok((appid, openid, signature))
}

fn ok_body() -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("errcode".into(), 0.into());
    body.insert("errmsg".into(), "ok".into());
    body
}

pub(crate) fn check_session(state: &AppState, query: &Query<'_>) -> Response {
    let result = signed_user(state, query).and_then(|(appid, openid, signature)| {
        let now = query.now(&state.engine);
        state
            .engine
            .check_session_at(now, &appid, openid, signature)
    });
    match result {
        Ok(()) => state
            .wire
            .fixed(Family::Wxa, r#"{"errcode":0,"errmsg":"ok"}"#),
        Err(err) => state.wire.error(Family::Wxa, &err),
    }
}

pub(crate) fn reset_session_key(state: &AppState, query: &Query<'_>) -> Response {
    let result = signed_user(state, query).and_then(|(appid, openid, signature)| {
        let key = state.engine.reset_session_key(&appid, openid, signature)?;
        Ok((openid.to_owned(), key))
    });
    match result {
        Ok((openid, session_key)) => {
            let mut body = ok_body();
            body.insert("openid".into(), openid.into());
            body.insert("session_key".into(), session_key.into());
            state.wire.json(Family::Wxa, &Value::Object(body))
        }
        Err(err) => state.wire.error(Family::Wxa, &err),
    }
}

/// POST only (43002), token from the query, then a JSON body `{"code", "openid"?}`.
pub async fn get_phone_number(state: &AppState, request: Request) -> Response {
    if request.method() != Method::POST {
        return state.wire.error(Family::Wxa, &WxError::new(REQUIRE_POST));
    }
    let (parts, body) = request.into_parts();
    let query = Query::parse(parts.uri.query());
    let result = match authorize(state, &query) {
        Ok(appid) => match read_body(body).await {
            Ok(bytes) => redeem(state, &appid, &bytes),
            Err(err) => Err(err),
        },
        Err(err) => Err(err),
    };
    match result {
        Ok(info) => {
            let country_code: Value = if state.engine.rules().country_code_as_number {
                info.country_code
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::from(info.country_code.clone()))
            } else {
                Value::from(info.country_code)
            };
            let mut body = ok_body();
            body.insert(
                "phone_info".into(),
                json!({
                    "phoneNumber": info.phone_number,
                    "purePhoneNumber": info.pure_phone_number,
                    "countryCode": country_code,
                    "watermark": {"timestamp": info.timestamp, "appid": info.appid},
                }),
            );
            state.wire.json(Family::Wxa, &Value::Object(body))
        }
        Err(err) => state.wire.error(Family::Wxa, &err),
    }
}

fn redeem(state: &AppState, appid: &str, body: &[u8]) -> Result<PhoneInfo, WxError> {
    let map = json_object(body)?;
    let code = json_str(&map, "code").ok_or_else(|| WxError::new(INVALID_CODE))?;
    let openid = json_str(&map, "openid");
    state
        .engine
        .redeem_phone_code(appid, &code, openid.as_deref())
}
