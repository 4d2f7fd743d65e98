//! Property-driven fuzzing of every parser of the fake that takes outside input: WeChat query
//! strings and JSON bodies (through the whole router), control-API bodies and queries, config
//! TOML, and the masking and log escaping applied to all of them. Each input must get a clean
//! answer — WeChat's envelope or the control API's `{"error"}` — never a panic or a 5xx.
//!
//! Bounded: `WXMOCK_FUZZ_CASES` cases per property (default 256). Run longer with e.g.
//! `WXMOCK_FUZZ_CASES=200000 cargo test --release -p wxmock-server --test fuzz` (docs/fuzzing.md).
//! A failure is shrunk and saved under `proptest-regressions/`; add it below as a named test.

mod control_plane_support;

use axum::body::Body;
use axum::http::{header, Request};
use control_plane_support::{fake, Answer, Fake};
use proptest::prelude::*;
use wxmock_server::Config;

fn cases() -> u32 {
    std::env::var("WXMOCK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // Each case is one request to an in-process router: shrinking stays cheap.
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

const WECHAT_PATHS: &[&str] = &[
    "/sns/jscode2session",
    "/cgi-bin/token",
    "/cgi-bin/stable_token",
    "/wxa/checksession",
    "/wxa/resetusersessionkey",
    "/wxa/business/getuserphonenumber",
    "/",
    "/sns/unknown",
];

const KEYS: &[&str] = &[
    "appid",
    "secret",
    "js_code",
    "grant_type",
    "access_token",
    "openid",
    "signature",
    "sig_method",
    "force_refresh",
    "code",
    "SECRET",
    "",
];

/// A query string: known keys (repeated, empty, odd case) with values that are plain,
/// percent-escaped (valid or not), `+`, control characters, or magic codes.
fn query() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        "[A-Za-z0-9_-]{0,40}",
        "(%[0-9A-Fa-f]{2}|%[G-Zg-z]{0,2}|\\+|[ -~]){0,30}",
        Just("wxmock-err-40029".to_owned()),
        Just("wxmock-as-alice".to_owned()),
        Just("wxmock-err-".to_owned()),
        Just("wxmock-err-99999999999999999999".to_owned()),
        Just("client_credential".to_owned()),
        Just("authorization_code".to_owned()),
        Just("hmac_sha256".to_owned()),
    ];
    prop::collection::vec((prop::sample::select(KEYS), value), 0..8).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(key, value)| {
                // Only characters a request target may carry: the rest is escaped.
                let value: String = value
                    .chars()
                    .map(|c| match c {
                        ' ' => "%20".to_owned(),
                        '#' | '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}' => {
                            format!("%{:02X}", c as u32)
                        }
                        c => c.to_string(),
                    })
                    .collect();
                format!("{key}={value}")
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

/// A body: arbitrary bytes, or JSON built from the fields WeChat reads with values of every
/// JSON type (including ones of the wrong type and deep nesting).
fn body() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        "[ -~]{0,20}".prop_map(serde_json::Value::from),
    ];
    let json = leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|pairs| {
                serde_json::Value::Object(
                    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                )
            }),
        ]
    });
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        json.prop_map(|v| v.to_string().into_bytes()),
        Just(b"{\"grant_type\":\"client_credential\",\"appid\":\"wxdeadbeef00c0ffee\"".to_vec()),
        Just(vec![]),
    ]
}

fn method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(
        &[
            "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT",
        ][..],
    )
}

async fn send(
    fake: &Fake,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    fake.send(request.body(Body::from(body)).unwrap()).await
}

/// What a WeChat-API answer must be: WeChat's JSON (HTTP 200), or the 405 refusal of CONNECT.
fn assert_wechat_answer(method: &str, answer: &Answer) -> Result<(), TestCaseError> {
    if method == "CONNECT" {
        prop_assert_eq!(answer.status, 405);
    } else {
        prop_assert_eq!(answer.status, 200, "{}", answer.text());
    }
    if method != "HEAD" {
        let json: Result<serde_json::Value, _> = serde_json::from_slice(&answer.bytes);
        prop_assert!(json.is_ok(), "not JSON: {:?}", answer.text());
    }
    Ok(())
}

