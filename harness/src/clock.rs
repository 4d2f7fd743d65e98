//! The backend's clock, which cases move instead of sleeping: token and session expiry are judged
//! by setting the backend's "now" past a deadline. One [`BackendClock`], several ways to move it:
//!
//! - **libfaketime** (`[backend] clock = "faketime"`), for a backend the harness starts: the
//!   command runs with Debian's `libfaketime` preloaded and reading a control file
//!   (`FAKETIME_TIMESTAMP_FILE`, re-read on every call with `FAKETIME_NO_CACHE=1`) that holds the
//!   offset from real time; moving the clock rewrites the file.
//! - **a command** (`[backend] clock_command`), for a backend the harness does not start: a shell
//!   command templated with `{{advance_secs}}` (the signed step) and `{{offset_secs}}` (the new
//!   offset from real time), e.g. `ssh box date -s @…` or a call to the backend's own test hook.
//! - **a hook**, for a backend started in-process by a Rust launcher (`wxmock demo`, tests).
//!
//! The fake's own clock is separate (the control API moves it); a case that needs both moves both.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{CaseError, HarnessError};
use crate::profile::{BackendSection, CommandSpec, MonotonicMode};

/// Where Debian's `faketime` package puts the preload library.
pub const DEBIAN_FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// How long a `clock_command` may run before the move counts as failed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// A callback that sets an in-process backend's offset from real time, in seconds.
pub type ClockHook = Arc<dyn Fn(i64) + Send + Sync>;

enum Mover {
    /// The backend's clock cannot be moved.
    Fixed,
    Faketime {
        file: PathBuf,
    },
    Command {
        template: String,
        cwd: Option<PathBuf>,
    },
    Hook(ClockHook),
}

/// The backend's clock: an offset from real time, and the way to apply it.
pub struct BackendClock {
    mover: Mover,
    offset: i64,
}

impl std::fmt::Debug for BackendClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendClock")
            .field("how", &self.how())
            .field("offset", &self.offset)
            .finish()
    }
}

impl Default for BackendClock {
    fn default() -> Self {
        Self::fixed()
    }
}

/// Seconds since the Unix epoch on the harness's own clock.
pub fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl BackendClock {
    /// A clock the harness cannot move (cases that need one are skipped with the reason).
    pub fn fixed() -> Self {
        Self {
            mover: Mover::Fixed,
            offset: 0,
        }
    }

    /// A libfaketime control file, created now with offset 0.
    pub fn faketime(file: PathBuf) -> Result<Self, HarnessError> {
        write_control_file(&file, 0).map_err(|e| {
            HarnessError::Internal(format!(
                "cannot write the faketime control file {}: {e}",
                file.display()
            ))
        })?;
        Ok(Self {
            mover: Mover::Faketime { file },
            offset: 0,
        })
    }

    /// A `clock_command` template (run with `sh -c`, in `cwd`).
    pub fn command(template: impl Into<String>, cwd: Option<PathBuf>) -> Self {
        Self {
            mover: Mover::Command {
                template: template.into(),
                cwd,
            },
            offset: 0,
        }
    }

    /// A callback for a backend running in the harness's process.
    pub fn hook(hook: ClockHook) -> Self {
        Self {
            mover: Mover::Hook(hook),
            offset: 0,
        }
    }

    /// Whether cases can move this clock.
    pub fn can_move(&self) -> bool {
        !matches!(self.mover, Mover::Fixed)
    }

    /// How the clock moves, for reports.
    pub fn how(&self) -> &'static str {
        match self.mover {
            Mover::Fixed => "fixed",
            Mover::Faketime { .. } => "libfaketime",
            Mover::Command { .. } => "clock_command",
            Mover::Hook(_) => "in-process hook",
        }
    }

    /// Why time travel is impossible, for skip reasons.
    pub fn why_fixed() -> &'static str {
        "the backend's clock cannot be moved: set `[backend] clock = \"faketime\"` (a backend the harness starts) or `clock_command` (one it does not)"
    }

    /// The backend's offset from real time, in seconds.
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// The backend's "now": real time plus the offset.
    pub fn backend_now(&self) -> i64 {
        real_now() + self.offset
    }

    /// Moves the backend's clock by `secs` (negative: back).
    pub async fn advance(&mut self, secs: i64) -> Result<(), CaseError> {
        self.set_offset(self.offset + secs).await
    }

    /// Sets the backend's offset from real time.
    pub async fn set_offset(&mut self, offset: i64) -> Result<(), CaseError> {
        let step = offset - self.offset;
        match &self.mover {
            Mover::Fixed => return Err(CaseError::Other(Self::why_fixed().into())),
            Mover::Faketime { file } => write_control_file(file, offset).map_err(|e| {
                CaseError::Other(format!(
                    "cannot move the backend's clock (faketime control file {}): {e}",
                    file.display()
                ))
            })?,
            Mover::Command { template, cwd } => {
                run_clock_command(template, cwd.as_deref(), step, offset).await?
            }
            Mover::Hook(hook) => hook(offset),
        }
        self.offset = offset;
        Ok(())
    }

    /// Back to real time (the runner does it after every case).
    pub async fn reset(&mut self) -> Result<(), CaseError> {
        if self.offset == 0 || !self.can_move() {
            return Ok(());
        }
        self.set_offset(0).await
    }
}

