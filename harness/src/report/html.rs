//! The HTML report: one self-contained page (inline CSS, no scripts, no external assets); every
//! value from the backend is escaped. Failures come first, listed and linked at the top; each
//! failed case has its replay command and a fix hint; INFO findings are listed after the
//! failures and shown in their case's row; each request is labelled with the JWT
//! variant it carried, decoded; long tokens wrap instead of widening the page.

use std::fmt::Write;

use super::{hint, token, CaseReport, RunReport};
use crate::exchange::Evidence;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:100em}\
table{border-collapse:collapse;width:100%;table-layout:fixed}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}\
td,code,pre,li{overflow-wrap:anywhere;word-break:break-word}\
th.id{width:16em}th.sev{width:5em}th.st{width:9em}th.ms{width:4em}\
.passed{color:#1a7f37}.failed{color:#cf222e;font-weight:bold}.errored{color:#9a6700;font-weight:bold}.skipped{color:#777}\
pre{background:#f6f8fa;padding:6px;white-space:pre-wrap;max-height:24em;overflow:auto}\
pre.replay{background:#fff8c5;max-height:none}.hint{background:#ddf4ff;padding:4px 8px}\
.variant{font-family:monospace;background:#ffebe9;padding:0 4px}\
.info{color:#0550ae}p.info{margin:2px 0}\
details{margin:4px 0}.summary span{margin-right:1.5em}ul.failures li{margin:2px 0}";

/// Failures that fail the run first, then the other failures and errors, then the rest, each
/// group in catalogue order.
fn rank(c: &CaseReport) -> u8 {
    match c.status.as_str() {
        _ if c.breaks_run() => 0,
        "failed" | "errored" => 1,
        _ => 2,
    }
}

/// The whole page.
pub fn render(report: &RunReport) -> String {
    let s = &report.summary;
    let mut h = String::new();
    // Writing into a String cannot fail.
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>wxmock conformance: {}</title><style>{STYLE}</style></head><body>\n",
        escape(&report.profile)
    );
    let _ = write!(
        h,
        "<h1>wxmock conformance report</h1>\n<p>profile <b>{}</b>, backend <code>{}</code>, wxmock {}, seed <code>{}</code></p>\n",
        escape(&report.profile),
        escape(&report.backend_url),
        escape(&report.wxmock),
        report.seed
    );
    let verdict = if s.conforms {
        "<b class=\"passed\">conforms</b>"
    } else {
        "<b class=\"failed\">does not conform</b>"
    };
    let _ = writeln!(
        h,
        "<p class=\"summary\"><span>{verdict}</span><span>{} cases</span><span class=\"passed\">{} passed</span><span class=\"failed\">{} failed</span><span class=\"skipped\">{} skipped</span><span class=\"errored\">{} errored</span><span class=\"info\">{} INFO findings</span><span>{} expected failures</span><span>{} ms</span></p>",
        s.total, s.passed, s.failed, s.skipped, s.errored, s.info_findings, s.expected_failures, s.duration_ms
    );
    if let Some(i) = &report.interrupted {
        let _ = writeln!(
            h,
            "<p class=\"failed\" id=\"interrupted\">{}</p>",
            escape(&i.line())
        );
    }
    for w in &report.warnings {
        let _ = writeln!(h, "<p class=\"errored\">warning: {}</p>", escape(w));
    }
    if !s.now_passing.is_empty() {
        let _ = writeln!(
            h,
            "<p>Now passing, remove from the expected-failures file: {}</p>",
            escape(&s.now_passing.join(", "))
        );
    }
    let mut ordered: Vec<&CaseReport> = report.cases.iter().collect();
    ordered.sort_by_key(|c| rank(c));
    let failing: Vec<&CaseReport> = ordered.iter().copied().filter(|c| rank(c) < 2).collect();
    if !failing.is_empty() {
        let _ = writeln!(
            h,
            "<h2>Failures ({})</h2>\n<ul class=\"failures\">",
            failing.len()
        );
        for c in &failing {
            let note = if c.breaks_run() {
                ""
            } else if c.expected_failure {
                " (expected)"
            } else {
                " (INFO)"
            };
            let _ = writeln!(
                h,
                "<li><a href=\"#{id}\"><code>{id}</code></a> <span class=\"{st}\">{st}{note}</span> {}: {}</li>",
                c.severity.as_str(),
                escape(c.reason.as_deref().unwrap_or(&c.rule)),
                id = escape(&c.id),
                st = escape(&c.status),
            );
        }
        h.push_str("</ul>\n");
    }
    if s.info_findings > 0 {
        let _ = writeln!(
            h,
            "<h2>INFO findings ({})</h2>\n<p>Observations that do not change a case's verdict and never fail the run.</p>\n<ul class=\"info\">",
            s.info_findings
        );
        for c in report.cases.iter() {
            for finding in &c.info {
                let _ = writeln!(
                    h,
                    "<li><a href=\"#{id}\"><code>{id}</code></a> ({}): {}</li>",
                    escape(&c.status),
                    escape(&finding.text),
                    id = escape(&c.id),
                );
            }
        }
        h.push_str("</ul>\n");
    }
    h.push_str("<h2>Cases</h2>\n<table>\n<tr><th class=\"id\">case</th><th class=\"sev\">severity</th><th class=\"st\">status</th><th>rule / reason / evidence</th><th class=\"ms\">ms</th></tr>\n");
    for c in ordered {
        let status = if c.expected_failure {
            format!("{} (expected)", c.status)
        } else {
            c.status.clone()
        };
        let _ = write!(
            h,
            "<tr id=\"{id}\"><td><code>{id}</code></td><td>{}</td><td class=\"{}\">{}</td><td>{}",
            c.severity.as_str(),
            escape(&c.status),
            escape(&status),
            escape(&c.rule),
            id = escape(&c.id)
        );
        if let Some(r) = &c.reason {
            let _ = write!(h, "<br><i>{}</i>", escape(r));
        }
        for finding in &c.info {
            let _ = write!(h, "<p class=\"info\">INFO: {}</p>", escape(&finding.text));
        }
        let failing = matches!(c.status.as_str(), "failed" | "errored");
        if failing {
            let _ = write!(
                h,
                "<p class=\"hint\">Fix: {}</p><pre class=\"replay\">{}</pre>",
                escape(hint::for_case(&c.id)),
                escape(&report.replay_line(&c.id))
            );
        }
        if !c.evidence.is_empty() {
            let _ = write!(
                h,
                "<details{}><summary>evidence ({})</summary>",
                if failing { " open" } else { "" },
                c.evidence.len()
            );
            for e in &c.evidence {
                h.push_str(&evidence_html(e));
            }
            h.push_str("</details>");
        }
        let _ = writeln!(h, "</td><td class=\"ms\">{}</td></tr>", c.duration_ms);
    }
    h.push_str("</table>\n");
    if let Some(out) = &report.backend_output {
        let _ = writeln!(h, "<h2>backend output</h2><pre>{}</pre>", escape(out));
    }
    h.push_str("</body></html>\n");
    h
}

fn evidence_html(e: &Evidence) -> String {
    match e {
        Evidence::Note { text } => format!("<p>{}</p>", escape(text)),
        Evidence::Journal { entry } => {
            let pretty = serde_json::to_string_pretty(entry).unwrap_or_default();
            format!(
                "<p>WeChat (the fake) received:</p><pre>{}</pre>",
                escape(&pretty)
            )
        }
        Evidence::Exchange(x) => {
            let mut t = format!("{} {}\n", x.method, x.url);
            for (k, v) in &x.request_headers {
                let _ = writeln!(t, "{k}: {v}");
            }
            if let Some(b) = &x.request_body {
                let _ = writeln!(t, "\n{b}");
            }
            let _ = writeln!(t, "\n--- {} ms ---", x.duration_ms);
            match (&x.response, &x.error) {
                (Some(r), _) => {
                    let _ = writeln!(t, "HTTP {}", r.status);
                    for (k, v) in &r.headers {
                        let _ = writeln!(t, "{k}: {v}");
                    }
                    let _ = write!(t, "\n{}", r.body);
                }
                (None, Some(err)) => {
                    let _ = write!(t, "no answer: {err}");
                }
                (None, None) => t.push_str("no answer"),
            }
            let mut out = format!("<p><b>{}</b>", escape(&x.label));
            let tokens = token::tokens_in(x);
            for seen in &tokens {
                let _ = write!(
                    out,
                    " <span class=\"variant\">{}</span> <small>({})</small>",
                    escape(&seen.label),
                    escape(&seen.place)
                );
            }
            let _ = write!(out, "</p><pre>{}</pre>", escape(&t));
            for seen in &tokens {
                let _ = write!(
                    out,
                    "<p>JWT ({}) decoded: header</p><pre>{}</pre><p>payload</p><pre>{}</pre>",
                    escape(&seen.place),
                    escape(&seen.header),
                    escape(&seen.payload)
                );
            }
            out
        }
    }
}
