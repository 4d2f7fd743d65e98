//! `POST /api/login` against a wiremock WeChat: the happy path and how every upstream failure
//! is answered.

mod support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};
use wxmock_reference_backend::{start, Config};

#[tokio::test]
async fn a_fresh_code_gives_a_jwt_after_exactly_one_well_formed_jscode2session_call() {
    let s = setup(&[]).await;
    mount_user(&s.wechat, "code-1", OPENID, SESSION_KEY).await;
    let (status, body) = s.login("code-1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expiresIn"], 7200);
    assert!(body["userId"].as_str().unwrap().starts_with("u-"));
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");

    let calls = s.calls("/sns/jscode2session").await;
    assert_eq!(calls.len(), 1);
    let query: Vec<(String, String)> = calls[0].url.query_pairs().into_owned().collect();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("appid"), Some(APPID));
    assert_eq!(get("secret"), Some(SECRET));
    assert_eq!(get("js_code"), Some("code-1"));
    assert_eq!(get("grant_type"), Some("authorization_code"));

    let claims = jwt_claims(body["token"].as_str().unwrap());
    let keys: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["sub", "sid", "iat", "exp"]);
    assert_eq!(claims["sub"], body["userId"]);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        7200
    );
    assert!(!body.to_string().contains(SESSION_KEY));
}

#[tokio::test]
async fn the_same_user_keeps_the_user_id_but_never_gets_the_same_token() {
    let s = setup(&[]).await;
    mount_user(&s.wechat, "a", OPENID, SESSION_KEY).await;
    mount_user(&s.wechat, "b", OPENID, "AAAAAAAAAAAAAAAAAAAAAA==").await;
    let (_, first) = s.login("a").await;
    let (_, second) = s.login("b").await;
    assert_eq!(first["userId"], second["userId"]);
    assert_ne!(first["token"], second["token"]);
}

#[tokio::test]
async fn different_users_get_different_user_ids_and_me_tells_them_apart() {
    let s = setup(&[]).await;
    let alice = s
        .login_as("a", "oAlice000000000000000000000A", SESSION_KEY)
        .await;
    let bob = s
        .login_as("b", "oBob00000000000000000000000B", SESSION_KEY)
        .await;
    let (_, me_alice) = s.get("/api/me", Some(&alice)).await;
    let (_, me_bob) = s.get("/api/me", Some(&bob)).await;
    assert_eq!(me_alice["openid"], "oAlice000000000000000000000A");
    assert_eq!(me_bob["openid"], "oBob00000000000000000000000B");
    assert_ne!(me_alice["userId"], me_bob["userId"]);
    assert_eq!(me_alice["unionid"], Value::Null);
}

#[tokio::test]
async fn the_unionid_is_kept_when_wechat_sends_one() {
    let s = setup(&[]).await;
    mount_jscode(
        &s.wechat,
        "u",
        json!({"session_key": SESSION_KEY, "openid": OPENID, "unionid": "ocMvos6NjeKLIBqg5Mr9QjxrP1FA"}),
    )
    .await;
    let (_, body) = s.login("u").await;
    let (_, me) = s.get("/api/me", body["token"].as_str()).await;
    assert_eq!(me["unionid"], "ocMvos6NjeKLIBqg5Mr9QjxrP1FA");
}

#[tokio::test]
async fn a_missing_or_empty_code_is_refused_without_calling_wechat() {
    let s = setup(&[]).await;
    for body in [
        json!({}),
        json!({"code": ""}),
        json!({"code": "  "}),
        json!({"code": null}),
    ] {
        let (status, answer) = s.post("/api/login", None, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(answer, json!({"error": "missing code"}));
    }
    let response = s.http.post(s.url("/api/login")).send().await.unwrap();
    assert_eq!(
        read(response).await,
        (StatusCode::BAD_REQUEST, json!({"error": "missing code"}))
    );
    assert!(s.calls("/sns/jscode2session").await.is_empty());
}

#[tokio::test]
async fn code_errors_answer_401_invalid_code() {
    let s = setup(&[]).await;
    for errcode in [40029, 40163, 40226, 41008] {
        let code = format!("c{errcode}");
        mount_jscode(
            &s.wechat,
            &code,
            json!({"errcode": errcode, "errmsg": "x, rid: 1"}),
        )
        .await;
        let (status, body) = s.login(&code).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "errcode {errcode}");
        assert_eq!(body, json!({"error": "invalid code"}));
    }
}

