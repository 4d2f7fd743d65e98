//! Starting the backend the profile describes: a free port when a field mentions `{{port}}`,
//! the setup commands run to completion, then the command started in its working directory
//! with the templated environment — remembered, so the watch can start it again if it exits.

use std::path::PathBuf;
use std::time::Duration;

use crate::backend::{free_port, run_setup, wait_ready, BackendProcess};
use crate::clock::BackendClock;
use crate::error::HarnessError;
use crate::impersonate::Impersonation;
use crate::output::OutputScan;
use crate::profile::{ClockMode, CommandSpec, Profile, Vars};

/// How to start the backend (again): the rendered command, its directory and environment,
/// and where and how long to wait for it.
#[derive(Clone, Debug)]
pub(super) struct Launch {
    pub spec: CommandSpec,
    pub cwd: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    pub ready_url: String,
    pub ready_timeout: Duration,
    /// Where every byte of its output goes, for robust.no-secret-in-logs (shared by restarts).
    pub scan: Option<OutputScan>,
}

impl Launch {
    /// Starts the process and waits until it answers; the process is stopped on failure.
    pub async fn start(&self) -> Result<BackendProcess, HarnessError> {
        let mut p = BackendProcess::spawn_scanned(
            &self.spec,
            self.cwd.as_deref(),
            &self.env,
            self.scan.clone(),
        )?;
        if let Err(e) = wait_ready(&self.ready_url, self.ready_timeout, Some(&mut p)).await {
            let _ = p.stop().await;
            return Err(e);
        }
        Ok(p)
    }
}

/// The backend's base URL and, when the profile has a command, how to start it. Setup commands
/// have run when this returns.
pub(super) async fn prepare(
    profile: &Profile,
    vars: &mut Vars,
    impersonation: Option<&Impersonation>,
    clock: &mut BackendClock,
) -> Result<(String, Option<Launch>), HarnessError> {
    let b = &profile.backend;
    let specs = b.command.iter().chain(&b.setup);
    let mentions_port = b.base_url.iter().any(|u| u.contains("{{port}}"))
        || b.env.values().any(|v| v.contains("{{port}}"))
        || specs.clone().any(|spec| match spec {
            CommandSpec::Argv(a) => a.iter().any(|x| x.contains("{{port}}")),
            CommandSpec::Shell(s) => s.contains("{{port}}"),
        });
    if mentions_port {
        vars.port = Some(free_port()?);
    }
    // Validation guarantees a base_url.
    let base_url = vars.render(b.base_url.as_deref().unwrap_or_default());
    let mut env: Vec<(String, String)> = b
        .env
        .iter()
        .map(|(k, v)| (k.clone(), vars.render(v)))
        .collect();
    if let Some(impersonation) = impersonation {
        impersonation.apply(&mut env);
    }
    let render = |spec: &CommandSpec| match spec {
        CommandSpec::Argv(a) => CommandSpec::Argv(a.iter().map(|x| vars.render(x)).collect()),
        CommandSpec::Shell(s) => CommandSpec::Shell(vars.render(s)),
    };
    let cwd = b.working_dir();
    let setup_timeout = Duration::from_secs(b.setup_timeout_secs);
    for spec in &b.setup {
        run_setup(&render(spec), cwd.as_deref(), &env, setup_timeout).await?;
    }
    let ready = ready_url(profile, vars, &base_url);
    let mut launch = None;
    if let Some(spec) = &b.command {
        let spec = render(spec);
        if b.clock == ClockMode::Faketime {
            *clock = crate::clock::faketime_env(b, &spec, &mut env)?;
        }
        launch = Some(Launch {
            spec,
            cwd: cwd.clone(),
            env: env.clone(),
            ready_url: ready,
            ready_timeout: Duration::from_secs(b.ready_timeout_secs),
            scan: None,
        });
    }
    if let Some(template) = &b.clock_command {
        *clock = BackendClock::command(vars.render(template), cwd.clone());
    }
    Ok((base_url, launch))
}

/// Where the backend is polled for readiness (its `ready_url`, or its base URL).
pub(super) fn ready_url(profile: &Profile, vars: &Vars, base_url: &str) -> String {
    match &profile.backend.ready_url {
        Some(u) if u.starts_with('/') => {
            format!("{}{}", base_url.trim_end_matches('/'), vars.render(u))
        }
        Some(u) => vars.render(u),
        None => base_url.to_string(),
    }
}
