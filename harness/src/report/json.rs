//! The JSON report: `RunReport` serialised as is (a stable, documented shape).

use super::RunReport;

/// The report as pretty-printed JSON.
pub fn render(report: &RunReport) -> String {
    // Serialising plain data with string keys cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
