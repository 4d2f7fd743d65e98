//! The JUnit XML report (via quick-junit): one test suite, one test case per catalogue case;
//! failures carry the reason, the evidence summary and the request headers; expected failures
//! and INFO cases are reported as skipped with a note, so CI dashboards agree with the exit
//! code. A case's INFO findings are its `<system-out>` (one `INFO: …` line each), whatever its
//! status. The suite carries `skipped=`, `timestamp`, `<properties>` (seed, wxmock version,
//! profile, backend) and `<system-out>` with the backend's output (secrets already masked by the
//! runner). `harness/tests/junit_schema.rs` validates it against `harness/tests/junit.xsd`, the
//! shape Jenkins and GitLab read.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::RunReport;
use crate::error::HarnessError;
use crate::exchange::Evidence;

pub fn render(report: &RunReport) -> Result<String, HarnessError> {
    let mut junit = Report::new("wxmock");
    let mut suite = TestSuite::new(format!("wxmock conformance: {}", report.profile));
    let mut skipped = 0usize;
    for c in &report.cases {
        let detail = || {
            let mut text = c.reason.clone().unwrap_or_default();
            for e in &c.evidence {
                text.push_str("\n- ");
                text.push_str(&e.summary());
                if let Evidence::Exchange(x) = e {
                    for (name, value) in &x.request_headers {
                        text.push_str(&format!("\n    > {name}: {value}"));
                    }
                }
            }
            text.push_str(&format!("\nreplay: {}", report.replay_line(&c.id)));
            text
        };
        let status = match c.status.as_str() {
            "passed" => TestCaseStatus::success(),
            "skipped" => {
                skipped += 1;
                let mut s = TestCaseStatus::skipped();
                s.set_message(c.reason.clone().unwrap_or_default());
                s
            }
            _ if c.expected_failure || c.severity == crate::case::Severity::Info => {
                skipped += 1;
                let mut s = TestCaseStatus::skipped();
                let why = if c.expected_failure {
                    "expected failure"
                } else {
                    "INFO case"
                };
                s.set_message(format!("{why}: {}", c.reason.clone().unwrap_or_default()));
                s.set_description(detail());
                s
            }
            status => {
                let kind = if status == "errored" {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                };
                let mut s = TestCaseStatus::non_success(kind);
                s.set_message(c.reason.clone().unwrap_or_default());
                s.set_type(c.severity.as_str());
                s.set_description(detail());
                s
            }
        };
        let mut tc = TestCase::new(c.id.clone(), status);
        tc.set_classname(format!(
            "wxmock.{}",
            c.id.split('.').next().unwrap_or("case")
        ));
        tc.set_time(Duration::from_millis(c.duration_ms));
        if !c.info.is_empty() {
            // Observations, whatever the status: the case's own output, which CI dashboards show
            // beside a passing test too.
            let lines: Vec<String> = c.info.iter().map(|f| format!("INFO: {}", f.text)).collect();
            tc.set_system_out(lines.join("\n"));
        }
        suite.add_test_case(tc);
    }
    if let Some(i) = &report.interrupted {
        suite.add_property(quick_junit::Property::new("interrupted", i.reason.as_str()));
        suite.set_system_err(i.line());
    }
    suite.set_time(Duration::from_millis(report.summary.duration_ms));
    suite
        .extra
        .insert("skipped".into(), skipped.to_string().into());
    // Ant's form (no zone; the value is UTC), which every JUnit reader parses.
    let timestamp = report.started_at.trim_end_matches('Z');
    suite.extra.insert("timestamp".into(), timestamp.into());
    suite.add_properties([
        Property::new("seed", report.seed.to_string()),
        Property::new("wxmock.version", report.wxmock.as_str()),
        Property::new("profile", report.profile.as_str()),
        Property::new("backend.url", report.backend_url.as_str()),
        Property::new("backend.startup_ms", report.backend_startup_ms.to_string()),
    ]);
    if let Some(output) = &report.backend_output {
        suite.set_system_out(output.as_str());
    }
    junit.add_test_suite(suite);
    junit
        .to_string()
        .map_err(|e| HarnessError::Internal(format!("cannot write JUnit XML: {e}")))
}
