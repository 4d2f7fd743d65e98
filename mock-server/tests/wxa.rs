//! checksession, resetusersessionkey and getuserphonenumber: docs/wechat-api.md 3.4 to 3.6.

mod support;

use serde_json::json;
use support::{fake, fake_with, rules, Fake};
use wxmock_server::{ALICE_OPENID, BOB_OPENID, DEMO_APPID};

fn check_uri(token: &str, openid: &str, signature: &str) -> String {
    format!("/wxa/checksession?access_token={token}&openid={openid}&signature={signature}&sig_method=hmac_sha256")
}

fn reset_uri(token: &str, openid: &str, signature: &str) -> String {
    format!("/wxa/resetusersessionkey?access_token={token}&openid={openid}&signature={signature}&sig_method=hmac_sha256")
}

/// Alice after one full login: her session_key is live.
async fn logged_in() -> (Fake, String) {
    let fake = fake();
    fake.exchange(&fake.login(ALICE_OPENID)).await;
    let token = fake.token();
    (fake, token)
}

#[tokio::test]
async fn checksession_accepts_the_hmac_of_the_empty_string_keyed_with_the_session_key_text() {
    let (fake, token) = logged_in().await;
    let (_, sig) = fake.alice_signature();
    let answer = fake.get(&check_uri(&token, ALICE_OPENID, &sig)).await;
    assert_eq!(answer.text, r#"{"errcode":0,"errmsg":"ok"}"#);
    assert_eq!(answer.content_type, "application/json; encoding=utf-8");
}

#[tokio::test]
async fn checksession_rejects_a_wrong_signature_with_87009() {
    let (fake, token) = logged_in().await;
    let answer = fake.get(&check_uri(&token, ALICE_OPENID, "00ff")).await;
    assert_eq!(answer.errcode(), 87009);
    assert!(answer.errmsg().starts_with("invalid signature rid: "));
}

#[tokio::test]
async fn checksession_rejects_a_stale_key_after_a_new_login() {
    let (fake, token) = logged_in().await;
    let (_, old_sig) = fake.alice_signature();
    fake.login(ALICE_OPENID);
    assert_eq!(
        fake.get(&check_uri(&token, ALICE_OPENID, &old_sig))
            .await
            .errcode(),
        87009
    );
}

#[tokio::test]
async fn checksession_rejects_an_expired_session_key() {
    let fake = fake_with(rules("session_key_ttl_secs = 1000"));
    fake.exchange(&fake.login(ALICE_OPENID)).await;
    let (_, sig) = fake.alice_signature();
    fake.advance(999);
    let token = fake.token();
    assert_eq!(
        fake.get(&check_uri(&token, ALICE_OPENID, &sig))
            .await
            .errcode(),
        0
    );
    fake.advance(1);
    let token = fake.token();
    assert_eq!(
        fake.get(&check_uri(&token, ALICE_OPENID, &sig))
            .await
            .errcode(),
        87009
    );
}

#[tokio::test]
async fn checksession_rejects_a_wrong_sig_method_with_87008() {
    let (fake, token) = logged_in().await;
    let (_, sig) = fake.alice_signature();
    let uri = format!(
        "/wxa/checksession?access_token={token}&openid={ALICE_OPENID}&signature={sig}&sig_method=md5"
    );
    assert_eq!(fake.get(&uri).await.errcode(), 87008);
}

#[tokio::test]
async fn checksession_checks_the_access_token_first() {
    let (fake, _) = logged_in().await;
    let (_, sig) = fake.alice_signature();
    let uri =
        format!("/wxa/checksession?openid={ALICE_OPENID}&signature={sig}&sig_method=hmac_sha256");
    let answer = fake.get(&uri).await;
    assert_eq!(answer.errcode(), 41001);
    assert!(answer.errmsg().starts_with("access_token missing, rid: "));
    assert_eq!(
        fake.get(&check_uri("nope", ALICE_OPENID, &sig))
            .await
            .errcode(),
        40014
    );
}

#[tokio::test]
async fn an_access_token_in_a_header_is_ignored() {
    let (fake, token) = logged_in().await;
    let (_, sig) = fake.alice_signature();
    let request = axum::http::Request::get(format!(
        "/wxa/checksession?openid={ALICE_OPENID}&signature={sig}&sig_method=hmac_sha256"
    ))
    .header("Authorization", format!("Bearer {token}"))
    .header("access_token", token)
    .body(axum::body::Body::empty())
    .unwrap();
    assert_eq!(fake.send(request).await.errcode(), 41001);
}

#[tokio::test]
async fn reset_gives_a_new_key_that_keeps_the_old_expiry_and_kills_the_old_one() {
    let (fake, token) = logged_in().await;
    let before = fake.state.engine.user(DEMO_APPID, ALICE_OPENID).unwrap();
    let (old_key, sig) = fake.alice_signature();
    fake.advance(100);
    let answer = fake.get(&reset_uri(&token, ALICE_OPENID, &sig)).await;
    let json = answer.json();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["errcode", "errmsg", "openid", "session_key"]);
    assert_eq!(json["errcode"], 0);
    let new_key = json["session_key"].as_str().unwrap();
    assert_ne!(new_key, old_key);
    assert_eq!(new_key.len(), 24);
    let after = fake.state.engine.user(DEMO_APPID, ALICE_OPENID).unwrap();
    assert_eq!(after.session_key.as_deref(), Some(new_key));
    assert_eq!(after.session_key_expires_at, before.session_key_expires_at);
    assert_eq!(
        fake.get(&check_uri(&token, ALICE_OPENID, &sig))
            .await
            .errcode(),
        87009
    );
    let (_, new_sig) = fake.alice_signature();
    assert_eq!(
        fake.get(&check_uri(&token, ALICE_OPENID, &new_sig))
            .await
            .errcode(),
        0
    );
}

