//! The JWT cases on tokens outside the usual shape: a bare JSON string or number payload, a
//! profile key shorter than RFC 7518 allows, and a short key only the brute-force search finds.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wxmock_harness::case::{token, Case};
use wxmock_harness::jwt::{self, HmacAlg};
use wxmock_harness::{run, Profile, RunOptions};

fn profile(base_url: &str, extra: &str) -> Profile {
    let text = format!(
        "[backend]\nbase_url = \"{base_url}\"\n[login]\npath = \"/api/login\"\n[protected]\npath = \"/api/me\"\n{extra}\n"
    );
    Profile::from_toml_str(&text, "jwt-depth.toml").expect("profile is valid")
}

async fn run_cases(
    profile: Profile,
    ids: &[&str],
    crack_secs: u64,
) -> BTreeMap<String, (String, String)> {
    let cases: Vec<Case> = token::cases()
        .into_iter()
        .filter(|c| ids.contains(&c.id))
        .collect();
    assert_eq!(cases.len(), ids.len(), "unknown case id in {ids:?}");
    let options = RunOptions {
        seed: Some(11),
        cases: Some(cases),
        crack_secs,
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

/// A backend that logs everyone in with `token` and lets any bearer through (verifies nothing).
async fn careless_backend(token: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/login"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token": token})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"userId": "u-1"})))
        .mount(&server)
        .await;
    server
}

fn hs256_header() -> Map<String, Value> {
    match json!({"alg": "HS256", "typ": "JWT"}) {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn a_bare_string_payload_is_tampered_unsigned_weak_key_tested_and_has_no_expiry() {
    // jsonwebtoken's `jwt.sign("oUser", "secret")`: the payload is a JSON string, not an object.
    let token = jwt::sign_payload(&hs256_header(), b"\"oUser0001\"", b"secret").unwrap();
    let server = careless_backend(&token).await;
    let ids = [
        "token.tampered",
        "token.alg-none",
        "token.weak-secret",
        "token.has-expiry",
    ];
    let got = run_cases(profile(&server.uri(), ""), &ids, 0).await;
    for id in ids {
        assert_eq!(got[id].0, "failed", "{id}: {:?}", got[id]);
    }
    assert!(
        got["token.tampered"].1.contains("oUser0002"),
        "{:?}",
        got["token.tampered"]
    );
    assert!(
        got["token.weak-secret"].1.contains("\"secret\""),
        "{:?}",
        got["token.weak-secret"]
    );
    assert!(
        got["token.has-expiry"].1.contains("bare JSON string"),
        "{:?}",
        got["token.has-expiry"]
    );
}

#[tokio::test]
async fn a_bare_number_payload_fails_has_expiry_and_tampered() {
    let token = jwt::sign_payload(
        &hs256_header(),
        b"1024",
        b"a-strong-key-nobody-guesses-4f8e2a9c1b7d",
    )
    .unwrap();
    let server = careless_backend(&token).await;
    let got = run_cases(
        profile(&server.uri(), ""),
        &["token.tampered", "token.has-expiry"],
        0,
    )
    .await;
    assert_eq!(
        got["token.tampered"].0, "failed",
        "{:?}",
        got["token.tampered"]
    );
    assert!(
        got["token.tampered"].1.contains("1025"),
        "{:?}",
        got["token.tampered"]
    );
    assert!(
        got["token.has-expiry"].1.contains("bare JSON number"),
        "{:?}",
        got["token.has-expiry"]
    );
}

#[tokio::test]
async fn a_profile_key_shorter_than_256_bits_fails_weak_secret() {
    let key = "Zq8vN2xK7pL4mR9tW3yB6cF1hJ5dG0s"; // 31 bytes, in no dictionary
    let token = jwt::mint(
        HmacAlg::Hs256,
        &serde_json::Map::from_iter([("sub".into(), json!("u"))]),
        key.as_bytes(),
    );
    let server = careless_backend(&token).await;
    let short = run_cases(
        profile(&server.uri(), &format!("[jwt]\nsecret = \"{key}\"")),
        &["token.weak-secret"],
        0,
    )
    .await;
    let (status, reason) = &short["token.weak-secret"];
    assert_eq!(status, "failed", "{reason}");
    assert!(
        reason.contains("248 bits") && reason.contains("RFC 7518"),
        "{reason}"
    );

    let long = format!("{key}Q"); // 32 bytes: the minimum is allowed
    let token = jwt::mint(
        HmacAlg::Hs256,
        &serde_json::Map::from_iter([("sub".into(), json!("u"))]),
        long.as_bytes(),
    );
    let server = careless_backend(&token).await;
    let ok = run_cases(
        profile(&server.uri(), &format!("[jwt]\nsecret = \"{long}\"")),
        &["token.weak-secret"],
        0,
    )
    .await;
    assert_eq!(
        ok["token.weak-secret"].0, "passed",
        "{:?}",
        ok["token.weak-secret"]
    );
}

#[tokio::test]
async fn a_short_key_outside_the_dictionary_is_found_only_by_the_brute_force_search() {
    let token = jwt::mint(
        HmacAlg::Hs256,
        &serde_json::Map::from_iter([("sub".into(), json!("u"))]),
        b"q7z",
    );
    let server = careless_backend(&token).await;
    let without = run_cases(profile(&server.uri(), ""), &["token.weak-secret"], 0).await;
    assert_eq!(
        without["token.weak-secret"].0, "passed",
        "{:?}",
        without["token.weak-secret"]
    );
    let with = run_cases(profile(&server.uri(), ""), &["token.weak-secret"], 120).await;
    let (status, reason) = &with["token.weak-secret"];
    assert_eq!(status, "failed", "{reason}");
    assert!(
        reason.contains("\"q7z\"") && reason.contains("brute force"),
        "{reason}"
    );
}
