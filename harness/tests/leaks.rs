//! robust.no-internal-detail and robust.no-secret-in-logs on backends of the real-world shapes
//! they exist for (tests/backends/, plain Node or Python's standard library), and on the
//! reference backend run as a process: each case fails on the backend with the defect and passes
//! on the same backend without it.

mod backend_run;

use backend_run::{have, profile};
use wxmock_harness::profile::Profile;
use wxmock_harness::runner::{run, RunOptions};

/// Runs `ids`; returns (id, status, reason) in catalogue order.
async fn statuses(profile: Profile, ids: &[&str]) -> Vec<(String, String, String)> {
    backend_run::statuses_seeded(profile, ids, 11).await
}

fn status_of<'a>(got: &'a [(String, String, String)], id: &str) -> (&'a str, &'a str) {
    got.iter()
        .find(|(i, _, _)| i == id)
        .map(|(_, s, r)| (s.as_str(), r.as_str()))
        .unwrap_or_else(|| panic!("{id} did not run"))
}

const EXPRESS: &str = r#"
[login]
path = "/api/login"
token_pointer = "/token"
[protected]
path = "/api/me"
identity_pointer = "/openid"
[rejected]
statuses = [401, 403]
[user_info]
path = "/api/user-info"
result_pointer = "/data"
"#;

#[tokio::test]
async fn an_express_catch_all_answering_e_message_fails_robust_no_internal_detail() {
    if !have("node") {
        return;
    }
    let ids = ["robust.no-internal-detail"];
    let bad = statuses(
        profile("node", "express-catch-all.js", "error-message", "", EXPRESS),
        &ids,
    )
    .await;
    let (status, reason) = status_of(&bad, "robust.no-internal-detail");
    assert_eq!(status, "failed", "{reason}");
    for wanted in [
        "is not valid JSON",
        "bad decrypt",
        "Invalid initialization vector",
        "login while WeChat answers an HTML 502 page",
    ] {
        assert!(reason.contains(wanted), "{wanted} not in: {reason}");
    }
    let clean = statuses(
        profile("node", "express-catch-all.js", "", "", EXPRESS),
        &ids,
    )
    .await;
    let (status, reason) = status_of(&clean, "robust.no-internal-detail");
    assert_eq!(status, "passed", "{reason}");
}

#[tokio::test]
async fn an_express_backend_logging_wechats_answer_fails_robust_no_secret_in_logs() {
    if !have("node") {
        return;
    }
    let ids = ["robust.no-secret-in-logs"];
    let bad = statuses(
        profile("node", "express-catch-all.js", "log-answer", "", EXPRESS),
        &ids,
    )
    .await;
    let (status, reason) = status_of(&bad, "robust.no-secret-in-logs");
    assert_eq!(status, "failed", "{reason}");
    assert!(
        reason.contains("the appsecret") && reason.contains("the session_key"),
        "{reason}"
    );
    assert!(reason.contains("jscode2session"), "{reason}");
    let clean = statuses(
        profile("node", "express-catch-all.js", "", "", EXPRESS),
        &ids,
    )
    .await;
    let (status, reason) = status_of(&clean, "robust.no-secret-in-logs");
    assert_eq!(status, "passed", "{reason}");
}

#[tokio::test]
async fn the_secret_in_the_log_never_reaches_the_report_in_clear() {
    if !have("node") {
        return;
    }
    let options = RunOptions {
        seed: Some(11),
        only: vec!["robust.no-secret-in-logs".into()],
        ..RunOptions::default()
    };
    let p = profile("node", "express-catch-all.js", "log-answer", "", EXPRESS);
    let report = run(p, options, None, &mut []).await.expect("run");
    let text = wxmock_harness::report::json::render(&report);
    let appsecret_param = regex_free_secret_param(&text);
    assert_eq!(appsecret_param, None, "{text}");
    assert!(text.contains("<appsecret "), "{text}");
}

/// A `secret=` query value in clear (anything but a masked `<…>`), if any.
fn regex_free_secret_param(text: &str) -> Option<String> {
    text.match_indices("secret=").find_map(|(at, _)| {
        let value: String = text[at + 7..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        (value.len() >= 6).then_some(value)
    })
}

#[tokio::test]
async fn a_backend_the_harness_did_not_start_is_skipped_with_the_reason() {
    let server = wiremock::MockServer::start().await;
    let text = format!(
        "[backend]\nbase_url = \"{}\"\n[login]\npath = \"/api/login\"\n[protected]\npath = \"/api/me\"\n",
        server.uri()
    );
    let p = Profile::from_toml_str(&text, "running.toml").expect("valid");
    let got = statuses(p, &["robust.no-secret-in-logs"]).await;
    let (status, reason) = status_of(&got, "robust.no-secret-in-logs");
    assert_eq!(status, "skipped", "{reason}");
    assert!(reason.contains("[backend] command"), "{reason}");
}
