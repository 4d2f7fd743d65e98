//! `POST /__admin/clock` `{"advance_secs":N}` moves the fake's clock forward (every expiry
//! reads it; nothing sleeps); `GET /__admin/clock` tells the time.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{AdminError, AdminJson};
use crate::state::AppState;

/// The body of `POST /__admin/clock`: moves the fake's clock forward.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceRequest {
    /// How far to move the clock, in seconds (codes, session keys and tokens age with it).
    pub advance_secs: u64,
}

/// `GET /clock` (the fake's current time and offset) and `POST /clock` (advance it), under `/__admin`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/clock", get(now).post(advance))
}

async fn now(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "now": state.clock.now(), "offset": state.clock.offset() }))
}

async fn advance(
    State(state): State<AppState>,
    AdminJson(request): AdminJson<AdvanceRequest>,
) -> Result<Json<Value>, AdminError> {
    // Bounded so that `now` cannot overflow: 100 years is more than any test needs.
    const MAX_ADVANCE: u64 = 100 * 365 * 86_400;
    if request.advance_secs > MAX_ADVANCE {
        return Err(AdminError::bad_request(format!(
            "advance_secs must be at most {MAX_ADVANCE}"
        )));
    }
    let now = state.clock.advance(request.advance_secs);
    Ok(Json(json!({ "now": now, "offset": state.clock.offset() })))
}
