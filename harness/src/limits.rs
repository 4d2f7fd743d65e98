//! Bounds on what a run keeps, so a backend answering megabytes (a 50 MB body, a 1 MB token)
//! cannot make the harness's memory or its reports grow without end:
//!
//! - each answer's body is read up to [`crate::transport::BODY_READ_LIMIT`] (1 MiB);
//! - each text in a case's evidence (a body, a header, a journal field, the reason) is kept up to
//!   [`EVIDENCE_TEXT_LIMIT`] with a marker saying how much was cut;
//! - a case's evidence is kept up to [`CASE_EVIDENCE_LIMIT`], the whole run's up to
//!   [`RUN_EVIDENCE_LIMIT`]; what is left out is said in a note;
//! - a case keeps up to [`CASE_INFO_LIMIT`] INFO findings, each cut like a reason;
//! - the exchanges kept for the run-level checks (secret leaks, stack traces) keep the first
//!   [`SEEN_BODY_LIMIT`] of each body.

use serde_json::Value;

use crate::case::{Finding, Outcome};
use crate::exchange::{Evidence, Exchange};
use crate::transport::size_text;

/// The most of one text (a body, a header value, a journal field) a report shows: 16 KiB.
pub const EVIDENCE_TEXT_LIMIT: usize = 16 * 1024;
/// The most of a case's reason a report shows: 4 KiB.
pub const REASON_LIMIT: usize = 4 * 1024;
/// The most evidence one case carries (as JSON): 256 KiB.
pub const CASE_EVIDENCE_LIMIT: usize = 256 * 1024;
/// The most evidence a whole run carries (as JSON): 8 MiB.
pub const RUN_EVIDENCE_LIMIT: usize = 8 * 1024 * 1024;
/// The most INFO findings one case keeps: 16 (each cut like a reason).
pub const CASE_INFO_LIMIT: usize = 16;
/// The most of each body kept for the run-level checks: 64 KiB.
pub const SEEN_BODY_LIMIT: usize = 64 * 1024;

/// What is left of the run's evidence budget.
#[derive(Debug)]
pub struct EvidenceBudget {
    left: usize,
}

impl Default for EvidenceBudget {
    fn default() -> Self {
        Self {
            left: RUN_EVIDENCE_LIMIT,
        }
    }
}

impl EvidenceBudget {
    /// A budget of `bytes` (tests use small ones).
    pub fn new(bytes: usize) -> Self {
        Self { left: bytes }
    }
}

/// Cuts `text` to at most `limit` bytes (on a character boundary), saying how much was cut.
pub fn cut_text(text: &mut String, limit: usize) {
    if text.len() <= limit {
        return;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = text.len() - end;
    text.truncate(end);
    text.push_str(&format!("…[{cut} more bytes cut]"));
}

/// Bounds a finished case's outcome: notes bodies the harness read only in part, cuts long texts,
/// and keeps the evidence within the case's and the run's budgets. Run it after redaction, so a
/// secret is never cut in half (and half shown).
pub fn cap_outcome(outcome: &mut Outcome, budget: &mut EvidenceBudget) {
    let (Outcome::Failed { reason, evidence } | Outcome::Errored { reason, evidence }) = outcome
    else {
        if let Outcome::Skipped { reason } = outcome {
            cut_text(reason, REASON_LIMIT);
        }
        return;
    };
    cut_text(reason, REASON_LIMIT);
    let notes: Vec<Evidence> = evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::Exchange(x) => x.body_cut.map(|cut| {
                Evidence::note(format!(
                    "{} {} {}: {}",
                    x.label,
                    x.method,
                    x.url,
                    cut.note()
                ))
            }),
            _ => None,
        })
        .collect();
    let items = notes.into_iter().chain(std::mem::take(evidence));
    let mut case_left = CASE_EVIDENCE_LIMIT.min(budget.left);
    let mut left_out = 0usize;
    for mut item in items {
        cap_item(&mut item);
        let size = serde_json::to_string(&item).map_or(usize::MAX, |s| s.len());
        if size <= case_left {
            case_left -= size;
            budget.left = budget.left.saturating_sub(size);
            evidence.push(item);
        } else {
            left_out += 1;
        }
    }
    if left_out > 0 {
        let why = if budget.left < CASE_EVIDENCE_LIMIT {
            format!(
                "the run's evidence is capped at {}",
                size_text(RUN_EVIDENCE_LIMIT)
            )
        } else {
            format!(
                "a case's evidence is capped at {}",
                size_text(CASE_EVIDENCE_LIMIT)
            )
        };
        evidence.push(Evidence::note(format!(
            "{left_out} more evidence item(s) left out: {why}"
        )));
    }
}

/// Bounds a case's INFO findings: each text is cut like a reason, and past
/// [`CASE_INFO_LIMIT`] the rest are left out with a finding saying how many.
pub fn cap_info(info: &mut Vec<Finding>) {
    if info.len() > CASE_INFO_LIMIT {
        let left_out = info.len() - (CASE_INFO_LIMIT - 1);
        info.truncate(CASE_INFO_LIMIT - 1);
        info.push(Finding::new(format!(
            "{left_out} more INFO finding(s) left out: a case keeps {CASE_INFO_LIMIT}"
        )));
    }
    for finding in info.iter_mut() {
        cut_text(&mut finding.text, REASON_LIMIT);
    }
}

