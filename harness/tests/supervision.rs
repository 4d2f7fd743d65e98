//! A run stays truthful when the backend misbehaves: a started backend that dies fails the case
//! in progress with its exit and last output, is started again, and fails robust.survives; a
//! base_url backend that stops answering is reported once; and a broken login blocks the cases
//! that need one instead of erroring each of them.

mod backend_run;

use std::process::Command;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wxmock_harness::profile::Profile;
use wxmock_harness::report::RunReport;
use wxmock_harness::runner::{run, RunOptions};

const JWT_KEY: &str = "a-long-random-test-key-for-the-python-backend-7f3e";

fn script() -> String {
    backend_run::script("dies_on_upstream_error.py")
}

fn dies_profile(defect: &str) -> Profile {
    let rest = format!(
        r#"JWT_SECRET = "{JWT_KEY}"
[login]
path = "/api/login"
[protected]
path = "/api/me"
identity = "/openid"
[jwt]
secret = "{JWT_KEY}"
max_lifetime_secs = 3600
leeway_secs = 0
[limits]
upstream_timeout_secs = 4
"#
    );
    backend_run::profile("python3", "dies_on_upstream_error.py", defect, "", &rest)
}

async fn run_all(profile: Profile) -> RunReport {
    let options = RunOptions {
        seed: Some(5),
        ..RunOptions::default()
    };
    run(profile, options, None, &mut []).await.expect("run")
}

fn with_status<'a>(report: &'a RunReport, status: &str) -> Vec<&'a str> {
    report
        .cases
        .iter()
        .filter(|c| c.status == status)
        .map(|c| c.id.as_str())
        .collect()
}

fn reason<'a>(report: &'a RunReport, id: &str) -> &'a str {
    report
        .cases
        .iter()
        .find(|c| c.id == id)
        .and_then(|c| c.reason.as_deref())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_clean_python_backend_passes_every_applicable_case() {
    if !backend_run::have("python3") {
        return;
    }
    let report = run_all(dies_profile("")).await;
    assert!(
        with_status(&report, "failed").is_empty(),
        "{:#?}",
        report.cases
    );
    assert!(
        with_status(&report, "errored").is_empty(),
        "{:#?}",
        report.cases
    );
    assert!(with_status(&report, "passed").len() >= 20);
}

#[tokio::test]
async fn a_backend_that_dies_fails_the_case_in_progress_is_restarted_and_fails_survives() {
    if !backend_run::have("python3") {
        return;
    }
    let report = run_all(dies_profile("die-on-garbage")).await;
    let mut failed = with_status(&report, "failed");
    failed.sort_unstable();
    // Each case that feeds it garbage kills it again; each of those fails with the exit.
    assert_eq!(
        failed,
        vec![
            "login.upstream-error-status",
            "login.upstream-garbage",
            "robust.no-internal-detail",
            "robust.survives"
        ],
        "{:#?}",
        report.cases
    );
    assert!(
        reason(&report, "login.upstream-error-status").contains("the backend exited (status 70)"),
        "{}",
        reason(&report, "login.upstream-error-status")
    );
    assert!(
        with_status(&report, "errored").is_empty(),
        "{:#?}",
        report.cases
    );
    let why = reason(&report, "login.upstream-garbage");
    assert!(
        why.contains("the backend exited (status 70) during login.upstream-garbage")
            && why.contains("fatal: unexpected WeChat answer"),
        "{why}"
    );
    assert!(
        reason(&report, "robust.no-internal-detail")
            .contains("the backend exited (status 70) during robust.no-internal-detail"),
        "{}",
        reason(&report, "robust.no-internal-detail")
    );
    assert!(
        reason(&report, "robust.survives").contains("the backend exited (status 70)"),
        "{}",
        reason(&report, "robust.survives")
    );
    assert!(
        report.warnings.iter().any(|w| w.contains("started again")),
        "{:?}",
        report.warnings
    );
    // The cases after the crash ran against the restarted backend.
    assert!(with_status(&report, "passed").contains(&"login.missing-code"));
}

