//! `POST /__admin/login` `{"appid","openid"}`: what `wx.login` would give that user, a fresh
//! js_code (the session_key rotates per the configured policy).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::apps::{named_or_only, user_or_persona};
use super::{AdminError, AdminJson};
use crate::state::AppState;

/// Names one user of one app (`appid` may be left out when only one app exists).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    /// May be left out when only one app exists.
    #[serde(default)]
    pub appid: Option<String>,
    /// The user who logs in.
    pub openid: String,
}

/// `POST /login` under `/__admin`: does what `wx.login` does on the phone and answers a fresh login code.
pub fn routes() -> Router<AppState> {
    Router::new().route("/login", post(login))
}

async fn login(
    State(state): State<AppState>,
    AdminJson(user): AdminJson<UserRef>,
) -> Result<Json<Value>, AdminError> {
    let appid = named_or_only(&state, user.appid)?;
    let openid = user_or_persona(&state, &appid, user.openid);
    let code = state.engine.login(&appid, &openid)?;
    Ok(Json(json!({ "code": code, "openid": openid })))
}
