//! Scaffold: the control-plane helper replaces this with the bounded request journal.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

pub struct Journal {}

impl Journal {
    /// A journal keeping at most `capacity` entries.
    pub fn new(_capacity: usize) -> Self {
        Journal {}
    }
}

/// Records every WeChat-API request and the answer given.
pub async fn middleware(State(_state): State<AppState>, request: Request, next: Next) -> Response {
    next.run(request).await
}
