//! `/__admin/journal`: what the fake received and answered.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::faults::{query, AppScope};
use super::AdminError;
use crate::journal::JournalFilter;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/journal", get(list_entries).delete(clear_entries))
}

/// `{"entries": […], "last_id": N}`: pass `last_id` as `since` to read only newer entries.
async fn list_entries(
    State(state): State<AppState>,
    filter: Result<Query<JournalFilter>, QueryRejection>,
) -> Result<Json<Value>, AdminError> {
    let filter = query(filter)?;
    // Read `last_id` first: an entry arriving in between then shows up in the next read too,
    // rather than being skipped.
    let last_id = state.journal.last_id();
    let entries = state.journal.entries(&filter);
    Ok(Json(json!({ "entries": entries, "last_id": last_id })))
}

async fn clear_entries(
    State(state): State<AppState>,
    scope: Result<Query<AppScope>, QueryRejection>,
) -> Result<Json<Value>, AdminError> {
    let removed = match query(scope)?.appid {
        Some(appid) => state.journal.clear_app(&appid),
        None => {
            let removed = state.journal.len();
            state.journal.clear();
            removed
        }
    };
    Ok(Json(json!({ "removed": removed })))
}
