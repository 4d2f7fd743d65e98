//! `[fake] impersonate = true` on backends that hard-code `https://api.weixin.qq.com` and are
//! not patched: one in plain Node (reached through the preload), one in Python's standard
//! library (reached through the proxy, CONNECT + TLS from wxmock's CA). Each runs the whole
//! catalogue: nothing fails on its clean version, and its defect version is still caught.

mod backend_run;

use backend_run::have;
use wxmock_harness::profile::Profile;
use wxmock_harness::report::RunReport;
use wxmock_harness::runner::{run, RunOptions};

fn profile(program: &str, script: &str, defect: &str) -> Profile {
    let script = backend_run::script(script);
    // No WeChat URL anywhere: the backend hard-codes it, and the harness impersonates it.
    let text = format!(
        r#"
[backend]
base_url = "http://127.0.0.1:{{{{port}}}}"
command = [{program:?}, {script:?}]
ready_url = "/ready"
ready_timeout_secs = 20
[backend.env]
PORT = "{{{{port}}}}"
WX_APPID = "{{{{appid}}}}"
WX_SECRET = "{{{{secret}}}}"
DEFECT = {defect:?}
[fake]
impersonate = true
[login]
path = "/api/login"
[protected]
path = "/api/me"
identity_pointer = "/openid"
[phone]
path = "/api/phone"
phone_number_pointer = "/phoneNumber"
[[access_token.operations]]
method = "GET"
path = "/api/session-check"
[[access_token.operations]]
method = "GET"
path = "/api/session-check"
[limits]
upstream_timeout_secs = 5
"#
    );
    Profile::from_toml_str(&text, "hardcoded.toml").expect("valid")
}

async fn whole_catalogue(program: &str, script: &str, defect: &str) -> RunReport {
    let options = RunOptions {
        seed: Some(10),
        ..RunOptions::default()
    };
    run(profile(program, script, defect), options, None, &mut [])
        .await
        .expect("run")
}

fn with_status<'a>(report: &'a RunReport, status: &str) -> Vec<&'a str> {
    report
        .cases
        .iter()
        .filter(|c| c.status == status)
        .map(|c| c.id.as_str())
        .collect()
}

/// Nothing failed, and the cases that need WeChat (login, phone, access token) really ran.
fn assert_clean(report: &RunReport) {
    let summary: Vec<String> = report
        .cases
        .iter()
        .map(|c| format!("{} {} {:?}", c.id, c.status, c.reason))
        .collect();
    let failed = [
        with_status(report, "failed"),
        with_status(report, "errored"),
    ]
    .concat();
    assert!(
        failed.is_empty(),
        "{failed:?}\n{}\n{:?}",
        summary.join("\n"),
        report.backend_output
    );
    let passed = with_status(report, "passed");
    for id in [
        "login.happy",
        "login.code-reused",
        "login.upstream-timeout",
        "robust.survives",
        "data.phone-number",
        "access-token.cached",
        "access-token.refresh-on-expiry",
    ] {
        assert!(
            passed.contains(&id),
            "{id} did not pass:\n{}",
            summary.join("\n")
        );
    }
}

fn assert_caught(report: &RunReport) {
    let failed = with_status(report, "failed");
    for id in ["login.invalid-code", "login.code-reused", "login.high-risk"] {
        assert!(failed.contains(&id), "{id} not caught: {failed:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_backend_that_hard_codes_wechat_passes_the_catalogue_unpatched() {
    if !have("node") {
        return;
    }
    assert_clean(&whole_catalogue("node", "hardcoded-wechat.js", "").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_backend_that_hard_codes_wechat_is_still_caught_when_defective() {
    if !have("node") {
        return;
    }
    assert_caught(&whole_catalogue("node", "hardcoded-wechat.js", "token-on-errcode").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_backend_that_hard_codes_wechat_passes_the_catalogue_unpatched() {
    if !have("python3") {
        return;
    }
    assert_clean(&whole_catalogue("python3", "hardcoded_wechat.py", "").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_backend_that_hard_codes_wechat_is_still_caught_when_defective() {
    if !have("python3") {
        return;
    }
    assert_caught(&whole_catalogue("python3", "hardcoded_wechat.py", "token-on-errcode").await);
}

#[tokio::test]
async fn impersonation_for_a_backend_the_harness_does_not_start_is_a_profile_error() {
    let text = r#"
[backend]
base_url = "http://127.0.0.1:9"
[fake]
impersonate = true
[login]
path = "/api/login"
[protected]
path = "/api/me"
"#;
    let profile = Profile::from_toml_str(text, "running.toml").expect("valid");
    let err = run(profile, RunOptions::default(), None, &mut [])
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("fake.impersonate"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_ca_directory_is_used_and_survives_the_run() {
    if !have("python3") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("wxmock-harness-ca-{}", std::process::id()));
    let mut pems = Vec::new();
    for _ in 0..2 {
        let mut profile = profile("python3", "hardcoded_wechat.py", "");
        profile.fake.ca_dir = Some(dir.clone());
        let options = RunOptions {
            seed: Some(3),
            only: vec!["login.happy".into()],
            ..RunOptions::default()
        };
        let report = run(profile, options, None, &mut []).await.expect("run");
        assert_eq!(
            report.cases[0].status, "passed",
            "{:?}",
            report.cases[0].reason
        );
        pems.push(std::fs::read_to_string(dir.join("wxmock-ca.pem")).expect("kept CA"));
    }
    assert_eq!(pems[0], pems[1], "the second run made a new CA");
    std::fs::remove_dir_all(&dir).ok();
}
