//! The HTTP API, one file per endpoint, plus the JSON body extractor they share.

pub mod body;
pub mod health;
pub mod login;
pub mod me;
pub mod phone;
pub mod session_check;
pub mod user_info;
