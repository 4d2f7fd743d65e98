//! The control-API endpoints of the server core: apps, users, login, phone-code, clock, health.

mod support;

use serde_json::json;
use support::fake;
use wxmock_server::{ALICE_OPENID, DEMO_APPID};

#[tokio::test]
async fn health_says_ok() {
    let answer = fake().get("/__admin/health").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"status":"ok"}));
}

#[tokio::test]
async fn an_app_is_created_then_its_secret_replaced() {
    let fake = fake();
    let body = json!({"appid":"wxnew0000000000001","secret":"s1"});
    let answer = fake.post_json("/__admin/apps", &body).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), body);
    let replaced = json!({"appid":"wxnew0000000000001","secret":"s2"});
    assert_eq!(
        fake.post_json("/__admin/apps", &replaced).await.json(),
        replaced
    );
    let token = fake
        .get("/cgi-bin/token?grant_type=client_credential&appid=wxnew0000000000001&secret=s2")
        .await;
    assert!(token.json()["access_token"].is_string());
    let list = fake.get("/__admin/apps").await.json();
    assert!(list["apps"]
        .as_array()
        .unwrap()
        .contains(&json!("wxnew0000000000001")));
}

#[tokio::test]
async fn a_user_without_openid_gets_one_in_wechat_format() {
    let fake = fake();
    let answer = fake
        .post_json(
            "/__admin/users",
            &json!({"appid":DEMO_APPID,"nickName":"Carol","phoneNumber":"13900000000"}),
        )
        .await;
    assert_eq!(answer.status, 200);
    let user = answer.json();
    let openid = user["openid"].as_str().unwrap();
    assert_eq!(openid.len(), 28);
    assert!(openid.starts_with('o'));
    assert_eq!(user["nickName"], "Carol");
    assert_eq!(user["unionid"], serde_json::Value::Null);
    assert_eq!(user["session_key"], serde_json::Value::Null);
    assert_eq!(user["countryCode"], "86");
    let shown = fake
        .get(&format!("/__admin/apps/{DEMO_APPID}/users/{openid}"))
        .await;
    assert_eq!(shown.json(), user);
}

#[tokio::test]
async fn a_user_in_an_unknown_app_is_a_404_and_bad_input_a_400() {
    let fake = fake();
    let unknown = fake
        .post_json("/__admin/users", &json!({"appid":"wxnope"}))
        .await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.json()["error"].as_str().unwrap().contains("wxnope"));
    let bad = fake
        .post("/__admin/users", "application/json", "{\"appid\":")
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"].is_string());
    let gender = fake
        .post_json("/__admin/users", &json!({"appid":DEMO_APPID,"gender":7}))
        .await;
    assert_eq!(gender.status, 400);
    let extra = fake
        .post_json(
            "/__admin/users",
            &json!({"appid":DEMO_APPID,"colour":"red"}),
        )
        .await;
    assert_eq!(extra.status, 400);
}

#[tokio::test]
async fn login_gives_a_code_that_jscode2session_accepts_once() {
    let fake = fake();
    let answer = fake
        .post_json(
            "/__admin/login",
            &json!({"appid":DEMO_APPID,"openid":ALICE_OPENID}),
        )
        .await
        .json();
    assert_eq!(answer["openid"], ALICE_OPENID);
    let code = answer["code"].as_str().unwrap();
    assert_eq!(code.len(), 32);
    let session = fake.exchange(code).await.json();
    let user = fake
        .get(&format!("/__admin/apps/{DEMO_APPID}/users/{ALICE_OPENID}"))
        .await
        .json();
    assert_eq!(session["session_key"], user["session_key"]);
    assert!(user["session_key_expires_at"].is_i64());
    assert_eq!(fake.exchange(code).await.errcode(), 40163);
}

#[tokio::test]
async fn login_for_an_unknown_user_is_a_404() {
    let fake = fake();
    let answer = fake
        .post_json(
            "/__admin/login",
            &json!({"appid":DEMO_APPID,"openid":"oNobody"}),
        )
        .await;
    assert_eq!(answer.status, 404);
}

#[tokio::test]
async fn a_phone_code_needs_a_user_with_a_phone_number() {
    let fake = fake();
    let ok = fake
        .post_json(
            "/__admin/phone-code",
            &json!({"appid":DEMO_APPID,"openid":ALICE_OPENID}),
        )
        .await;
    assert_eq!(ok.json()["code"].as_str().unwrap().len(), 64);
    let bob = fake
        .post_json(
            "/__admin/phone-code",
            &json!({"appid":DEMO_APPID,"openid":wxmock_server::BOB_OPENID}),
        )
        .await;
    assert_eq!(bob.status, 409);
}

#[tokio::test]
async fn the_clock_moves_forward_and_codes_expire_with_it() {
    let fake = fake();
    let code = fake.login(ALICE_OPENID);
    let now = fake.get("/__admin/clock").await.json()["now"]
        .as_i64()
        .unwrap();
    assert_eq!(now, support::START);
    let moved = fake
        .post_json("/__admin/clock", &json!({"advance_secs":300}))
        .await
        .json();
    assert_eq!(moved["now"], support::START + 300);
    assert_eq!(fake.exchange(&code).await.errcode(), 40029);
    let negative = fake
        .post_json("/__admin/clock", &json!({"advance_secs":-5}))
        .await;
    assert_eq!(negative.status, 400);
}
