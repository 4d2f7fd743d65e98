//! `POST /__admin/apps` creates an app or replaces its secret; `GET /__admin/apps` lists them.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{AdminError, AdminJson};
use crate::engine::{AppView, Secret};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRequest {
    pub appid: String,
    pub secret: Secret,
}

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
