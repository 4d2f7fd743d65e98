//! wxmock's exit codes, documented in `--help` and the README. Every subcommand maps its result
//! to one of these; nothing else decides an exit status.

/// Success; for `check`/`demo`: the backend conforms (no unexpected MUST/SHOULD failure).
pub const OK: u8 = 0;
/// An internal error in wxmock itself (or a runtime failure such as a port already in use).
pub const INTERNAL: u8 = 1;
/// Bad command-line usage (clap also exits with 2).
pub const USAGE: u8 = 2;
/// The profile (or another input file) is missing or invalid.
pub const PROFILE_INVALID: u8 = 3;
/// The backend under test could not be started or reached.
pub const BACKEND_UNREACHABLE: u8 = 4;
/// `check`/`demo`: the backend broke at least one rule.
pub const CONFORMANCE_FAILURES: u8 = 5;

/// `check`/`demo`: SIGINT or SIGTERM ended the run; the backend was stopped and the reports
/// written with the run marked interrupted and the unfinished cases listed.
pub const INTERRUPTED: u8 = 6;
/// `check`: the run deadline (`--deadline-secs`) passed before the last case; reports as above.
/// `profile discover`: its time limit (`--time-limit-secs`) ran out before a login shape was
/// found; the profile is still written, its unfinished sections marked NOT DETERMINED.
pub const DEADLINE: u8 = 7;

/// The text shown at the end of `wxmock --help`.
pub const HELP: &str = "\
Exit codes:
  0  success (check/demo: the backend conforms)
  1  internal error (or a runtime failure such as a port in use)
  2  usage error
  3  profile or input file missing or invalid
  4  backend unreachable (could not be started or did not become ready)
  5  conformance failures (check/demo)
  6  interrupted by SIGINT/SIGTERM (check/demo; reports written, unfinished cases listed)
  7  the run deadline passed (check --deadline-secs; reports written, unfinished cases listed;
     profile discover --time-limit-secs before a login was found; the profile written)";