/// Cuts every text of one evidence item to [`EVIDENCE_TEXT_LIMIT`].
fn cap_item(item: &mut Evidence) {
    match item {
        Evidence::Exchange(x) => {
            cut_text(&mut x.url, EVIDENCE_TEXT_LIMIT);
            for (_, v) in x.request_headers.iter_mut() {
                cut_text(v, EVIDENCE_TEXT_LIMIT);
            }
            if let Some(b) = x.request_body.as_mut() {
                cut_text(b, EVIDENCE_TEXT_LIMIT);
            }
            if let Some(e) = x.error.as_mut() {
                cut_text(e, EVIDENCE_TEXT_LIMIT);
            }
            if let Some(r) = x.response.as_mut() {
                for (_, v) in r.headers.iter_mut() {
                    cut_text(v, EVIDENCE_TEXT_LIMIT);
                }
                if r.body.len() > EVIDENCE_TEXT_LIMIT {
                    cut_text(&mut r.body, EVIDENCE_TEXT_LIMIT);
                    r.json = None;
                }
            }
        }
        Evidence::Journal { entry } => cap_value(entry),
        Evidence::Note { text } => cut_text(text, EVIDENCE_TEXT_LIMIT),
    }
}

fn cap_value(v: &mut Value) {
    match v {
        Value::String(s) => cut_text(s, EVIDENCE_TEXT_LIMIT),
        Value::Array(a) => a.iter_mut().for_each(cap_value),
        Value::Object(o) => o.values_mut().for_each(cap_value),
        _ => {}
    }
}

/// The form of an exchange kept for the run-level checks: each body's first [`SEEN_BODY_LIMIT`].
pub fn for_seen(mut x: Exchange) -> Exchange {
    if let Some(b) = x.request_body.as_mut() {
        cut_text(b, SEEN_BODY_LIMIT);
    }
    if let Some(r) = x.response.as_mut() {
        if r.body.len() > SEEN_BODY_LIMIT {
            cut_text(&mut r.body, SEEN_BODY_LIMIT);
            r.json = None;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::Response;

    fn exchange(body: String) -> Exchange {
        Exchange {
            label: "login".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:1/api/login".into(),
            request_headers: vec![],
            request_body: None,
            response: Some(Response {
                status: 200,
                headers: vec![],
                body,
                json: None,
            }),
            error: None,
            failure: None,
            body_cut: Some(crate::transport::Cut {
                kept: 1024 * 1024,
                announced: None,
            }),
            duration_ms: 1,
        }
    }

    #[test]
    fn a_long_text_is_cut_on_a_character_boundary_with_a_marker() {
        let mut s = "é".repeat(10);
        cut_text(&mut s, 5);
        assert_eq!(s, "éé…[16 more bytes cut]");
        let mut short = "abc".to_string();
        cut_text(&mut short, 5);
        assert_eq!(short, "abc");
    }

    #[test]
    fn a_case_keeps_its_evidence_within_the_case_limit_and_notes_the_cut_body() {
        let mut outcome = Outcome::failed("x".repeat(REASON_LIMIT * 3));
        for _ in 0..40 {
            outcome = outcome.with_evidence(Evidence::Exchange(exchange("a".repeat(1 << 20))));
        }
        let mut budget = EvidenceBudget::default();
        cap_outcome(&mut outcome, &mut budget);
        let size = serde_json::to_string(&outcome).expect("json").len();
        assert!(size < CASE_EVIDENCE_LIMIT + 2 * REASON_LIMIT, "{size}");
        let text = serde_json::to_string(&outcome.evidence()).expect("json");
        assert!(
            text.contains("the harness reads: it was cut there"),
            "the read cut is noted"
        );
        assert!(
            text.contains("more bytes cut]"),
            "the evidence cut is marked"
        );
        assert!(
            text.contains("more evidence item(s) left out"),
            "{}",
            &text[text.len() - 300..]
        );
        assert!(outcome.reason().unwrap_or_default().len() < REASON_LIMIT + 64);
    }

    #[test]
    fn the_run_budget_runs_out_and_later_cases_say_so() {
        let mut budget = EvidenceBudget::new(40 * 1024);
        let mut last = String::new();
        for _ in 0..4 {
            let mut outcome = Outcome::failed("no")
                .with_evidence(Evidence::Exchange(exchange("b".repeat(30_000))));
            cap_outcome(&mut outcome, &mut budget);
            last = serde_json::to_string(&outcome.evidence()).expect("json");
        }
        assert!(last.contains("the run's evidence is capped"), "{last}");
    }

    #[test]
    fn a_case_keeps_sixteen_info_findings_each_cut_like_a_reason() {
        let mut info: Vec<Finding> = (0..40).map(|i| Finding::new(format!("seen {i}"))).collect();
        info[0].text = "x".repeat(REASON_LIMIT * 2);
        cap_info(&mut info);
        assert_eq!(info.len(), CASE_INFO_LIMIT);
        assert!(info[0].text.len() < REASON_LIMIT + 64);
        assert_eq!(info[1].text, "seen 1");
        assert_eq!(
            info[CASE_INFO_LIMIT - 1].text,
            "25 more INFO finding(s) left out: a case keeps 16"
        );
    }
}