impl Drop for BackendClock {
    fn drop(&mut self) {
        if let Mover::Faketime { file } = &self.mover {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// libfaketime's relative format: `+86400` / `-30` seconds from real time. Written to a sibling
/// and renamed, so a backend never reads half a file.
fn write_control_file(file: &Path, offset: i64) -> std::io::Result<()> {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, format!("{offset:+}\n"))?;
    std::fs::rename(&tmp, file)
}

/// `{{advance_secs}}` and `{{offset_secs}}` in a clock command.
pub fn render_clock_command(template: &str, step: i64, offset: i64) -> String {
    template
        .replace("{{advance_secs}}", &step.to_string())
        .replace("{{offset_secs}}", &offset.to_string())
}

async fn run_clock_command(
    template: &str,
    cwd: Option<&Path>,
    step: i64,
    offset: i64,
) -> Result<(), CaseError> {
    let line = render_clock_command(template, step, offset);
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&line)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let out = match tokio::time::timeout(COMMAND_TIMEOUT, cmd.output()).await {
        Err(_) => {
            return Err(CaseError::Other(format!(
                "clock_command `{line}` did not finish within {} s",
                COMMAND_TIMEOUT.as_secs()
            )))
        }
        Ok(Err(e)) => {
            return Err(CaseError::Other(format!(
                "clock_command `{line}` could not run: {e}"
            )))
        }
        Ok(Ok(out)) => out,
    };
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(CaseError::Other(format!(
            "clock_command `{line}` failed with {}: {}",
            out.status,
            crate::exchange::truncate(stderr.trim(), 300)
        )))
    }
}

/// Whether libfaketime should leave the monotonic clock alone for this command: Node's timers
/// stall after a jump of the faked monotonic clock, while Python's `time.sleep` fails (EINVAL)
/// when only the wall clock is faked. `auto` decides by the program's name: Node-family programs
/// get the real monotonic clock, everything else the faked one.
pub fn node_like(program: &str) -> bool {
    let name = Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(program);
    matches!(
        name,
        "node" | "nodejs" | "npm" | "npx" | "yarn" | "pnpm" | "bun" | "deno" | "tsx" | "ts-node"
    ) || name.starts_with("node")
}

/// Preloads libfaketime into the backend's environment with a fresh control file at offset 0,
/// and returns the clock that moves it.
pub fn faketime_env(
    b: &BackendSection,
    spec: &CommandSpec,
    env: &mut Vec<(String, String)>,
) -> Result<BackendClock, HarnessError> {
    let lib = b
        .faketime_lib
        .clone()
        .unwrap_or_else(|| DEBIAN_FAKETIME_LIB.into());
    if !lib.is_file() {
        return Err(HarnessError::BackendStart(format!(
            "backend.clock = \"faketime\" needs libfaketime, not found at {}: install Debian's `faketime` package (apt-get install faketime) or set backend.faketime_lib",
            lib.display()
        )));
    }
    let node = match spec {
        CommandSpec::Argv(a) => a.first().is_some_and(|p| node_like(p)),
        CommandSpec::Shell(s) => shell_runs_node(s),
    };
    let real_monotonic = match b.faketime_monotonic {
        MonotonicMode::Real => true,
        MonotonicMode::Faked => false,
        MonotonicMode::Auto => node,
    };
    faketime_preload(&lib, real_monotonic, env)
}

