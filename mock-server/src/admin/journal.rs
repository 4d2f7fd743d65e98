//! `/__admin/journal`: what the fake received and answered, a page at a time, credentials
//! masked unless asked for in clear.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::faults::{query, AppScope};
use super::guard::SecretsView;
use super::AdminError;
use crate::journal::{JournalEntry, JournalFilter};
use crate::redact;
use crate::state::AppState;

/// `GET /journal` (filtered, paged entries) and `DELETE /journal` (forget them), under `/__admin`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/journal", get(list_entries).delete(clear_entries))
}

/// The query string of `GET /__admin/journal`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalQuery {
    path: Option<String>,
    appid: Option<String>,
    since: Option<u64>,
    limit: Option<usize>,
    secrets: Option<SecretsView>,
}

/// What `GET /__admin/journal` answers, serialised straight from the entries (no intermediate
/// JSON tree: the journal can hold megabytes).
#[derive(Serialize)]
struct Listing {
    entries: Vec<JournalEntry>,
    last_id: u64,
    more: bool,
    next_since: Option<u64>,
}

/// `{"entries": […], "last_id": N, "more": bool, "next_since": id|null}`: pass `last_id` as
/// `since` later to read only newer entries, or `next_since` to read the next page.
async fn list_entries(
    State(state): State<AppState>,
    params: Result<Query<JournalQuery>, QueryRejection>,
) -> Result<Response, AdminError> {
    let params = query(params)?;
    if params.limit == Some(0) {
        return Err(AdminError::bad_request("limit must be at least 1"));
    }
    let filter = JournalFilter {
        path: params.path,
        appid: params.appid,
        since: params.since,
        limit: params.limit,
    };
    // Read `last_id` first: an entry arriving in between then shows up in the next read too,
    // rather than being skipped.
    let last_id = state.journal.last_id();
    let mut page = state.journal.page(&filter);
    if params.secrets.unwrap_or(state.admin.journal_secrets) == SecretsView::Masked {
        page.entries.iter_mut().for_each(mask);
    }
    let next_since = if page.more {
        page.entries.last().map(|e| e.id)
    } else {
        None
    };
    let listing = Listing {
        entries: page.entries,
        last_id,
        more: page.more,
        next_since,
    };
    let bytes = serde_json::to_vec(&listing)
        .map_err(|e| AdminError::bad_request(format!("cannot write the journal: {e}")))?;
    drop(listing);
    let mut response = bytes.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Credentials in the query, the request body and the answer, as the logs show them.
fn mask(entry: &mut JournalEntry) {
    for (key, value) in entry.query.iter_mut() {
        if redact::is_secret_name(key) {
            *value = Value::String(redact::MASK.to_owned());
        }
    }
    if let std::borrow::Cow::Owned(masked) = redact::body_text(&entry.body) {
        entry.body = masked;
    }
    if let std::borrow::Cow::Owned(masked) = redact::body_text(&entry.response_body) {
        entry.response_body = masked;
    }
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
