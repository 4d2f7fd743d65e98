//! The HTML report as a reader sees it, in headless Chromium: the page lays out without
//! horizontal overflow even with a 3000-character token in a request, the failure list at the
//! top links to rows that exist, the first row is a failure, and each failed row has its replay
//! line and fix hint. A script added to a copy of the page (the report itself has none) measures
//! the layout and writes the findings into the DOM that `--dump-dom` prints.
//! Without chromium: fails when `CI` is set, otherwise skips with the reason printed.

use std::process::Command;

use wxmock_harness::case::{Outcome, Severity};
use wxmock_harness::exchange::{Evidence, Exchange, Response};
use wxmock_harness::report::{html, CaseReport, RunReport, Summary};

fn chromium() -> Option<&'static str> {
    for candidate in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(candidate);
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "chromium is required in CI to check the HTML report"
    );
    eprintln!("SKIPPED: chromium is not installed");
    None
}

fn report() -> RunReport {
    let long_token = format!("eyJhbGciOiJub25lIn0.{}.", "A".repeat(3000));
    let exchange = Exchange {
        label: "protected call".into(),
        method: "GET".into(),
        url: format!("http://127.0.0.1:1/api/me?token={}", "x".repeat(400)),
        request_headers: vec![("Authorization".into(), format!("Bearer {long_token}"))],
        request_body: None,
        response: Some(Response {
            status: 200,
            headers: vec![],
            body: "y".repeat(2000),
            json: None,
        }),
        error: None,
        failure: None,
        body_cut: None,
        duration_ms: 1,
    };
    let failed = Outcome::failed(format!("accepted {}", "z".repeat(500)))
        .with_evidence(Evidence::Exchange(exchange));
    let cases = vec![
        CaseReport::new(
            "login.happy",
            Severity::Must,
            "a code gives a token",
            &Outcome::Passed,
            1,
            false,
        ),
        CaseReport::new(
            "token.alg-none",
            Severity::Must,
            "alg:none is rejected",
            &failed,
            2,
            false,
        ),
    ];
    RunReport {
        wxmock: "0.1.0".into(),
        seed: 5,
        profile: "browser".into(),
        backend_url: "http://127.0.0.1:1".into(),
        summary: Summary::of(&cases, 3),
        cases,
        warnings: vec![],
        backend_output: None,
        started_at: "2026-01-02T03:04:05Z".into(),
        backend_startup_ms: 0,
        replay: Some("wxmock check --profile browser.toml".into()),
        interrupted: None,
    }
}

const PROBE: &str = r#"<script>
const root = document.documentElement;
const out = document.createElement('div');
out.id = 'probe';
const link = document.querySelector('ul.failures a');
const target = link && document.getElementById(decodeURIComponent(link.getAttribute('href').slice(1)));
const firstRow = document.querySelector('table tr[id]');
out.setAttribute('data-overflow', String(root.scrollWidth > window.innerWidth + 1));
out.setAttribute('data-link-target', target ? target.id : 'none');
out.setAttribute('data-first-row', firstRow ? firstRow.id : 'none');
out.setAttribute('data-replay', (document.querySelector('pre.replay') || {}).textContent || 'none');
out.setAttribute('data-variant', (document.querySelector('.variant') || {}).textContent || 'none');
document.body.appendChild(out);
</script>"#;

#[test]
fn the_html_report_reads_well_in_a_real_browser() {
    let Some(browser) = chromium() else {
        return;
    };
    let page = html::render(&report()).replace("</body>", &format!("{PROBE}</body>"));
    let dir = std::env::temp_dir().join(format!("wxmock-report-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report.html");
    std::fs::write(&file, page).unwrap();
    let out = Command::new(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1024,768",
            &format!("--user-data-dir={}", dir.join("profile").display()),
            "--dump-dom",
        ])
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let dom = String::from_utf8_lossy(&out.stdout);
    let probe = dom.split("<div id=\"probe\"").nth(1).unwrap_or_else(|| {
        panic!(
            "the probe did not run:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let probe = &probe[..probe.find('>').unwrap()];
    assert!(
        probe.contains("data-overflow=\"false\""),
        "the page overflows: {probe}"
    );
    assert!(
        probe.contains("data-link-target=\"token.alg-none\""),
        "{probe}"
    );
    assert!(
        probe.contains("data-first-row=\"token.alg-none\""),
        "{probe}"
    );
    assert!(
        probe.contains(
            "data-replay=\"wxmock check --profile browser.toml --seed 5 --only token.alg-none\""
        ),
        "{probe}"
    );
    assert!(
        probe.contains(
            "data-variant=\"alg:none (unsigned), header {&quot;alg&quot;:&quot;none&quot;}\""
        ),
        "{probe}"
    );
}
