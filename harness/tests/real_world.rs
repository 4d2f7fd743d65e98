//! The depth cases on other-language backends of the real-world shapes they exist for, in plain
//! Node or Python's standard library (tests/backends/): each case fails on the backend with the
//! defect and passes on the same backend without it.

mod backend_run;

use backend_run::*;
use wxmock_harness::profile::Profile;

const DJANGO: &str = r#"
[login]
path = "/api/login"
[auth]
style = "scheme"
scheme = "Token"
[protected]
path = "/api/me"
identity_pointer = "/username"
"#;

/// Runs `ids` on express-db-token.js with `defect` switched on (each must fail), then clean (each
/// must pass); gives back the defect run's results for the caller's reason checks.
async fn express_fails_then_passes(defect: &str, ids: &[&str]) -> Vec<(String, String, String)> {
    let bad = fails(
        profile("node", "express-db-token.js", defect, "", EXPRESS),
        ids,
    )
    .await;
    passes(profile("node", "express-db-token.js", "", "", EXPRESS), ids).await;
    bad
}

#[tokio::test]
async fn a_django_style_backend_whose_password_is_the_openid_fails_auth_openid_credential() {
    if !have("python3") {
        return;
    }
    let ids = ["auth.openid-credential"];
    let bad = fails(
        profile("python3", "django_basic.py", "openid-password", "", DJANGO),
        &ids,
    )
    .await;
    assert!(bad[0].2.contains("Basic openid:openid"), "{}", bad[0].2);
    passes(profile("python3", "django_basic.py", "", "", DJANGO), &ids).await;
}

const EXPRESS: &str = r#"
[login]
path = "/api/login"
token_pointer = "/token"
[protected]
path = "/api/me"
identity_pointer = "/openid"
"#;

#[tokio::test]
async fn an_express_backend_reading_the_token_from_the_query_fails_auth_token_in_query() {
    if !have("node") {
        return;
    }
    let ids = ["auth.token-in-query"];
    let bad = express_fails_then_passes("query-token", &ids).await;
    assert!(
        bad[0].2.contains("?token=") && bad[0].2.contains("?access_token="),
        "{}",
        bad[0].2
    );
}

#[tokio::test]
async fn a_db_token_backend_with_no_expiry_fails_token_lifetime_under_faketime() {
    if !have("node") || !faketime() {
        return;
    }
    let ids = ["token.lifetime"];
    let clock = "clock = \"faketime\"";
    let bad = fails(
        profile("node", "express-db-token.js", "no-expiry", clock, EXPRESS),
        &ids,
    )
    .await;
    assert!(
        bad[0].2.contains("7days") && bad[0].2.contains("libfaketime"),
        "{}",
        bad[0].2
    );
    passes(
        profile("node", "express-db-token.js", "", clock, EXPRESS),
        &ids,
    )
    .await;
    // Without a movable clock the case says how to get one.
    let fixed = statuses(
        profile("node", "express-db-token.js", "no-expiry", "", EXPRESS),
        &ids,
    )
    .await;
    assert_eq!(fixed[0].1, "skipped");
    assert!(fixed[0].2.contains("faketime"), "{}", fixed[0].2);
}

#[tokio::test]
async fn an_express_backend_failing_on_any_errcode_fails_login_errcode_zero() {
    if !have("node") {
        return;
    }
    let ids = ["login.errcode-zero"];
    let bad = express_fails_then_passes("errcode-any", &ids).await;
    assert!(
        bad[0].2.contains("errcode 0 is not an error"),
        "{}",
        bad[0].2
    );
}

#[tokio::test]
async fn an_express_backend_without_a_try_catch_fails_login_upstream_error_status() {
    if !have("node") {
        return;
    }
    let ids = ["login.upstream-error-status"];
    let bad = express_fails_then_passes("bare-500", &ids).await;
    assert!(bad[0].2.contains("HTTP 500"), "{}", bad[0].2);
}

/// The shared-response shape keeps its token under /data/token.
const EXPRESS_SHARED: &str = r#"
[login]
path = "/api/login"
token_pointer = "/data/token"
[protected]
path = "/api/me"
identity_pointer = "/openid"
"#;

