//! Reports pinned with golden files (durations, ports, rids and dates redacted): a hand-built run
//! that has every status, evidence kind and characters that need escaping, and a real run
//! against a stand-in backend. `UPDATE_GOLDEN=1 cargo test -p wxmock-harness --test report`
//! rewrites the files after an intended change.

use std::path::PathBuf;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wxmock_harness::case::{Finding, Outcome, Severity};
use wxmock_harness::exchange::{Evidence, Exchange, Response};
use wxmock_harness::profile::Profile;
use wxmock_harness::report::terminal::TerminalReporter;
use wxmock_harness::report::{
    html, json as json_report, junit, CaseReport, Event, Reporter, RunReport, Summary,
};
use wxmock_harness::runner::{run, RunOptions};

/// Replaces what changes from run to run: ports, durations, rids, dates.
fn redact(text: &str) -> String {
    let mut out = replace_after(text, "127.0.0.1:", |c| c.is_ascii_digit(), "PORT");
    out = replace_after(&out, "\"duration_ms\": ", |c| c.is_ascii_digit(), "0");
    out = replace_after(&out, "time=\"", |c| c != '"', "0");
    out = replace_after(&out, "rid: ", |c| c.is_ascii_hexdigit() || c == '-', "RID");
    out = replace_after(&out, "<td class=\"ms\">", |c| c.is_ascii_digit(), "0");
    out = replace_after(&out, "<span>", |c| c.is_ascii_digit(), "0");
    out = replace_after(&out, "\"started_at\": \"", |c| c != '"', "DATE");
    out = replace_after(&out, "timestamp=\"", |c| c != '"', "DATE");
    out = replace_after(
        &out,
        "\"backend_startup_ms\": ",
        |c| c.is_ascii_digit(),
        "0",
    );
    let seconds = |c: char| c.is_ascii_digit() || c == '.';
    out = replace_after(&out, "backend ready after ", seconds, "0");
    out = replace_after(&out, "backend start-up ", seconds, "0");
    out = replace_after(&out, ", cases ", seconds, "0");
    out = replace_after(&out, "expected failures) in ", seconds, "0");
    out = replace_before(&out, " s, seed", |c| c.is_ascii_digit() || c == '.', "0");
    replace_before(&out, " ms", |c| c.is_ascii_digit(), "0")
}

fn replace_after(text: &str, marker: &str, keep: impl Fn(char) -> bool, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        rest = &rest[i + marker.len()..];
        let end = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
        if end > 0 {
            out.push_str(with);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn replace_before(text: &str, marker: &str, keep: impl Fn(char) -> bool, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        let head = &rest[..i];
        let start = head.rfind(|c: char| !keep(c)).map_or(0, |j| {
            j + head[j..].chars().next().map_or(1, char::len_utf8)
        });
        out.push_str(&head[..start]);
        if start < i {
            out.push_str(with);
        }
        out.push_str(marker);
        rest = &rest[i + marker.len()..];
    }
    out.push_str(rest);
    out
}

fn golden(name: &str, actual: &str) {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let actual = redact(actual);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&file, &actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_else(|_| panic!("{} is missing: run with UPDATE_GOLDEN=1", file.display()));
    assert_eq!(
        expected, actual,
        "{name} drifted (UPDATE_GOLDEN=1 rewrites it after an intended change)"
    );
}

fn exchange() -> Exchange {
    Exchange {
        label: "login".into(),
        method: "POST".into(),
        url: "http://127.0.0.1:40123/api/login".into(),
        request_headers: vec![("content-type".into(), "application/json".into())],
        request_body: Some("{\"code\":\"0a1b\"}".into()),
        response: Some(Response {
            status: 500,
            headers: vec![("content-type".into(), "text/html".into())],
            body: "<h1>Internal Server Error</h1><script>alert('x')</script> & more".into(),
            json: None,
        }),
        error: None,
        failure: None,
        body_cut: None,
        duration_ms: 12,
    }
}

fn hand_built() -> RunReport {
    let failed = Outcome::failed("an invalid code (40029) gave a server error instead of a 4xx (HTTP 500 <h1>…)")
        .with_evidence(Evidence::Exchange(exchange()))
        .with_evidence(Evidence::Journal {
            entry: json!({"id": 7, "method": "GET", "path": "/sns/jscode2session", "status": 200,
                "response_body": "{\"errcode\":40029,\"errmsg\":\"invalid code, rid: 6655aa00-1234abcd-0badf00d\"}"}),
        });
    let errored =
        Outcome::errored("the fake's control API failed on POST /__admin/encrypt: HTTP 404");
    let expected = Outcome::failed("unsigned alg:none tokens were not rejected");
    let cases = vec![
        CaseReport::new(
            "login.happy",
            Severity::Must,
            "a fresh code gives a token",
            &Outcome::Passed,
            3,
            false,
        )
        .with_info(vec![Finding::new(
            "the backend revoked the previous session on re-login (HTTP 401 <b>) & that is right",
        )]),
        CaseReport::new(
            "login.invalid-code",
            Severity::Must,
            "an invalid code gives no token and a 4xx",
            &failed,
            1520,
            false,
        )
        .with_info(vec![
            Finding::new("the JWT payload carries the user's openid"),
            Finding::new("escape \u{1b}[31m on a terminal"),
        ]),
        CaseReport::new(
            "login.rate-limited",
            Severity::Should,
            "45011 gives an error",
            &Outcome::skipped("the profile has no <login>"),
            0,
            false,
        ),
        CaseReport::new(
            "token.alg-none",
            Severity::Must,
            "alg:none is rejected",
            &expected,
            4,
            true,
        ),
        CaseReport::new(
            "token.missing",
            Severity::Must,
            "no token is rejected",
            &Outcome::Passed,
            2,
            true,
        ),
        CaseReport::new(
            "data.user-info",
            Severity::Must,
            "user info decrypts",
            &errored,
            1,
            false,
        ),
    ];
    RunReport {
        wxmock: "0.1.0".into(),
        seed: 42,
        profile: "golden <profile>".into(),
        backend_url: "http://127.0.0.1:40123".into(),
        summary: Summary::of(&cases, 1600),
        cases,
        warnings: vec!["expected-failures entry `no.such` matches no case".into()],
        backend_output: Some("listening on http://127.0.0.1:40123\n".into()),
        started_at: "2026-01-02T03:04:05Z".into(),
        backend_startup_ms: 250,
        replay: Some("wxmock check --profile golden.toml".into()),
        interrupted: None,
    }
}

/// `xmllint --schema harness/tests/junit.xsd` on `xml`: Ok, or the validator's complaint.
/// `None` when xmllint is absent outside CI (skipped with the reason printed).
fn validate_junit(xml: &str) -> Option<Result<(), String>> {
    let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/junit.xsd");
    let file = std::env::temp_dir().join(format!(
        "wxmock-junit-{}-{}.xml",
        std::process::id(),
        xml.len()
    ));
    std::fs::write(&file, xml).unwrap();
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&file)
        .output();
    let _ = std::fs::remove_file(&file);
    match out {
        Ok(out) if out.status.success() => Some(Ok(())),
        Ok(out) => Some(Err(String::from_utf8_lossy(&out.stderr).into_owned())),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("xmllint (libxml2-utils) is required in CI to validate the JUnit report: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: xmllint is not available ({e}); install libxml2-utils");
            None
        }
    }
}

