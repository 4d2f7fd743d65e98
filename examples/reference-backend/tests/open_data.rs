//! `POST /api/user-info`: decrypting WeChat open data with the session's own session_key.

mod support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

fn refused() -> (StatusCode, Value) {
    (
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid encrypted data"}),
    )
}

#[tokio::test]
async fn the_official_vector_decrypts_to_the_exact_official_plaintext() {
    let s = setup(&[]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let body = json!({"encryptedData": VECTOR_DATA, "iv": VECTOR_IV});
    let (status, answer) = s.post("/api/user-info", Some(&token), body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // Field order and values exactly as decrypted.
    assert_eq!(answer["data"].to_string(), VECTOR_PLAINTEXT);
}

#[tokio::test]
async fn raw_data_with_a_matching_signature_is_accepted_and_a_wrong_one_refused() {
    let s = setup(&[]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let raw = r#"{"nickName":"Band"}"#;
    let good = wxmock_reference_backend::open_data::raw_data_signature(raw, SESSION_KEY);
    let ok =
        json!({"encryptedData": VECTOR_DATA, "iv": VECTOR_IV, "rawData": raw, "signature": good});
    assert_eq!(
        s.post("/api/user-info", Some(&token), ok).await.0,
        StatusCode::OK
    );
    let bad = json!({"encryptedData": VECTOR_DATA, "iv": VECTOR_IV, "rawData": raw, "signature": "0".repeat(40)});
    assert_eq!(s.post("/api/user-info", Some(&token), bad).await, refused());
}

#[tokio::test]
async fn broken_encrypted_data_is_refused_with_400_never_500() {
    let s = setup(&[]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let mut flipped = STANDARD.decode(VECTOR_DATA).unwrap();
    flipped[3] ^= 0x01;
    let flipped = STANDARD.encode(flipped);
    let cases = [
        ("iv-15", VECTOR_DATA.to_owned(), STANDARD.encode([1u8; 15])),
        ("iv-17", VECTOR_DATA.to_owned(), STANDARD.encode([1u8; 17])),
        ("tampered", flipped, VECTOR_IV.to_owned()),
        (
            "truncated",
            VECTOR_DATA[..100].to_owned(),
            VECTOR_IV.to_owned(),
        ),
        ("not-base64", "%%%%".to_owned(), VECTOR_IV.to_owned()),
        (
            "plus-to-space",
            VECTOR_DATA.replace('+', " "),
            VECTOR_IV.to_owned(),
        ),
        (
            "wrong-iv",
            VECTOR_DATA.to_owned(),
            STANDARD.encode([9u8; 16]),
        ),
    ];
    for (name, data, iv) in cases {
        let body = json!({"encryptedData": data, "iv": iv});
        assert_eq!(
            s.post("/api/user-info", Some(&token), body).await,
            refused(),
            "{name}"
        );
    }
    let (status, _) = s
        .post("/api/user-info", Some(&token), json!({"iv": VECTOR_IV}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn another_appid_in_the_watermark_is_refused() {
    let s = setup(&[]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let (data, iv) = encrypt(SESSION_KEY, &user_info("Alice", "wx0000000000000000"));
    let body = json!({"encryptedData": data, "iv": iv});
    assert_eq!(
        s.post("/api/user-info", Some(&token), body).await,
        refused()
    );
}

#[tokio::test]
async fn data_under_the_session_key_of_an_earlier_login_is_refused() {
    let s = setup(&[]).await;
    let old_key = STANDARD.encode([3u8; 16]);
    let _first = s.login_as("c1", OPENID, &old_key).await;
    let second = s.login_as("c2", OPENID, SESSION_KEY).await;
    let (data, iv) = encrypt(&old_key, &user_info("Alice", APPID));
    let body = json!({"encryptedData": data, "iv": iv});
    assert_eq!(
        s.post("/api/user-info", Some(&second), body).await,
        refused()
    );
}

#[tokio::test]
async fn cjk_emoji_and_long_names_come_back_exactly() {
    let s = setup(&[]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    for name in [
        "微信用户",
        "🦀 Ferris 🦀",
        "名前が長いユーザーさんのニックネームです本当に",
        "0123456789abcde",
    ] {
        let plaintext = user_info(name, APPID);
        let (data, iv) = encrypt(SESSION_KEY, &plaintext);
        let (status, answer) = s
            .post(
                "/api/user-info",
                Some(&token),
                json!({"encryptedData": data, "iv": iv}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer["data"].to_string(), plaintext);
    }
}
