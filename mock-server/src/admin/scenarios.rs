//! `/__admin/scenarios`: the failures developers replay most, one call each.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::apps::{named_or_only, user_or_persona};
use super::{AdminError, AdminJson};
use crate::error::ScenarioError;
use crate::fault::{apply_scenario as apply_scenario_run, Scenario, ScenarioApplied, ScenarioRun};
use crate::state::AppState;

/// `GET /scenarios` (the list) and `POST /scenarios/{name}` (apply one), under `/__admin`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scenarios", get(list_scenarios))
        .route("/scenarios/{name}", post(apply_scenario))
}

/// The JSON body of `POST /__admin/scenarios/{name}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRequest {
    /// The tenant (must exist); may be left out when only one app exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
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
    let ScenarioRequest {
        appid,
        openid,
        times,
        path,
        delay_ms,
    } = request;
    let appid = named_or_only(&state, appid)?;
    let openid = openid.map(|who| user_or_persona(&state, &appid, who));
    let run = ScenarioRun::from_request(scenario, appid.clone(), openid, times, path, delay_ms);
    // The same code path as `MockWeChat::scenario`: one engine for every front.
    let (applied, rule) = apply_scenario_run(&state, &run, &appid).map_err(|err| match err {
        ScenarioError::UnknownApp { .. } => AdminError::not_found(err.to_string()),
        ScenarioError::Engine(engine) => AdminError::from(engine),
        ScenarioError::Fault { source, .. } => AdminError::bad_request(source.to_string()),
        other => AdminError::bad_request(other.to_string()),
    })?;
    let applied = match applied {
        ScenarioApplied::Fault(_) => json!({ "fault": rule }),
        ScenarioApplied::RotatedSessionKey { appid, openid } => {
            json!({ "rotated_session_key": { "appid": appid, "openid": openid } })
        }
        ScenarioApplied::ExpiredAccessTokens { appid } => json!({ "expired_access_tokens": appid }),
        ScenarioApplied::SupersededAccessTokens { appid } => {
            json!({ "superseded_access_tokens": appid })
        }
        ScenarioApplied::RejectingAccessTokens { appid } => {
            json!({ "rejecting_access_tokens": appid })
        }
    };
    tracing::info!(scenario = %crate::log::Escaped(&name), appid = %crate::log::Escaped(&appid), "control API: scenario applied");
    Ok(Json(json!({ "scenario": name, "applied": applied })))
}
