//! The HTML report: one self-contained page (inline CSS, no scripts, no external assets); every
//! value from the backend is escaped.

use std::fmt::Write;

use super::RunReport;
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

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}\
.passed{color:#1a7f37}.failed{color:#cf222e;font-weight:bold}.errored{color:#9a6700;font-weight:bold}.skipped{color:#777}\
pre{background:#f6f8fa;padding:6px;white-space:pre-wrap;word-break:break-all;max-height:24em;overflow:auto}\
details{margin:4px 0}.summary span{margin-right:1.5em}";

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
        "<p class=\"summary\"><span>{verdict}</span><span>{} cases</span><span class=\"passed\">{} passed</span><span class=\"failed\">{} failed</span><span class=\"skipped\">{} skipped</span><span class=\"errored\">{} errored</span><span>{} expected failures</span><span>{} ms</span></p>",
        s.total, s.passed, s.failed, s.skipped, s.errored, s.expected_failures, s.duration_ms
    );
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
    h.push_str("<table>\n<tr><th>case</th><th>severity</th><th>status</th><th>rule / reason / evidence</th><th>ms</th></tr>\n");
    for c in &report.cases {
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
        if !c.evidence.is_empty() {
            let _ = write!(
                h,
                "<details><summary>evidence ({})</summary>",
                c.evidence.len()
            );
            for e in &c.evidence {
                h.push_str(&evidence_html(e));
            }
            h.push_str("</details>");
        }
        let _ = writeln!(h, "</td><td>{}</td></tr>", c.duration_ms);
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
            format!("<p>{}:</p><pre>{}</pre>", escape(&x.label), escape(&t))
        }
    }
}
