//! Scaffold: the control-plane helper replaces this with fault rules, scenarios and magic codes.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

pub struct FaultStore {}

impl FaultStore {
    pub fn new() -> Self {
        FaultStore {}
    }
}

impl Default for FaultStore {
    fn default() -> Self {
        Self::new()
    }
}

/// Answers with an injected fault (or a magic code's errcode) before the handler looks at
/// the request; otherwise passes it on.
pub async fn middleware(State(_state): State<AppState>, request: Request, next: Next) -> Response {
    next.run(request).await
}