#[tokio::test]
async fn busy_and_rate_limit_errors_answer_503() {
    let s = setup(&[]).await;
    for errcode in [-1, 45011, 45009] {
        let code = format!("c{errcode}");
        mount_jscode(
            &s.wechat,
            &code,
            json!({"errcode": errcode, "errmsg": "busy"}),
        )
        .await;
        let (status, body) = s.login(&code).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "errcode {errcode}");
        assert_eq!(body, json!({"error": "wechat busy, retry later"}));
    }
}

#[tokio::test]
async fn configuration_errcodes_answer_502() {
    let s = setup(&[]).await;
    mount_jscode(
        &s.wechat,
        "c",
        json!({"errcode": 40125, "errmsg": "invalid appsecret"}),
    )
    .await;
    assert_eq!(
        s.login("c").await,
        (StatusCode::BAD_GATEWAY, json!({"error": "upstream error"}))
    );
}

#[tokio::test]
async fn garbage_error_pages_and_incomplete_answers_answer_502() {
    let s = setup(&[]).await;
    let answers = [
        (
            "html",
            ResponseTemplate::new(502).set_body_raw("<html>502 Bad Gateway</html>", "text/html"),
        ),
        (
            "garbage",
            ResponseTemplate::new(200).set_body_raw("\u{0}\u{1}not json{", "text/plain"),
        ),
        ("empty", ResponseTemplate::new(200)),
        (
            "array",
            ResponseTemplate::new(200).set_body_json(json!([1, 2])),
        ),
        (
            "no-openid",
            ResponseTemplate::new(200).set_body_json(json!({"session_key": SESSION_KEY})),
        ),
        (
            "empty-key",
            ResponseTemplate::new(200).set_body_json(json!({"session_key": "", "openid": OPENID})),
        ),
    ];
    for (code, answer) in answers {
        Mock::given(method("GET"))
            .and(path("/sns/jscode2session"))
            .and(wiremock::matchers::query_param("js_code", code))
            .respond_with(answer)
            .mount(&s.wechat)
            .await;
        let (status, body) = s.login(code).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{code}");
        assert_eq!(body, json!({"error": "upstream error"}), "{code}");
    }
}

#[tokio::test]
async fn a_hung_wechat_answers_502_within_the_upstream_timeout() {
    let s = setup(&[]).await;
    Mock::given(path("/sns/jscode2session"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .mount(&s.wechat)
        .await;
    let started = Instant::now();
    let (status, _) = s.login("slow").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(
        started.elapsed() < UPSTREAM_TIMEOUT + Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_or_resetting_wechat_answers_502() {
    for base in ["http://127.0.0.1:1".to_owned(), resetting_server().await] {
        let backend = start(Config::new(base, APPID, SECRET)).await.unwrap();
        let response = reqwest::Client::new()
            .post(format!("{}/api/login", backend.base_url()))
            .json(&json!({"code": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            read(response).await,
            (StatusCode::BAD_GATEWAY, json!({"error": "upstream error"}))
        );
    }
}

#[tokio::test]
async fn malformed_requests_get_a_short_json_error_and_no_wechat_call() {
    let s = setup(&[]).await;
    let bad_json = s
        .http
        .post(s.url("/api/login"))
        .header("content-type", "application/json")
        .body("{\"code\":")
        .send()
        .await
        .unwrap();
    assert_eq!(
        read(bad_json).await,
        (StatusCode::BAD_REQUEST, json!({"error": "invalid request"}))
    );
    let (status, body) = s.post("/api/login", None, json!({"code": 12345})).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"error": "invalid request"}))
    );
    let (status, body) = s.login(&"x".repeat(100_000)).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"error": "invalid code"}))
    );
    assert!(s.calls("/sns/jscode2session").await.is_empty());
}

#[tokio::test]
async fn health_and_unknown_routes_answer_json() {
    let s = setup(&[]).await;
    assert_eq!(
        s.get("/healthz", None).await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    assert_eq!(
        s.get("/nope", None).await,
        (StatusCode::NOT_FOUND, json!({"error": "not found"}))
    );
}

#[tokio::test]
async fn a_reset_connection_answers_502_and_the_next_login_works() {
    let base = flaky_wechat(1, json!({"session_key": SESSION_KEY, "openid": OPENID})).await;
    let backend = start(Config::new(base, APPID, SECRET)).await.unwrap();
    let client = reqwest::Client::new();
    let login = || {
        client
            .post(format!("{}/api/login", backend.base_url()))
            .json(&json!({"code": "x"}))
            .send()
    };
    assert_eq!(
        read(login().await.unwrap()).await.0,
        StatusCode::BAD_GATEWAY
    );
    let (status, body) = read(login().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
