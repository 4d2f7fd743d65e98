//! Live progress on the terminal: one line per case with its status and rule, its INFO
//! findings and the failure evidence summarised under it, and a closing summary.

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
            Event::BackendWaiting { url, timeout_secs } => {
                writeln!(
                    self.out,
                    "wxmock: waiting for backend ({timeout_secs} s) at {}",
                    escape(url)
                )?;
            }
            Event::BackendReady { waited_ms } => {
                writeln!(
                    self.out,
                    "wxmock: backend ready after {:.1} s",
                    *waited_ms as f64 / 1000.0
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
                    escape(&case.rule),
                    case.duration_ms
                )?;
                if let Some(reason) = case.reason.as_deref().map(escape) {
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
                for finding in &case.info {
                    writeln!(self.out, "        info: {}", escape(&finding.text))?;
                }
                for e in case.evidence.iter().take(self.evidence_lines) {
                    writeln!(
                        self.out,
                        "          - {}",
                        escape(&crate::exchange::truncate(&e.summary(), 240))
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
                        "        now passing (listed as an expected failure by {})",
                        case.listed_by_text()
                    )?;
                }
            }
            Event::RunFinished { report } => {
                let s = &report.summary;
                writeln!(
                    self.out,
                    "\n{}: {} passed, {} failed, {} skipped, {} errored ({} expected failures) in {:.1} s (backend start-up {:.1} s, cases {:.1} s), seed {}",
                    cases(s.total),
                    s.passed,
                    s.failed,
                    s.skipped,
                    s.errored,
                    s.expected_failures,
                    s.duration_ms as f64 / 1000.0,
                    report.backend_startup_ms as f64 / 1000.0,
                    report.cases_ms() as f64 / 1000.0,
                    report.seed
                )?;
                for w in &report.warnings {
                    writeln!(self.out, "warning: {}", escape(w))?;
                }
                if s.info_findings > 0 {
                    let with: Vec<&str> = report
                        .cases
                        .iter()
                        .filter(|c| !c.info.is_empty())
                        .map(|c| c.id.as_str())
                        .collect();
                    writeln!(
                        self.out,
                        "{} INFO finding(s) in {}: observations, not failures",
                        s.info_findings,
                        with.join(", ")
                    )?;
                }
                if let Some(i) = &report.interrupted {
                    writeln!(self.out, "{}", i.line())?;
                }
                if !s.now_passing.is_empty() {
                    writeln!(
                        self.out,
                        "now passing, remove from the expected-failures file: {}",
                        s.now_passing.join(", ")
                    )?;
                }
                if report.interrupted.is_some() && s.unexpected_failures.is_empty() {
                    writeln!(self.out, "result: not judged: the run did not finish")?;
                } else if s.conforms {
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

/// What a backend sent, made safe for a terminal and a CI log: control characters and other
/// non-printables (an escape sequence, a NUL, a unit separator) are written as `\x1f`,
/// `\u{200b}`-style escapes, so a log stays text and cannot move the cursor or recolour output.
/// Printable Unicode (Chinese nicknames, emoji) is kept.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if c.is_ascii_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || is_invisible(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// Format characters that print nothing yet change what a reader sees (zero-width spaces,
/// bidirectional overrides, the byte-order mark).
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// "1 case", "34 cases".
fn cases(n: usize) -> String {
    if n == 1 {
        "1 case".to_owned()
    } else {
        format!("{n} cases")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_printable_text_is_kept() {
        assert_eq!(escape("a\u{1f}b"), "a\\x1fb");
        assert_eq!(escape("\u{1b}[31mred"), "\\x1b[31mred");
        assert_eq!(escape("nul\0 tab\t nl\n"), "nul\\x00 tab\\x09 nl\\x0a");
        assert_eq!(escape("del\u{7f} c1\u{85}"), "del\\x7f c1\\u{85}");
        assert_eq!(
            escape("zero\u{200b}width \u{202e}rtl"),
            "zero\\u{200b}width \\u{202e}rtl"
        );
        assert_eq!(escape("微信用户 😀 \\/ \"q\""), "微信用户 😀 \\/ \"q\"");
    }
}
