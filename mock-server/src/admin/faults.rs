//! `/__admin/faults`: install, list and remove fault rules.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{AdminError, AdminJson};
use crate::fault::FaultSpec;
use crate::state::AppState;

/// `GET`/`POST`/`DELETE /faults` (list, add, clear rules) and `DELETE /faults/{id}`, under `/__admin`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/faults/{id}", delete(remove_fault))
}

/// `?appid=`: only one tenant's rules.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppScope {
    /// Only the rules of this app; every rule when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
}

/// Turns axum's plain-text query rejection into the control API's JSON error.
pub(crate) fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, AdminError> {
    query.map(|Query(value)| value).map_err(|rejection| {
        AdminError::bad_request(format!("invalid query string: {}", rejection.body_text()))
    })
}

async fn add_fault(
    State(state): State<AppState>,
    AdminJson(body): AdminJson<Value>,
) -> Result<(StatusCode, Json<Value>), AdminError> {
    let spec = FaultSpec::from_json(body).map_err(AdminError::bad_request)?;
    let rule = state.faults.add(spec).map_err(AdminError::bad_request)?;
    Ok((StatusCode::CREATED, Json(rule)))
}

async fn list_faults(
    State(state): State<AppState>,
    scope: Result<Query<AppScope>, QueryRejection>,
) -> Result<Json<Value>, AdminError> {
    let scope = query(scope)?;
    let mut answer = json!({ "faults": state.faults.list(scope.appid.as_deref()) });
    // The `access-token-rejected` scenario is no rule, but it is lifted with them: show it.
    let refusing: Vec<String> = state
        .faults
        .refusing_apps()
        .into_iter()
        .filter(|a| scope.appid.as_deref().is_none_or(|want| want == a))
        .collect();
    if !refusing.is_empty() {
        answer["access_tokens_rejected"] = json!(refusing);
    }
    Ok(Json(answer))
}

async fn clear_faults(
    State(state): State<AppState>,
    scope: Result<Query<AppScope>, QueryRejection>,
) -> Result<Json<Value>, AdminError> {
    let removed = match query(scope)?.appid {
        Some(appid) => state.faults.clear_app(&appid),
        None => state.faults.clear(),
    };
    Ok(Json(json!({ "removed": removed })))
}

async fn remove_fault(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    if state.faults.remove(&id) {
        Ok(Json(json!({ "removed": 1, "id": id })))
    } else {
        Err(AdminError::not_found(format!(
            "no fault rule {id} (it may have been used up or removed)"
        )))
    }
}
