//! The ways `discover` reaches a backend: one already running at a URL (pointed at the fake by
//! its operator), a command started with the fake's address, appid and secret in its
//! environment, as the harness's worked examples do (and started again under libfaketime to see
//! whether its clock can be moved), or an in-process launcher (tests, `wxmock demo`).

use std::time::Duration;

use crate::backend::{wait_ready, BackendProcess};
use crate::clock::BackendClock;
use crate::error::HarnessError;
use crate::profile::CommandSpec;
use crate::runner::{FakeInfo, LaunchedBackend, Launcher};

/// How long a started command may take to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The backend `discover` probes.
pub enum Target {
    /// A backend already running here, configured with the fake's fixed address and app.
    Url(String),
    /// `sh -c COMMAND` on a free port, its environment carrying `WX_API_BASE`, `WX_APPID`,
    /// `WX_SECRET`, `PORT` and `LISTEN` plus `env`; ready when `http://127.0.0.1:PORT/`
    /// answers (below HTTP 500).
    Command {
        command: String,
        env: Vec<(String, String)>,
    },
    /// A backend started by the caller's code.
    Launcher(Launcher),
}

impl Target {
    /// A backend `discover` starts with `sh -c command`.
    pub fn command(command: impl Into<String>, env: Vec<(String, String)>) -> Self {
        Target::Command {
            command: command.into(),
            env,
        }
    }
}

/// A command started by `discover`: its URL, its process (stopped with its whole process group
/// on drop) and, under libfaketime, the clock that moves it.
pub(super) struct Started {
    pub base_url: String,
    pub process: BackendProcess,
    pub clock: Option<BackendClock>,
}

/// The environment a started command gets: the fake, a port, and `extra`.
fn environment(fake: &FakeInfo, port: u16, extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut env = vec![
        ("WX_API_BASE".to_string(), fake.base_url.clone()),
        ("WX_APPID".to_string(), fake.appid.clone()),
        ("WX_SECRET".to_string(), fake.secret.clone()),
        ("PORT".to_string(), port.to_string()),
        ("LISTEN".to_string(), format!("127.0.0.1:{port}")),
    ];
    env.extend(extra.iter().cloned());
    env
}

/// How a command is started under libfaketime.
pub(super) struct Faketime<'a> {
    pub lib: &'a std::path::Path,
    pub real_monotonic: bool,
    /// The backend's offset from real time from its first reading of the clock.
    pub offset_secs: i64,
}

/// Starts `command` and waits until it answers; with `faketime`, under libfaketime.
pub(super) async fn start_command(
    command: &str,
    extra: &[(String, String)],
    fake: &FakeInfo,
    faketime: Option<Faketime<'_>>,
) -> Result<Started, HarnessError> {
    let port = crate::backend::free_port()?;
    let mut env = environment(fake, port, extra);
    let clock = match faketime {
        Some(f) => {
            let mut clock = crate::clock::faketime_preload(f.lib, f.real_monotonic, &mut env)?;
            clock
                .set_offset(f.offset_secs)
                .await
                .map_err(|e| HarnessError::Internal(e.to_string()))?;
            Some(clock)
        }
        None => None,
    };
    let mut process = BackendProcess::spawn(&CommandSpec::Shell(command.into()), None, &env)?;
    let base_url = format!("http://127.0.0.1:{port}");
    if let Err(e) = wait_ready(&format!("{base_url}/"), READY_TIMEOUT, Some(&mut process)).await {
        let _ = process.stop().await;
        return Err(e);
    }
    Ok(Started {
        base_url,
        process,
        clock,
    })
}

/// What keeps the backend running while it is probed.
pub(super) enum Guard {
    /// A command discover started: stopped with its whole process group.
    Process(Box<BackendProcess>),
    /// Whatever a launcher returned (nothing for a URL), dropped at the end.
    Other(#[allow(dead_code)] Box<dyn Send>),
}

impl Guard {
    /// Stops a started command (TERM, then KILL after a grace period) and waits for it.
    pub async fn stop(self) {
        if let Guard::Process(p) = self {
            let _ = p.stop().await;
        }
    }
}

/// Reaches the backend: the guard it returns keeps a started one running.
pub(super) async fn reach(target: Target, fake: FakeInfo) -> Result<(String, Guard), HarnessError> {
    match target {
        Target::Url(url) => Ok((
            url.trim_end_matches('/').to_string(),
            Guard::Other(Box::new(())),
        )),
        Target::Command { command, env } => {
            let started = start_command(&command, &env, &fake, None).await?;
            Ok((started.base_url, Guard::Process(Box::new(started.process))))
        }
        Target::Launcher(launcher) => {
            let LaunchedBackend {
                base_url, guard, ..
            } = launcher(fake).await?;
            Ok((
                base_url.trim_end_matches('/').to_string(),
                Guard::Other(Box::new(guard)),
            ))
        }
    }
}
