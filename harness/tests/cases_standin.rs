//! Single token.*/data.*/access-token.* cases against `wiremock` stand-ins for a backend, for the
//! behaviours no reference-backend switch shows: valid tokens refused, opaque tokens, "rejected"
//! said through a JSON pointer, short-lived tokens without a secret, the appsecret as JWT key,
//! and profiles that lack the optional endpoints.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};
use wxmock_harness::case::{access_token, crypto, token, Case};
use wxmock_harness::jwt::{self, HmacAlg};
use wxmock_harness::{run, Profile, RunOptions};

const APPID: &str = "wx5tandin0000000a";
const APPSECRET: &str = "standin-appsecret-0123456789abcd";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("claims are an object"),
    }
}

fn strong_jwt(exp_in: i64) -> String {
    let now = now();
    jwt::mint(
        HmacAlg::Hs256,
        &claims(json!({"sub": "u-1", "iat": now, "exp": now + exp_in})),
        b"a-strong-key-nobody-guesses-4f8e2a9c1b7d",
    )
}

/// A profile for the stand-in at `base_url`, with extra TOML appended.
fn profile(base_url: &str, extra: &str) -> Profile {
    let text = format!(
        r#"
[backend]
base_url = "{base_url}"
[fake]
appid = "{APPID}"
secret = "{APPSECRET}"
[login]
path = "/api/login"
[protected]
path = "/api/me"
{extra}
"#
    );
    Profile::from_toml_str(&text, "standin.toml").expect("stand-in profile is valid")
}

/// Runs `ids` of the three families; id → (status, reason).
async fn run_cases(profile: Profile, ids: &[&str]) -> BTreeMap<String, (String, String)> {
    let mut all: Vec<Case> = token::cases();
    all.extend(crypto::cases());
    all.extend(access_token::cases());
    let cases: Vec<Case> = all.into_iter().filter(|c| ids.contains(&c.id)).collect();
    assert_eq!(cases.len(), ids.len(), "unknown case id in {ids:?}");
    let options = RunOptions {
        seed: Some(3),
        cases: Some(cases),
        ..RunOptions::default()
    };
    let report = run(profile, options, None, &mut [])
        .await
        .expect("run completes");
    report
        .cases
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                (c.status.clone(), c.reason.clone().unwrap_or_default()),
            )
        })
        .collect()
}

async fn login_gives(server: &MockServer, token: &str) {
    Mock::given(method("POST"))
        .and(path("/api/login"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token": token})))
        .mount(server)
        .await;
}

/// Answers 200 only to `Authorization: Bearer <token>`.
async fn me_accepts_only(server: &MockServer, token: &str) {
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"userId": "u-1"})))
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "unauthorized"})))
        .with_priority(2)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_backend_that_checks_its_token_passes_accepted_missing_garbage_tampered_and_alg_none() {
    let server = MockServer::start().await;
    let token = strong_jwt(3600);
    login_gives(&server, &token).await;
    me_accepts_only(&server, &token).await;
    let ids = [
        "token.accepted",
        "token.missing",
        "token.garbage",
        "token.tampered",
        "token.alg-none",
        "token.weak-secret",
    ];
    let results = run_cases(profile(&server.uri(), ""), &ids).await;
    for id in ids {
        assert_eq!(results[id].0, "passed", "{id}: {}", results[id].1);
    }
}

#[tokio::test]
async fn opaque_tokens_skip_the_jwt_only_cases_with_the_reason() {
    let server = MockServer::start().await;
    let token = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    login_gives(&server, token).await;
    me_accepts_only(&server, token).await;
    let jwt_only = [
        "token.tampered",
        "token.alg-none",
        "token.weak-secret",
        "token.no-sensitive-claims",
        "token.has-expiry",
        "token.expired-rejected",
    ];
    let results = run_cases(profile(&server.uri(), ""), &jwt_only).await;
    for id in jwt_only {
        let (status, reason) = &results[id];
        assert_eq!(status, "skipped", "{id}: {reason}");
        assert!(reason.contains("not a JWT"), "{id}: {reason}");
    }
}

