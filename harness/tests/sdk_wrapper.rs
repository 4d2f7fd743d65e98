//! The access-token depth cases on a login backend built on a WeChat SDK wrapper of the
//! wechat-api shape (tests/backends/wechat-sdk-wrapper.js, plain Node): each case fails on the
//! wrapper with the defect and passes on the same wrapper without it.

mod backend_run;

use backend_run::*;

/// The wechat-api style SDK wrapper: an access-token operation is its checksession route.
const SDK_WRAPPER: &str = r#"
[login]
path = "/api/login"
token_pointer = "/token"
[protected]
path = "/api/me"
identity_pointer = "/openid"
[[access_token.operations]]
path = "/api/session-check"
[limits]
request_timeout_secs = 2
"#;

/// The number in "N access-token fetch(es)" of a refresh-bounded reason.
fn fetch_count(reason: &str) -> usize {
    let head = reason
        .split(" access-token fetch(es)")
        .next()
        .unwrap_or_default();
    head.rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no fetch count in {reason}"))
}

#[tokio::test]
async fn an_sdk_wrapper_that_retries_on_40001_without_a_counter_fails_access_token_refresh_bounded()
{
    if !have("node") {
        return;
    }
    let ids = [
        "access-token.refresh-bounded",
        "access-token.refresh-on-expiry",
    ];
    let bad = statuses(
        profile(
            "node",
            "wechat-sdk-wrapper.js",
            "retry-forever",
            "",
            SDK_WRAPPER,
        ),
        &ids,
    )
    .await;
    // The harness's own wait is bounded: the looping backend is failed when it runs out, on
    // the fetches it made until then.
    let (_, status, reason) = &bad[1];
    assert_eq!(status, "failed", "{reason}");
    assert!(
        reason.contains("no answer") && reason.contains("waits 2 s"),
        "{reason}"
    );
    assert!(fetch_count(reason) > 3, "{reason}");
    // It does refresh once after a single 40001, so the older case cannot tell.
    assert_eq!(bad[0].1, "passed", "{}", bad[0].2);
    // A wrapper that retries once but reports success whatever WeChat said hides the refusal.
    let open = statuses(
        profile(
            "node",
            "wechat-sdk-wrapper.js",
            "fail-open",
            "",
            SDK_WRAPPER,
        ),
        &ids,
    )
    .await;
    assert_eq!(open[1].1, "failed", "{}", open[1].2);
    assert!(open[1].2.contains("answered success"), "{}", open[1].2);
    passes(
        profile("node", "wechat-sdk-wrapper.js", "", "", SDK_WRAPPER),
        &ids,
    )
    .await;
}

#[tokio::test]
async fn an_sdk_wrapper_fetching_an_access_token_before_code2session_fails_login_no_access_token_dependency(
) {
    if !have("node") {
        return;
    }
    let ids = ["login.no-access-token-dependency"];
    let bad = fails(
        profile(
            "node",
            "wechat-sdk-wrapper.js",
            "token-first",
            "",
            SDK_WRAPPER,
        ),
        &ids,
    )
    .await;
    assert!(
        bad[0].2.contains("45009") && bad[0].2.contains("access-token fetch"),
        "{}",
        bad[0].2
    );
    passes(
        profile("node", "wechat-sdk-wrapper.js", "", "", SDK_WRAPPER),
        &ids,
    )
    .await;
}

#[tokio::test]
async fn a_token_cached_at_start_up_does_not_hide_the_dependency_under_faketime() {
    if !have("node") || !faketime() {
        return;
    }
    let ids = ["login.no-access-token-dependency"];
    let defect = "token-first,prefetch";
    // With a fixed clock the token the wrapper fetched at start-up is still fresh to it, so the
    // logins fetch nothing and pass: the limit docs/harness.md states.
    passes(
        profile("node", "wechat-sdk-wrapper.js", defect, "", SDK_WRAPPER),
        &ids,
    )
    .await;
    // Moving the backend's clock past the token's life makes the wrapper fetch, and fail.
    let clock = "clock = \"faketime\"";
    let bad = fails(
        profile("node", "wechat-sdk-wrapper.js", defect, clock, SDK_WRAPPER),
        &ids,
    )
    .await;
    assert!(bad[0].2.contains("clock was moved"), "{}", bad[0].2);
    passes(
        profile(
            "node",
            "wechat-sdk-wrapper.js",
            "prefetch",
            clock,
            SDK_WRAPPER,
        ),
        &ids,
    )
    .await;
}
