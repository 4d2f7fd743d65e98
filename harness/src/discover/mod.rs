//! `wxmock profile discover`: start the fake, start (or reach) a backend, log in with real codes
//! in the usual shapes, find where the token is, how the protected endpoint wants it and how it
//! says no, and write a commented starter profile. Split into the probes (`probe`), the auth styles
//! and rejection signals (`styles`), starting the backend (`launch`) and writing the TOML (`render`).

mod launch;
mod probe;
mod render;
mod styles;

pub use launch::{command_launcher, url_launcher};
pub use probe::{discover, AuthFound, DiscoverOptions, Discovery, LoginFound, RejectionFound};
pub use render::CommandLine;