#[test]
fn the_junit_report_validates_against_the_schema_ci_servers_read() {
    let xml = junit::render(&hand_built()).expect("junit");
    let Some(result) = validate_junit(&xml) else {
        return;
    };
    result.unwrap_or_else(|e| panic!("the JUnit report is not valid:\n{e}\n{xml}"));
    // The schema bites: an attribute outside the JUnit shape is refused.
    let drifted = xml.replacen("<testsuite ", "<testsuite flaky=\"1\" ", 1);
    assert!(validate_junit(&drifted).unwrap().is_err());
}

#[test]
fn the_junit_suite_says_what_ci_dashboards_show() {
    let xml = junit::render(&hand_built()).expect("junit");
    // login.rate-limited is skipped; token.alg-none (expected) and none other are reported as
    // skipped too.
    assert!(xml.contains("skipped=\"2\""), "{xml}");
    assert!(xml.contains("timestamp=\"2026-01-02T03:04:05\""), "{xml}");
    assert!(
        xml.contains("<property name=\"seed\" value=\"42\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<property name=\"wxmock.version\" value=\"0.1.0\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<system-out>listening on http://127.0.0.1:40123"),
        "{xml}"
    );
    assert!(xml.contains("&gt; content-type: application/json"), "{xml}");
    assert!(
        xml.contains(
            "replay: wxmock check --profile golden.toml --seed 42 --only login.invalid-code"
        ),
        "{xml}"
    );
}

fn terminal_text(report: &RunReport) -> String {
    let mut t = TerminalReporter::new(Vec::new());
    let total = report.cases.len();
    t.on_event(&Event::RunStarted {
        seed: report.seed,
        profile: &report.profile,
        backend_url: &report.backend_url,
        fake_url: "http://127.0.0.1:40999",
        total,
    });
    for (index, case) in report.cases.iter().enumerate() {
        t.on_event(&Event::CaseFinished { case, index, total });
    }
    t.on_event(&Event::RunFinished { report });
    String::from_utf8(t.into_inner()).expect("utf-8")
}

#[test]
fn the_hand_built_run_renders_as_pinned() {
    let report = hand_built();
    assert!(!report.summary.conforms);
    assert_eq!(
        report.summary.unexpected_failures,
        vec![
            "login.invalid-code".to_string(),
            "data.user-info".to_string()
        ]
    );
    assert_eq!(
        report.summary.now_passing,
        vec!["token.missing".to_string()]
    );
    golden("hand-built.json", &json_report::render(&report));
    golden(
        "hand-built.junit.xml",
        &junit::render(&report).expect("junit"),
    );
    golden("hand-built.html", &html::render(&report));
    golden("hand-built.terminal.txt", &terminal_text(&report));
}

