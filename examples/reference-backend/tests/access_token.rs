//! The access token behind `/api/phone` and `/api/session-check`: cached, fetched once under
//! concurrency, refreshed once when WeChat refuses it.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use support::*;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};
use wxmock_reference_backend::wechat::wxa::login_state_signature;

#[tokio::test]
async fn many_phone_lookups_cost_one_token_fetch() {
    let s = setup(&[]).await;
    mount_access_token(&s.wechat, "AT-1").await;
    mount_phone(&s.wechat, "AT-1").await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    for _ in 0..5 {
        let (status, body) = s
            .post("/api/phone", Some(&token), json!({"code": "p"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            json!({"phoneNumber": "13800138000", "purePhoneNumber": "13800138000", "countryCode": "86"})
        );
    }
    assert_eq!(s.calls("/cgi-bin/token").await.len(), 1);
    let fetch = &s.calls("/cgi-bin/token").await[0];
    let query: Vec<(String, String)> = fetch.url.query_pairs().into_owned().collect();
    assert!(query.contains(&("grant_type".into(), "client_credential".into())));
    assert!(query.contains(&("appid".into(), APPID.into())));
    assert!(query.contains(&("secret".into(), SECRET.into())));
    let phone_call = &s.calls("/wxa/business/getuserphonenumber").await[0];
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&phone_call.body).unwrap(),
        json!({"code": "p"})
    );
}

#[tokio::test]
async fn concurrent_operations_share_a_single_token_fetch() {
    let s = setup(&[]).await;
    Mock::given(method("GET"))
        .and(path("/cgi-bin/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "AT-1", "expires_in": 7200}))
                .set_delay(Duration::from_millis(150)),
        )
        .mount(&s.wechat)
        .await;
    mount_phone(&s.wechat, "AT-1").await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let calls = (0..10).map(|_| s.post("/api/phone", Some(&token), json!({"code": "p"})));
    for (status, body) in futures_join_all(calls).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(s.calls("/cgi-bin/token").await.len(), 1);
    assert_eq!(s.calls("/wxa/business/getuserphonenumber").await.len(), 10);
}

/// `join_all` without a futures dependency: spawn-free, polls all in one task.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.unwrap()).collect()
}

#[tokio::test]
async fn a_refused_token_is_dropped_refetched_and_the_call_retried_once() {
    let s = setup(&[]).await;
    Mock::given(path("/cgi-bin/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "AT-old", "expires_in": 7200})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.wechat)
        .await;
    mount_access_token(&s.wechat, "AT-new").await;
    Mock::given(path("/wxa/business/getuserphonenumber"))
        .and(query_param("access_token", "AT-old"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": 40001, "errmsg": "invalid credential"})),
        )
        .mount(&s.wechat)
        .await;
    mount_phone(&s.wechat, "AT-new").await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let (status, body) = s
        .post("/api/phone", Some(&token), json!({"code": "p"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.calls("/cgi-bin/token").await.len(), 2);
    // The new token is cached in its turn.
    assert_eq!(
        s.post("/api/phone", Some(&token), json!({"code": "p"}))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(s.calls("/cgi-bin/token").await.len(), 2);
}

#[tokio::test]
async fn a_token_wechat_keeps_refusing_is_retried_only_once_then_502() {
    let s = setup(&[]).await;
    mount_access_token(&s.wechat, "AT-1").await;
    Mock::given(path("/wxa/business/getuserphonenumber"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": 42001, "errmsg": "access_token expired"})),
        )
        .mount(&s.wechat)
        .await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let (status, body) = s
        .post("/api/phone", Some(&token), json!({"code": "p"}))
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_GATEWAY, json!({"error": "upstream error"}))
    );
    assert_eq!(s.calls("/wxa/business/getuserphonenumber").await.len(), 2);
    assert_eq!(s.calls("/cgi-bin/token").await.len(), 2);
}

#[tokio::test]
async fn a_token_that_expires_within_five_minutes_is_not_cached() {
    let s = setup(&[]).await;
    Mock::given(path("/cgi-bin/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "AT-1", "expires_in": 300})),
        )
        .mount(&s.wechat)
        .await;
    mount_phone(&s.wechat, "AT-1").await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    for _ in 0..2 {
        assert_eq!(
            s.post("/api/phone", Some(&token), json!({"code": "p"}))
                .await
                .0,
            StatusCode::OK
        );
    }
    assert_eq!(s.calls("/cgi-bin/token").await.len(), 2);
}

#[tokio::test]
async fn an_invalid_phone_code_is_400_and_other_errors_502() {
    let s = setup(&[]).await;
    mount_access_token(&s.wechat, "AT-1").await;
    Mock::given(path("/wxa/business/getuserphonenumber"))
        .and(wiremock::matchers::body_json(json!({"code": "bad"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": 40029, "errmsg": "invalid code"})),
        )
        .mount(&s.wechat)
        .await;
    Mock::given(path("/wxa/business/getuserphonenumber"))
        .and(wiremock::matchers::body_json(json!({"code": "busy"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": -1, "errmsg": "system error"})),
        )
        .mount(&s.wechat)
        .await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    assert_eq!(
        s.post("/api/phone", Some(&token), json!({"code": "bad"}))
            .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid phone code"})
        )
    );
    assert_eq!(
        s.post("/api/phone", Some(&token), json!({"code": "busy"}))
            .await,
        (StatusCode::BAD_GATEWAY, json!({"error": "upstream error"}))
    );
    assert_eq!(
        s.post("/api/phone", Some(&token), json!({})).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid phone code"})
        )
    );
}

#[tokio::test]
async fn session_check_signs_with_the_session_key_and_reads_87009_as_invalid() {
    let s = setup(&[]).await;
    mount_access_token(&s.wechat, "AT-1").await;
    Mock::given(method("GET"))
        .and(path("/wxa/checksession"))
        .and(query_param("access_token", "AT-1"))
        .and(query_param("openid", OPENID))
        .and(query_param("signature", login_state_signature(SESSION_KEY)))
        .and(query_param("sig_method", "hmac_sha256"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"errcode": 0, "errmsg": "ok"})),
        )
        .mount(&s.wechat)
        .await;
    Mock::given(path("/wxa/checksession"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": 87009, "errmsg": "invalid signature"})),
        )
        .mount(&s.wechat)
        .await;
    let current = s.login_as("c1", OPENID, SESSION_KEY).await;
    assert_eq!(
        s.get("/api/session-check", Some(&current)).await,
        (StatusCode::OK, json!({"valid": true}))
    );
    let other = s
        .login_as(
            "c2",
            "oOther0000000000000000000000",
            "AAAAAAAAAAAAAAAAAAAAAA==",
        )
        .await;
    assert_eq!(
        s.get("/api/session-check", Some(&other)).await,
        (StatusCode::OK, json!({"valid": false}))
    );
    assert_eq!(s.calls("/cgi-bin/token").await.len(), 1);
}
