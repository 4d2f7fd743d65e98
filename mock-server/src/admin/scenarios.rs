//! `/__admin/scenarios`: the failures developers replay most, one call each.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{AdminError, AdminJson};
use crate::fault::{Effect, FaultSpec, Scenario, JSCODE2SESSION};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scenarios", get(list_scenarios))
        .route("/scenarios/{name}", post(apply_scenario))
}

/// The JSON body of `POST /__admin/scenarios/{name}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRequest {
    /// The tenant (must exist).
    pub appid: String,
    /// The user: narrows a fault to that user's codes; required by `session-expired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// How many calls a fault scenario hits (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Endpoint for `slow-wechat`, `garbage-body` and `connection-reset` (default jscode2session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Delay of `slow-wechat` in milliseconds (default 3000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

async fn list_scenarios() -> Json<Value> {
    let scenarios: Vec<Value> = Scenario::ALL
        .iter()
        .map(|s| json!({ "name": s.name(), "description": s.description() }))
        .collect();
    Json(json!({ "scenarios": scenarios }))
}

fn names() -> String {
    Scenario::ALL
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn apply_scenario(
    State(state): State<AppState>,
    Path(name): Path<String>,
    AdminJson(request): AdminJson<ScenarioRequest>,
) -> Result<Json<Value>, AdminError> {
    let scenario = Scenario::from_name(&name).ok_or_else(|| {
        AdminError::not_found(format!("unknown scenario {name:?} (known: {})", names()))
    })?;
    if !state.engine.has_app(&request.appid) {
        return Err(AdminError::not_found(format!(
            "unknown app {}",
            request.appid
        )));
    }
    let effect = scenario.effect(request.delay_ms);
    if request.delay_ms.is_some() && scenario != Scenario::SlowWechat {
        return Err(AdminError::bad_request(format!(
            "\"delay_ms\" only applies to slow-wechat, not {name}"
        )));
    }
    if !matches!(effect, Effect::Fault(_)) {
        let misplaced = [
            ("times", request.times.is_some()),
            ("path", request.path.is_some()),
        ]
        .into_iter()
        .find_map(|(field, set)| set.then_some(field));
        if let Some(field) = misplaced {
            return Err(AdminError::bad_request(format!(
                "\"{field}\" does not apply to {name}: it changes state once, it is not a fault rule"
            )));
        }
    }
    let applied = apply(&state, &request, &name, effect)?;
    tracing::info!(scenario = %name, appid = %request.appid, "control API: scenario applied");
    Ok(Json(json!({ "scenario": name, "applied": applied })))
}

fn apply(
    state: &AppState,
    request: &ScenarioRequest,
    name: &str,
    effect: Effect,
) -> Result<Value, AdminError> {
    let appid = &request.appid;
    match effect {
        Effect::Fault(action) => {
            let path = request
                .path
                .clone()
                .unwrap_or_else(|| JSCODE2SESSION.to_owned());
            let spec = FaultSpec {
                appid: Some(appid.clone()),
                openid: request.openid.clone(),
                times: Some(request.times.unwrap_or(1)),
                ..FaultSpec::new(path, &action)
            };
            let rule = state.faults.add(spec).map_err(AdminError::bad_request)?;
            Ok(json!({ "fault": rule }))
        }
        Effect::RotateSessionKey => {
            let openid = request.openid.as_deref().ok_or_else(|| {
                AdminError::bad_request(format!(
                    "{name} needs \"openid\": whose session_key to rotate"
                ))
            })?;
            state.engine.rotate_session_key(appid, openid)?;
            Ok(json!({ "rotated_session_key": { "appid": appid, "openid": openid } }))
        }
        Effect::ExpireAccessTokens => {
            state.engine.expire_access_tokens(appid);
            Ok(json!({ "expired_access_tokens": appid }))
        }
        Effect::SupersedeAccessTokens => {
            state.engine.supersede_access_tokens(appid);
            Ok(json!({ "superseded_access_tokens": appid }))
        }
    }
}
