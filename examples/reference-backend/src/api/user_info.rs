//! `POST /api/user-info {"encryptedData","iv","rawData"?,"signature"?}`: open the user's
//! encrypted profile with THIS session's session_key.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::JsonBody;
use crate::auth::Caller;
use crate::defect::Defect;
use crate::error::ApiError;
use crate::open_data::{self, OpenDataError, Rules, Sealed};
use crate::state::AppState;

/// The defect `truncate-nickname`'s column width.
const NICKNAME_COLUMN_CHARS: usize = 20;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfoRequest {
    encrypted_data: String,
    iv: String,
    #[serde(default)]
    raw_data: Option<String>,
    #[serde(default)]
    signature: Option<String>,
}

pub async fn handle(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<UserInfoRequest>,
) -> Result<Json<Value>, ApiError> {
    let sealed = Sealed {
        encrypted_data: &request.encrypted_data,
        iv: &request.iv,
        raw_data: request.raw_data.as_deref(),
        signature: request.signature.as_deref(),
    };
    let rules = Rules {
        urlsafe_base64: state.has(Defect::UrlsafeBase64),
        skip_watermark: state.has(Defect::NoWatermarkCheck),
    };
    let appid = &state.config.appid;
    let current = caller.session.session_key.expose();
    let mut result = open_data::open(&sealed, current, appid, rules);
    if result.is_err() && state.has(Defect::FallbackOldSessionKey) {
        let old_keys = state.sessions.session_keys_of(&caller.session.openid);
        if let Some(value) = old_keys
            .iter()
            .rev()
            .filter(|key| key.expose() != current)
            .find_map(|key| open_data::open(&sealed, key.expose(), appid, rules).ok())
        {
            result = Ok(value);
        }
    }
    match result {
        Ok(data)
            if !state.has(Defect::NoOpenidCheck)
                && data
                    .get("openId")
                    .and_then(Value::as_str)
                    .is_some_and(|o| o != caller.session.openid) =>
        {
            tracing::info!("refused userInfo naming another openid");
            Err(ApiError::InvalidEncryptedData)
        }
        Ok(mut data) => {
            if state.has(Defect::TruncateNickname) {
                truncate_nickname(&mut data);
            }
            Ok(Json(json!({ "data": data })))
        }
        Err(err) => {
            let refused = refusal(&state, err);
            if state.has(Defect::InternalDetail) {
                // The library's own text, as a catch block passing `e.message` on gives it.
                if let Err((_, detail)) = open_data::open_detailed(&sealed, current, appid, rules) {
                    return Err(state.exposed(refused, &detail));
                }
            }
            Err(refused)
        }
    }
}

fn refusal(state: &AppState, err: OpenDataError) -> ApiError {
    tracing::info!(reason = %err, "refused encrypted data");
    if state.has(Defect::CrashOnBadData) && err.would_crash_unguarded_code() {
        ApiError::Internal
    } else {
        ApiError::InvalidEncryptedData
    }
}

fn truncate_nickname(data: &mut Value) {
    if let Some(Value::String(name)) = data.get_mut("nickName") {
        if name.chars().count() > NICKNAME_COLUMN_CHARS {
            *name = name.chars().take(NICKNAME_COLUMN_CHARS).collect();
        }
    }
}
