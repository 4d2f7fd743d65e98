//! Profiles: every shipped profile parses and validates; mistakes are refused with the field
//! named; each login and auth shape turns into the request the backend expects.

use std::path::PathBuf;

use serde_json::json;
use wxmock_harness::exchange::Body;
use wxmock_harness::exchange::Response;
use wxmock_harness::fake::Fake;
use wxmock_harness::profile::{Profile, Source, Vars, REFERENCE_PROFILE};
use wxmock_harness::{Credential, Ctx};

fn profiles_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("profiles")
}

fn shipped_profiles() -> Vec<PathBuf> {
    let mut files = vec![profiles_dir().join("reference.toml")];
    for entry in std::fs::read_dir(profiles_dir().join("examples")).expect("examples dir") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[test]
fn every_shipped_profile_parses_and_validates() {
    let files = shipped_profiles();
    assert!(
        files.len() >= 7,
        "reference + six examples, found {files:?}"
    );
    for f in files {
        Profile::from_file(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
}

#[test]
fn the_embedded_reference_profile_is_the_shipped_file() {
    let on_disk = std::fs::read_to_string(profiles_dir().join("reference.toml")).expect("read");
    assert_eq!(on_disk, REFERENCE_PROFILE);
}

const MINIMAL: &str = r#"
[backend]
base_url = "http://127.0.0.1:3000"
[login]
path = "/api/login"
[protected]
path = "/api/me"
"#;

fn parse(text: &str) -> Result<Profile, String> {
    Profile::from_toml_str(text, "test.toml").map_err(|e| e.to_string())
}

#[test]
fn a_minimal_profile_gets_the_documented_defaults() {
    let p = parse(MINIMAL).expect("valid");
    let c = &p.compiled;
    assert_eq!(c.login.method, "POST");
    assert_eq!(c.protected.method, "GET");
    assert_eq!(
        c.token_parts,
        vec![("token".to_string(), Source::Pointer("/token".into()))]
    );
    assert_eq!(p.login_code_field().as_deref(), Some("code"));
    assert_eq!(p.rejected.statuses, vec![401, 403]);
    assert_eq!(p.fake.listen, "127.0.0.1:0");
    assert_eq!(p.limits.upstream_timeout_secs, 5);
    assert_eq!(
        c.protected.headers,
        vec![("Authorization".to_string(), "Bearer {{token}}".to_string())]
    );
}

#[test]
fn an_unknown_field_is_refused_with_its_name() {
    let err = parse(&format!("{MINIMAL}\n[limits]\nupstream_timeout = 3\n")).unwrap_err();
    assert!(err.contains("upstream_timeout"), "{err}");
}

#[test]
fn validation_errors_name_the_field() {
    let cases = [
        (MINIMAL.replace("/api/login", "api/login"), "login.path"),
        (
            MINIMAL.replace("http://127.0.0.1:3000", "127.0.0.1:3000"),
            "backend.base_url",
        ),
        (
            format!("{MINIMAL}\n[auth]\nstyle = \"header\"\n"),
            "auth.header",
        ),
        (
            format!("{MINIMAL}\n[auth]\nstyle = \"scheme\"\n"),
            "auth.scheme",
        ),
        (
            format!("{MINIMAL}\n[rejected]\npointer = \"/code\"\n"),
            "rejected",
        ),
        (
            format!("{MINIMAL}\n[rejected]\nvalues = [1]\n"),
            "rejected.pointer",
        ),
        (
            MINIMAL.replace("/api/me", "/api/{{user}}"),
            "protected.path",
        ),
        (format!("{MINIMAL}\n[fake]\nappid = \"wx1\"\n"), "fake"),
        (
            MINIMAL.replace(
                "path = \"/api/login\"",
                "path = \"/api/login\"\ntoken_cookie = \"sid\"\ntoken_header = \"X-Token\"",
            ),
            "login.token_cookie",
        ),
        (
            format!("{MINIMAL}\n[auth]\nstyle = \"cookie\"\n"),
            "auth.cookie",
        ),
        (
            format!("{MINIMAL}\n[auth]\ncookie = \"sid\"\n"),
            "auth.cookie",
        ),
        (
            format!("{MINIMAL}\n[fake]\nlisten = \"localhost\"\n"),
            "fake.listen",
        ),
        (
            format!("{MINIMAL}\n[jwt]\nmax_lifetime_secs = 0\n"),
            "jwt.max_lifetime_secs",
        ),
        (
            MINIMAL.replace(
                "[login]",
                "[login]\ncode_in = \"header\"\ncode_field = \"\"",
            ),
            "login.code_field",
        ),
        (
            MINIMAL.replace("[login]", "clock = \"faketime\"\n[login]"),
            "backend.clock",
        ),
        (
            MINIMAL.replace("[login]", "clock_command = \"date\"\n[login]"),
            "backend.clock_command",
        ),
        (
            MINIMAL.replace(
                "[login]",
                "command = \"x\"\nclock = \"faketime\"\nclock_command = \"m {{advance_secs}}\"\n[login]",
            ),
            "backend.clock_command",
        ),
    ];
    for (text, field) in cases {
        let err = parse(&text).expect_err(field);
        assert!(
            err.contains(&format!("`{field}`")),
            "expected {field} in: {err}"
        );
    }
}

#[test]
fn a_backend_without_a_base_url_is_refused() {
    let err = parse(
        "[backend]\ncommand = \"npm start\"\n[login]\npath = \"/l\"\n[protected]\npath = \"/p\"\n",
    )
    .unwrap_err();
    assert!(err.contains("backend.base_url"), "{err}");
}

fn ctx_for(text: &str) -> Ctx {
    let profile = Profile::from_toml_str(text, "test.toml").expect("valid");
    let vars = Vars {
        wechat_base_url: "http://fake".into(),
        appid: "wxapp".into(),
        secret: "s3cret".into(),
        port: Some(4000),
    };
    Ctx::new(
        std::sync::Arc::new(profile),
        Fake::new("http://fake", "wxapp", "s3cret"),
        "http://backend",
        vars,
        1,
    )
}

#[test]
fn a_templated_login_body_carries_the_code_and_its_constants() {
    let ctx = ctx_for(
        &std::fs::read_to_string(profiles_dir().join("examples/account-type.toml")).expect("read"),
    );
    let req = ctx.login_request(Some("CODE1"));
    assert_eq!(
        req.body,
        Some(Body::Json(json!({"account": "CODE1", "type": 100})))
    );
    // Without a code the templated field is left out, not sent empty.
    let req = ctx.login_request(None);
    assert_eq!(req.body, Some(Body::Json(json!({"type": 100}))));
}

#[test]
fn the_code_goes_where_the_profile_says() {
    let header = ctx_for(
        &std::fs::read_to_string(profiles_dir().join("examples/header-code.toml")).expect("read"),
    );
    let req = header.login_request(Some("C"));
    assert_eq!(req.method, "GET");
    assert!(req.headers.contains(&("X-WX-Code".into(), "C".into())));
    assert!(req.body.is_none());

    let form = ctx_for(
        &std::fs::read_to_string(profiles_dir().join("examples/django-rest-framework-jwt.toml"))
            .expect("read"),
    );
    assert_eq!(
        form.login_request(Some("C")).body,
        Some(Body::Form(vec![("code".into(), "C".into())]))
    );

    let query = ctx_for(&MINIMAL.replace(
        "[login]",
        "[login]\ncode_in = \"query\"\ncode_field = \"js_code\"",
    ));
    let req = query.login_request(Some("C"));
    assert_eq!(req.query, vec![("js_code".to_string(), "C".to_string())]);
}

#[test]
fn each_auth_style_puts_the_token_where_the_backend_reads_it() {
    let with_auth = |auth: &str| {
        ctx_for(&format!("{MINIMAL}\n[auth]\n{auth}\n"))
            .protected_request(Some(&Credential::single("T0K")))
    };
    let r = with_auth("style = \"bearer\"");
    assert!(r
        .headers
        .contains(&("Authorization".into(), "Bearer T0K".into())));
    let r = with_auth("style = \"scheme\"\nscheme = \"JWT\"");
    assert!(r
        .headers
        .contains(&("Authorization".into(), "JWT T0K".into())));
    let r = with_auth("style = \"header\"\nheader = \"Token\"");
    assert!(r.headers.contains(&("Token".into(), "T0K".into())));
    let r = with_auth("style = \"basic\"");
    // base64("T0K:") = VDBLOg==
    assert!(r
        .headers
        .contains(&("Authorization".into(), "Basic VDBLOg==".into())));
    let r = with_auth("style = \"query\"\nfield = \"access_token\"");
    assert_eq!(
        r.query,
        vec![("access_token".to_string(), "T0K".to_string())]
    );
    let r = ctx_for(&format!(
        "{}\n[auth]\nstyle = \"json\"\n",
        MINIMAL.replace(
            "path = \"/api/me\"",
            "path = \"/api/me\"\nmethod = \"POST\""
        )
    ))
    .protected_request(Some(&Credential::single("T0K")));
    assert_eq!(r.body, Some(Body::Json(json!({"token": "T0K"}))));
}

#[test]
fn a_json_body_token_needs_a_method_with_a_body() {
    let err = parse(&format!("{MINIMAL}\n[auth]\nstyle = \"json\"\n")).unwrap_err();
    assert!(err.contains("protected.method"), "{err}");
}

fn answer(status: u16, body: serde_json::Value) -> Response {
    Response {
        status,
        headers: vec![],
        body: body.to_string(),
        json: Some(body),
    }
}

#[test]
fn rejection_by_pointer_compares_values_as_text() {
    let p = parse(&format!(
        "{MINIMAL}\n[rejected]\nstatuses = []\npointer = \"/code\"\nvalues = [\"10200\"]\n"
    ))
    .expect("valid");
    let r = &p.compiled.rejection;
    assert!(r.is_rejected(&answer(200, json!({"code": 10200}))));
    assert!(r.is_rejected(&answer(200, json!({"code": "10200"}))));
    assert!(!r.is_rejected(&answer(200, json!({"code": 0}))));
    let p = parse(&format!(
        "{MINIMAL}\n[rejected]\npointer = \"/code\"\nsuccess_values = [0]\n"
    ))
    .expect("valid");
    let r = &p.compiled.rejection;
    assert!(r.is_rejected(&answer(200, json!({"code": 40029}))));
    assert!(!r.is_rejected(&answer(200, json!({"code": 0}))));
    assert!(r.is_rejected(&answer(401, json!(null))));
}

#[test]
fn run_values_render_in_backend_strings() {
    let vars = Vars {
        wechat_base_url: "http://w".into(),
        appid: "wxA".into(),
        secret: "S".into(),
        port: Some(81),
    };
    assert_eq!(
        vars.render("{{wechat_base_url}}|{{appid}}|{{secret}}|{{port}}"),
        "http://w|wxA|S|81"
    );
}

#[test]
fn a_request_placeholder_in_a_backend_string_is_refused_with_the_field() {
    let err = parse(&MINIMAL.replace(
        "base_url = \"http://127.0.0.1:3000\"",
        "base_url = \"http://127.0.0.1:3000\"\n[backend.env]\nCODE = \"{{code}}\"",
    ))
    .unwrap_err();
    assert!(
        err.contains("backend.env.CODE") && err.contains("requests only"),
        "{err}"
    );
}