#[tokio::test]
async fn an_express_backend_reusing_a_module_level_response_fails_login_no_cross_user_leak() {
    if !have("node") {
        return;
    }
    let ids = ["login.no-cross-user-leak"];
    let bad = fails(
        profile(
            "node",
            "express-db-token.js",
            "shared-response",
            "",
            EXPRESS_SHARED,
        ),
        &ids,
    )
    .await;
    assert!(
        bad[0].2.matches("user o").count() >= 2,
        "names both users: {}",
        bad[0].2
    );
    // The same answer shape built afresh for every request: the sharing is what fails.
    passes(
        profile(
            "node",
            "express-db-token.js",
            "envelope",
            "",
            EXPRESS_SHARED,
        ),
        &ids,
    )
    .await;
    passes(
        profile("node", "express-db-token.js", "", "", EXPRESS),
        &ids,
    )
    .await;
}

#[tokio::test]
async fn an_express_backend_guarding_its_login_route_fails_login_stale_credential() {
    if !have("node") {
        return;
    }
    let ids = ["login.stale-credential"];
    let bad = express_fails_then_passes("stale-403", &ids).await;
    assert!(bad[0].2.contains("garbage token"), "{}", bad[0].2);
}

/// A one-call login: the code and the user's encrypted data in one body; the answer shows no
/// openid, the protected answer names the account by it.
const ONE_CALL: &str = r#"
[login]
path = "/api/wx/login"
json = { code = "{{code}}", encryptedData = "{{encrypted_data}}", iv = "{{iv}}", rawData = "{{raw_data}}", signature = "{{signature}}" }
token_pointer = "/token"
[protected]
path = "/api/user/me"
identity_pointer = "/openid"
"#;

#[tokio::test]
async fn a_one_call_login_trusting_the_decrypted_openid_fails_data_openid_mismatch() {
    if !have("node") {
        return;
    }
    let got = fails(
        profile("node", "one-call-login.js", "trust-openid", "", ONE_CALL),
        &["data.openid-mismatch"],
    )
    .await;
    assert!(
        got[0].2.contains("the account now answers as user"),
        "{}",
        got[0].2
    );
    passes(
        profile("node", "one-call-login.js", "", "", ONE_CALL),
        &[
            "login.happy",
            "login.returning-user",
            "data.user-info",
            "data.openid-mismatch",
            "data.watermark-mismatch",
            "data.tampered",
            "data.bad-iv",
            "data.stale-session-key",
        ],
    )
    .await;
}

/// The same one-call login whose protected answer shows the account by its internal numeric id
/// alone (`ME=id`): no answer ever carries an openid.
const ONE_CALL_ID_ONLY: &str = r#"
ME = "id"
[login]
path = "/api/wx/login"
json = { code = "{{code}}", encryptedData = "{{encrypted_data}}", iv = "{{iv}}", rawData = "{{raw_data}}", signature = "{{signature}}" }
token_pointer = "/token"
[protected]
path = "/api/user/me"
identity_pointer = "/id"
"#;

#[tokio::test]
async fn a_one_call_login_showing_only_an_internal_id_still_fails_data_openid_mismatch() {
    if !have("node") {
        return;
    }
    // The account is told by the profile's identity rule: the login with the other user's
    // openId signed in to the other user's account (their id), not this user's.
    trust_openid_fails_naming_both_users(
        "one-call-login.js",
        ONE_CALL_ID_ONLY,
        "the login signed in to the account \"1\", user o",
    )
    .await;
    passes(
        profile("node", "one-call-login.js", "", "", ONE_CALL_ID_ONLY),
        &[
            "login.returning-user",
            "login.distinct-users",
            "data.openid-mismatch",
        ],
    )
    .await;
}

/// `script`'s `trust-openid` version fails data.openid-mismatch with `says` in its reason,
/// which names both users.
async fn trust_openid_fails_naming_both_users(script: &str, shape: &str, says: &str) {
    let got = fails(
        profile("node", script, "trust-openid", "", shape),
        &["data.openid-mismatch"],
    )
    .await;
    let reason = &got[0].2;
    assert!(reason.contains(says), "{reason}");
    assert!(
        reason.matches("user o").count() >= 2,
        "names both users: {reason}"
    );
}

