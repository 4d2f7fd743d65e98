//! Single cases against `wiremock` stand-in backends with canned answers: cases that must fail
//! do fail, each auth style and the rejected-by-pointer dialect work, and the runner's contract
//! (selection, expected failures, unreachable backend) holds.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wxmock_harness::profile::Profile;
use wxmock_harness::runner::{run, RunOptions};
use wxmock_harness::selection::ExpectedFailures;
use wxmock_harness::{ErrorClass, RunReport};

const TOKEN: &str = "stand-in-token-0123456789";

fn profile(base_url: &str, extra: &str) -> Profile {
    profile_with_method(base_url, "GET", extra)
}

fn profile_with_method(base_url: &str, protected_method: &str, extra: &str) -> Profile {
    let text = format!(
        r#"
[backend]
base_url = "{base_url}"
ready_timeout_secs = 2
[login]
path = "/api/login"
[protected]
path = "/api/me"
method = "{protected_method}"
{extra}
"#
    );
    Profile::from_toml_str(&text, "stand-in.toml").expect("valid profile")
}

async fn run_only(profile: Profile, only: &[&str]) -> RunReport {
    let options = RunOptions {
        seed: Some(1),
        only: only.iter().map(|s| s.to_string()).collect(),
        ..RunOptions::default()
    };
    run(profile, options, None, &mut [])
        .await
        .expect("the run completes")
}

fn status_of<'a>(report: &'a RunReport, id: &str) -> &'a str {
    report
        .cases
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.status.as_str())
        .unwrap_or("absent")
}

async fn canned_login(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/api/login"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token": TOKEN})))
        .mount(server)
        .await;
}

async fn protected_refuses_by_default(server: &MockServer, m: &str) {
    Mock::given(method(m))
        .and(path("/api/me"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "unauthorized"})))
        .with_priority(10)
        .mount(server)
        .await;
}

#[tokio::test]
async fn token_accepted_fails_on_a_backend_that_rejects_valid_tokens() {
    let server = MockServer::start().await;
    canned_login(&server).await;
    protected_refuses_by_default(&server, "GET").await;
    let report = run_only(profile(&server.uri(), ""), &["token.accepted"]).await;
    assert_eq!(status_of(&report, "token.accepted"), "failed");
    let case = &report.cases[0];
    let reason = case.reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("401"),
        "the reason names the refusal: {reason}"
    );
    assert!(
        case.evidence
            .iter()
            .any(|e| e.summary().contains("/api/me")),
        "evidence shows the protected call"
    );
    assert!(!report.summary.conforms);
}

#[tokio::test]
async fn each_auth_style_is_accepted_when_the_backend_reads_the_token_there() {
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{TOKEN}:"))
    );
    let styles: Vec<(&str, &str, wiremock::MockBuilder)> = vec![
        (
            "style = \"bearer\"",
            "GET",
            Mock::given(header("authorization", format!("Bearer {TOKEN}").as_str())),
        ),
        (
            "style = \"scheme\"\nscheme = \"JWT\"",
            "GET",
            Mock::given(header("authorization", format!("JWT {TOKEN}").as_str())),
        ),
        (
            "style = \"header\"\nheader = \"Token\"",
            "GET",
            Mock::given(header("token", TOKEN)),
        ),
        (
            "style = \"basic\"",
            "GET",
            Mock::given(header("authorization", basic.as_str())),
        ),
        (
            "style = \"query\"\nfield = \"access_token\"",
            "GET",
            Mock::given(query_param("access_token", TOKEN)),
        ),
        (
            "style = \"json\"\nfield = \"token\"",
            "POST",
            Mock::given(body_partial_json(json!({"token": TOKEN}))),
        ),
    ];
    for (auth, m, matcher) in styles {
        let server = MockServer::start().await;
        canned_login(&server).await;
        matcher
            .and(method(m))
            .and(path("/api/me"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u1"})))
            .with_priority(1)
            .mount(&server)
            .await;
        protected_refuses_by_default(&server, m).await;
        let p = profile_with_method(&server.uri(), m, &format!("[auth]\n{auth}\n"));
        let report = run_only(p, &["token.accepted", "token.missing"]).await;
        assert_eq!(
            status_of(&report, "token.accepted"),
            "passed",
            "{auth}: {:?}",
            report.cases[0].reason
        );
        assert_eq!(
            status_of(&report, "token.missing"),
            "passed",
            "{auth}: {:?}",
            report.cases[1].reason
        );
    }
}

/// An Egg-style backend: always HTTP 200, `{"code":0,…}` on success, another code on refusal.
async fn egg_backend(token_on_any_code: bool) -> MockServer {
    let server = MockServer::start().await;
    let login = if token_on_any_code {
        json!({"code": 0, "data": {"token": TOKEN}})
    } else {
        json!({"code": 40029, "msg": "invalid code"})
    };
    Mock::given(method("POST"))
        .and(path("/api/login"))
        .respond_with(ResponseTemplate::new(200).set_body_json(login))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(header("token", TOKEN))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"code": 0, "data": {"id": 1}})),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"code": 10200, "msg": "invalid token"})),
        )
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

