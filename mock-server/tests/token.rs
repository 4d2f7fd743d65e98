//! `/cgi-bin/token` and `/cgi-bin/stable_token`: docs/wechat-api.md 3.2 and 3.3.

mod support;

use serde_json::json;
use support::{fake, fake_with, rules, Fake};
use wxmock_server::{DEMO_APPID, DEMO_SECRET};

fn token_uri() -> String {
    format!("/cgi-bin/token?grant_type=client_credential&appid={DEMO_APPID}&secret={DEMO_SECRET}")
}

async fn new_token(fake: &Fake) -> String {
    let answer = fake.get(&token_uri()).await;
    answer.json()["access_token"].as_str().unwrap().to_owned()
}

/// The errcode checksession gives for `token` (0: the token was accepted, whatever the
/// signature check then said).
async fn token_errcode(fake: &Fake, token: &str) -> i64 {
    let answer = fake
        .get(&format!(
            "/wxa/checksession?access_token={token}&openid=x&signature=y&sig_method=hmac_sha256"
        ))
        .await;
    match answer.errcode() {
        87009 => 0,
        other => other,
    }
}

async fn stable(fake: &Fake, force_refresh: bool) -> serde_json::Value {
    fake.post_json(
        "/cgi-bin/stable_token",
        &json!({"grant_type":"client_credential","appid":DEMO_APPID,"secret":DEMO_SECRET,"force_refresh":force_refresh}),
    )
    .await
    .json()
}

#[tokio::test]
async fn a_token_call_answers_token_and_expires_in_without_errcode() {
    let fake = fake();
    let answer = fake.get(&token_uri()).await;
    assert_eq!(answer.content_type, "application/json; encoding=utf-8");
    let json = answer.json();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access_token", "expires_in"]);
    assert_eq!(json["expires_in"], 7200);
    let token = json["access_token"].as_str().unwrap();
    assert!(token.starts_with("89_") && token.len() > 130, "{token}");
}

#[tokio::test]
async fn token_parameters_are_checked_in_order() {
    let fake = fake();
    assert_eq!(
        fake.get(&format!(
            "/cgi-bin/token?appid={DEMO_APPID}&secret={DEMO_SECRET}"
        ))
        .await
        .errcode(),
        40002
    );
    assert_eq!(
        fake.get("/cgi-bin/token?grant_type=client_credential")
            .await
            .errcode(),
        41002
    );
    assert_eq!(
        fake.get("/cgi-bin/token?grant_type=client_credential&appid=wx1")
            .await
            .errcode(),
        41004
    );
    assert_eq!(
        fake.get("/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s")
            .await
            .errcode(),
        40013
    );
    assert_eq!(
        fake.get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={DEMO_APPID}&secret=bad"
        ))
        .await
        .errcode(),
        40125
    );
}

#[tokio::test]
async fn each_call_mints_a_new_token_and_the_previous_one_lives_five_more_minutes() {
    let fake = fake();
    let first = new_token(&fake).await;
    let second = new_token(&fake).await;
    assert_ne!(first, second);
    assert_eq!(token_errcode(&fake, &first).await, 0);
    fake.advance(299);
    assert_eq!(token_errcode(&fake, &first).await, 0);
    fake.advance(1);
    assert_eq!(token_errcode(&fake, &first).await, 40001);
    assert_eq!(token_errcode(&fake, &second).await, 0);
}

#[tokio::test]
async fn a_token_expires_after_7200_seconds_with_42001() {
    let fake = fake();
    let token = new_token(&fake).await;
    fake.advance(7199);
    assert_eq!(token_errcode(&fake, &token).await, 0);
    fake.advance(1);
    assert_eq!(token_errcode(&fake, &token).await, 42001);
}

#[tokio::test]
async fn the_daily_token_quota_is_2000_with_the_long_text() {
    let fake = fake();
    for _ in 0..2000 {
        assert_eq!(fake.get(&token_uri()).await.errcode(), 0);
    }
    let answer = fake.get(&token_uri()).await;
    assert_eq!(answer.errcode(), 45009);
    assert!(answer.errmsg().starts_with(
        "reach max api daily quota limit, could get access_token by getStableAccessToken"
    ));
    fake.advance(86_400);
    assert_eq!(fake.get(&token_uri()).await.errcode(), 0);
}

#[tokio::test]
async fn an_unknown_token_answers_40001_and_a_malformed_one_40014() {
    let fake = fake();
    let unknown = format!("89_{}", "A".repeat(140));
    assert_eq!(token_errcode(&fake, &unknown).await, 40001);
    assert_eq!(token_errcode(&fake, "garbage").await, 40014);
    let strict = fake_with(rules("malformed_token_errcode = 40001"));
    assert_eq!(token_errcode(&strict, "garbage").await, 40001);
}

#[tokio::test]
async fn stable_token_returns_the_same_token_while_valid_with_the_remaining_lifetime() {
    let fake = fake();
    let first = stable(&fake, false).await;
    assert_eq!(first["expires_in"], 7200);
    fake.advance(1000);
    let second = stable(&fake, false).await;
    assert_eq!(first["access_token"], second["access_token"]);
    assert_eq!(second["expires_in"], 6200);
}

