//! A backend the harness starts itself from the profile's `command`: `{{port}}` and the fake's
//! URL are handed in, readiness is polled, its output is kept for the report, and the whole
//! process group is stopped at the end. Uses Node's built-in http module as the "backend".

use std::process::Command;

use wxmock_harness::profile::Profile;
use wxmock_harness::runner::{run, RunOptions};

fn node_available() -> bool {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "node is required in CI");
        eprintln!("skipped: node is not installed");
    }
    ok
}

const SERVER: &str = "const http=require('http');\
http.createServer((q,s)=>{s.setHeader('content-type','application/json');\
if(q.url==='/ready'){s.end('{\"ok\":true}');return}\
s.statusCode=401;s.end('{\"error\":\"unauthorized\"}')})\
.listen(Number(process.env.PORT),'127.0.0.1',()=>console.log('node backend up, wechat at '+process.env.WX_API_BASE));";

#[tokio::test]
async fn a_started_backend_gets_its_port_and_is_stopped_with_its_output_kept() {
    if !node_available() {
        return;
    }
    let text = format!(
        r#"
[backend]
base_url = "http://127.0.0.1:{{{{port}}}}"
command = ["node", "-e", {server:?}]
ready_url = "/ready"
ready_timeout_secs = 20
[backend.env]
PORT = "{{{{port}}}}"
WX_API_BASE = "{{{{wechat_base_url}}}}"
[login]
path = "/api/login"
[protected]
path = "/api/me"
"#,
        server = SERVER
    );
    let profile = Profile::from_toml_str(&text, "node.toml").expect("valid");
    let options = RunOptions {
        seed: Some(8),
        only: vec!["token.missing".into()],
        ..RunOptions::default()
    };
    let report = run(profile, options, None, &mut []).await.expect("run");
    assert_eq!(
        report.cases[0].status, "passed",
        "{:?}",
        report.cases[0].reason
    );
    let output = report.backend_output.clone().expect("output kept");
    assert!(
        output.contains("node backend up, wechat at http://127.0.0.1:"),
        "{output}"
    );
    // Stopped: nothing answers on its port any more.
    let url = format!("{}/ready", report.backend_url);
    assert!(
        reqwest::get(&url).await.is_err(),
        "the backend still answers at {url}"
    );
}

/// The express-session shape in plain Node: the token is the `sid` cookie, set on every answer
/// (failed logins included), carried back as a cookie.
fn session_cookie_profile(defect: &str) -> Profile {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/backends/session-cookie.js"
    );
    let text = format!(
        r#"
[backend]
base_url = "http://127.0.0.1:{{{{port}}}}"
command = ["node", {script:?}]
ready_url = "/ready"
ready_timeout_secs = 20
[backend.env]
PORT = "{{{{port}}}}"
WX_API_BASE = "{{{{wechat_base_url}}}}"
WX_APPID = "{{{{appid}}}}"
WX_SECRET = "{{{{secret}}}}"
DEFECT = {defect:?}
[login]
path = "/api/login"
token_cookie = "sid"
[auth]
style = "cookie"
[protected]
path = "/api/me"
identity_pointer = "/openid"
"#
    );
    Profile::from_toml_str(&text, "session-cookie.toml").expect("valid")
}

const SESSION_CASES: &[&str] = &[
    "login.happy",
    "login.returning-user",
    "login.distinct-users",
    "login.invalid-code",
    "login.code-reused",
    "login.high-risk",
    "login.missing-code",
    "token.missing",
    "token.garbage",
];

async fn run_session_cookie(defect: &str) -> Vec<(String, String)> {
    let options = RunOptions {
        seed: Some(11),
        only: SESSION_CASES.iter().map(|c| c.to_string()).collect(),
        ..RunOptions::default()
    };
    let report = run(session_cookie_profile(defect), options, None, &mut [])
        .await
        .expect("run");
    report
        .cases
        .iter()
        .map(|c| (c.id.clone(), c.status.clone()))
        .collect()
}

#[tokio::test]
async fn a_session_cookie_backend_passes_although_failed_logins_also_get_a_cookie() {
    if !node_available() {
        return;
    }
    let statuses = run_session_cookie("").await;
    assert_eq!(statuses.len(), SESSION_CASES.len());
    for (id, status) in &statuses {
        assert_eq!(status, "passed", "{id}: {statuses:?}");
    }
}

#[tokio::test]
async fn a_session_cookie_backend_that_logs_in_on_errcodes_fails_the_login_error_cases() {
    if !node_available() {
        return;
    }
    let statuses = run_session_cookie("token-on-errcode").await;
    let failed: Vec<&str> = statuses
        .iter()
        .filter(|(_, s)| s == "failed")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        failed,
        ["login.invalid-code", "login.code-reused", "login.high-risk"],
        "{statuses:?}"
    );
}