#[tokio::test]
async fn an_exit_still_fails_survives_when_the_credential_is_blocked() {
    if !backend_run::have("python3") {
        return;
    }
    // The protected path is wrong, so token.accepted fails and blocks what needs a credential;
    // the exit is judged all the same, and the refusals are not held against survives.
    let mut profile = dies_profile("die-on-garbage");
    profile.protected.path = "/api/no-such-page".into();
    let report = run_all(profile).await;
    assert!(
        with_status(&report, "errored").is_empty(),
        "{:#?}",
        report.cases
    );
    assert_eq!(
        report
            .cases
            .iter()
            .find(|c| c.id == "token.accepted")
            .map(|c| c.status.as_str()),
        Some("failed")
    );
    let why = reason(&report, "robust.survives");
    assert!(why.starts_with("the backend exited (status 70)"), "{why}");
    assert!(with_status(&report, "failed").contains(&"robust.survives"));
}

#[tokio::test]
async fn a_base_url_backend_that_stops_answering_is_reported_once() {
    if !backend_run::have("python3") {
        return;
    }
    let port = wxmock_harness::backend::free_port().expect("port");
    // The harness must start the fake first, so the backend is started by a setup command that
    // leaves it running in the background: the harness never watches it as its own process.
    let text = format!(
        r#"
[backend]
base_url = "http://127.0.0.1:{port}"
setup = ["python3 {script} >/dev/null 2>&1 & echo $! > wxmock-silent-{port}.pid"]
cwd = {dir:?}
ready_url = "/ready"
ready_timeout_secs = 20
[backend.env]
PORT = "{port}"
WX_API_BASE = "{{{{wechat_base_url}}}}"
WX_APPID = "{{{{appid}}}}"
WX_SECRET = "{{{{secret}}}}"
JWT_SECRET = "{JWT_KEY}"
DEFECT = "die-on-garbage"
[login]
path = "/api/login"
[protected]
path = "/api/me"
"#,
        script = script(),
        dir = std::env::temp_dir().display().to_string(),
    );
    let profile = Profile::from_toml_str(&text, "silent.toml").expect("valid");
    let report = run_all(profile).await;
    let pid_file = std::env::temp_dir().join(format!("wxmock-silent-{port}.pid"));
    if let Ok(pid) = std::fs::read_to_string(&pid_file) {
        // Normally dead already (it dies at login.upstream-garbage); never left behind.
        let _ = Command::new("kill").arg(pid.trim()).status();
        let _ = std::fs::remove_file(&pid_file);
    }
    assert!(
        with_status(&report, "errored").len() <= 1,
        "{:#?}",
        report.cases
    );
    let after: Vec<_> = report
        .cases
        .iter()
        .skip_while(|c| c.id != "login.upstream-garbage")
        .skip(1)
        .collect();
    assert!(!after.is_empty());
    for c in &after {
        assert_eq!(c.status, "skipped", "{c:?}");
        assert!(
            c.reason
                .as_deref()
                .unwrap_or_default()
                .contains("backend not answering since login.upstream-garbage"),
            "{c:?}"
        );
    }
    let silent: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.contains("stopped answering"))
        .collect();
    assert_eq!(silent.len(), 1, "{:?}", report.warnings);
}

#[tokio::test]
async fn a_broken_login_blocks_the_cases_that_need_one_and_is_named_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/login"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": "db down"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "no"})))
        .mount(&server)
        .await;
    let text = format!(
        "[backend]\nbase_url = \"{}\"\n[login]\npath = \"/api/login\"\n[protected]\npath = \"/api/me\"\nidentity = \"/id\"\n",
        server.uri()
    );
    let report = run_all(Profile::from_toml_str(&text, "broken.toml").expect("valid")).await;
    assert!(
        with_status(&report, "errored").is_empty(),
        "{:#?}",
        report.cases
    );
    let blocked: Vec<_> = report
        .cases
        .iter()
        .filter(|c| {
            c.reason.as_deref().is_some_and(|r| {
                r.starts_with("blocked by login.happy: a fresh code gave no token")
            })
        })
        .map(|c| c.id.as_str())
        .collect();
    assert!(blocked.contains(&"login.returning-user"), "{blocked:?}");
    assert!(blocked.contains(&"token.tampered"), "{blocked:?}");
    let root: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.contains("blocked by login.happy"))
        .collect();
    assert_eq!(root.len(), 1, "{:?}", report.warnings);
    assert!(
        root[0].contains(&format!("{} case(s)", blocked.len())),
        "{root:?}"
    );
}
