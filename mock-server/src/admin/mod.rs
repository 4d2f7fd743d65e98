//! The control API under `/__admin`: JSON in and out, its own errors as HTTP 4xx `{"error": …}`.
//! One file per noun; the split follows who changes what (seeding vs. bending the fake).

mod error;

pub mod apps;
pub mod clock;
pub mod cors;
pub mod encrypt;
pub mod faults;
pub mod guard;
pub mod health;
pub mod journal;
pub mod login;
pub mod openapi;
pub mod phone;
pub mod reset;
pub mod scenarios;
pub mod users;

pub use error::{AdminError, AdminJson};

use axum::Router;

use crate::state::AppState;

/// Every control-API route, relative to `/__admin`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(apps::routes())
        .merge(users::routes())
        .merge(login::routes())
        .merge(phone::routes())
        .merge(clock::routes())
        .merge(health::routes())
        .merge(encrypt::routes())
        .merge(faults::routes())
        .merge(journal::routes())
        .merge(scenarios::routes())
        .merge(reset::routes())
        .merge(openapi::routes())
}
