//! `POST /__admin/apps` creates an app or replaces its secret; `GET /__admin/apps` lists them.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{AdminError, AdminJson};
use crate::engine::{AppView, Secret};
use crate::state::AppState;

/// The body of `POST /__admin/apps`: creates the app, or replaces the secret of an existing one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRequest {
    /// The mini-program's appid (not empty; WeChat's are `wx` and 16 hex digits).
    pub appid: String,
    /// The appsecret that `/sns/jscode2session` and `/cgi-bin/token` must be given.
    pub secret: Secret,
}

/// `POST /apps` (create or update an app) and `GET /apps` (list them), under `/__admin`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/apps", post(upsert).get(list))
}

async fn upsert(
    State(state): State<AppState>,
    AdminJson(request): AdminJson<AppRequest>,
) -> Result<Json<AppView>, AdminError> {
    Ok(Json(
        state.engine.upsert_app(&request.appid, request.secret)?,
    ))
}

async fn list(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "apps": state.engine.appids() }))
}

/// The openid a call names: `who` itself when the app has that user, else the persona `who`
/// names (`alice`), so `{"openid": "alice"}` works as the banner and docs spell it.
pub(crate) fn user_or_persona(state: &AppState, appid: &str, who: String) -> String {
    let persona = crate::engine::persona::openid_of(&who);
    if persona == who || state.engine.user(appid, &who).is_ok() {
        who
    } else {
        persona.to_owned()
    }
}

/// The app a call is about: the one it names, or, when it names none, the only app there is
/// (so a fake serving one app needs no `appid` in control-API calls).
pub(crate) fn named_or_only(state: &AppState, appid: Option<String>) -> Result<String, AdminError> {
    if let Some(appid) = appid {
        return Ok(appid);
    }
    let appids = state.engine.appids();
    match appids.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(AdminError::bad_request(
            "\"appid\" is required: no app exists (create one with POST /__admin/apps)",
        )),
        many => Err(AdminError::bad_request(format!(
            "\"appid\" is required when several apps exist ({})",
            many.join(", ")
        ))),
    }
}
