//! The sections that are not requests: where the backend is (or how to start it), the fake,
//! how the backend says "rejected" (as written; `compile` folds it into rules), what the
//! harness knows about the backend's JWTs, and time limits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rejection::Rule;

/// Where the backend is, or how to start it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSection {
    /// e.g. `http://127.0.0.1:3000` or `http://127.0.0.1:{{port}}` with a `command`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// argv (`["node", "app.js"]`) or a shell string (`"npm start"`, run with `sh -c`).
    #[serde(default)]
    pub command: Option<CommandSpec>,
    /// Working directory of the command and the setup commands (relative: to the profile file's
    /// directory, which is also the default).
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// Environment of the command; values are templated.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A URL (or a path on `base_url`) polled until it answers (any status below 500).
    #[serde(default)]
    pub ready_url: Option<String>,
    #[serde(default = "default_ready_timeout")]
    pub ready_timeout_secs: u64,
    /// `faketime`: run the command under libfaketime with a control file the harness moves, so
    /// expiry is tested without waiting (needs `command`). Default `real`.
    #[serde(default)]
    pub clock: ClockMode,
    /// For a backend the harness does not start: a shell command that moves its clock, templated
    /// with `{{advance_secs}}` (the signed step) and `{{offset_secs}}` (the offset from real time).
    #[serde(default)]
    pub clock_command: Option<String>,
    /// The libfaketime preload library (default: Debian's, from the `faketime` package).
    #[serde(default)]
    pub faketime_lib: Option<PathBuf>,
    /// Whether libfaketime also fakes the monotonic clock: `auto` (default: real for Node-family
    /// programs, whose timers stall after a jump; faked for the rest, since Python's `time.sleep`
    /// fails with a real monotonic and a faked wall clock), `real` or `faked`.
    #[serde(default)]
    pub faketime_monotonic: MonotonicMode,
    /// Commands run to completion, in order, before the backend starts (migrate or seed a
    /// database), with the backend's working directory and templated environment.
    #[serde(default)]
    pub setup: Vec<CommandSpec>,
    /// How long each setup command may take (default 120 s).
    #[serde(default = "default_setup_timeout")]
    pub setup_timeout_secs: u64,
    /// The directory relative paths resolve against: the profile file's directory (set when a
    /// profile is read from a file; None for a profile given as text: the current directory).
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// How the backend's clock runs.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// Real time; only `clock_command` (if any) can move it.
    #[default]
    Real,
    /// libfaketime with a control file.
    Faketime,
}

/// Whether libfaketime fakes the monotonic clock too (`FAKETIME_DONT_FAKE_MONOTONIC`).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MonotonicMode {
    /// Real for Node-family programs, faked otherwise.
    #[default]
    Auto,
    /// `FAKETIME_DONT_FAKE_MONOTONIC=1`: only the wall clock jumps.
    Real,
    /// Both clocks jump.
    Faked,
}

/// How to start a backend.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum CommandSpec {
    Argv(Vec<String>),
    Shell(String),
}

/// Where the fake WeChat listens and which app the run uses.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FakeSection {
    /// Default `127.0.0.1:0` (an ephemeral port handed to the backend through templating).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// A fixed appid (default: a fresh one per run).
    #[serde(default)]
    pub appid: Option<String>,
    /// A fixed appsecret (default: a fresh one per run).
    #[serde(default)]
    pub secret: Option<String>,
    /// Also answer as `https://api.weixin.qq.com` (a proxy and trust handed to the started
    /// backend, plus the Node preload), for a backend that hard-codes WeChat's URL.
    #[serde(default)]
    pub impersonate: bool,
    /// Keep the impersonation CA here (created on first use) instead of a fresh one per run,
    /// for trust stores built once (Java's). Relative to the directory wxmock runs in.
    #[serde(default)]
    pub ca_dir: Option<PathBuf>,
}

impl Default for FakeSection {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            appid: None,
            secret: None,
            impersonate: false,
            ca_dir: None,
        }
    }
}

/// How the backend says "rejected", as written. The shorthand fields (`statuses`, `pointer` with
/// `values` / `success_values`) and the `rules` list all become rules: any one matching means
/// rejected.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RejectedSection {
    /// HTTP statuses that mean rejected (default 401 and 403).
    #[serde(default = "default_rejected_statuses")]
    pub statuses: Vec<u16>,
    /// A JSON pointer into the answer body (e.g. `/code`).
    #[serde(default)]
    pub pointer: Option<String>,
    /// Rejected when the value at `pointer` equals one of these (compared as text: 10200 = "10200").
    #[serde(default)]
    pub values: Vec<Value>,
    /// Rejected when the value at `pointer` is present and NOT one of these (e.g. `[0]`).
    #[serde(default)]
    pub success_values: Vec<Value>,
    /// More rules, any of which means rejected (`[[rejected.rules]]`).
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// An explicit success rule: a 2xx answer is accepted only when it matches.
    #[serde(default)]
    pub success: Option<Rule>,
}

impl Default for RejectedSection {
    fn default() -> Self {
        Self {
            statuses: default_rejected_statuses(),
            pointer: None,
            values: vec![],
            success_values: vec![],
            rules: vec![],
            success: None,
        }
    }
}

/// What the harness knows about the backend's JWTs.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSection {
    /// The HMAC signing secret (unlocks minting expired and near-expiry tokens).
    #[serde(default)]
    pub secret: Option<String>,
    /// The longest token lifetime (exp - iat) the team accepts (default 7 days).
    #[serde(default = "default_max_lifetime")]
    pub max_lifetime_secs: u64,
    /// Clock leeway the backend may allow on exp (default 30 s).
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
}

impl Default for JwtSection {
    fn default() -> Self {
        Self {
            secret: None,
            max_lifetime_secs: default_max_lifetime(),
            leeway_secs: default_leeway(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// The backend must answer within this when WeChat hangs (default 5 s).
    #[serde(default = "default_upstream_timeout")]
    pub upstream_timeout_secs: u64,
    /// Client timeout of every other request to the backend (default 15 s).
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            upstream_timeout_secs: default_upstream_timeout(),
            request_timeout_secs: default_request_timeout(),
        }
    }
}

fn default_ready_timeout() -> u64 {
    30
}
fn default_setup_timeout() -> u64 {
    120
}
fn default_listen() -> String {
    "127.0.0.1:0".into()
}
fn default_rejected_statuses() -> Vec<u16> {
    vec![401, 403]
}
fn default_max_lifetime() -> u64 {
    7 * 24 * 3600
}
fn default_leeway() -> u64 {
    30
}
fn default_upstream_timeout() -> u64 {
    5
}
fn default_request_timeout() -> u64 {
    15
}

impl BackendSection {
    /// The working directory of the backend and its setup commands: `cwd` resolved against the
    /// profile's directory, or that directory itself (the current directory for a profile given
    /// as text).
    pub fn working_dir(&self) -> Option<PathBuf> {
        match (&self.cwd, &self.base_dir) {
            (Some(c), _) if c.is_absolute() => Some(c.clone()),
            (Some(c), Some(base)) => Some(base.join(c)),
            (Some(c), None) => Some(c.clone()),
            (None, base) => base.clone(),
        }
    }

    /// Where a relative program that names a file (`./server.sh`, `bin/start`) is looked for:
    /// the working directory. A bare name (`node`) is looked up on PATH.
    pub fn resolve_program(&self, program: &str) -> PathBuf {
        let p = Path::new(program);
        match self.working_dir() {
            Some(dir) if p.is_relative() && program.contains('/') => dir.join(p),
            _ => p.to_path_buf(),
        }
    }
}
