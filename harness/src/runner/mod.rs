//! The runner: starts the fake, starts (or waits for) the backend, runs the selected cases one
//! after another, attaches evidence to failures, and emits events to reporters. It decides
//! nothing about formatting and nothing about exit codes. Split by noun: the run itself (`run`),
//! starting the backend with its setup commands (`start`), watching it (`watch`), keeping one
//! failure from cascading (`block`), ending early and well (`stop`: signals, the deadline, fail fast), and
//! redaction of secrets (`redact`).

mod block;
mod redact;
mod run;
mod start;
mod stop;
mod watch;

pub use redact::redact_text;
pub use run::{run, BoxFuture, FakeInfo, LaunchedBackend, Launcher, RunOptions};
pub use stop::{Silence, StopCause, StopHandle, StopRequest, DEFAULT_DEADLINE, SILENCE_LIMIT};