#[test]
fn the_html_report_is_self_contained_and_escaped() {
    let page = html::render(&hand_built());
    assert!(!page.contains("<script>"), "backend text is escaped");
    assert!(page.contains("&lt;script&gt;"));
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http") && !page.contains("<link"),
        "no external assets"
    );
}

#[test]
fn the_json_report_has_the_documented_shape() {
    let v: serde_json::Value =
        serde_json::from_str(&json_report::render(&hand_built())).expect("json");
    for key in ["wxmock", "seed", "profile", "summary", "cases"] {
        assert!(v.get(key).is_some(), "{key}");
    }
    let case = &v["cases"][1];
    for key in [
        "id",
        "status",
        "severity",
        "rule",
        "reason",
        "evidence",
        "duration_ms",
    ] {
        assert!(case.get(key).is_some(), "{key}");
    }
    assert_eq!(case["status"], "failed");
    assert_eq!(case["severity"], "MUST");
    assert_eq!(case["evidence"][0]["kind"], "exchange");
    assert_eq!(case["evidence"][1]["kind"], "journal");
}

#[test]
fn info_findings_show_in_every_report_and_never_fail_the_run() {
    let text = "the backend revoked the previous session on re-login (HTTP 401)";
    let cases = vec![
        CaseReport::new(
            "login.returning-user",
            Severity::Must,
            "the same WeChat user logging in again is the same user",
            &Outcome::Passed,
            1,
            false,
        )
        .with_info(vec![Finding::new(text)]),
        CaseReport::new(
            "login.happy",
            Severity::Must,
            "a fresh code gives a token",
            &Outcome::Passed,
            1,
            false,
        ),
    ];
    let report = RunReport {
        summary: Summary::of(&cases, 2),
        cases,
        warnings: vec![],
        ..hand_built()
    };
    assert!(report.summary.conforms, "INFO never fails the run");
    assert_eq!(report.summary.info_findings, 1);

    let v: serde_json::Value = serde_json::from_str(&json_report::render(&report)).expect("json");
    assert_eq!(v["cases"][0]["status"], "passed");
    assert_eq!(v["cases"][0]["info"][0]["text"], text);
    assert!(
        v["cases"][1].get("info").is_none(),
        "a case without findings keeps the earlier JSON shape"
    );
    assert_eq!(v["summary"]["info_findings"], 1);

    let xml = junit::render(&report).expect("junit");
    assert!(
        xml.contains(&format!("<system-out>INFO: {text}</system-out>")),
        "{xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
    if let Some(result) = validate_junit(&xml) {
        result.unwrap_or_else(|e| panic!("the JUnit report is not valid:\n{e}\n{xml}"));
    }

    let page = html::render(&report);
    assert!(page.contains("<h2>INFO findings (1)</h2>"), "{page}");
    assert!(
        page.contains(&format!("<p class=\"info\">INFO: {text}</p>")),
        "{page}"
    );
    assert!(!page.contains("<h2>Failures"), "{page}");

    let terminal = terminal_text(&report);
    assert!(
        terminal.contains(&format!("        info: {text}\n")),
        "{terminal}"
    );
    assert!(
        terminal.contains("1 INFO finding(s) in login.returning-user: observations, not failures"),
        "{terminal}"
    );
    assert!(
        terminal.contains("result: the backend conforms"),
        "{terminal}"
    );
}

#[tokio::test]
async fn a_real_run_renders_as_pinned() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/login"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": "boom"})))
        .mount(&server)
        .await;
    let text = format!("name = \"stand-in\"\n[backend]\nbase_url = \"{}\"\n[login]\npath = \"/api/login\"\n[protected]\npath = \"/api/me\"\n", server.uri());
    let profile = Profile::from_toml_str(&text, "stand-in.toml").expect("valid");
    let options = RunOptions {
        seed: Some(99),
        only: vec!["login.missing-code".into(), "login.returning-user".into()],
        ..RunOptions::default()
    };
    let mut terminal = TerminalReporter::new(Vec::new());
    let mut report = run(profile, options, None, &mut [&mut terminal])
        .await
        .expect("run");
    // wiremock adds a Date header: not ours to pin.
    for case in &mut report.cases {
        for e in &mut case.evidence {
            if let Evidence::Exchange(x) = e {
                if let Some(r) = x.response.as_mut() {
                    r.headers.retain(|(k, _)| k != "date");
                }
            }
        }
    }
    let live = String::from_utf8(terminal.into_inner()).expect("utf-8");
    golden(
        "stand-in.terminal.txt",
        &replace_after(
            &live,
            "fake WeChat http://127.0.0.1:",
            |c| c.is_ascii_digit(),
            "PORT",
        ),
    );
    golden("stand-in.json", &json_report::render(&report));
}
