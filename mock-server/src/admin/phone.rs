//! `POST /__admin/phone-code` `{"appid","openid"}`: what the getPhoneNumber button would give,
//! a code for `/wxa/business/getuserphonenumber` (409 when the user has no phone number).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::apps::{named_or_only, user_or_persona};
use super::login::UserRef;
use super::{AdminError, AdminJson};
use crate::state::AppState;

/// `POST /phone-code` under `/__admin`: does what the phone-number button does and answers a code for `getuserphonenumber`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/phone-code", post(phone_code))
}

async fn phone_code(
    State(state): State<AppState>,
    AdminJson(user): AdminJson<UserRef>,
) -> Result<Json<Value>, AdminError> {
    let appid = named_or_only(&state, user.appid)?;
    let openid = user_or_persona(&state, &appid, user.openid);
    let code = state.engine.phone_code(&appid, &openid)?;
    Ok(Json(json!({ "code": code })))
}
