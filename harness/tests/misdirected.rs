//! A login that never reaches the fake for the run's appid says so: the failure names the
//! likely cause (another appid, or the real WeChat still being called) and the fix.

use std::process::Command;

use wxmock_harness::profile::Profile;
use wxmock_harness::runner::{run, RunOptions};

fn python_available() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is required in CI"
        );
        eprintln!("skipped: python3 is not installed");
    }
    ok
}

fn misdirected(mode: &str) -> Profile {
    let script = format!(
        "{}/tests/backends/misdirected.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = format!(
        r#"
[backend]
base_url = "http://127.0.0.1:{{{{port}}}}"
command = ["python3", {script:?}]
ready_url = "/ready"
ready_timeout_secs = 20
[backend.env]
PORT = "{{{{port}}}}"
WX_API_BASE = "{{{{wechat_base_url}}}}"
MODE = {mode:?}
[login]
path = "/api/login"
[protected]
path = "/api/me"
"#
    );
    Profile::from_toml_str(&text, "misdirected.toml").expect("valid profile")
}

async fn happy_reason(mode: &str) -> (String, String) {
    let options = RunOptions {
        seed: Some(2),
        only: vec!["login.happy".into()],
        ..RunOptions::default()
    };
    let report = run(misdirected(mode), options, None, &mut [])
        .await
        .expect("the run completes");
    let case = &report.cases[0];
    (case.status.clone(), case.reason.clone().unwrap_or_default())
}

#[tokio::test]
async fn a_backend_sending_its_own_appid_is_told_which_appid_the_fake_saw() {
    if !python_available() {
        return;
    }
    let (status, reason) = happy_reason("other-appid").await;
    assert_eq!(status, "failed", "{reason}");
    assert!(
        reason.contains("no jscode2session call for appid")
            && reason.contains("but 1 for appid wx00000000000000ff")
            && reason.contains("uses another appid"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_backend_that_never_reaches_the_fake_is_told_to_point_at_it() {
    if !python_available() {
        return;
    }
    let (status, reason) = happy_reason("real-wechat").await;
    assert_eq!(status, "failed", "{reason}");
    assert!(
        reason.contains("no jscode2session call for appid")
            && reason.contains("still calls the real WeChat")
            && reason.contains("impersonate = true"),
        "{reason}"
    );
}
