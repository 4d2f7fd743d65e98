//! The `access-token-rejected` scenario: every access token of the app, those issued after it
//! was applied included, answers 40001 until the app's faults are cleared or it is reset.

mod control_plane_support;

use control_plane_support::{fake, Fake, OTHER_APPID, OTHER_SECRET};
use serde_json::json;
use wxmock_server::{MockWeChat, Scenario, ScenarioApplied, ALICE_OPENID, DEMO_APPID, DEMO_SECRET};

fn checksession_uri(fake: &Fake, appid: &str, token: &str) -> String {
    let user = fake.state.engine.user(appid, ALICE_OPENID).unwrap();
    let sig = wxmock_fixtures::signature::login_state_signature(&user.session_key.unwrap(), "");
    format!("/wxa/checksession?access_token={token}&openid={ALICE_OPENID}&signature={sig}&sig_method=hmac_sha256")
}

/// A token from `/cgi-bin/token` over the router, as a backend would fetch it.
async fn fetch_token(fake: &Fake, appid: &str, secret: &str) -> String {
    let answer = fake
        .get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"
        ))
        .await;
    answer.json()["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {}", answer.text()))
        .to_owned()
}

/// A token from `/cgi-bin/stable_token` with `force_refresh`.
async fn fetch_stable_token(fake: &Fake) -> String {
    let answer = fake
        .post(
            "/cgi-bin/stable_token",
            json!({"grant_type": "client_credential", "appid": DEMO_APPID, "secret": DEMO_SECRET, "force_refresh": true}),
        )
        .await;
    answer.json()["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {}", answer.text()))
        .to_owned()
}

async fn checksession_errcode(fake: &Fake, appid: &str, token: &str) -> i64 {
    fake.get(&checksession_uri(fake, appid, token))
        .await
        .errcode()
}

#[tokio::test]
async fn every_token_old_and_new_answers_40001_while_the_scenario_stands() {
    let fake = fake();
    fake.exchange(&fake.login(DEMO_APPID, ALICE_OPENID)).await;
    let old = fetch_token(&fake, DEMO_APPID, DEMO_SECRET).await;
    assert_eq!(checksession_errcode(&fake, DEMO_APPID, &old).await, 0);

    let answer = fake
        .scenario("access-token-rejected", json!({"appid": DEMO_APPID}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.json()["applied"]["rejecting_access_tokens"],
        DEMO_APPID
    );
    assert_eq!(checksession_errcode(&fake, DEMO_APPID, &old).await, 40001);
    // The token endpoints keep handing tokens out; each one is refused on use.
    for _ in 0..3 {
        let new = fetch_token(&fake, DEMO_APPID, DEMO_SECRET).await;
        assert_ne!(new, old);
        assert_eq!(checksession_errcode(&fake, DEMO_APPID, &new).await, 40001);
    }
    let stable = fetch_stable_token(&fake).await;
    assert_eq!(
        checksession_errcode(&fake, DEMO_APPID, &stable).await,
        40001
    );
    // GET /faults shows it, though it is no rule.
    let listed = fake.get("/__admin/faults").await.json();
    assert_eq!(listed["access_tokens_rejected"], json!([DEMO_APPID]));
}

#[tokio::test]
async fn clearing_the_apps_faults_lifts_it_and_other_apps_are_untouched() {
    let fake = fake();
    fake.add_app();
    fake.exchange(&fake.login(DEMO_APPID, ALICE_OPENID)).await;
    // The other app has no such user: its checksession answers that, never 40001.
    let other = fetch_token(&fake, OTHER_APPID, OTHER_SECRET).await;
    let other_uri = checksession_uri(&fake, DEMO_APPID, &other);
    let other_before = fake.get(&other_uri).await.errcode();
    assert_ne!(other_before, 40001);
    fake.scenario("access-token-rejected", json!({"appid": DEMO_APPID}))
        .await;
    assert_eq!(fake.get(&other_uri).await.errcode(), other_before);
    let token = fetch_token(&fake, DEMO_APPID, DEMO_SECRET).await;
    assert_eq!(checksession_errcode(&fake, DEMO_APPID, &token).await, 40001);

    // Clearing another app's faults leaves it standing.
    fake.delete(&format!("/__admin/faults?appid={OTHER_APPID}"))
        .await;
    assert_eq!(checksession_errcode(&fake, DEMO_APPID, &token).await, 40001);
    fake.delete(&format!("/__admin/faults?appid={DEMO_APPID}"))
        .await;
    assert_eq!(checksession_errcode(&fake, DEMO_APPID, &token).await, 0);
    let listed = fake.get("/__admin/faults").await.json();
    assert!(listed.get("access_tokens_rejected").is_none(), "{listed}");

    // A tenant reset lifts it too.
    fake.scenario("access-token-rejected", json!({"appid": DEMO_APPID}))
        .await;
    fake.post(&format!("/__admin/apps/{DEMO_APPID}/reset"), json!({}))
        .await;
    fake.exchange(&fake.login(DEMO_APPID, ALICE_OPENID)).await;
    let after_reset = fetch_token(&fake, DEMO_APPID, DEMO_SECRET).await;
    assert_eq!(
        checksession_errcode(&fake, DEMO_APPID, &after_reset).await,
        0
    );
}

#[tokio::test]
async fn the_scenario_refuses_fault_fields() {
    let fake = fake();
    let answer = fake
        .scenario(
            "access-token-rejected",
            json!({"appid": DEMO_APPID, "times": 2}),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert!(fake.get("/__admin/faults").await.json()["access_tokens_rejected"].is_null());
}

#[tokio::test]
async fn the_rust_api_applies_it_and_clear_faults_lifts_it() {
    let wechat = MockWeChat::start().await;
    let appid = wechat.default_app().appid.clone();
    assert_eq!(
        wechat.scenario(Scenario::AccessTokenRejected),
        Ok(ScenarioApplied::RejectingAccessTokens {
            appid: appid.clone()
        })
    );
    assert!(wechat.state().faults.refuses_access_tokens(&appid));
    wechat.clear_faults();
    assert!(!wechat.state().faults.refuses_access_tokens(&appid));
}