#[tokio::test]
async fn stable_token_issues_the_next_token_in_the_last_five_minutes_and_both_overlap() {
    let fake = fake();
    let first = stable(&fake, false).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    fake.advance(7200 - 300);
    let next = stable(&fake, false).await;
    let second = next["access_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(next["expires_in"], 7200);
    assert_eq!(token_errcode(&fake, &first).await, 0);
    fake.advance(300);
    assert_ne!(token_errcode(&fake, &first).await, 0);
    assert_eq!(token_errcode(&fake, &second).await, 0);
}

#[tokio::test]
async fn force_refresh_rotates_and_kills_the_old_token() {
    let fake = fake();
    let first = stable(&fake, false).await["access_token"].clone();
    fake.advance(31);
    let refreshed = stable(&fake, true).await["access_token"].clone();
    assert_ne!(first, refreshed);
    assert_eq!(token_errcode(&fake, first.as_str().unwrap()).await, 40001);
}

#[tokio::test]
async fn force_refresh_within_30_seconds_returns_the_current_token() {
    let fake = fake();
    stable(&fake, false).await;
    fake.advance(31);
    let refreshed = stable(&fake, true).await["access_token"].clone();
    fake.advance(29);
    assert_eq!(stable(&fake, true).await["access_token"], refreshed);
    fake.advance(1);
    assert_ne!(stable(&fake, true).await["access_token"], refreshed);
}

#[tokio::test]
async fn force_refresh_is_limited_to_20_a_day() {
    let fake = fake();
    stable(&fake, false).await;
    for _ in 0..20 {
        fake.advance(30);
        assert!(stable(&fake, true).await.get("errcode").is_none());
    }
    fake.advance(30);
    let over = stable(&fake, true).await;
    assert_eq!(over["errcode"], 45009);
    assert!(over["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("reach max api daily quota limit rid: "));
}

#[tokio::test]
async fn stable_and_normal_tokens_are_independent_by_default() {
    let fake = fake();
    let stable_token = stable(&fake, false).await["access_token"].clone();
    new_token(&fake).await;
    new_token(&fake).await;
    fake.advance(301);
    assert_eq!(
        token_errcode(&fake, stable_token.as_str().unwrap()).await,
        0
    );
}

#[tokio::test]
async fn stable_and_normal_tokens_can_invalidate_each_other() {
    let fake = fake_with(rules("tokens_invalidate_each_other = true"));
    let stable_token = stable(&fake, false).await["access_token"].clone();
    new_token(&fake).await;
    fake.advance(300);
    assert_eq!(
        token_errcode(&fake, stable_token.as_str().unwrap()).await,
        40001
    );
}

#[tokio::test]
async fn stable_token_accepts_only_a_json_post() {
    let fake = fake();
    assert_eq!(fake.get("/cgi-bin/stable_token").await.errcode(), 43002);
    let form = format!("grant_type=client_credential&appid={DEMO_APPID}&secret={DEMO_SECRET}");
    assert_eq!(
        fake.post(
            "/cgi-bin/stable_token",
            "application/x-www-form-urlencoded",
            &form
        )
        .await
        .errcode(),
        47001
    );
    assert_eq!(
        fake.post("/cgi-bin/stable_token", "application/json", "{not json")
            .await
            .errcode(),
        47001
    );
    assert_eq!(
        fake.post("/cgi-bin/stable_token", "application/json", "")
            .await
            .errcode(),
        44002
    );
}

#[tokio::test]
async fn stable_token_checks_its_body_fields_in_order() {
    let fake = fake();
    let post = |body: serde_json::Value| {
        let fake = &fake;
        async move {
            fake.post_json("/cgi-bin/stable_token", &body)
                .await
                .errcode()
        }
    };
    assert_eq!(
        post(json!({"appid":DEMO_APPID,"secret":DEMO_SECRET})).await,
        40002
    );
    assert_eq!(post(json!({"grant_type":"client_credential"})).await, 41002);
    assert_eq!(
        post(json!({"grant_type":"client_credential","appid":DEMO_APPID})).await,
        41004
    );
    assert_eq!(
        post(json!({"grant_type":"client_credential","appid":"wx1","secret":"s"})).await,
        40013
    );
    assert_eq!(
        post(json!({"grant_type":"client_credential","appid":DEMO_APPID,"secret":"bad"})).await,
        40125
    );
    assert_eq!(
        post(json!({"grant_type":"client_credential","appid":DEMO_APPID,"secret":DEMO_SECRET,"force_refresh":"yes"})).await,
        47001
    );
}

#[tokio::test]
async fn expired_and_superseded_tokens_can_be_forced_by_the_engine() {
    let fake = fake();
    let token = new_token(&fake).await;
    assert_eq!(
        fake.state.engine.appid_of_access_token(&token).as_deref(),
        Some(DEMO_APPID)
    );
    fake.state.engine.supersede_access_tokens(DEMO_APPID);
    assert_eq!(token_errcode(&fake, &token).await, 40001);
    let token = new_token(&fake).await;
    fake.state.engine.expire_access_tokens(DEMO_APPID);
    assert_eq!(token_errcode(&fake, &token).await, 42001);
}