const EGG: &str = "[auth]\nstyle = \"header\"\nheader = \"token\"\n[rejected]\npointer = \"/code\"\nsuccess_values = [0]\n";

#[tokio::test]
async fn a_rejection_by_json_pointer_with_http_200_counts_as_rejected() {
    let server = egg_backend(false).await;
    let mut p = profile(&server.uri(), EGG);
    p.login.token_pointer = Some("/data/token".into());
    let report = run_only(p, &["token.missing", "login.invalid-code"]).await;
    assert_eq!(
        status_of(&report, "token.missing"),
        "passed",
        "{:?}",
        report.cases
    );
    assert_eq!(
        status_of(&report, "login.invalid-code"),
        "passed",
        "{:?}",
        report.cases
    );
}

#[tokio::test]
async fn a_token_for_an_invalid_code_fails_even_in_the_pointer_dialect() {
    let server = egg_backend(true).await;
    let mut p = profile(&server.uri(), EGG);
    p.login.token_pointer = Some("/data/token".into());
    let report = run_only(p, &["login.invalid-code", "token.accepted"]).await;
    assert_eq!(status_of(&report, "login.invalid-code"), "failed");
    assert_eq!(
        status_of(&report, "token.accepted"),
        "passed",
        "{:?}",
        report.cases
    );
}

#[tokio::test]
async fn login_happy_fails_when_the_backend_never_asks_wechat() {
    let server = MockServer::start().await;
    canned_login(&server).await;
    let report = run_only(profile(&server.uri(), ""), &["login.happy"]).await;
    assert_eq!(status_of(&report, "login.happy"), "failed");
    assert!(report.cases[0]
        .reason
        .as_deref()
        .unwrap_or_default()
        .contains("exactly one jscode2session"));
}

#[tokio::test]
async fn a_missing_code_answered_with_500_fails_and_with_400_passes() {
    for (status, want) in [(500, "failed"), (400, "passed")] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/login"))
            .respond_with(
                ResponseTemplate::new(status).set_body_json(json!({"error": "missing code"})),
            )
            .mount(&server)
            .await;
        let report = run_only(profile(&server.uri(), ""), &["login.missing-code"]).await;
        assert_eq!(
            status_of(&report, "login.missing-code"),
            want,
            "HTTP {status}"
        );
    }
}

#[tokio::test]
async fn a_node_stack_trace_in_an_error_answer_fails_no_stack_trace() {
    let server = MockServer::start().await;
    let trace = "SyntaxError: Unexpected end of JSON input\n    at JSON.parse (<anonymous>)\n    at parse (/srv/app/node_modules/body-parser/lib/types/json.js:92:19)";
    Mock::given(method("POST"))
        .and(path("/api/login"))
        .respond_with(ResponseTemplate::new(400).set_body_string(trace))
        .mount(&server)
        .await;
    protected_refuses_by_default(&server, "GET").await;
    let report = run_only(profile(&server.uri(), ""), &["robust.no-stack-trace"]).await;
    assert_eq!(status_of(&report, "robust.no-stack-trace"), "failed");
}

#[tokio::test]
async fn a_backend_slower_than_the_bound_fails_upstream_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/login"))
        .respond_with(
            ResponseTemplate::new(502)
                .set_body_json(json!({"error": "upstream"}))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let report = run_only(
        profile(&server.uri(), "[limits]\nupstream_timeout_secs = 1\n"),
        &["login.upstream-timeout"],
    )
    .await;
    assert_eq!(status_of(&report, "login.upstream-timeout"), "failed");
}

