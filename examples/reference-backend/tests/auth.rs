//! Protected routes: which tokens get in.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

fn unauthorized() -> (StatusCode, Value) {
    (StatusCode::UNAUTHORIZED, json!({"error": "unauthorized"}))
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn a_valid_token_reaches_me() {
    let s = setup(&[]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let (status, me) = s.get("/api/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["openid"], OPENID);
    assert_eq!(me["userId"], jwt_claims(&token)["sub"]);
}

#[tokio::test]
async fn missing_garbage_and_non_bearer_credentials_are_unauthorized() {
    let s = setup(&[]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    assert_eq!(s.get("/api/me", None).await, unauthorized());
    for garbage in ["garbage", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9"] {
        assert_eq!(
            s.get("/api/me", Some(garbage)).await,
            unauthorized(),
            "{garbage}"
        );
    }
    for header in [format!("Basic {token}"), token.clone(), "Bearer".to_owned()] {
        let response = s
            .http
            .get(s.url("/api/me"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(read(response).await, unauthorized());
    }
}

#[tokio::test]
async fn tampered_and_foreign_signatures_are_unauthorized() {
    let s = setup(&[]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let mut claims = jwt_claims(&token);
    claims["sub"] = json!("u-someone-else");
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    assert_eq!(s.get("/api/me", Some(&tampered)).await, unauthorized());
    let foreign = mint(&jwt_claims(&token), "secret");
    assert_eq!(s.get("/api/me", Some(&foreign)).await, unauthorized());
}

#[tokio::test]
async fn unsigned_alg_none_tokens_are_unauthorized() {
    let s = setup(&[]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let claims = b64(&jwt_claims(&token));
    let signature = token.split('.').nth(2).unwrap();
    for alg in ["none", "None", "NONE"] {
        let header = b64(&json!({"alg": alg, "typ": "JWT"}));
        for forged in [
            format!("{header}.{claims}."),
            format!("{header}.{claims}"),
            format!("{header}.{claims}.{signature}"),
        ] {
            assert_eq!(
                s.get("/api/me", Some(&forged)).await,
                unauthorized(),
                "{forged}"
            );
        }
    }
}

#[tokio::test]
async fn another_hmac_algorithm_with_the_right_key_is_unauthorized() {
    let s = setup(&[]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &jwt_claims(&token),
        &jsonwebtoken::EncodingKey::from_secret(s.backend.jwt_secret().as_bytes()),
    )
    .unwrap();
    assert_eq!(s.get("/api/me", Some(&hs512)).await, unauthorized());
}

#[tokio::test]
async fn expiry_is_enforced_to_the_second_and_exp_is_required() {
    let s = setup(&[]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let key = s.backend.jwt_secret().to_owned();
    let mut claims = jwt_claims(&token);
    let now = now();
    for exp in [now - 1, now - 6, now - 3600] {
        claims["exp"] = json!(exp);
        assert_eq!(
            s.get("/api/me", Some(&mint(&claims, &key))).await,
            unauthorized(),
            "exp {exp}"
        );
    }
    for exp in [now + 2, now + 60] {
        claims["exp"] = json!(exp);
        let (status, _) = s.get("/api/me", Some(&mint(&claims, &key))).await;
        assert_eq!(status, StatusCode::OK, "exp {exp}");
    }
    claims.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        s.get("/api/me", Some(&mint(&claims, &key))).await,
        unauthorized()
    );
}

#[tokio::test]
async fn a_signed_token_for_an_unknown_session_is_unauthorized() {
    let s = setup(&[]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let mut claims = jwt_claims(&token);
    claims["sid"] = json!("no-such-session");
    let forged = mint(&claims, s.backend.jwt_secret());
    assert_eq!(s.get("/api/me", Some(&forged)).await, unauthorized());
}

#[tokio::test]
async fn every_protected_route_needs_a_token() {
    let s = setup(&[]).await;
    assert_eq!(s.get("/api/session-check", None).await, unauthorized());
    assert_eq!(
        s.post("/api/phone", None, json!({"code": "x"})).await,
        unauthorized()
    );
    let body = json!({"encryptedData": VECTOR_DATA, "iv": VECTOR_IV});
    assert_eq!(s.post("/api/user-info", None, body).await, unauthorized());
    assert!(s.wechat.received_requests().await.unwrap().is_empty());
}
