//! The backend under test when the harness starts it: spawn the profile's command in its own
//! process group (so the whole tree can be stopped), keep the tail of its output for the report
//! (and hand every byte to the run's secret scan), and poll its readiness URL.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::HarnessError;
use crate::output::OutputScan;
use crate::profile::CommandSpec;

/// How much of the backend's output is kept (the tail).
const OUTPUT_LIMIT: usize = 64 * 1024;

/// A running backend process.
pub struct BackendProcess {
    child: tokio::process::Child,
    command: String,
    // A std Mutex: the reader tasks hold it only to append a chunk, never across an await.
    output: Arc<Mutex<Vec<u8>>>,
}

impl BackendProcess {
    /// Spawns the command (argv, or a shell string run with `sh -c`).
    pub fn spawn(
        spec: &CommandSpec,
        cwd: Option<&std::path::Path>,
        env: &[(String, String)],
    ) -> Result<Self, HarnessError> {
        Self::spawn_scanned(spec, cwd, env, None)
    }

    /// [`BackendProcess::spawn`], every byte of the output also fed to `scan`.
    pub fn spawn_scanned(
        spec: &CommandSpec,
        cwd: Option<&std::path::Path>,
        env: &[(String, String)],
        scan: Option<OutputScan>,
    ) -> Result<Self, HarnessError> {
        let mut cmd = command(spec, cwd, env)?;
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let shown = shown(spec);
        let mut child = cmd.spawn().map_err(|source| HarnessError::BackendSpawn {
            command: spawn_context(spec, cwd),
            source,
        })?;
        let output = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            tokio::spawn(collect(out, output.clone(), scan.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(collect(err, output.clone(), scan));
        }
        Ok(Self {
            child,
            command: shown,
            output,
        })
    }

    /// The command line, for messages.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The output so far (stdout and stderr interleaved, the last 64 KiB).
    pub fn output(&self) -> String {
        let buf = self.output.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Whether it has exited, with its status.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops the whole process group (TERM, then KILL after a grace period); returns the output.
    pub async fn stop(mut self) -> String {
        if let Some(pid) = self.child.id() {
            signal_group(pid, "TERM");
            let deadline = Instant::now() + Duration::from_secs(3);
            while self.exited().is_none() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            signal_group(pid, "KILL");
        }
        let _ = self.child.kill().await;
        self.output()
    }
}

impl Drop for BackendProcess {
    fn drop(&mut self) {
        // Stop the children too if the run ended without `stop` (an error path or a panic).
        if let (Some(pid), None) = (self.child.id(), self.child.try_wait().ok().flatten()) {
            signal_group(pid, "KILL");
        }
    }
}

/// The command for a spec (argv, or a shell string run with `sh -c`), in its own process group,
/// with the working directory checked first so an error names the directory it tried.
fn command(
    spec: &CommandSpec,
    cwd: Option<&Path>,
    env: &[(String, String)],
) -> Result<tokio::process::Command, HarnessError> {
    if let Some(dir) = cwd {
        if !dir.is_dir() {
            return Err(HarnessError::BackendStart(format!(
                "the working directory {} does not exist (backend.cwd, relative to the profile's directory)",
                dir.display()
            )));
        }
    }
    let (program, args) = match spec {
        CommandSpec::Argv(argv) => (argv[0].clone(), argv[1..].to_vec()),
        CommandSpec::Shell(s) => ("sh".to_string(), vec!["-c".to_string(), s.clone()]),
    };
    // A relative program that names a file runs from the working directory, whatever the
    // platform's rule for relative programs with a changed directory.
    let program = match cwd {
        Some(dir) if program.contains('/') && Path::new(&program).is_relative() => {
            let path = dir.join(&program);
            if !path.exists() {
                return Err(HarnessError::BackendStart(format!(
                    "the program {} does not exist (`{program}` in the working directory)",
                    path.display()
                )));
            }
            path.display().to_string()
        }
        _ => program,
    };
    let mut cmd = tokio::process::Command::new(&program);
    cmd.args(&args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(std::process::Stdio::null());
    #[cfg(unix)]
    cmd.process_group(0);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    Ok(cmd)
}

fn shown(spec: &CommandSpec) -> String {
    match spec {
        CommandSpec::Argv(argv) => argv.join(" "),
        CommandSpec::Shell(s) => s.clone(),
    }
}

fn spawn_context(spec: &CommandSpec, cwd: Option<&Path>) -> String {
    match cwd {
        Some(dir) => format!("{}` in `{}", shown(spec), dir.display()),
        None => shown(spec),
    }
}

/// Runs a setup command to completion within `timeout`; a non-zero exit is an error carrying
/// the end of its output.
pub async fn run_setup(
    spec: &CommandSpec,
    cwd: Option<&Path>,
    env: &[(String, String)],
    timeout: Duration,
) -> Result<(), HarnessError> {
    let mut cmd = command(spec, cwd, env)?;
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|source| HarnessError::BackendSpawn {
        command: spawn_context(spec, cwd),
        source,
    })?;
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => {
            return Err(HarnessError::BackendStart(format!(
                "setup command `{}` failed: {e}",
                shown(spec)
            )))
        }
        Err(_) => {
            return Err(HarnessError::BackendStart(format!(
                "setup command `{}` did not finish within {} s (backend.setup_timeout_secs)",
                shown(spec),
                timeout.as_secs()
            )))
        }
    };
    if out.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Err(HarnessError::BackendStart(format!(
        "setup command `{}` exited with {}; its last output: {}",
        shown(spec),
        exit_text(out.status),
        last_lines(&text, 8)
    )))
}

/// "status 1", or the signal that ended the process.
pub fn exit_text(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("signal {sig}");
        }
    }
    status.to_string()
}

