//! A mini-program login backend done right (axum, reqwest, jsonwebtoken, its own AES-CBC), with
//! defect switches that each reproduce one real-world bug. It stands for a real team's backend:
//! it depends on no wxmock crate and only speaks HTTP to WeChat (or to the wxmock fake).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use wxmock_reference_backend::{start, Config, Defect};
//! let mut config = Config::new("http://127.0.0.1:8080", "wx0123456789abcdef", "the-app-secret");
//! config.defects.insert(Defect::AlgNone);
//! let backend = start(config).await?;
//! println!("{} signs with a key of {} bytes", backend.base_url(), backend.jwt_secret().len());
//! # Ok(()) }
//! ```

pub mod api;
pub mod auth;
pub mod config;
mod crash;
pub mod defect;
pub mod error;
pub mod log;
pub mod open_data;
pub mod server;
pub mod session;
pub mod state;
pub mod token;
pub mod wechat;

pub use config::{Clock, Config};
pub use defect::Defect;
pub use error::{ApiError, ConfigError, UnknownDefect};
pub use log::LogSink;
pub use server::{app, start, start_on, RunningBackend};
pub use state::AppState;