#[tokio::test]
async fn listed_failures_do_not_fail_the_run_and_listed_passes_are_reported() {
    let server = MockServer::start().await;
    canned_login(&server).await;
    protected_refuses_by_default(&server, "GET").await;
    let options = RunOptions {
        seed: Some(3),
        only: vec!["token.accepted".into(), "token.missing".into()],
        expected_failures: ExpectedFailures::parse(
            "# adopting gradually\ntoken.accepted  # known bug\ntoken.missing\nno.such-case\n",
        ),
        ..RunOptions::default()
    };
    let report = run(profile(&server.uri(), ""), options, None, &mut [])
        .await
        .expect("run");
    assert!(report.summary.conforms, "{:?}", report.summary);
    assert_eq!(report.summary.expected_failures, 1);
    assert_eq!(
        report.summary.now_passing,
        vec!["token.missing".to_string()]
    );
    assert!(
        report.warnings.iter().any(|w| w.contains("no.such-case")),
        "{:?}",
        report.warnings
    );
}

#[tokio::test]
async fn globs_select_cases_and_a_pattern_matching_nothing_is_a_usage_error() {
    let server = MockServer::start().await;
    canned_login(&server).await;
    protected_refuses_by_default(&server, "GET").await;
    let options = RunOptions {
        seed: Some(4),
        only: vec!["login.*".into()],
        skip: vec!["login.upstream-*".into(), "login.no-*".into()],
        ..RunOptions::default()
    };
    let report = run(profile(&server.uri(), ""), options, None, &mut [])
        .await
        .expect("run");
    assert!(report
        .cases
        .iter()
        .all(|c| c.id.starts_with("login.") && !c.id.starts_with("login.upstream-")));
    // 16 login.* cases minus upstream-timeout, upstream-garbage, upstream-error-status,
    // no-secret-leak and no-cross-user-leak.
    assert_eq!(report.cases.len(), 11);
    let options = RunOptions {
        only: vec!["tokne.*".into()],
        ..RunOptions::default()
    };
    let err = run(profile(&server.uri(), ""), options, None, &mut [])
        .await
        .expect_err("typo");
    assert_eq!(err.class(), ErrorClass::Usage);
}

#[tokio::test]
async fn an_unreachable_backend_is_a_harness_error_not_a_failure() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut p = profile(&format!("http://127.0.0.1:{port}"), "");
    p.backend.ready_timeout_secs = 1;
    let err = run(p, RunOptions::default(), None, &mut [])
        .await
        .expect_err("unreachable");
    assert_eq!(err.class(), ErrorClass::BackendUnreachable, "{err}");
}

#[tokio::test]
async fn the_same_seed_sends_the_same_requests() {
    let mut bodies = vec![];
    for _ in 0..2 {
        let server = MockServer::start().await;
        canned_login(&server).await;
        let report = run_only(profile(&server.uri(), ""), &["login.invalid-code"]).await;
        assert_eq!(report.seed, 1);
        let received = server.received_requests().await.unwrap_or_default();
        let logins: Vec<String> = received
            .iter()
            .filter(|r| r.url.path() == "/api/login")
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        assert_eq!(logins.len(), 1);
        bodies.push(logins);
    }
    // The invalid code comes from the case's generator, seeded from the run's seed.
    assert_eq!(bodies[0], bodies[1]);
}

#[tokio::test]
async fn a_leaked_appsecret_fails_no_secret_leak_and_is_redacted_in_the_report() {
    const SECRET: &str = "leakyleakyleaky0123456789abcdef0";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/login"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"token": TOKEN, "debug": {"appsecret": SECRET}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .mount(&server)
        .await;
    let p = profile(
        &server.uri(),
        &format!("[fake]\nappid = \"wxleaky0000000001\"\nsecret = \"{SECRET}\"\n"),
    );
    let report = run_only(p, &["login.no-secret-leak"]).await;
    assert_eq!(status_of(&report, "login.no-secret-leak"), "failed");
    let text = wxmock_harness::report::json::render(&report);
    assert!(
        !text.contains(SECRET),
        "the secret is redacted from the report"
    );
    assert!(text.contains("<redacted appsecret>"), "{text}");
}