/// A DRF-style opaque `Token` backend whose user-info endpoint only acknowledges ({"id": N}),
/// with no read-back, and whose /api/me shows the numeric id alone (`ME=id`).
const OPAQUE_ID_ONLY: &str = r#"
ME = "id"
[login]
path = "/api/login"
json = { code = "{{code}}" }
[auth]
headers = { Token = "{{token}}" }
[protected]
path = "/api/me"
identity = "/id"
[user_info]
path = "/api/profile"
json = { encryptedData = "{{encrypted_data}}", iv = "{{iv}}" }
mode = "ack"
"#;

#[tokio::test]
async fn a_user_info_endpoint_moving_the_token_to_the_decrypted_openid_fails_data_openid_mismatch()
{
    if !have("node") {
        return;
    }
    // The session's identity before the data was sent is compared with the one after it.
    trust_openid_fails_naming_both_users(
        "opaque-token.js",
        OPAQUE_ID_ONLY,
        "the session's account changed to \"1\", user o",
    )
    .await;
    passes(
        profile("node", "opaque-token.js", "", "", OPAQUE_ID_ONLY),
        &["data.openid-mismatch", "data.user-info"],
    )
    .await;
}

// ---- false alarms of earlier versions: correct backends that must pass ----------------------

#[tokio::test]
async fn a_backend_revoking_the_previous_session_on_re_login_passes_login_returning_user() {
    if !have("node") {
        return;
    }
    let revoked = "the backend revoked the previous session on re-login";
    let report = run_report(
        profile("node", "express-db-token.js", "single-session", "", EXPRESS),
        &["login.returning-user"],
    )
    .await;
    let case = &report.cases[0];
    assert_eq!(case.status, "passed", "{:?}", case.reason);
    assert!(
        case.info.iter().any(|f| f.text.contains(revoked)),
        "the revocation is an INFO finding: {:?}",
        case.info
    );
    assert!(report.summary.conforms, "INFO never fails the run");
    // A backend that keeps every session open has nothing to report.
    let report = run_report(
        profile("node", "express-db-token.js", "", "", EXPRESS),
        &["login.returning-user"],
    )
    .await;
    assert_eq!(report.cases[0].status, "passed");
    assert!(
        report.cases[0].info.is_empty(),
        "{:?}",
        report.cases[0].info
    );
}

#[tokio::test]
async fn two_jwts_of_one_user_minted_in_the_same_second_pass_token_unpredictable() {
    if !have("node") {
        return;
    }
    passes(
        profile("node", "express-db-token.js", "jwt-seconds", "", EXPRESS),
        &["token.unpredictable"],
    )
    .await;
    if faketime() {
        // With a movable clock the logins are spaced by a clock step, not a wait.
        passes(
            profile(
                "node",
                "express-db-token.js",
                "jwt-seconds",
                "clock = \"faketime\"",
                EXPRESS,
            ),
            &["token.unpredictable"],
        )
        .await;
    }
}

#[tokio::test]
async fn a_jwt_whose_sub_is_the_openid_passes_no_sensitive_claims_with_an_info_finding() {
    if !have("node") {
        return;
    }
    // jwt-seconds signs {sub: openid, iat}: the openid is readable, which is worth knowing but
    // is no secret.
    let report = run_report(
        profile("node", "express-db-token.js", "jwt-seconds", "", EXPRESS),
        &["token.no-sensitive-claims"],
    )
    .await;
    let case = &report.cases[0];
    assert_eq!(case.status, "passed", "{:?}", case.reason);
    assert!(
        case.info
            .iter()
            .any(|f| f.text.contains("/sub: value contains the openid")),
        "{:?}",
        case.info
    );
    assert!(report.summary.conforms, "INFO never fails the run");
}

#[tokio::test]
async fn a_backend_whose_errors_are_http_200_bodies_is_judged_by_robust_no_stack_trace() {
    if !have("node") {
        return;
    }
    let rules = format!("{EXPRESS}\n[rejected]\npointer = \"/code\"\nsuccess_values = [0]\n");
    passes(
        profile("node", "express-db-token.js", "errors-200", "", &rules),
        &["robust.no-stack-trace"],
    )
    .await;
}

const EXPRESS_JWT: &str = r#"
[login]
path = "/api/login"
token_pointer = "/token"
[protected]
path = "/api/me"
identity_pointer = "/openid"
[jwt]
leeway_secs = 5
"#;