#[tokio::test]
async fn reset_requires_the_current_signature() {
    let (fake, token) = logged_in().await;
    assert_eq!(
        fake.get(&reset_uri(&token, ALICE_OPENID, "bad"))
            .await
            .errcode(),
        87009
    );
    let (_, sig) = fake.alice_signature();
    let uri = format!("/wxa/resetusersessionkey?access_token={token}&openid={ALICE_OPENID}&signature={sig}&sig_method=sha1");
    assert_eq!(fake.get(&uri).await.errcode(), 87008);
}

#[tokio::test]
async fn reset_past_the_minute_limit_gets_45011() {
    let fake = fake_with(rules("reset_session_key_per_minute = 1"));
    fake.exchange(&fake.login(ALICE_OPENID)).await;
    let token = fake.token();
    let (_, sig) = fake.alice_signature();
    assert_eq!(
        fake.get(&reset_uri(&token, ALICE_OPENID, &sig))
            .await
            .errcode(),
        0
    );
    let (_, sig) = fake.alice_signature();
    assert_eq!(
        fake.get(&reset_uri(&token, ALICE_OPENID, &sig))
            .await
            .errcode(),
        45011
    );
}

async fn phone(fake: &Fake, token: &str, body: serde_json::Value) -> support::Answer {
    fake.post_json(
        &format!("/wxa/business/getuserphonenumber?access_token={token}"),
        &body,
    )
    .await
}

#[tokio::test]
async fn a_phone_code_reveals_the_number_with_a_string_country_code_and_a_watermark() {
    let fake = fake();
    let token = fake.token();
    let code = fake
        .state
        .engine
        .phone_code(DEMO_APPID, ALICE_OPENID)
        .unwrap();
    assert_eq!(code.len(), 64);
    let answer = phone(&fake, &token, json!({ "code": code })).await;
    let expected = format!(
        r#"{{"errcode":0,"errmsg":"ok","phone_info":{{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86","watermark":{{"timestamp":{},"appid":"{DEMO_APPID}"}}}}}}"#,
        support::START
    );
    assert_eq!(answer.text, expected);
}

