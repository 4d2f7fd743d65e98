//! Live progress on the terminal: one line per case with its status and rule, the failure
//! evidence summarised under it, and a closing summary.

use std::io::Write;

use super::{Event, Reporter};

/// Writes progress lines to any writer (stderr for the CLI, a buffer in tests).
pub struct TerminalReporter<W: Write + Send> {
    out: W,
    /// How many evidence lines to show under a failure.
    pub evidence_lines: usize,
}

impl<W: Write + Send> TerminalReporter<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            evidence_lines: 6,
        }
    }
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> Reporter for TerminalReporter<W> {
    fn on_event(&mut self, event: &Event<'_>) {
        // Progress output is best effort: a closed terminal must not abort the run.
        let _ = self.write_event(event);
    }
}

impl<W: Write + Send> TerminalReporter<W> {
    fn write_event(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        match event {
            Event::RunStarted {
                seed,
                profile,
                backend_url,
                fake_url,
                total,
            } => {
                writeln!(
                    self.out,
                    "wxmock: profile {profile}, backend {backend_url}, fake WeChat {fake_url}"
                )?;
                writeln!(
                    self.out,
                    "running {} with seed {seed} (replay with --seed {seed})",
                    cases(*total)
                )?;
            }
            Event::CaseStarted { .. } => {}
            Event::CaseFinished { case, index, total } => {
                let width = total.to_string().len();
                let label = match (case.status.as_str(), case.expected_failure) {
                    ("passed", true) => "PASS*",
                    ("passed", false) => "PASS",
                    ("failed", true) => "XFAIL",
                    ("failed", false) => "FAIL",
                    ("errored", true) => "XERR",
                    ("errored", false) => "ERROR",
                    _ => "SKIP",
                };
                writeln!(
                    self.out,
                    "[{:>width$}/{total}] {label:<5} {:<6} {:<34} {} ({} ms)",
                    index + 1,
                    case.severity.as_str(),
                    case.id,
                    case.rule,
                    case.duration_ms
                )?;
                if let Some(reason) = &case.reason {
                    writeln!(
                        self.out,
                        "        {}: {reason}",
                        if case.status == "skipped" {
                            "skipped"
                        } else {
                            "why"
                        }
                    )?;
                }
                for e in case.evidence.iter().take(self.evidence_lines) {
                    writeln!(
                        self.out,
                        "          - {}",
                        crate::exchange::truncate(&e.summary(), 240)
                    )?;
                }
                if case.evidence.len() > self.evidence_lines {
                    writeln!(
                        self.out,
                        "          - … {} more in the JSON/HTML report",
                        case.evidence.len() - self.evidence_lines
                    )?;
                }
                if case.now_passing() {
                    writeln!(
                        self.out,
                        "        now passing: remove {} from the expected-failures file",
                        case.id
                    )?;
                }
            }
            Event::RunFinished { report } => {
                let s = &report.summary;
                writeln!(
                    self.out,
                    "\n{}: {} passed, {} failed, {} skipped, {} errored ({} expected failures) in {:.1} s, seed {}",
                    cases(s.total),
                    s.passed,
                    s.failed,
                    s.skipped,
                    s.errored,
                    s.expected_failures,
                    s.duration_ms as f64 / 1000.0,
                    report.seed
                )?;
                for w in &report.warnings {
                    writeln!(self.out, "warning: {w}")?;
                }
                if !s.now_passing.is_empty() {
                    writeln!(
                        self.out,
                        "now passing, remove from the expected-failures file: {}",
                        s.now_passing.join(", ")
                    )?;
                }
                if s.conforms {
                    writeln!(self.out, "result: the backend conforms")?;
                } else {
                    writeln!(
                        self.out,
                        "result: the backend does NOT conform: {}",
                        s.unexpected_failures.join(", ")
                    )?;
                }
            }
        }
        self.out.flush()
    }
}

/// "1 case", "34 cases".
fn cases(n: usize) -> String {
    if n == 1 {
        "1 case".to_owned()
    } else {
        format!("{n} cases")
    }
}
