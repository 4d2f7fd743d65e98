//! Property-driven fuzzing of the harness's parsers of outside input: profile TOML (mutations
//! of the shipped example profiles), and what a backend answers (bodies, headers, cookies, JWTs
//! found anywhere in them), as the cases read it. Each input must parse or be refused with an
//! error, never panic.
//!
//! The HTTP bytes themselves are parsed by the HTTP client (hyper under reqwest); what the
//! harness parses is the answer it gets from there, which is what these properties feed it.
//! `WXMOCK_FUZZ_CASES` cases per property (default 256); see docs/fuzzing.md.

use proptest::prelude::*;
use wxmock_harness::exchange::{Exchange, Response};
use wxmock_harness::profile::Profile;
use wxmock_harness::{inspect, jwt};

fn config() -> ProptestConfig {
    let cases = std::env::var("WXMOCK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

const PROFILES: &[&str] = &[
    include_str!("../profiles/reference.toml"),
    include_str!("../profiles/examples/express-jsonwebtoken.toml"),
    include_str!("../profiles/examples/header-code.toml"),
    include_str!("../profiles/examples/express-session.toml"),
    include_str!("../profiles/examples/koa-basic-auth.toml"),
    include_str!("../profiles/examples/account-type.toml"),
];

/// A JWT-looking text: three dot-separated base64url parts, some of them valid JSON.
fn jwtish() -> impl Strategy<Value = String> {
    use base64::Engine as _;
    let part = prop_oneof![
        "[A-Za-z0-9_-]{0,40}",
        "\\PC{0,30}".prop_map(|t| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(t)),
        Just(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(r#"{"alg":"HS256","typ":"JWT"}"#)
        ),
        Just(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#)),
    ];
    prop::collection::vec(part, 1..5).prop_map(|parts| parts.join("."))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_mutated_profile_parses_or_is_refused(which in 0..PROFILES.len(), drop in prop::collection::vec(any::<prop::sample::Index>(), 0..6), noise in "[ -~\n]{0,60}", at in any::<prop::sample::Index>()) {
        let mut lines: Vec<String> = PROFILES[which].lines().map(str::to_owned).collect();
        for index in drop {
            if !lines.is_empty() {
                let i = index.index(lines.len());
                lines.remove(i);
            }
        }
        let i = at.index(lines.len() + 1);
        lines.insert(i, noise);
        let _ = Profile::from_toml_str(&lines.join("\n"), "fuzz");
    }

    #[test]
    fn any_backend_answer_is_inspected_without_panicking(status in 100u16..600, body in prop_oneof!["\\PC{0,200}", jwtish(), jwtish().prop_map(|t| format!("{{\"token\":\"{t}\",\"data\":{{\"jwt\":\"Bearer {t}\"}}}}"))], cookie in "[ -~]{0,80}", header in jwtish()) {
        let response = Response {
            status,
            headers: vec![
                ("set-cookie".into(), cookie),
                ("authorization".into(), format!("Bearer {header}")),
            ],
            json: serde_json::from_str(&body).ok(),
            body: body.clone(),
        };
        let _ = response.cookie("session");
        let _ = response.pointer("/token");
        let exchange = Exchange {
            label: "login".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:1/api/login".into(),
            request_headers: vec![],
            request_body: None,
            response: Some(response),
            error: None,
            failure: None,
            body_cut: None,
            duration_ms: 0,
        };
        let _ = inspect::visible_texts(&exchange);
        let _ = inspect::jwt_spans(&body);
        let _ = inspect::stack_trace_marker(&body);
        for segment in inspect::jwt_segments(&body) {
            let _ = jwt::decode(&segment);
        }
        let _ = jwt::decode(&header);
        let _ = jwt::b64_decode_lenient(&header);
    }
}
