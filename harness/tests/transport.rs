//! What the harness says when a backend gives no answer: a refused or reset connection is named
//! as such, not reported as a timeout.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wxmock_harness::profile::Profile;
use wxmock_harness::runner::{run, RunOptions};
use wxmock_harness::RunReport;

/// A profile whose readiness URL is a healthy stand-in and whose base URL is `base_url`.
fn profile(base_url: &str, ready_url: &str) -> Profile {
    let text = format!(
        r#"
[backend]
base_url = "{base_url}"
ready_url = "{ready_url}"
ready_timeout_secs = 5
[login]
path = "/api/login"
[protected]
path = "/api/me"
[limits]
upstream_timeout_secs = 5
"#
    );
    Profile::from_toml_str(&text, "transport.toml").expect("valid profile")
}

async fn healthy_ready_url() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

async fn upstream_timeout_reason(profile: Profile) -> String {
    let options = RunOptions {
        seed: Some(3),
        only: vec!["login.upstream-timeout".into()],
        ..RunOptions::default()
    };
    let report: RunReport = run(profile, options, None, &mut [])
        .await
        .expect("the run completes");
    let case = &report.cases[0];
    assert_eq!(case.status, "failed", "{case:?}");
    case.reason.clone().unwrap_or_default()
}

#[tokio::test]
async fn a_refused_connection_is_not_called_a_timeout() {
    let ready = healthy_ready_url().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let reason = upstream_timeout_reason(profile(&dead, &format!("{}/health", ready.uri()))).await;
    assert!(reason.contains("refused the connection"), "{reason}");
    assert!(!reason.contains("no answer within"), "{reason}");
}

#[tokio::test]
async fn a_connection_closed_at_once_is_not_called_a_timeout() {
    let ready = healthy_ready_url().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    // Accepts every connection and closes it without a byte of answer.
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    let reason = upstream_timeout_reason(profile(&url, &format!("{}/health", ready.uri()))).await;
    assert!(
        reason.contains("reset the connection") || reason.contains("closed the connection"),
        "{reason}"
    );
    assert!(!reason.contains("no answer within"), "{reason}");
    assert!(reason.contains("after 0."), "it happened at once: {reason}");
}
