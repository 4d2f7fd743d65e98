//! One test per defect switch: each shows the behaviour the switch changes (the correct
//! behaviour is pinned by the other test files).

mod support;

use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, ResponseTemplate};
use wxmock_reference_backend::{start, Config, Defect};

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn md5_hex(text: &str) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(text.as_bytes()))
}

#[test]
fn every_defect_is_covered_by_a_test_in_these_files() {
    // The access-token switches are tested in defects_access_token.rs, the encrypted-data and
    // phone switches in defects_data.rs.
    let source = [
        include_str!("defects.rs"),
        include_str!("defects_access_token.rs"),
        include_str!("defects_data.rs"),
    ]
    .concat();
    for defect in Defect::ALL {
        let test_name = format!("fn {}_", defect.name().replace('-', "_"));
        assert!(source.contains(&test_name), "no test for {}", defect.name());
    }
}

#[tokio::test]
async fn session_key_in_jwt_puts_the_session_key_in_a_readable_claim() {
    let s = setup(&[Defect::SessionKeyInJwt]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    assert_eq!(jwt_claims(&token)["session_key"], SESSION_KEY);
    assert_eq!(s.get("/api/me", Some(&token)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn leak_session_key_returns_the_session_key_in_the_login_answer() {
    let s = setup(&[Defect::LeakSessionKey]).await;
    mount_user(&s.wechat, "c", OPENID, SESSION_KEY).await;
    let (_, body) = s.login("c").await;
    assert_eq!(body["session_key"], SESSION_KEY);
    assert!(jwt_claims(body["token"].as_str().unwrap())
        .get("session_key")
        .is_none());
}

#[tokio::test]
async fn no_exp_issues_tokens_without_exp_but_still_checks_an_exp_it_finds() {
    let s = setup(&[Defect::NoExp]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let mut claims = jwt_claims(&token);
    assert!(claims.get("exp").is_none());
    assert_eq!(s.get("/api/me", Some(&token)).await.0, StatusCode::OK);
    claims["exp"] = json!(now() - 10);
    let expired = mint(&claims, s.backend.jwt_secret());
    assert_eq!(
        s.get("/api/me", Some(&expired)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn ignore_exp_accepts_expired_tokens() {
    let s = setup(&[Defect::IgnoreExp]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let mut claims = jwt_claims(&token);
    claims["exp"] = json!(now() - 3600);
    let expired = mint(&claims, s.backend.jwt_secret());
    assert_eq!(s.get("/api/me", Some(&expired)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn predictable_token_hands_out_md5_of_the_openid() {
    let s = setup(&[Defect::PredictableToken]).await;
    let first = s.login_as("c1", OPENID, SESSION_KEY).await;
    let second = s.login_as("c2", OPENID, SESSION_KEY).await;
    assert_eq!(first, md5_hex(OPENID));
    assert_eq!(first, second);
    let (status, me) = s.get("/api/me", Some(&md5_hex(OPENID))).await;
    assert_eq!(
        (status, me["openid"].clone()),
        (StatusCode::OK, json!(OPENID))
    );
    assert_eq!(
        s.get("/api/me", Some("garbage")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.get("/api/me", Some(&md5_hex("oSomeoneElse"))).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn alg_none_accepts_unsigned_tokens_in_any_spelling() {
    let s = setup(&[Defect::AlgNone]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let claims = b64(&jwt_claims(&token));
    for alg in ["none", "None", "NONE"] {
        let forged = format!("{}.{claims}.", b64(&json!({"alg": alg})));
        assert_eq!(
            s.get("/api/me", Some(&forged)).await.0,
            StatusCode::OK,
            "{alg}"
        );
    }
    let foreign = mint(&jwt_claims(&token), "other-key");
    assert_eq!(
        s.get("/api/me", Some(&foreign)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn weak_secret_signs_with_the_literal_secret() {
    let s = setup(&[Defect::WeakSecret]).await;
    assert_eq!(s.backend.jwt_secret(), "secret");
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_exp = false;
    let verified = jsonwebtoken::decode::<Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(b"secret"),
        &validation,
    );
    assert!(verified.is_ok());
}

#[tokio::test]
async fn accept_tampered_trusts_a_changed_payload_under_the_old_signature() {
    let s = setup(&[Defect::AcceptTampered]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let mut claims = jwt_claims(&token);
    claims["sub"] = json!("u-admin");
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    let (status, me) = s.get("/api/me", Some(&tampered)).await;
    assert_eq!(
        (status, me["userId"].clone()),
        (StatusCode::OK, json!("u-admin"))
    );
    let none = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims));
    assert_eq!(s.get("/api/me", Some(&none)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn token_on_errcode_logs_in_an_empty_openid_when_wechat_refuses_the_code() {
    let s = setup(&[Defect::TokenOnErrcode]).await;
    for errcode in [40029, -1] {
        let code = format!("c{errcode}");
        mount_jscode(&s.wechat, &code, json!({"errcode": errcode, "errmsg": "x"})).await;
        let (status, body) = s.login(&code).await;
        assert_eq!(status, StatusCode::OK, "errcode {errcode}");
        let (_, me) = s.get("/api/me", body["token"].as_str()).await;
        assert_eq!(me["openid"], "");
    }
}

#[tokio::test]
async fn crash_on_errcode_answers_500_to_a_refused_code() {
    let s = setup(&[Defect::CrashOnErrcode]).await;
    mount_jscode(
        &s.wechat,
        "c",
        json!({"errcode": 40163, "errmsg": "code been used"}),
    )
    .await;
    assert_eq!(
        s.login("c").await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "internal server error"})
        )
    );
    mount_user(&s.wechat, "ok", OPENID, SESSION_KEY).await;
    assert_eq!(s.login("ok").await.0, StatusCode::OK);
}

#[tokio::test]
async fn no_upstream_timeout_waits_for_a_slow_wechat() {
    let s = setup(&[Defect::NoUpstreamTimeout]).await;
    let slow = UPSTREAM_TIMEOUT * 3;
    Mock::given(path("/sns/jscode2session"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"session_key": SESSION_KEY, "openid": OPENID}))
                .set_delay(slow),
        )
        .mount(&s.wechat)
        .await;
    let started = Instant::now();
    assert_eq!(s.login("c").await.0, StatusCode::OK);
    assert!(started.elapsed() >= slow);
}

#[tokio::test]
async fn accept_garbage_upstream_logs_in_an_empty_openid_on_an_error_page() {
    let s = setup(&[Defect::AcceptGarbageUpstream]).await;
    Mock::given(path("/sns/jscode2session"))
        .respond_with(
            ResponseTemplate::new(502).set_body_raw("<html>Bad Gateway</html>", "text/html"),
        )
        .mount(&s.wechat)
        .await;
    let (status, body) = s.login("c").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, me) = s.get("/api/me", body["token"].as_str()).await;
    assert_eq!(me["openid"], "");
}

#[tokio::test]
async fn no_grant_type_omits_grant_type_on_jscode2session() {
    let s = setup(&[Defect::NoGrantType]).await;
    s.login_as("c", OPENID, SESSION_KEY).await;
    let call = &s.calls("/sns/jscode2session").await[0];
    assert!(call.url.query_pairs().all(|(k, _)| k != "grant_type"));
    assert!(call.url.query_pairs().any(|(k, _)| k == "js_code"));
}

#[tokio::test]
async fn forward_empty_code_spends_a_wechat_call_on_an_empty_code() {
    let s = setup(&[Defect::ForwardEmptyCode]).await;
    mount_jscode(
        &s.wechat,
        "",
        json!({"errcode": 41008, "errmsg": "missing code"}),
    )
    .await;
    let (status, _) = s.post("/api/login", None, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let calls = s.calls("/sns/jscode2session").await;
    assert_eq!(calls.len(), 1);
    assert!(calls[0]
        .url
        .query_pairs()
        .any(|(k, v)| k == "js_code" && v.is_empty()));
}

#[tokio::test]
async fn new_user_every_login_gives_a_returning_user_a_new_user_id() {
    let s = setup(&[Defect::NewUserEveryLogin]).await;
    let first = s.login_as("c1", OPENID, SESSION_KEY).await;
    let second = s.login_as("c2", OPENID, SESSION_KEY).await;
    assert_ne!(jwt_claims(&first)["sub"], jwt_claims(&second)["sub"]);
}

#[tokio::test]
async fn shared_identity_answers_me_with_whoever_logged_in_last() {
    let s = setup(&[Defect::SharedIdentity]).await;
    let alice = s
        .login_as("a", "oAlice000000000000000000000A", SESSION_KEY)
        .await;
    let _bob = s
        .login_as("b", "oBob00000000000000000000000B", SESSION_KEY)
        .await;
    let (_, me) = s.get("/api/me", Some(&alice)).await;
    assert_eq!(me["openid"], "oBob00000000000000000000000B");
    assert_eq!(s.get("/api/me", None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn optional_auth_serves_a_request_without_token_as_anonymous() {
    let s = setup(&[Defect::OptionalAuth]).await;
    let (status, me) = s.get("/api/me", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["userId"], "anonymous");
    assert_eq!(
        s.get("/api/me", Some("garbage")).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn crash_on_bad_token_answers_500_to_a_token_that_is_not_a_jwt() {
    let s = setup(&[Defect::CrashOnBadToken]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    assert_eq!(
        s.get("/api/me", Some("garbage")).await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "internal server error"})
        )
    );
    // Well-formed but forged tokens are still plainly refused.
    let claims = b64(&jwt_claims(&token));
    let none = format!("{}.{claims}", b64(&json!({"alg": "none"})));
    assert_eq!(
        s.get("/api/me", Some(&none)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let foreign = mint(&jwt_claims(&token), "other");
    assert_eq!(
        s.get("/api/me", Some(&foreign)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(s.get("/api/me", None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn stack_traces_adds_a_backtrace_with_source_paths_to_error_answers() {
    let s = setup(&[Defect::StackTraces]).await;
    let (status, body) = s.get("/api/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unauthorized");
    let trace = body["trace"].as_str().unwrap();
    assert!(
        trace.contains("panicked at") && trace.contains("src/") && trace.contains(".rs:"),
        "{trace}"
    );
    let (status, body) = s.post("/api/login", None, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["trace"].is_string());
    assert_eq!(
        s.get("/healthz", None).await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
}

#[tokio::test]
async fn wedge_on_upstream_reset_answers_500_to_everything_after_one_reset() {
    let base = flaky_wechat(1, json!({"session_key": SESSION_KEY, "openid": OPENID})).await;
    let mut config = Config::new(base, APPID, SECRET);
    config.defects.insert(Defect::WedgeOnUpstreamReset);
    let backend = start(config).await.unwrap();
    let client = reqwest::Client::new();
    let login = || {
        client
            .post(format!("{}/api/login", backend.base_url()))
            .json(&json!({"code": "x"}))
            .timeout(Duration::from_secs(5))
            .send()
    };
    assert_eq!(
        read(login().await.unwrap()).await.0,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(
        read(login().await.unwrap()).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let me = client
        .get(format!("{}/api/me", backend.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(read(me).await.0, StatusCode::INTERNAL_SERVER_ERROR);
    let health = client
        .get(format!("{}/healthz", backend.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(read(health).await.0, StatusCode::OK);
}

const OTHER_OPENID: &str = "oOtherUser000000000000000000";

#[tokio::test]
async fn openid_as_password_lets_basic_openid_openid_and_the_bare_openid_in() {
    let s = setup(&[Defect::OpenidAsPassword]).await;
    s.login_as("c", OPENID, SESSION_KEY).await;
    for credential in [
        format!("Basic {}", STANDARD.encode(format!("{OPENID}:{OPENID}"))),
        format!("Basic {}", STANDARD.encode(format!("{OPENID}:"))),
        format!("Bearer {OPENID}"),
    ] {
        let response = s
            .http
            .get(s.url("/api/me"))
            .header("Authorization", &credential)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{credential}");
    }
}

#[tokio::test]
async fn token_in_query_reads_the_token_from_the_query_string() {
    let s = setup(&[Defect::TokenInQuery]).await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    for name in ["token", "access_token"] {
        assert_eq!(
            s.get(&format!("/api/me?{name}={token}"), None).await.0,
            StatusCode::OK,
            "{name}"
        );
    }
}

#[tokio::test]
async fn opaque_token_no_expiry_keeps_a_random_token_valid_a_month_later() {
    let wechat = wiremock::MockServer::start().await;
    let mut config = Config::new(wechat.uri(), APPID, SECRET);
    config.defects = [Defect::OpaqueTokenNoExpiry].into_iter().collect();
    let clock = config.clock.clone();
    let backend = start(config).await.expect("backend starts");
    let s = Setup {
        wechat,
        backend,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    };
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    assert!(!token.contains('.'), "an opaque token, not a JWT: {token}");
    clock.set_offset(30 * 24 * 3600);
    assert_eq!(s.get("/api/me", Some(&token)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn errcode_zero_is_error_refuses_a_success_that_carries_errcode_0() {
    let s = setup(&[Defect::ErrcodeZeroIsError]).await;
    let success =
        json!({"openid": OPENID, "session_key": SESSION_KEY, "errcode": 0, "errmsg": "ok"});
    mount_jscode(&s.wechat, "c", success).await;
    let (status, body) = s.login("c").await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(body.get("token").is_none());
}

#[tokio::test]
async fn upstream_error_500_answers_a_bare_500_when_wechat_is_busy() {
    let s = setup(&[Defect::UpstreamError500]).await;
    mount_jscode(
        &s.wechat,
        "c",
        json!({"errcode": -1, "errmsg": "system error"}),
    )
    .await;
    assert_eq!(s.login("c").await.0, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn stale_token_blocks_login_refuses_a_login_that_carries_an_old_token() {
    let s = setup(&[Defect::StaleTokenBlocksLogin]).await;
    mount_user(&s.wechat, "c", OPENID, SESSION_KEY).await;
    let (status, _) = s
        .post(
            "/api/login",
            Some("not.a.valid-token"),
            json!({"code": "c"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn shared_response_object_answers_the_second_user_with_the_first_users_id() {
    let s = setup(&[Defect::SharedResponseObject]).await;
    mount_user(&s.wechat, "c1", OPENID, SESSION_KEY).await;
    mount_user(&s.wechat, "c2", OTHER_OPENID, SESSION_KEY).await;
    let (_, first) = s.login("c1").await;
    let (_, second) = s.login("c2").await;
    assert_ne!(first["token"], second["token"]);
    assert_eq!(first["userId"], second["userId"]);
}

#[tokio::test]
async fn internal_detail_answers_with_the_page_wechat_sent_and_the_unpadding_error() {
    let s = setup(&[Defect::InternalDetail]).await;
    Mock::given(path("/sns/jscode2session"))
        .and(query_param("js_code", "page"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>nginx gateway page</html>"))
        .mount(&s.wechat)
        .await;
    let (status, body) = s.login("page").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("<html>nginx gateway page</html>"), "{error}");
    assert!(!error.contains(SECRET), "{error}");

    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    let mut garbled = STANDARD.decode(VECTOR_DATA).unwrap();
    let last = garbled.len() - 1;
    garbled[last] ^= 0x55;
    let (status, body) = s
        .post(
            "/api/user-info",
            Some(&token),
            json!({"encryptedData": STANDARD.encode(garbled), "iv": VECTOR_IV}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "Unpad Error");
}

#[tokio::test]
async fn without_internal_detail_the_same_failures_answer_short_fixed_messages() {
    let s = setup(&[]).await;
    Mock::given(path("/sns/jscode2session"))
        .and(query_param("js_code", "page"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>nginx gateway page</html>"))
        .mount(&s.wechat)
        .await;
    assert_eq!(
        s.login("page").await,
        (StatusCode::BAD_GATEWAY, json!({"error": "upstream error"}))
    );
}

/// A backend whose log lines are collected, with `defects`.
async fn logged_setup(defects: &[Defect]) -> (Setup, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = log.clone();
    let s = support::setup_with(defects, move |config| {
        config.log = Some(wxmock_reference_backend::LogSink::new(move |bytes| {
            sink.lock().unwrap().extend_from_slice(bytes)
        }));
    })
    .await;
    (s, log)
}

#[tokio::test]
async fn log_secrets_writes_the_appsecret_and_the_session_key_into_the_log() {
    let (s, log) = logged_setup(&[Defect::LogSecrets]).await;
    s.login_as("c", OPENID, SESSION_KEY).await;
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    assert!(text.contains("jscode2session answered"), "{text}");
    assert!(
        text.contains(SESSION_KEY) && text.contains(SECRET),
        "{text}"
    );
}

#[tokio::test]
async fn without_log_secrets_the_log_has_the_login_but_no_secret() {
    let (s, log) = logged_setup(&[]).await;
    s.login_as("c", OPENID, SESSION_KEY).await;
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("login"),
        "the sink gets the request's events: {text}"
    );
    assert!(
        !text.contains(SESSION_KEY) && !text.contains(SECRET),
        "{text}"
    );
}
