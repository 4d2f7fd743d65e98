//! `GET /healthz`.

use axum::Json;
use serde_json::{json, Value};

pub async fn handle() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
