//! One test per access-token defect switch (the rest are in defects.rs): each shows the
//! behaviour the switch changes; the correct behaviour is pinned by access_token.rs.

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::*;
use wiremock::matchers::path;
use wiremock::{Mock, ResponseTemplate};
use wxmock_reference_backend::Defect;

#[tokio::test]
async fn no_access_token_cache_fetches_a_token_for_every_operation() {
    let (s, token) = phone_setup(&[Defect::NoAccessTokenCache]).await;
    for _ in 0..3 {
        assert_eq!(
            s.post("/api/phone", Some(&token), json!({"code": "p"}))
                .await
                .0,
            StatusCode::OK
        );
    }
    assert_eq!(s.calls("/cgi-bin/token").await.len(), 3);
}

#[tokio::test]
async fn no_token_refresh_answers_502_when_wechat_refuses_the_cached_token() {
    let s = setup(&[Defect::NoTokenRefresh]).await;
    mount_access_token(&s.wechat, "AT-1").await;
    Mock::given(path("/wxa/business/getuserphonenumber"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": 40001, "errmsg": "invalid credential"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.wechat)
        .await;
    mount_phone(&s.wechat, "AT-1").await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    assert_eq!(
        s.post("/api/phone", Some(&token), json!({"code": "p"}))
            .await
            .0,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(s.calls("/cgi-bin/token").await.len(), 1);
    assert_eq!(s.calls("/wxa/business/getuserphonenumber").await.len(), 1);
}

#[tokio::test]
async fn expose_access_token_echoes_the_access_token_in_the_phone_answer() {
    let (s, token) = phone_setup(&[Defect::ExposeAccessToken]).await;
    let (_, body) = s
        .post("/api/phone", Some(&token), json!({"code": "p"}))
        .await;
    assert_eq!(body["access_token"], "AT-1");
    assert_eq!(body["countryCode"], "86");
}

/// getuserphonenumber refuses every access token with 40001.
async fn refuse_every_token(s: &Setup) {
    mount_access_token(&s.wechat, "AT-1").await;
    Mock::given(path("/wxa/business/getuserphonenumber"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": 40001, "errmsg": "invalid credential"})),
        )
        .mount(&s.wechat)
        .await;
}

#[tokio::test]
async fn refresh_unbounded_fetches_a_token_per_round_while_wechat_refuses_every_one() {
    use wxmock_reference_backend::wechat::access_token::UNBOUNDED_REFRESH_CAP;
    for (defects, fetches) in [
        (&[][..], 2),
        (&[Defect::RefreshUnbounded][..], 1 + UNBOUNDED_REFRESH_CAP),
    ] {
        let s = setup(defects).await;
        refuse_every_token(&s).await;
        let token = s.login_as("c", OPENID, SESSION_KEY).await;
        let (status, body) = s
            .post("/api/phone", Some(&token), json!({"code": "p"}))
            .await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{defects:?}: {body}");
        assert_eq!(
            s.calls("/cgi-bin/token").await.len(),
            fetches,
            "{defects:?}"
        );
    }
}

#[tokio::test]
async fn login_needs_access_token_fails_the_login_while_cgi_bin_token_fails() {
    for (defects, want) in [
        (&[][..], StatusCode::OK),
        (
            &[Defect::LoginNeedsAccessToken][..],
            StatusCode::BAD_GATEWAY,
        ),
    ] {
        let s = setup(defects).await;
        Mock::given(path("/cgi-bin/token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"errcode": -1, "errmsg": "system error"})),
            )
            .mount(&s.wechat)
            .await;
        mount_user(&s.wechat, "c", OPENID, SESSION_KEY).await;
        let (status, body) = s.login("c").await;
        assert_eq!(status, want, "{defects:?}: {body}");
        let fetches = usize::from(!defects.is_empty());
        assert_eq!(s.calls("/cgi-bin/token").await.len(), fetches);
    }
}
