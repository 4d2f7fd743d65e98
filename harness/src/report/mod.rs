//! Reports: the run's result as plain data (`RunReport`), the events the runner emits while it
//! works, and the reporters that consume them (terminal live progress, JSON, JUnit, HTML), in the
//! nextest way: the runner never formats anything itself.

pub mod hint;
pub mod html;
pub mod json;
pub mod junit;
pub mod terminal;
pub mod token;

use serde::Serialize;

use crate::case::{Finding, Outcome, Severity};
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
    /// INFO findings: observations that do not change `status` and never fail the run (left
    /// out of the JSON when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub info: Vec<Finding>,
    pub duration_ms: u64,
    /// Listed in the expected-failures file.
    pub expected_failure: bool,
    /// The expected-failures entries (ids or globs) that list it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected_by: Vec<String>,
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
            info: Vec::new(),
            duration_ms,
            expected_failure,
            expected_by: Vec::new(),
        }
    }

    /// The same report with the case's INFO findings.
    pub fn with_info(mut self, info: Vec<Finding>) -> Self {
        self.info = info;
        self
    }

    /// The listing entries, for a progress line: `token.*, token.alg-none`.
    pub fn listed_by_text(&self) -> String {
        self.listed_by().join(", ")
    }

    /// The entries of the expected-failures file that list this case (its own id when the
    /// entries were not recorded).
    fn listed_by(&self) -> Vec<String> {
        if self.expected_by.is_empty() {
            vec![self.id.clone()]
        } else {
            self.expected_by.clone()
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
    /// INFO findings over all cases (observations; they never fail the run).
    pub info_findings: usize,
    /// Failed or errored cases listed in the expected-failures file.
    pub expected_failures: usize,
    /// Entries of the expected-failures file that can go: every case they list passed. A glob
    /// that still lists a failing case is not here, even when some of its cases pass.
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
            info_findings: cases.iter().map(|c| c.info.len()).sum(),
            expected_failures: cases
                .iter()
                .filter(|c| c.expected_failure && matches!(c.status.as_str(), "failed" | "errored"))
                .count(),
            now_passing: removable_entries(cases),
            conforms: unexpected_failures.is_empty(),
            unexpected_failures,
            duration_ms,
        }
    }
}

/// Expected-failures entries all of whose listed cases passed, in file-then-catalogue order.
fn removable_entries(cases: &[CaseReport]) -> Vec<String> {
    let mut entries: Vec<String> = Vec::new();
    for case in cases.iter().filter(|c| c.expected_failure) {
        for entry in case.listed_by() {
            if !entries.contains(&entry) {
                entries.push(entry);
            }
        }
    }
    entries.retain(|entry| {
        cases
            .iter()
            .filter(|c| c.expected_failure && c.listed_by().contains(entry))
            .all(|c| c.status == "passed")
    });
    entries
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
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// How long the backend took to start and answer its readiness probe (0 when it was
    /// already running); `summary.duration_ms` includes it, the cases' own times do not.
    pub backend_startup_ms: u64,
    /// The command that reruns this run (`wxmock check --profile backend.toml`), set by the
    /// caller that knows how it was started; a case's replay line adds `--seed` and `--only`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<String>,
    /// Set when the run ended before its last case (a signal, the run deadline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Interruption>,
}

impl RunReport {
    /// The command that replays one case exactly: `wxmock check --profile P --seed N --only ID`.
    pub fn replay_line(&self, case_id: &str) -> String {
        let base = self
            .replay
            .clone()
            .unwrap_or_else(|| format!("wxmock check --profile {}", self.profile));
        format!("{base} --seed {} --only {case_id}", self.seed)
    }

    /// The time spent in the cases themselves (the sum of their durations).
    pub fn cases_ms(&self) -> u64 {
        self.cases.iter().map(|c| c.duration_ms).sum()
    }
}

/// A run that ended before its last case: why, during which case, and the cases not run (they
/// are also in `cases`, skipped with the reason).
#[derive(Clone, Debug, Serialize)]
pub struct Interruption {
    /// `signal` or `deadline`.
    pub cause: String,
    /// A sentence: "SIGTERM received", "the run deadline of 600 s passed (--deadline-secs)".
    pub reason: String,
    /// The case in progress when it happened, if any (it is among the unfinished).
    pub during: Option<String>,
    /// The ids of the cases that did not finish, in catalogue order.
    pub unfinished: Vec<String>,
}

impl Interruption {
    /// One line for terminals and JUnit: "interrupted: SIGTERM received during login.happy; 30
    /// cases not run".
    pub fn line(&self) -> String {
        let during = self
            .during
            .as_ref()
            .map(|c| format!(" during {c}"))
            .unwrap_or_default();
        format!(
            "run INTERRUPTED: {}{during}; {} case(s) not run: {}",
            self.reason,
            self.unfinished.len(),
            self.unfinished.join(", ")
        )
    }
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
    /// The harness started (or found) the backend and is waiting for it to answer.
    BackendWaiting {
        url: &'a str,
        timeout_secs: u64,
    },
    /// The backend answered its readiness probe.
    BackendReady {
        waited_ms: u64,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, outcome: &Outcome, listed_by: &[&str]) -> CaseReport {
        let mut c = CaseReport::new(
            id,
            Severity::Must,
            "rule",
            outcome,
            0,
            !listed_by.is_empty(),
        );
        c.expected_by = listed_by.iter().map(|s| s.to_string()).collect();
        c
    }

    #[test]
    fn a_glob_that_still_lists_a_failing_case_is_not_removable() {
        let failed = Outcome::failed("still broken");
        let cases = vec![
            case("token.alg-none", &failed, &["token.*"]),
            case("token.missing", &Outcome::Passed, &["token.*"]),
            case("login.happy", &Outcome::Passed, &["login.happy"]),
            case("login.invalid-code", &Outcome::Passed, &[]),
        ];
        let summary = Summary::of(&cases, 0);
        assert_eq!(summary.now_passing, vec!["login.happy".to_string()]);
        assert_eq!(summary.expected_failures, 1);
    }

    #[test]
    fn a_glob_whose_cases_all_pass_is_removable_once() {
        let cases = vec![
            case(
                "token.alg-none",
                &Outcome::Passed,
                &["token.*", "token.alg-none"],
            ),
            case("token.missing", &Outcome::Passed, &["token.*"]),
        ];
        assert_eq!(
            Summary::of(&cases, 0).now_passing,
            vec!["token.*".to_string(), "token.alg-none".to_string()]
        );
    }
}
