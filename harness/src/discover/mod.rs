//! `wxmock profile discover`: start the fake, start (or reach) a backend, log in with real codes
//! in the usual shapes, find where the credential is, how the protected endpoint wants it and
//! how it says no, and write a commented starter profile. Split by noun: what is asked and found
//! (`found`), the login shapes (`login`), the auth styles and rejection signals (`styles`), the
//! probe run (`probe`) and what it has found when the time limit runs out (`progress`), reading
//! answers (`answer`), the encrypted-data probes (`data`), the access-token endpoints
//! (`operations`), starting the backend (`launch`), whether libfaketime moves its clock
//! (`clock`) and writing the TOML (`render`).

mod answer;
mod clock;
mod data;
mod found;
mod launch;
mod login;
mod operations;
mod probe;
mod progress;
mod render;
mod styles;

pub use found::{
    AuthFound, ClockFound, DiscoverOptions, Discovery, LoginFound, OperationFound, PhoneFound,
    RejectionFound, Section, TimeLimitHit, UserInfoFound, DEFAULT_TIME_LIMIT,
};
pub use launch::Target;
pub use login::{CODE_NAMES, TOKEN_POINTERS};
pub use probe::{discover, protected_paths, PROTECTED_PATHS};
pub use render::CommandLine;