#[test]
fn any_wechat_request_gets_a_wechat_answer() {
    let runtime = runtime();
    let fake = fake();
    proptest!(config(), |(method in method(), path in prop::sample::select(WECHAT_PATHS), query in query(), body in body(), json_type in any::<bool>())| {
        let uri = if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") };
        let Ok(_) = uri.parse::<axum::http::Uri>() else { return Ok(()) };
        let content_type = json_type.then_some("application/json");
        let answer = runtime.block_on(send(&fake, method, &uri, content_type, body));
        assert_wechat_answer(method, &answer)?;
    });
    // Every request was journaled, and reading the journal (masked or not) still works.
    let listing = runtime.block_on(fake.get("/__admin/journal?limit=5"));
    assert_eq!(listing.status, 200, "{}", listing.text());
}

const ADMIN_POSTS: &[&str] = &[
    "/__admin/apps",
    "/__admin/users",
    "/__admin/login",
    "/__admin/phone-code",
    "/__admin/clock",
    "/__admin/encrypt",
    "/__admin/faults",
    "/__admin/scenarios/wechat-busy",
    "/__admin/scenarios/invalid-code",
    "/__admin/scenarios/nonexistent",
    "/__admin/reset",
    "/__admin/apps/wxdeadbeef00c0ffee/reset",
];

const ADMIN_GETS: &[&str] = &[
    "/__admin/journal",
    "/__admin/faults",
    "/__admin/apps",
    "/__admin/apps/wxdeadbeef00c0ffee/users",
    "/__admin/clock",
];

#[test]
fn any_control_api_call_gets_a_clean_answer() {
    let runtime = runtime();
    let fake = fake();
    proptest!(config(), |(path in prop::sample::select(ADMIN_POSTS), body in body(), get in prop::sample::select(ADMIN_GETS), query in query())| {
        let answer = runtime.block_on(send(&fake, "POST", path, Some("application/json"), body));
        prop_assert!(answer.status < 500, "{path}: {} {}", answer.status, answer.text());
        if answer.status >= 400 {
            prop_assert!(answer.json()["error"].is_string(), "{path}: {}", answer.text());
        }
        let uri = format!("{get}?{query}");
        let Ok(_) = uri.parse::<axum::http::Uri>() else { return Ok(()) };
        let answer = runtime.block_on(send(&fake, "GET", &uri, None, vec![]));
        prop_assert!(answer.status < 500, "{uri}: {} {}", answer.status, answer.text());
        prop_assert!(serde_json::from_slice::<serde_json::Value>(&answer.bytes).is_ok(), "{uri}: {}", answer.text());
    });
}

/// Lines of the example config, so mutations stay close to real files.
const EXAMPLE: &str = include_str!("../../wxmock.example.toml");

#[test]
fn any_config_text_is_parsed_or_refused_with_an_error() {
    let lines: Vec<&str> = EXAMPLE.lines().collect();
    let line_count = lines.len();
    proptest!(config(), |(picked in prop::collection::vec(0..line_count, 0..40), noise in "[ -~\n]{0,80}", at in 0usize..40)| {
        let mut text: Vec<String> = picked.iter().map(|i| lines[*i].to_owned()).collect();
        text.insert(at.min(text.len()), noise);
        let text = text.join("\n");
        if let Ok(config) = Config::from_toml(&text) {
            // What parses is valid, and starts a fake.
            prop_assert!(config.validate().is_ok());
            let _ = wxmock_server::AppState::new(&config, wxmock_server::Clock::fixed(0));
        }
    });
}

#[test]
fn masking_and_log_escaping_hold_for_any_text() {
    proptest!(config(), |(query in query(), text in "\\PC{0,100}", secret in "[A-Za-z0-9]{12,20}")| {
        for (key, value) in wxmock_server::redact::query_pairs(&query) {
            if wxmock_server::redact::is_secret_name(&key) {
                prop_assert_eq!(value, wxmock_server::redact::MASK);
            }
        }
        let logged = wxmock_server::log::query(Some(&query));
        prop_assert!(!logged.chars().any(char::is_control), "{logged:?}");
        let escaped = wxmock_server::log::Escaped(&text).to_string();
        prop_assert!(!escaped.chars().any(char::is_control), "{escaped:?}");
        let body = format!("{{\"secret\":\"{secret}\",\"x\":{}}}", serde_json::Value::from(text.clone()));
        let masked = wxmock_server::redact::body_text(&body);
        prop_assert!(!masked.contains(&secret), "{masked}");
        let _ = wxmock_server::redact::body_text(&text);
    });
}