#[tokio::test]
async fn the_same_token_for_two_logins_fails_token_unpredictable() {
    let server = MockServer::start().await;
    let token = strong_jwt(3600);
    login_gives(&server, &token).await;
    me_accepts_only(&server, &token).await;
    let results = run_cases(profile(&server.uri(), ""), &["token.unpredictable"]).await;
    let (status, reason) = &results["token.unpredictable"];
    assert_eq!(status, "failed");
    assert!(reason.contains("same token"), "{reason}");
}

#[tokio::test]
async fn the_appsecret_as_jwt_key_fails_token_weak_secret_without_printing_it() {
    let server = MockServer::start().await;
    let token = jwt::mint(
        HmacAlg::Hs256,
        &claims(json!({"sub": "u-1", "exp": now() + 60})),
        APPSECRET.as_bytes(),
    );
    login_gives(&server, &token).await;
    me_accepts_only(&server, &token).await;
    let results = run_cases(profile(&server.uri(), ""), &["token.weak-secret"]).await;
    let (status, reason) = &results["token.weak-secret"];
    assert_eq!(status, "failed");
    assert!(reason.contains("appsecret"), "{reason}");
    assert!(
        !reason.contains(APPSECRET),
        "the reason prints the secret: {reason}"
    );
}

#[tokio::test]
async fn rejection_said_through_a_json_pointer_is_understood() {
    let server = MockServer::start().await;
    let token = strong_jwt(3600);
    login_gives(&server, &token).await;
    // Egg-style: always HTTP 200, `code` 0 on success and 10200 when the token is refused.
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"code": 0, "data": {"userId": "u-1"}})),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"code": "10200", "msg": "token invalid"})),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let extra = "[rejected]\nstatuses = []\npointer = \"/code\"\nsuccess_values = [0]\n";
    let ids = [
        "token.accepted",
        "token.missing",
        "token.garbage",
        "token.tampered",
    ];
    let results = run_cases(profile(&server.uri(), extra), &ids).await;
    for id in ids {
        assert_eq!(results[id].0, "passed", "{id}: {}", results[id].1);
    }
}

#[tokio::test]
async fn a_long_lived_token_without_a_secret_skips_expired_rejected() {
    let server = MockServer::start().await;
    let token = strong_jwt(3600);
    login_gives(&server, &token).await;
    me_accepts_only(&server, &token).await;
    let results = run_cases(profile(&server.uri(), ""), &["token.expired-rejected"]).await;
    let (status, reason) = &results["token.expired-rejected"];
    assert_eq!(status, "skipped");
    assert!(reason.contains("no [jwt] secret"), "{reason}");
}

/// Accepts the token while its exp (read from the token itself) has not passed.
struct UntilExp {
    token: String,
    exp: i64,
}

impl Respond for UntilExp {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let sent = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if sent == format!("Bearer {}", self.token) && now() <= self.exp {
            ResponseTemplate::new(200).set_body_json(json!({"userId": "u-1"}))
        } else {
            ResponseTemplate::new(401).set_body_json(json!({"error": "unauthorized"}))
        }
    }
}

#[tokio::test]
async fn a_short_lived_token_is_waited_out_when_there_is_no_secret() {
    let checks_exp = MockServer::start().await;
    let token = strong_jwt(1);
    let exp = jwt::decode(&token).unwrap().numeric_claim("exp").unwrap();
    login_gives(&checks_exp, &token).await;
    Mock::given(path("/api/me"))
        .respond_with(UntilExp {
            token: token.clone(),
            exp,
        })
        .mount(&checks_exp)
        .await;
    let ignores_exp = MockServer::start().await;
    login_gives(&ignores_exp, &token).await;
    me_accepts_only(&ignores_exp, &token).await;

    let extra = "[jwt]\nleeway_secs = 0\n";
    let id = ["token.expired-rejected"];
    let (good, bad) = tokio::join!(
        run_cases(profile(&checks_exp.uri(), extra), &id),
        run_cases(profile(&ignores_exp.uri(), extra), &id)
    );
    assert_eq!(good[id[0]].0, "passed", "{}", good[id[0]].1);
    assert_eq!(bad[id[0]].0, "failed", "{}", bad[id[0]].1);
}

