//! Reports: the run's result as plain data (`RunReport`), the events the runner emits while it
//! works, and the reporters that consume them (terminal live progress, JSON, JUnit, HTML), in the
//! nextest way: the runner never formats anything itself.

pub mod html;
pub mod json;
pub mod junit;
pub mod terminal;

use serde::Serialize;

use crate::case::{Outcome, Severity};
use crate::exchange::Evidence;

/// One case's result.
#[derive(Clone, Debug, Serialize)]
pub struct CaseReport {
    pub id: String,
    /// `passed`, `failed`, `skipped` or `errored`.
    pub status: String,
    pub severity: Severity,
    pub rule: String,
    pub reason: Option<String>,
    pub evidence: Vec<Evidence>,
    pub duration_ms: u64,
    /// Listed in the expected-failures file.
    pub expected_failure: bool,
}

impl CaseReport {
    pub fn new(
        id: &str,
        severity: Severity,
        rule: &str,
        outcome: &Outcome,
        duration_ms: u64,
        expected_failure: bool,
    ) -> Self {
        Self {
            id: id.into(),
            status: outcome.status().into(),
            severity,
            rule: rule.into(),
            reason: outcome.reason().map(str::to_string),
            evidence: outcome.evidence().to_vec(),
            duration_ms,
            expected_failure,
        }
    }

    /// A failure (or error) that fails the run: MUST/SHOULD, not expected.
    pub fn breaks_run(&self) -> bool {
        matches!(self.status.as_str(), "failed" | "errored")
            && self.severity != Severity::Info
            && !self.expected_failure
    }

    /// Listed as an expected failure but passed: the list can shrink.
    pub fn now_passing(&self) -> bool {
        self.expected_failure && self.status == "passed"
    }
}

/// Counts over a run.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub errored: usize,
    /// Failed or errored cases listed in the expected-failures file.
    pub expected_failures: usize,
    /// Listed cases that passed (remove them from the file).
    pub now_passing: Vec<String>,
    /// MUST/SHOULD failures or errors not expected: each fails the run.
    pub unexpected_failures: Vec<String>,
    pub conforms: bool,
    pub duration_ms: u64,
}

impl Summary {
    pub fn of(cases: &[CaseReport], duration_ms: u64) -> Self {
        let count = |s: &str| cases.iter().filter(|c| c.status == s).count();
        let unexpected_failures: Vec<String> = cases
            .iter()
            .filter(|c| c.breaks_run())
            .map(|c| c.id.clone())
            .collect();
        Summary {
            total: cases.len(),
            passed: count("passed"),
            failed: count("failed"),
            skipped: count("skipped"),
            errored: count("errored"),
            expected_failures: cases
                .iter()
                .filter(|c| c.expected_failure && matches!(c.status.as_str(), "failed" | "errored"))
                .count(),
            now_passing: cases
                .iter()
                .filter(|c| c.now_passing())
                .map(|c| c.id.clone())
                .collect(),
            conforms: unexpected_failures.is_empty(),
            unexpected_failures,
            duration_ms,
        }
    }
}

/// The whole run, as written to the JSON report.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// wxmock's version.
    pub wxmock: String,
    pub seed: u64,
    pub profile: String,
    pub backend_url: String,
    pub summary: Summary,
    pub cases: Vec<CaseReport>,
    /// Warnings about the run itself (unknown ids in the expected-failures file, …).
    pub warnings: Vec<String>,
    /// The tail of the backend's output when the harness started it.
    pub backend_output: Option<String>,
}

/// What the runner tells reporters while it works.
#[derive(Debug)]
pub enum Event<'a> {
    RunStarted {
        seed: u64,
        profile: &'a str,
        backend_url: &'a str,
        fake_url: &'a str,
        total: usize,
    },
    CaseStarted {
        id: &'a str,
        index: usize,
        total: usize,
    },
    CaseFinished {
        case: &'a CaseReport,
        index: usize,
        total: usize,
    },
    RunFinished {
        report: &'a RunReport,
    },
}

/// A consumer of run events.
pub trait Reporter: Send {
    fn on_event(&mut self, event: &Event<'_>);
}

/// Writes every file report asked for.
pub fn write_files(
    report: &RunReport,
    json: Option<&std::path::Path>,
    junit: Option<&std::path::Path>,
    html: Option<&std::path::Path>,
) -> Result<(), crate::error::HarnessError> {
    let write = |path: &std::path::Path, text: String| {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| {
                crate::error::HarnessError::ReportWrite {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        }
        std::fs::write(path, text).map_err(|source| crate::error::HarnessError::ReportWrite {
            path: path.to_path_buf(),
            source,
        })
    };
    if let Some(p) = json {
        write(p, json::render(report))?;
    }
    if let Some(p) = junit {
        write(p, junit::render(report)?)?;
    }
    if let Some(p) = html {
        write(p, html::render(report))?;
    }
    Ok(())
}
