//! `GET /api/session-check`: ask WeChat (checksession) whether this session's session_key is
//! still the user's current one.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::wechat::client::errcode;

/// checksession's "invalid signature": the key is stale or wrong.
const INVALID_SIGNATURE: i64 = 87009;

pub async fn handle(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let wechat = &state.wechat;
    let session = &caller.session;
    let (answer, _) = state
        .access_tokens
        .call(wechat, |token| async move {
            wechat
                .check_session(&token, &session.openid, session.session_key.expose())
                .await
        })
        .await
        .map_err(|err| state.upstream_failure(err))?;
    match errcode(&answer) {
        None => Ok(Json(json!({ "valid": true }))),
        Some(INVALID_SIGNATURE) => Ok(Json(json!({ "valid": false }))),
        Some(code) => {
            tracing::warn!(errcode = code, "checksession failed");
            Err(ApiError::Upstream)
        }
    }
}
