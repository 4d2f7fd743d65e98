//! `POST /api/phone {"code"}`: resolve a phone code (from `<button open-type="getPhoneNumber">`)
//! through getuserphonenumber, with the cached access token.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::JsonBody;
use crate::auth::Caller;
use crate::defect::Defect;
use crate::error::ApiError;
use crate::state::AppState;
use crate::wechat::client::errcode;

/// Phone codes are 64 hex characters; anything this long is not worth a WeChat call.
pub const MAX_PHONE_CODE_LEN: usize = 256;

#[derive(Debug, Deserialize)]
pub struct PhoneRequest {
    #[serde(default)]
    code: String,
}

pub async fn handle(
    State(state): State<AppState>,
    _caller: Caller,
    JsonBody(request): JsonBody<PhoneRequest>,
) -> Result<Json<Value>, ApiError> {
    if request.code.trim().is_empty() || request.code.len() > MAX_PHONE_CODE_LEN {
        return Err(ApiError::InvalidPhoneCode);
    }
    let wechat = &state.wechat;
    let code = request.code.as_str();
    let (answer, token) = state
        .access_tokens
        .call(wechat, |token| async move {
            wechat.phone_number(&token, code).await
        })
        .await
        .map_err(|err| state.upstream_failure(err))?;
    match errcode(&answer) {
        None => {}
        Some(40029) => return Err(ApiError::InvalidPhoneCode),
        Some(code) => {
            tracing::warn!(errcode = code, "getuserphonenumber failed");
            return Err(ApiError::Upstream);
        }
    }
    let info = answer.get("phone_info").ok_or(ApiError::Upstream)?;
    let text = |name: &str| info.get(name).and_then(Value::as_str).map(str::to_owned);
    let (Some(phone), Some(pure)) = (text("phoneNumber"), text("purePhoneNumber")) else {
        return Err(ApiError::Upstream);
    };
    // WeChat sends countryCode as a string ("86"); pass on whatever it sent.
    let country_code = info.get("countryCode").cloned().unwrap_or(Value::Null);
    if state.has(Defect::PhoneCountrycodeNumber) && !country_code.is_u64() {
        tracing::warn!("countryCode is not a number");
        return Err(ApiError::Upstream);
    }
    let mut body = json!({
        "phoneNumber": phone,
        "purePhoneNumber": pure,
        "countryCode": country_code,
    });
    if state.has(Defect::ExposeAccessToken) {
        body["access_token"] = Value::from(token.expose());
    }
    Ok(Json(body))
}
