//! `GET /api/me`: who the token says the caller is.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::defect::Defect;
use crate::state::AppState;

pub async fn handle(State(state): State<AppState>, caller: Caller) -> Json<Value> {
    if state.has(Defect::SharedIdentity) {
        if let Some(last) = state.sessions.last_login() {
            return Json(json!({
                "userId": last.user_id,
                "openid": last.openid,
                "unionid": last.unionid,
            }));
        }
    }
    let openid = (!caller.is_anonymous()).then_some(caller.session.openid);
    Json(json!({
        "userId": caller.user_id,
        "openid": openid,
        "unionid": caller.session.unionid,
    }))
}