/// token.expired-rejected's (status, reason), or for a pass its INFO finding (the boundary).
async fn expiry_verdict(profile: Profile) -> (String, String) {
    let report = run_report(profile, &["token.expired-rejected"]).await;
    let c = &report.cases[0];
    let text = c
        .reason
        .clone()
        .or_else(|| c.info.first().map(|f| f.text.clone()))
        .unwrap_or_default();
    (c.status.clone(), text)
}

/// A JWT backend whose key the harness never learns, under libfaketime: a day of clock tolerance
/// (`day`) states the boundary at exp + 1 day, expiry off (`off`) still accepts at exp + 30 days,
/// the clean one is refused from exp + 0 s; without a movable clock the case is skipped.
async fn jwt_expiry_is_judged_on_the_backend_clock(
    program: &str,
    script: &str,
    day: &str,
    off: &str,
) {
    let clock = "clock = \"faketime\"";
    let (status, reason) = expiry_verdict(profile(program, script, day, clock, EXPRESS_JWT)).await;
    assert_eq!(status, "failed", "{reason}");
    // The boundary is exp + 1 day, or a second earlier if real time ticked over mid-request.
    assert!(
        reason.starts_with("refused from exp + 1 day:")
            || reason.starts_with("refused from exp + 23 h 59 min 59 s:"),
        "{reason}"
    );
    assert!(reason.contains("libfaketime"), "{reason}");

    let (status, reason) = expiry_verdict(profile(program, script, off, clock, EXPRESS_JWT)).await;
    assert_eq!(status, "failed", "{reason}");
    assert!(
        reason.starts_with("still accepted at exp + 30 days:"),
        "{reason}"
    );

    let (status, found) = expiry_verdict(profile(program, script, "", clock, EXPRESS_JWT)).await;
    assert_eq!(status, "passed", "{found}");
    assert!(
        found.starts_with("refused from exp + 0 s") || found.starts_with("refused from exp - 1 s"),
        "{found}"
    );

    // Without a movable clock nor the key, a two-hour token cannot be judged.
    let (status, reason) = expiry_verdict(profile(program, script, day, "", EXPRESS_JWT)).await;
    assert_eq!(status, "skipped", "{reason}");
}

#[tokio::test]
async fn a_jsonwebtoken_backend_with_a_day_of_clock_tolerance_fails_token_expired_rejected_under_faketime(
) {
    if !have("node") || !faketime() {
        return;
    }
    // Node keeps the real monotonic clock (FAKETIME_DONT_FAKE_MONOTONIC=1, chosen by `auto`).
    jwt_expiry_is_judged_on_the_backend_clock(
        "node",
        "express-jwt.js",
        "tolerance-day",
        "ignore-expiration",
    )
    .await;
}

#[tokio::test]
async fn a_pyjwt_backend_with_a_day_of_leeway_fails_token_expired_rejected_under_faketime() {
    if !have("python3") || !faketime() {
        return;
    }
    // Python gets the faked monotonic clock too (`auto`); PyJWT's iat check shows the clock is
    // never moved before the token was issued.
    jwt_expiry_is_judged_on_the_backend_clock(
        "python3",
        "flask_pyjwt.py",
        "leeway-day",
        "no-verify-exp",
    )
    .await;
}

#[tokio::test]
async fn a_db_token_backend_is_judged_against_the_declared_lifetime_under_faketime() {
    if !have("node") || !faketime() {
        return;
    }
    let clock = "clock = \"faketime\"";
    // The token rows live two hours: within the default 7 days, and the boundary is stated.
    let (status, found) =
        expiry_verdict(profile("node", "express-db-token.js", "", clock, EXPRESS)).await;
    assert_eq!(status, "passed", "{found}");
    assert!(
        found.starts_with("refused from login + 2 h (")
            || found.starts_with("refused from login + 2 h 1 s (")
            || found.starts_with("refused from login + 1 h 59 min 59 s ("),
        "{found}"
    );
    let (status, reason) = expiry_verdict(profile(
        "node",
        "express-db-token.js",
        "no-expiry",
        clock,
        EXPRESS,
    ))
    .await;
    assert_eq!(status, "failed", "{reason}");
    assert!(
        reason.starts_with("still accepted at login + 37 days:")
            && reason.contains("max_lifetime_secs = 7 days after login"),
        "{reason}"
    );
}
