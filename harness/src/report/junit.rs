//! The JUnit XML report (via quick-junit): one test suite, one test case per catalogue case;
//! failures carry the reason and the evidence summary; expected failures are reported as passing
//! with a note, so CI dashboards agree with the exit code.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::RunReport;
use crate::error::HarnessError;

pub fn render(report: &RunReport) -> Result<String, HarnessError> {
    let mut junit = Report::new("wxmock");
    let mut suite = TestSuite::new(format!("wxmock conformance: {}", report.profile));
    for c in &report.cases {
        let detail = || {
            let mut text = c.reason.clone().unwrap_or_default();
            for e in &c.evidence {
                text.push_str("\n- ");
                text.push_str(&e.summary());
            }
            text
        };
        let status = match c.status.as_str() {
            "passed" => TestCaseStatus::success(),
            "skipped" => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(c.reason.clone().unwrap_or_default());
                s
            }
            _ if c.expected_failure || c.severity == crate::case::Severity::Info => {
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
        suite.add_test_case(tc);
    }
    suite.set_time(Duration::from_millis(report.summary.duration_ms));
    junit.add_test_suite(suite);
    junit
        .to_string()
        .map_err(|e| HarnessError::Internal(format!("cannot write JUnit XML: {e}")))
}
