//! `/__admin/encrypt`: open data under the user's current session_key, and broken variants.

mod support;

use serde_json::json;
use support::fake;
use wxmock_fixtures::crypt::{decrypt, decrypt_open_data};
use wxmock_server::{ALICE_OPENID, BOB_OPENID, DEMO_APPID};

async fn encrypt(fake: &support::Fake, body: serde_json::Value) -> support::Answer {
    fake.post_json("/__admin/encrypt", &body).await
}

#[tokio::test]
async fn user_info_decrypts_with_the_current_session_key_and_carries_the_profile() {
    let fake = fake();
    let session = fake.exchange(&fake.login(ALICE_OPENID)).await.json();
    let key = session["session_key"].as_str().unwrap();
    let answer = encrypt(
        &fake,
        json!({"appid":DEMO_APPID,"openid":ALICE_OPENID,"kind":"userInfo"}),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let forged = answer.json();
    assert_eq!(forged["variant"], "valid");
    let data = decrypt_open_data(
        key,
        forged["iv"].as_str().unwrap(),
        forged["encryptedData"].as_str().unwrap(),
        DEMO_APPID,
    )
    .unwrap();
    assert_eq!(data["openId"], ALICE_OPENID);
    assert_eq!(data["nickName"], "Alice");
    assert_eq!(data["unionId"], "oUnion_AliceWxmockDemo000001");
    assert_eq!(data["watermark"]["timestamp"], support::START);
    assert_eq!(data.to_string(), forged["plaintext"].as_str().unwrap());
    assert!(forged["rawData"].is_string());
    assert!(forged["signature"].is_string());
}

#[tokio::test]
async fn data_overrides_the_users_fields() {
    let fake = fake();
    fake.login(ALICE_OPENID);
    let key = fake.alice_signature().0;
    let forged = encrypt(
        &fake,
        json!({"appid":DEMO_APPID,"openid":ALICE_OPENID,"kind":"phoneNumber","data":{"phoneNumber":"13912345678"}}),
    )
    .await
    .json();
    let data = decrypt_open_data(
        &key,
        forged["iv"].as_str().unwrap(),
        forged["encryptedData"].as_str().unwrap(),
        DEMO_APPID,
    )
    .unwrap();
    assert_eq!(data["phoneNumber"], "13912345678");
    assert_eq!(data["countryCode"], "86");
}

#[tokio::test]
async fn stale_session_key_is_encrypted_under_the_previous_key() {
    let fake = fake();
    fake.login(ALICE_OPENID);
    let old_key = fake.alice_signature().0;
    fake.login(ALICE_OPENID);
    let current = fake.alice_signature().0;
    let forged = encrypt(
        &fake,
        json!({"appid":DEMO_APPID,"openid":ALICE_OPENID,"kind":"userInfo","variant":"stale-session-key"}),
    )
    .await
    .json();
    assert_eq!(forged["variant"], "stale-session-key");
    let iv = forged["iv"].as_str().unwrap();
    let data = forged["encryptedData"].as_str().unwrap();
    assert!(decrypt_open_data(&current, iv, data, DEMO_APPID).is_err());
    let plain = decrypt(&old_key, iv, data).unwrap();
    assert_eq!(String::from_utf8(plain).unwrap(), forged["plaintext"]);
}

#[tokio::test]
async fn a_user_who_never_logged_in_has_no_key_to_encrypt_with() {
    let fake = fake();
    let answer = encrypt(
        &fake,
        json!({"appid":DEMO_APPID,"openid":BOB_OPENID,"kind":"userInfo"}),
    )
    .await;
    assert_eq!(answer.status, 409);
}

#[tokio::test]
async fn an_unknown_variant_or_kind_is_a_400_naming_the_valid_ones() {
    let fake = fake();
    fake.login(ALICE_OPENID);
    let answer = encrypt(
        &fake,
        json!({"appid":DEMO_APPID,"openid":ALICE_OPENID,"kind":"userInfo","variant":"nope"}),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert!(answer.json()["error"]
        .as_str()
        .unwrap()
        .contains("tampered"));
    let kind = encrypt(
        &fake,
        json!({"appid":DEMO_APPID,"openid":ALICE_OPENID,"kind":"selfie"}),
    )
    .await;
    assert_eq!(kind.status, 400);
}

#[tokio::test]
async fn openid_mismatch_carries_another_users_openid_under_this_users_current_key() {
    let fake = fake();
    fake.login(ALICE_OPENID);
    let answer = encrypt(
        &fake,
        json!({"appid":DEMO_APPID,"openid":ALICE_OPENID,"kind":"userInfo","variant":"openid-mismatch"}),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["variant"], "openid-mismatch");
    let plain: serde_json::Value =
        serde_json::from_str(body["plaintext"].as_str().unwrap()).unwrap();
    let other = plain["openId"].as_str().unwrap();
    assert_ne!(other, ALICE_OPENID);
    let users = fake.state.engine.users(DEMO_APPID).unwrap();
    assert!(
        users.iter().any(|u| u.openid == other),
        "{other} is a user of the app"
    );
    let key = fake
        .state
        .engine
        .user(DEMO_APPID, ALICE_OPENID)
        .unwrap()
        .session_key
        .unwrap();
    let value = wxmock_fixtures::crypt::decrypt_open_data(
        &key,
        body["iv"].as_str().unwrap(),
        body["encryptedData"].as_str().unwrap(),
        DEMO_APPID,
    )
    .unwrap();
    assert_eq!(value["openId"], other);
}

#[tokio::test]
async fn every_variant_is_served() {
    let fake = fake();
    fake.login(ALICE_OPENID);
    for variant in wxmock_fixtures::forge::Variant::ALL {
        let answer = encrypt(
            &fake,
            json!({"appid":DEMO_APPID,"openid":ALICE_OPENID,"kind":"weRun","variant":variant.name()}),
        )
        .await;
        assert_eq!(answer.status, 200, "{}: {}", variant.name(), answer.text);
        assert_eq!(answer.json()["variant"], variant.name());
    }
}
