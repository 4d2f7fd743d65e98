//! `POST /api/login {"code"}`: trade the mini-program's `wx.login` code for our own token.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::body::JsonBody;
use crate::defect::Defect;
use crate::error::ApiError;
use crate::session::WeChatIdentity;
use crate::state::AppState;
use crate::token;
use crate::wechat::sns::{self, classify_errcode, CodeRejection};
use crate::wechat::UpstreamError;

/// Real codes are 32 characters; anything this long is not worth a WeChat call.
pub const MAX_CODE_LEN: usize = 256;

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    #[serde(default)]
    code: Option<String>,
}

pub async fn handle(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Json<Value>, ApiError> {
    if state.has(Defect::StaleTokenBlocksLogin) {
        // The bug: the auth middleware also guards the login route, so a stale token refuses it.
        if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
            let token = value
                .to_str()
                .unwrap_or_default()
                .trim_start_matches("Bearer ")
                .trim();
            if token::verify(&state.config, token).is_err() {
                return Err(ApiError::Unauthorized);
            }
        }
    }
    let code = request.code.unwrap_or_default();
    if code.trim().is_empty() && !state.has(Defect::ForwardEmptyCode) {
        return Err(ApiError::MissingCode);
    }
    if code.len() > MAX_CODE_LEN {
        return Err(ApiError::CodeTooLong);
    }
    let identity = exchange(&state, &code).await.map_err(|err| {
        // The bug of `upstream-error-500`: every failure escapes as an unhandled exception.
        if state.has(Defect::UpstreamError500)
            && matches!(err, ApiError::Upstream | ApiError::WeChatBusy)
        {
            ApiError::Internal
        } else {
            err
        }
    })?;

    let session = state
        .sessions
        .login(identity, state.has(Defect::NewUserEveryLogin));
    let token = if state.has(Defect::OpaqueTokenNoExpiry) {
        // The bug: a random token in a table with no expiry column.
        let token = crate::session::random_hex(16);
        state.sessions.bind_opaque_token(&token, &session.sid);
        token
    } else if state.has(Defect::PredictableToken) {
        let token = token::predictable_token(&session.openid);
        state.sessions.bind_opaque_token(&token, &session.sid);
        token
    } else {
        token::issue(&state.config, &session, state.config.clock.now()).map_err(|err| {
            tracing::error!(error = %err, "could not sign a jwt");
            ApiError::Internal
        })?
    };
    tracing::info!(user_id = %session.user_id, "login");
    let mut answer = json!({
        "token": token,
        "expiresIn": state.config.token_ttl_secs,
        "userId": session.user_id,
    });
    if state.has(Defect::LeakSessionKey) {
        answer["session_key"] = Value::from(session.session_key.expose());
    }
    if state.has(Defect::SharedResponseObject) {
        // The bug: one module-level answer object; userId is only filled in when still empty.
        let mut shared = state
            .shared_answer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        shared.insert("token".into(), answer["token"].clone());
        shared.insert("expiresIn".into(), answer["expiresIn"].clone());
        shared
            .entry("userId")
            .or_insert_with(|| answer["userId"].clone());
        answer = Value::Object(shared.clone());
    }
    Ok(Json(answer))
}

/// One jscode2session call, and what its answer means for this login.
async fn exchange(state: &AppState, code: &str) -> Result<WeChatIdentity, ApiError> {
    if state.has(Defect::LoginNeedsAccessToken) {
        // The bug: the SDK wrapper gets an access token first, which jscode2session never needs.
        state
            .access_tokens
            .get(&state.wechat)
            .await
            .map_err(|err| state.upstream_failure(err))?;
    }
    let answer = match state.wechat.code_to_session_detailed(code).await {
        Ok(answer) if state.has(Defect::LogSecrets) => {
            // The bug: `console.log('jscode2session', url, body)` — the appsecret in the URL,
            // the session_key in the answer.
            let body = Value::Object(answer.clone());
            let url = state.wechat.session_url(code);
            tracing::info!(%url, answer = %body, "jscode2session answered");
            answer
        }
        Ok(answer) => answer,
        Err(failure)
            if matches!(
                failure.error,
                UpstreamError::Status(_) | UpstreamError::NotJson
            ) && state.has(Defect::AcceptGarbageUpstream) =>
        {
            // The bug: whatever came back is treated as a (blank) successful answer.
            return Ok(sns::identity_unchecked(&Map::new()));
        }
        Err(failure) => {
            let err = state.upstream_failure(failure.error);
            return Err(state.exposed(err, &failure.detail));
        }
    };
    if state.has(Defect::ErrcodeZeroIsError) && answer.contains_key("errcode") {
        // The bug: `if (data.errcode !== undefined) fail()`, errcode 0 included.
        return Err(ApiError::InvalidCode);
    }
    if state.has(Defect::TokenOnErrcode) {
        return Ok(sns::identity_unchecked(&answer));
    }
    sns::identity(&answer).map_err(|err| match err {
        UpstreamError::Errcode(_) if state.has(Defect::CrashOnErrcode) => ApiError::Internal,
        UpstreamError::Errcode(code) => {
            tracing::info!(errcode = code, "jscode2session refused the code");
            match classify_errcode(code) {
                CodeRejection::InvalidCode => ApiError::InvalidCode,
                CodeRejection::Busy => ApiError::WeChatBusy,
                CodeRejection::Other => ApiError::Upstream,
            }
        }
        other => state.upstream_failure(other),
    })
}