#[tokio::test]
async fn country_code_can_be_a_number_like_the_doc_example() {
    let fake = fake_with(rules("country_code_as_number = true"));
    let token = fake.token();
    let code = fake
        .state
        .engine
        .phone_code(DEMO_APPID, ALICE_OPENID)
        .unwrap();
    let answer = phone(&fake, &token, json!({ "code": code })).await;
    assert_eq!(answer.json()["phone_info"]["countryCode"], 86);
}

#[tokio::test]
async fn a_phone_code_is_single_use_and_lives_five_minutes() {
    let fake = fake();
    let token = fake.token();
    let code = fake
        .state
        .engine
        .phone_code(DEMO_APPID, ALICE_OPENID)
        .unwrap();
    assert_eq!(
        phone(&fake, &token, json!({ "code": code }))
            .await
            .errcode(),
        0
    );
    assert_eq!(
        phone(&fake, &token, json!({ "code": code }))
            .await
            .errcode(),
        40029
    );
    let late = fake
        .state
        .engine
        .phone_code(DEMO_APPID, ALICE_OPENID)
        .unwrap();
    fake.advance(300);
    let token = fake.token();
    assert_eq!(
        phone(&fake, &token, json!({ "code": late }))
            .await
            .errcode(),
        40029
    );
}

#[tokio::test]
async fn a_login_code_is_not_a_phone_code() {
    let fake = fake();
    let token = fake.token();
    let code = fake.login(ALICE_OPENID);
    assert_eq!(
        phone(&fake, &token, json!({ "code": code }))
            .await
            .errcode(),
        40029
    );
}

#[tokio::test]
async fn a_phone_code_of_another_app_answers_40013() {
    let fake = fake();
    fake.state
        .engine
        .upsert_app("wxother0000000001", "s".into())
        .unwrap();
    let other_token = fake
        .state
        .engine
        .mint_access_token("wxother0000000001")
        .unwrap();
    let code = fake
        .state
        .engine
        .phone_code(DEMO_APPID, ALICE_OPENID)
        .unwrap();
    assert_eq!(
        phone(&fake, &other_token, json!({ "code": code }))
            .await
            .errcode(),
        40013
    );
}

#[tokio::test]
async fn an_openid_that_does_not_own_the_phone_code_is_refused() {
    let fake = fake();
    let token = fake.token();
    let code = fake
        .state
        .engine
        .phone_code(DEMO_APPID, ALICE_OPENID)
        .unwrap();
    assert_eq!(
        phone(&fake, &token, json!({ "code": code, "openid": BOB_OPENID }))
            .await
            .errcode(),
        40029
    );
    let code = fake
        .state
        .engine
        .phone_code(DEMO_APPID, ALICE_OPENID)
        .unwrap();
    assert_eq!(
        phone(
            &fake,
            &token,
            json!({ "code": code, "openid": ALICE_OPENID })
        )
        .await
        .errcode(),
        0
    );
}

#[tokio::test]
async fn getuserphonenumber_wants_post_a_token_and_json() {
    let fake = fake();
    let token = fake.token();
    let uri = format!("/wxa/business/getuserphonenumber?access_token={token}");
    assert_eq!(fake.get(&uri).await.errcode(), 43002);
    assert_eq!(
        fake.post_json("/wxa/business/getuserphonenumber", &json!({"code":"x"}))
            .await
            .errcode(),
        41001
    );
    let form = fake
        .post(&uri, "application/x-www-form-urlencoded", "code=abc")
        .await;
    assert_eq!(form.errcode(), 47001);
    assert!(form.errmsg().starts_with("data format error rid: "));
    assert_eq!(
        fake.post(&uri, "application/json", "").await.errcode(),
        44002
    );
}