/// Whether `auto` counts a shell command line as a Node-family program (any word of it).
pub fn shell_runs_node(line: &str) -> bool {
    line.split_whitespace()
        .any(|w| node_like(w.trim_matches(|c| c == '\'' || c == '"')))
}

/// Sets `LD_PRELOAD` (kept in front of any inherited preload), the control file and, with
/// `real_monotonic`, `FAKETIME_DONT_FAKE_MONOTONIC` in `env`; returns the clock that moves it.
pub fn faketime_preload(
    lib: &Path,
    real_monotonic: bool,
    env: &mut Vec<(String, String)>,
) -> Result<BackendClock, HarnessError> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let file = std::env::temp_dir().join(format!(
        "wxmock-faketime-{}-{nanos:09}.ctl",
        std::process::id()
    ));
    let clock = BackendClock::faketime(file.clone())?;
    let inherited = env
        .iter()
        .find(|(k, _)| k == "LD_PRELOAD")
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var("LD_PRELOAD").ok());
    let preload = match inherited {
        Some(other) if !other.is_empty() => format!("{}:{other}", lib.display()),
        _ => lib.display().to_string(),
    };
    env.retain(|(k, _)| k != "LD_PRELOAD");
    env.push(("LD_PRELOAD".into(), preload));
    env.push(("FAKETIME_TIMESTAMP_FILE".into(), file.display().to_string()));
    env.push(("FAKETIME_NO_CACHE".into(), "1".into()));
    if real_monotonic {
        env.push(("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()));
    }
    Ok(clock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_faketime_control_file_holds_the_offset_from_real_time() {
        let dir = std::env::temp_dir().join(format!("wxmock-clock-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("faketime.ctl");
        let mut clock = BackendClock::faketime(file.clone()).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "+0\n");
        clock.advance(86_400).await.unwrap();
        clock.advance(-30).await.unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "+86370\n");
        assert_eq!(clock.offset(), 86_370);
        clock.set_offset(-5).await.unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "-5\n");
        clock.reset().await.unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "+0\n");
        drop(clock);
        assert!(!file.exists(), "the control file goes with the clock");
        let _ = std::fs::remove_dir(&dir);
    }

    #[tokio::test]
    async fn a_clock_command_gets_the_step_and_the_offset() {
        let dir = std::env::temp_dir().join(format!("wxmock-clock-cmd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut clock = BackendClock::command(
            "echo {{advance_secs}} {{offset_secs}} >> moves.txt",
            Some(dir.clone()),
        );
        clock.advance(100).await.unwrap();
        clock.advance(-40).await.unwrap();
        clock.reset().await.unwrap();
        let moves = std::fs::read_to_string(dir.join("moves.txt")).unwrap();
        assert_eq!(moves, "100 100\n-40 60\n-60 0\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_failing_clock_command_is_an_error_naming_it_and_keeps_the_offset() {
        let mut clock = BackendClock::command("echo nope >&2; exit 3", None);
        let err = clock.advance(10).await.unwrap_err().to_string();
        assert!(err.contains("exit") && err.contains("nope"), "{err}");
        assert_eq!(clock.offset(), 0);
    }

    #[tokio::test]
    async fn a_fixed_clock_refuses_to_move_with_the_way_to_enable_it() {
        let mut clock = BackendClock::fixed();
        assert!(!clock.can_move());
        let err = clock.advance(1).await.unwrap_err().to_string();
        assert!(
            err.contains("faketime") && err.contains("clock_command"),
            "{err}"
        );
        assert!(clock.reset().await.is_ok());
    }

    #[test]
    fn a_shell_line_runs_node_when_any_word_is_a_node_program_quoted_or_not() {
        assert!(shell_runs_node("exec node '/srv/app.js'"));
        assert!(shell_runs_node("cd /srv && exec '/usr/bin/node' app.js"));
        assert!(!shell_runs_node("exec python3 '/srv/app.py'"));
        assert!(!shell_runs_node("./start.sh"));
    }

    #[test]
    fn node_programs_keep_the_real_monotonic_clock() {
        for p in ["node", "/usr/bin/node", "nodejs", "npm", "npx"] {
            assert!(node_like(p), "{p}");
        }
        for p in ["python3", "/usr/bin/python3.11", "java", "cargo", "sh"] {
            assert!(!node_like(p), "{p}");
        }
    }
}
