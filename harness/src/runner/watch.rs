//! Keeping a run truthful when the backend misbehaves: a started backend that exits is seen at
//! the end of the case in progress (which fails with the exit and the end of its output) and is
//! started again; a backend that stops answering is reported once and the cases after it are
//! skipped while it stays silent.

use std::time::Duration;

use super::start::Launch;
use crate::backend::{exit_text, last_lines, BackendProcess};
use crate::case::Outcome;

/// How many lines of the backend's output a failure shows.
const OUTPUT_LINES: usize = 8;

/// The backend under watch.
pub(super) struct Watch {
    launch: Option<Launch>,
    pub process: Option<BackendProcess>,
    ready_url: String,
    /// Why the backend is not answering (None: it is, as far as the run knows).
    down: Option<String>,
    /// Every exit seen, as "the backend exited (status N) during <case>".
    pub exits: Vec<String>,
    client: reqwest::Client,
}

impl Watch {
    pub fn new(launch: Option<Launch>, process: Option<BackendProcess>, ready_url: String) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            // Only fails when the TLS backend cannot initialise; this client has no TLS at all.
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            launch,
            process,
            ready_url,
            down: None,
            exits: vec![],
            client,
        }
    }

    /// Whether the backend answers its readiness URL at all (any status).
    async fn answers(&self) -> bool {
        self.client.get(&self.ready_url).send().await.is_ok()
    }

    /// Before a case: the skip reason while a backend that stopped answering stays silent.
    pub async fn before_case(
        &mut self,
        warnings: &mut Vec<String>,
        case_id: &str,
    ) -> Option<String> {
        let down = self.down.clone()?;
        if self.answers().await {
            warnings.push(format!("the backend answered again before {case_id}"));
            self.down = None;
            return None;
        }
        Some(format!("backend not answering since {down}"))
    }

    /// After a case: turns an exit of the started backend into this case's failure and starts
    /// it again; notices a backend that stopped answering (reported once, in `warnings`).
    /// `lost_connection`: a request of the case got its connection refused, reset or closed
    /// (a case that goes on, or passes, after that still waits for a dying backend's exit).
    pub async fn after_case(
        &mut self,
        case_id: &str,
        outcome: &mut Outcome,
        warnings: &mut Vec<String>,
        lost_connection: bool,
    ) {
        let transport = lost_connection
            || matches!(outcome, Outcome::Errored { reason, .. } if reason.starts_with(TRANSPORT));
        let mut exited = self.process.as_mut().and_then(|p| p.exited());
        if transport && exited.is_none() {
            // A reset connection often arrives a moment before the dying process is reaped: give
            // it a moment to show its exit (polling a foreign process, not waiting for expiry).
            for _ in 0..40 {
                tokio::time::sleep(Duration::from_millis(25)).await;
                exited = self.process.as_mut().and_then(|p| p.exited());
                if exited.is_some() || self.process.is_none() {
                    break;
                }
            }
        }
        if let Some(status) = exited {
            let Some(p) = self.process.take() else {
                return;
            };
            let what = format!(
                "the backend exited ({}) during {case_id}",
                exit_text(status)
            );
            let tail = last_lines(&p.output(), OUTPUT_LINES);
            let evidence = outcome
                .evidence_mut()
                .map(std::mem::take)
                .unwrap_or_default();
            let mut failed = Outcome::failed(format!("{what}; its last output: {tail}"));
            if let Some(e) = failed.evidence_mut() {
                e.extend(evidence);
            }
            *outcome = failed;
            self.exits.push(what.clone());
            let restart = match &self.launch {
                Some(launch) => launch.start().await,
                None => return,
            };
            match restart {
                Ok(p) => {
                    warnings.push(format!("{what}; it was started again"));
                    self.process = Some(p);
                }
                Err(e) => {
                    warnings.push(format!("{what} and could not be started again: {e}"));
                    self.down = Some(format!("{case_id} (it exited and did not start again)"));
                }
            }
            return;
        }
        if transport && self.down.is_none() && !self.answers().await {
            let why = outcome.reason().unwrap_or_default().to_string();
            warnings.push(format!(
                "the backend stopped answering during {case_id} ({why}); cases were skipped while it stayed silent"
            ));
            self.down = Some(case_id.to_string());
        }
    }
}

/// How a transport failure reads in an errored outcome (`CaseError::Backend`'s message).
const TRANSPORT: &str = "request to the backend failed";
