//! One test per encrypted-data and phone defect switch (the rest are in defects.rs and
//! defects_access_token.rs): each shows the behaviour the switch changes; the correct behaviour is
//! pinned by open_data.rs.

mod support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::json;
use support::*;
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, ResponseTemplate};
use wxmock_reference_backend::Defect;

/// A second user of the app, for data naming someone else.
const OTHER_OPENID: &str = "oOtherUser000000000000000000";

#[tokio::test]
async fn no_watermark_check_accepts_data_for_another_appid() {
    let s = setup(&[Defect::NoWatermarkCheck]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let (data, iv) = encrypt(SESSION_KEY, &user_info("Alice", "wx0000000000000000"));
    let (status, body) = s
        .post(
            "/api/user-info",
            Some(&token),
            json!({"encryptedData": data, "iv": iv}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["watermark"]["appid"], "wx0000000000000000");
}

#[tokio::test]
async fn crash_on_bad_data_answers_500_to_a_bad_iv_or_garbled_plaintext_but_not_to_a_stale_key() {
    let s = setup(&[Defect::CrashOnBadData]).await;
    let old_key = STANDARD.encode([3u8; 16]);
    s.login_as("c1", OPENID, &old_key).await;
    let token = s.login_as("c2", OPENID, SESSION_KEY).await;
    let crashed = (
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"error": "internal server error"}),
    );
    let short_iv = json!({"encryptedData": VECTOR_DATA, "iv": STANDARD.encode([1u8; 15])});
    assert_eq!(
        s.post("/api/user-info", Some(&token), short_iv).await,
        crashed
    );
    let mut garbled = STANDARD.decode(VECTOR_DATA).unwrap();
    garbled[0] ^= 0x80;
    let garbled = json!({"encryptedData": STANDARD.encode(garbled), "iv": VECTOR_IV});
    assert_eq!(
        s.post("/api/user-info", Some(&token), garbled).await,
        crashed
    );
    let (data, iv) = encrypt(&old_key, &user_info("Alice", APPID));
    let stale = json!({"encryptedData": data, "iv": iv});
    assert_eq!(
        s.post("/api/user-info", Some(&token), stale).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn fallback_old_session_key_accepts_data_under_an_earlier_key() {
    let s = setup(&[Defect::FallbackOldSessionKey]).await;
    let old_key = STANDARD.encode([3u8; 16]);
    s.login_as("c1", OPENID, &old_key).await;
    let token = s.login_as("c2", OPENID, SESSION_KEY).await;
    let (data, iv) = encrypt(&old_key, &user_info("Alice", APPID));
    let (status, body) = s
        .post(
            "/api/user-info",
            Some(&token),
            json!({"encryptedData": data, "iv": iv}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["nickName"], "Alice");
}

#[tokio::test]
async fn truncate_nickname_cuts_names_to_twenty_characters() {
    let s = setup(&[Defect::TruncateNickname]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let long = "名前が長いユーザーさんのニックネームです本当に長い";
    let (data, iv) = encrypt(SESSION_KEY, &user_info(long, APPID));
    let (_, body) = s
        .post(
            "/api/user-info",
            Some(&token),
            json!({"encryptedData": data, "iv": iv}),
        )
        .await;
    assert_eq!(
        body["data"]["nickName"],
        long.chars().take(20).collect::<String>()
    );
}

#[tokio::test]
async fn urlsafe_base64_cannot_read_the_official_vector() {
    let s = setup(&[Defect::UrlsafeBase64]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let body = json!({"encryptedData": VECTOR_DATA, "iv": VECTOR_IV});
    assert_eq!(
        s.post("/api/user-info", Some(&token), body).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn phone_countrycode_number_fails_on_the_string_wechat_really_sends() {
    let (s, token) = phone_setup(&[Defect::PhoneCountrycodeNumber]).await;
    assert_eq!(
        s.post("/api/phone", Some(&token), json!({"code": "p"}))
            .await
            .0,
        StatusCode::BAD_GATEWAY
    );
    Mock::given(path("/wxa/business/getuserphonenumber"))
        .and(query_param("access_token", "AT-1"))
        .and(wiremock::matchers::body_json(json!({"code": "numeric"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "errcode": 0, "errmsg": "ok",
            "phone_info": {"phoneNumber": "13800138000", "purePhoneNumber": "13800138000", "countryCode": 86}
        })))
        .with_priority(1)
        .mount(&s.wechat)
        .await;
    let (status, body) = s
        .post("/api/phone", Some(&token), json!({"code": "numeric"}))
        .await;
    assert_eq!(
        (status, body["countryCode"].clone()),
        (StatusCode::OK, json!(86))
    );
}

#[tokio::test]
async fn no_openid_check_accepts_user_info_naming_another_openid() {
    let s = setup(&[Defect::NoOpenidCheck]).await;
    let token = s.login_as("c", OTHER_OPENID, SESSION_KEY).await;
    let (data, iv) = encrypt(SESSION_KEY, &user_info("Alice", APPID));
    let (status, body) = s
        .post(
            "/api/user-info",
            Some(&token),
            json!({"encryptedData": data, "iv": iv}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["openId"], OPENID);
}
