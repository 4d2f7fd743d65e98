//! `wxmock profile discover`: start the fake, start (or reach) a backend, log in with real codes
//! in the usual shapes, find where the credential is, how the protected endpoint wants it and
//! how it says no, and write a commented starter profile. Split by noun: what is asked and found
//! (`found`), the login shapes (`login`), the auth styles and rejection signals (`styles`), the
//! probe run (`probe`), reading answers (`answer`), the encrypted-data probes (`data`), the
//! access-token endpoints (`operations`), starting the backend (`launch`) and writing the TOML
//! (`render`).

mod answer;
mod data;
mod found;
mod launch;
mod login;
mod operations;
mod probe;
mod render;
mod styles;

pub use found::{
    AuthFound, DiscoverOptions, Discovery, LoginFound, OperationFound, PhoneFound, RejectionFound,
    UserInfoFound,
};
pub use launch::{command_launcher, url_launcher};
pub use login::{CODE_NAMES, TOKEN_POINTERS};
pub use probe::{discover, protected_paths, DISCOVER_DEADLINE, PROTECTED_PATHS};
pub use render::CommandLine;
