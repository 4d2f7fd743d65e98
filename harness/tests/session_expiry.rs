//! Session lifetimes of the shaped test backends on their own clock, moved by libfaketime: the
//! Wafer-style two-part session (2 h from login, as the SDK's wxLoginExpires) and the
//! database-token style opaque key (2 h from its creation) are refused past the profile's
//! max_lifetime_secs, so their clean versions pass token.lifetime and token.expired-rejected, and
//! their `no-expiry` versions (a session or key that works forever) fail both. Without a movable
//! clock the cases skip and say how to get one. (The Express database-token and the JWT
//! backends under libfaketime are in real_world.rs.)

mod backend_run;

use backend_run::{faketime, have};
use wxmock_harness::profile::Profile;

fn have_node_and_faketime() -> bool {
    have("node") && faketime()
}

const WAFER: &str = r#"
[login]
method = "GET"
path = "/weapp/login"
headers = { X-WX-Code = "{{code}}", X-WX-Encrypted-Data = "{{encrypted_data}}", X-WX-IV = "{{iv}}" }
token_parts = { id = "/session/id", skey = "/session/skey" }
[auth]
headers = { X-WX-Id = "{{token.id}}", X-WX-Skey = "{{token.skey}}" }
[protected]
path = "/weapp/user"
identity = "/data/userInfo/openId"
[rejected]
statuses = [401, 403]
[[rejected.rules]]
pointer = "/error"
not_equals = [""]
"#;

const OPAQUE: &str = r#"
[login]
path = "/api/login"
json = { code = "{{code}}" }
[auth]
headers = { Token = "{{token}}" }
[protected]
path = "/api/me"
identity = "/openid"
"#;

/// The profile of `script` with `DEFECT=defect`, on a faketime clock when `faketime` is set.
fn profile(script: &str, defect: &str, faketime: bool, shape: &str) -> Profile {
    let clock = if faketime { "clock = \"faketime\"" } else { "" };
    backend_run::profile("node", script, defect, clock, shape)
}

const CASES: [&str; 2] = ["token.expired-rejected", "token.lifetime"];

/// (id, status, reason) of the two lifetime cases.
async fn lifetime(profile: Profile) -> Vec<(String, String, String)> {
    backend_run::statuses_seeded(profile, &CASES, 17).await
}

/// The clean backend passes both cases on its faketime clock, the `no-expiry` one fails both
/// (token.lifetime naming the age and the clock), and on a fixed clock both skip.
async fn clean_passes_and_no_expiry_fails(script: &str, shape: &str) {
    let clean = lifetime(profile(script, "", true, shape)).await;
    for (id, status, reason) in &clean {
        assert_eq!(status, "passed", "{script} clean, {id}: {reason}");
    }
    let forever = lifetime(profile(script, "no-expiry", true, shape)).await;
    for (id, status, reason) in &forever {
        assert_eq!(status, "failed", "{script} no-expiry, {id}: {reason}");
    }
    let (_, _, why) = &forever[1];
    assert!(
        why.contains("still accepted") && why.contains("7days") && why.contains("libfaketime"),
        "{why}"
    );
    let (_, _, why) = &forever[0];
    assert!(why.contains("accepted past max_lifetime_secs"), "{why}");
    let fixed = lifetime(profile(script, "no-expiry", false, shape)).await;
    for (id, status, reason) in &fixed {
        assert_eq!(
            status, "skipped",
            "{script} on a fixed clock, {id}: {reason}"
        );
        assert!(reason.contains("faketime"), "{id}: {reason}");
    }
}

#[tokio::test]
async fn a_wafer_session_expires_two_hours_after_login_and_a_no_expiry_one_fails_token_lifetime() {
    if !have_node_and_faketime() {
        return;
    }
    clean_passes_and_no_expiry_fails("wafer.js", WAFER).await;
}

#[tokio::test]
async fn an_opaque_key_expires_two_hours_after_creation_and_a_no_expiry_one_fails_token_lifetime() {
    if !have_node_and_faketime() {
        return;
    }
    clean_passes_and_no_expiry_fails("opaque-token.js", OPAQUE).await;
}