#[tokio::test]
async fn data_and_access_token_cases_skip_without_their_endpoints() {
    let server = MockServer::start().await;
    let token = strong_jwt(3600);
    login_gives(&server, &token).await;
    me_accepts_only(&server, &token).await;
    let ids: Vec<&str> = crypto::cases()
        .iter()
        .chain(access_token::cases().iter())
        .map(|c| c.id)
        .collect();
    let results = run_cases(profile(&server.uri(), ""), &ids).await;
    for id in ids {
        let (status, reason) = &results[id];
        assert_eq!(status, "skipped", "{id}: {reason}");
        assert!(reason.contains("profile"), "{id}: {reason}");
    }
}

#[tokio::test]
async fn a_profile_secret_that_does_not_verify_the_token_errors_expired_rejected() {
    let server = MockServer::start().await;
    let token = strong_jwt(3600);
    login_gives(&server, &token).await;
    me_accepts_only(&server, &token).await;
    let extra = "[jwt]\nsecret = \"not-the-key-the-backend-uses\"\n";
    let results = run_cases(profile(&server.uri(), extra), &["token.expired-rejected"]).await;
    let (status, reason) = &results["token.expired-rejected"];
    assert_eq!(status, "errored");
    assert!(reason.contains("does not verify"), "{reason}");
}

#[tokio::test]
async fn a_readme_sample_key_fails_token_weak_secret() {
    let server = MockServer::start().await;
    let token = jwt::mint(
        HmacAlg::Hs384,
        &claims(json!({"sub": "u-1", "exp": now() + 60})),
        b"keyboard cat",
    );
    login_gives(&server, &token).await;
    me_accepts_only(&server, &token).await;
    let results = run_cases(profile(&server.uri(), ""), &["token.weak-secret"]).await;
    let (status, reason) = &results["token.weak-secret"];
    assert_eq!(status, "failed");
    assert!(
        reason.contains("keyboard cat") && reason.contains("HS384"),
        "{reason}"
    );
}

/// token.no-sensitive-claims against a stand-in whose JWT carries `extra` claims.
async fn no_sensitive_claims_with(extra: Value) -> wxmock_harness::report::CaseReport {
    let server = MockServer::start().await;
    let now = now();
    let mut body = claims(json!({"sub": "u-1", "iat": now, "exp": now + 3600}));
    body.extend(claims(extra));
    let token = jwt::mint(
        HmacAlg::Hs256,
        &body,
        b"a-strong-key-nobody-guesses-4f8e2a9c1b7d",
    );
    login_gives(&server, &token).await;
    me_accepts_only(&server, &token).await;
    let cases: Vec<Case> = token::cases()
        .into_iter()
        .filter(|c| c.id == "token.no-sensitive-claims")
        .collect();
    let options = RunOptions {
        seed: Some(3),
        cases: Some(cases),
        ..RunOptions::default()
    };
    let report = run(profile(&server.uri(), ""), options, None, &mut [])
        .await
        .expect("run completes");
    report.cases[0].clone()
}

#[tokio::test]
async fn an_openid_claim_is_an_info_finding_while_a_session_key_still_fails_no_sensitive_claims() {
    let plain = no_sensitive_claims_with(json!({})).await;
    assert_eq!(plain.status, "passed", "{:?}", plain.reason);
    assert!(plain.info.is_empty(), "{:?}", plain.info);

    let with_openid =
        no_sensitive_claims_with(json!({"openid": "oStandInUser0000000000000000"})).await;
    assert_eq!(with_openid.status, "passed", "{:?}", with_openid.reason);
    assert_eq!(with_openid.info.len(), 1, "{:?}", with_openid.info);
    let text = &with_openid.info[0].text;
    assert!(
        text.contains("carries the user's WeChat identity") && text.contains("/openid"),
        "{text}"
    );

    let with_both = no_sensitive_claims_with(json!({"unionId": "u", "session_key": "k"})).await;
    assert_eq!(with_both.status, "failed");
    assert!(
        with_both
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("/session_key")),
        "{:?}",
        with_both.reason
    );
    assert!(
        with_both.info.iter().any(|f| f.text.contains("/unionId")),
        "{:?}",
        with_both.info
    );
}
