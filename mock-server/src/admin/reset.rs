//! `/__admin/reset` (the whole fake) and `/__admin/apps/{appid}/reset` (one tenant): back to the
//! configured state, for a test that wants a clean slate without restarting the fake.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::AdminError;
use crate::state::AppState;

/// `POST /reset` (everything back to the configured start) and `POST /apps/{appid}/reset` (one app), under `/__admin`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reset", post(reset_all))
        .route("/apps/{appid}/reset", post(reset_app))
}

/// Configured apps and users only, no codes or tokens, no faults, an empty journal, and the
/// clock's advances undone. Journal and fault ids keep counting up.
async fn reset_all(State(state): State<AppState>) -> Json<Value> {
    state.engine.reset_all();
    let faults = state.faults.clear();
    let entries = state.journal.len();
    state.journal.clear();
    state.clock.reset();
    tracing::info!("control API: whole fake reset");
    Json(json!({
        "reset": "all",
        "faults_removed": faults,
        "journal_entries_removed": entries,
        "now": state.clock.now(),
    }))
}

/// One tenant: its users back to the configured ones (an app created at runtime is removed),
/// its codes and tokens gone, the faults naming it and its journal entries removed. Other
/// tenants, global faults and the clock are untouched.
async fn reset_app(
    State(state): State<AppState>,
    Path(appid): Path<String>,
) -> Result<Json<Value>, AdminError> {
    if !state.engine.reset_app(&appid) {
        return Err(AdminError::not_found(format!("unknown app {appid}")));
    }
    let faults = state.faults.clear_app(&appid);
    let entries = state.journal.clear_app(&appid);
    tracing::info!(appid = %crate::log::Escaped(&appid), "control API: tenant reset");
    Ok(Json(json!({
        "reset": appid,
        "faults_removed": faults,
        "journal_entries_removed": entries,
    })))
}