/// The last `n` non-empty lines of `text`, joined with " | ".
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines.len().saturating_sub(n);
    lines[from..].join(" | ")
}

/// Sends a signal to a process group with `kill(1)` (no libc dependency for one call).
fn signal_group(pid: u32, signal: &str) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{pid}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

async fn collect<R: AsyncRead + Unpin>(
    mut reader: R,
    sink: Arc<Mutex<Vec<u8>>>,
    scan: Option<OutputScan>,
) {
    let mut chunk = [0u8; 4096];
    while let Ok(n) = reader.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        if let Some(scan) = &scan {
            scan.feed(&chunk[..n]);
        }
        if let Ok(mut buf) = sink.lock() {
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > OUTPUT_LIMIT {
                let cut = buf.len() - OUTPUT_LIMIT;
                buf.drain(..cut);
            }
        }
    }
}

/// Polls `url` until it answers with a status below 500, or fails after `timeout`.
/// Polling is the only way to learn when a foreign process is ready; it is not used for expiry.
pub async fn wait_ready(
    url: &str,
    timeout: Duration,
    mut process: Option<&mut BackendProcess>,
) -> Result<(), HarnessError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| HarnessError::Internal(e.to_string()))?;
    let deadline = Instant::now() + timeout;
    loop {
        let last_error = match client.get(url).send().await {
            Ok(r) if r.status().as_u16() < 500 => return Ok(()),
            Ok(r) => format!("HTTP {}", r.status().as_u16()),
            Err(e) => e.to_string(),
        };
        if let Some(p) = process.as_deref_mut() {
            if let Some(status) = p.exited() {
                let out = crate::exchange::truncate(p.output().trim(), 600);
                return Err(HarnessError::BackendStart(format!(
                    "`{}` exited with {status} before {url} answered; its output: {out}",
                    p.command()
                )));
            }
        }
        if Instant::now() >= deadline {
            return Err(HarnessError::BackendNotReady {
                url: url.into(),
                secs: timeout.as_secs(),
                detail: format!(" (last error: {last_error})"),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A free loopback port for `{{port}}` (bound then released; the backend binds it right after).
pub fn free_port() -> Result<u16, HarnessError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| HarnessError::Internal(format!("cannot pick a free port: {e}")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| HarnessError::Internal(e.to_string()))
}
