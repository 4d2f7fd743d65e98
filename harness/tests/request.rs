//! The one request model: every templated request of a profile renders through the same
//! function from the values of the moment; multi-part credentials are read from several places
//! and placed in several; rejection is a list of rules with an optional success rule.

use serde_json::json;
use wxmock_harness::exchange::{Body, Response};
use wxmock_harness::fake::Encrypted;
use wxmock_harness::profile::{Profile, Source, Vars};
use wxmock_harness::{context::render, Credential, Values};

fn parse(text: &str) -> Result<Profile, String> {
    Profile::from_toml_str(text, "test.toml").map_err(|e| e.to_string())
}

fn vars() -> Vars {
    Vars {
        wechat_base_url: "http://fake".into(),
        appid: "wxapp".into(),
        secret: "s3cret".into(),
        port: Some(4000),
    }
}

fn data() -> Encrypted {
    Encrypted {
        encrypted_data: "ENC".into(),
        iv: "IV".into(),
        plaintext: "{}".into(),
        variant: "valid".into(),
        raw_data: Some("RAW".into()),
        signature: Some("SIG".into()),
    }
}

fn header<'a>(req: &'a wxmock_harness::exchange::Request, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

const WAFER: &str = r#"
[backend]
base_url = "http://127.0.0.1:3000"
[login]
method = "GET"
path = "/weapp/login"
headers = { X-WX-Code = "{{code}}", X-WX-Encrypted-Data = "{{encrypted_data}}", X-WX-IV = "{{iv}}" }
token_parts = { id = "/session/id", skey = "/session/skey" }
[auth]
headers = { X-WX-Id = "{{token.id}}", X-WX-Skey = "{{token.skey}}" }
[protected]
path = "/weapp/user"
identity = "/data/userInfo/openId"
"#;

#[test]
fn a_wafer_login_carries_code_and_data_in_headers_and_the_session_travels_in_two() {
    let p = parse(WAFER).expect("valid");
    let c = &p.compiled;
    assert!(c.login.carries_data());
    let values = Values {
        code: Some("C1".into()),
        data: Some(data()),
        ..Values::default()
    };
    let login = render(&c.login, &vars(), &values);
    assert_eq!(login.method, "GET");
    assert_eq!(header(&login, "X-WX-Code"), Some("C1"));
    assert_eq!(header(&login, "X-WX-Encrypted-Data"), Some("ENC"));
    assert_eq!(header(&login, "X-WX-IV"), Some("IV"));
    assert!(login.body.is_none(), "a GET carries no body");
    // Without data (a plain code-only render) the data headers are left out, not sent empty.
    let bare = render(&c.login, &vars(), &Values::code(Some("C1")));
    assert_eq!(header(&bare, "X-WX-IV"), None);

    let cred = Credential::from_parts(
        vec![("id".into(), "I".into()), ("skey".into(), "K".into())],
        c.main_part(),
    );
    let req = render(&c.protected, &vars(), &Values::token(Some(&cred)));
    assert_eq!(header(&req, "X-WX-Id"), Some("I"));
    assert_eq!(header(&req, "X-WX-Skey"), Some("K"));
    assert_eq!(header(&req, "Authorization"), None, "no default bearer");
    // Dropping a part drops every entry that names it, and only those.
    let req = render(
        &c.protected,
        &vars(),
        &Values::token(Some(&cred.without("skey"))),
    );
    assert_eq!(header(&req, "X-WX-Id"), Some("I"));
    assert_eq!(header(&req, "X-WX-Skey"), None);
}

#[test]
fn a_one_call_login_sends_a_nested_json_body_with_every_value() {
    let p = parse(
        r#"
[backend]
base_url = "http://127.0.0.1:3000"
[login]
path = "/api/login/{{appid}}"
query = { v = "2" }
json = { code = "{{code}}", user = { encryptedData = "{{encrypted_data}}", iv = "{{iv}}", rawData = "{{raw_data}}", signature = "{{signature}}" }, tags = ["mp", "{{iv}}"] }
[protected]
path = "/api/me"
"#,
    )
    .expect("valid");
    let values = Values {
        code: Some("C".into()),
        data: Some(data()),
        ..Values::default()
    };
    let req = render(&p.compiled.login, &vars(), &values);
    assert_eq!(req.path, "/api/login/wxapp");
    assert_eq!(req.query, vec![("v".to_string(), "2".to_string())]);
    assert_eq!(
        req.body,
        Some(Body::Json(json!({
            "code": "C",
            "user": {"encryptedData": "ENC", "iv": "IV", "rawData": "RAW", "signature": "SIG"},
            "tags": ["mp", "IV"]
        })))
    );
    assert_eq!(p.login_code_field(), None, "the template places the code");
}

#[test]
fn a_credential_can_go_in_a_header_and_a_cookie_at_once_and_parts_come_from_anywhere() {
    let p = parse(
        r#"
[backend]
base_url = "http://127.0.0.1:3000"
[login]
path = "/login"
token_parts = { sid = "cookie:sid", csrf = "header:X-CSRF", token = "/data/token" }
[auth]
headers = { Authorization = "Bearer {{token}}", X-CSRF = "{{token.csrf}}" }
cookies = { sid = "{{token.sid}}" }
[protected]
path = "/me"
"#,
    )
    .expect("valid");
    let c = &p.compiled;
    assert_eq!(c.main_part(), "token");
    assert!(c.token_from_cookie());
    assert_eq!(
        c.token_parts[0],
        ("sid".into(), Source::Cookie("sid".into()))
    );
    let cred = Credential::from_parts(
        vec![
            ("sid".into(), "S".into()),
            ("csrf".into(), "X".into()),
            ("token".into(), "T".into()),
        ],
        c.main_part(),
    );
    let req = render(&c.protected, &vars(), &Values::token(Some(&cred)));
    assert_eq!(header(&req, "Authorization"), Some("Bearer T"));
    assert_eq!(header(&req, "X-CSRF"), Some("X"));
    assert_eq!(header(&req, "Cookie"), Some("sid=S"));
    assert_eq!(cred.with_main("F").main(), "F");
}

#[test]
fn a_request_that_places_the_token_itself_gets_no_auth_placement() {
    let p = parse(
        r#"
[backend]
base_url = "http://127.0.0.1:3000"
[login]
path = "/login"
[protected]
method = "POST"
path = "/me"
json = { session = { token = "{{token}}" } }
"#,
    )
    .expect("valid");
    let req = render(
        &p.compiled.protected,
        &vars(),
        &Values::token(Some(&Credential::single("T"))),
    );
    assert_eq!(header(&req, "Authorization"), None);
    assert_eq!(
        req.body,
        Some(Body::Json(json!({"session": {"token": "T"}})))
    );
    let none = render(&p.compiled.protected, &vars(), &Values::default());
    assert_eq!(none.body, Some(Body::Json(json!({"session": {}}))));
}

#[test]
fn mistakes_in_the_request_model_name_the_field() {
    let base = "[backend]\nbase_url = \"http://127.0.0.1:3000\"\n[protected]\npath = \"/me\"\n";
    let cases = [
        (
            "[login]\npath = \"/l\"\n[auth]\nheaders = { X = \"{{token.skey}}\" }\n",
            "auth.headers.X",
            "token parts",
        ),
        (
            "[login]\npath = \"/l\"\ntoken_pointer = \"/t\"\ntoken_parts = { a = \"/a\" }\n",
            "login.token_pointer",
            "exclude",
        ),
        (
            "[login]\npath = \"/l\"\ntoken_parts = { a = \"token\" }\n",
            "login.token_parts.a",
            "JSON pointer",
        ),
        (
            "[login]\npath = \"/l\"\nform = { a = { b = 1 } }\n",
            "login.form.a",
            "flat",
        ),
        (
            "[login]\npath = \"/l\"\njson = { a = 1 }\nfields = { b = 2 }\n",
            "login.json",
            "use one",
        ),
        (
            "[login]\npath = \"/l\"\nheaders = { X = \"{{nope}}\" }\n",
            "login.headers.X",
            "unknown placeholder",
        ),
        (
            "[login]\npath = \"/l\"\nheaders = { X = \"{{code|rot13}}\" }\n",
            "login.headers.X",
            "unknown filter",
        ),
        (
            "[login]\npath = \"/l\"\n[auth]\nstyle = \"bearer\"\nheaders = { X = \"{{token}}\" }\n",
            "auth.style",
            "shorthand",
        ),
        (
            "[login]\npath = \"/l\"\n[[rejected.rules]]\npointer = \"/code\"\n",
            "rejected.rules[0]",
            "equals",
        ),
    ];
    for (extra, field, words) in cases {
        let err = parse(&format!("{base}{extra}")).expect_err(field);
        assert!(
            err.contains(&format!("`{field}`")) && err.contains(words),
            "expected {field} / {words} in: {err}"
        );
    }
}

fn answer(status: u16, body: &str) -> Response {
    Response {
        status,
        headers: vec![],
        body: body.into(),
        json: serde_json::from_str(body).ok(),
    }
}

#[test]
fn rejection_rules_combine_as_documented() {
    let p = parse(
        r#"
[backend]
base_url = "http://127.0.0.1:3000"
[login]
path = "/l"
[protected]
path = "/me"
[rejected]
statuses = [401]
[[rejected.rules]]
statuses = [200]
pointer = "/errcode"
not_equals = [0]
[[rejected.rules]]
body_contains = "please log in"
[rejected.success]
pointer = "/ok"
equals = [true]
"#,
    )
    .expect("valid");
    let r = &p.compiled.rejection;
    // Any rule means rejected; within a rule, every condition must hold.
    assert!(r.is_rejected(&answer(401, "{}")));
    assert!(r.is_rejected(&answer(200, r#"{"errcode":40001,"ok":true}"#)));
    assert!(
        !r.is_rejected(&answer(500, r#"{"errcode":40001}"#)),
        "rule 2 needs HTTP 200"
    );
    assert!(r.is_rejected(&answer(200, "<p>please log in</p>")));
    // Accepted: 2xx, no rule, and the success rule holds.
    assert!(r.is_accepted(&answer(200, r#"{"errcode":0,"ok":true}"#)));
    assert!(
        !r.is_accepted(&answer(200, r#"{"errcode":0}"#)),
        "the success rule fails"
    );
    // A refusal is a 4xx or a rule, never a 5xx.
    assert!(r.is_refusal(&answer(200, r#"{"errcode":1,"ok":true}"#)));
    assert!(!r.is_refusal(&answer(503, "{}")));
    assert!(!r.is_refusal(&answer(200, r#"{"errcode":0,"ok":true}"#)));
}

#[test]
fn a_shorthand_profile_and_its_explicit_twin_compile_to_the_same_requests() {
    let shorthand = parse(
        r#"
[backend]
base_url = "http://127.0.0.1:3000"
[login]
path = "/l"
code_in = "form"
code_field = "js_code"
token_pointer = "/data/token"
[auth]
style = "scheme"
scheme = "JWT"
[protected]
path = "/me"
identity_pointer = "/id"
[user_info]
path = "/u"
raw_data_field = ""
signature_field = ""
[phone]
path = "/p"
"#,
    )
    .expect("valid");
    let explicit = parse(
        r#"
[backend]
base_url = "http://127.0.0.1:3000"
[login]
path = "/l"
form = { js_code = "{{code}}" }
token_parts = { token = "/data/token" }
[auth]
headers = { Authorization = "JWT {{token}}" }
[protected]
path = "/me"
identity = "/id"
[user_info]
path = "/u"
json = { encryptedData = "{{encrypted_data}}", iv = "{{iv}}" }
[phone]
path = "/p"
json = { code = "{{phone_code}}" }
"#,
    )
    .expect("valid");
    let (a, b) = (&shorthand.compiled, &explicit.compiled);
    assert_eq!(a.login, b.login);
    assert_eq!(a.protected, b.protected);
    assert_eq!(a.user_info, b.user_info);
    assert_eq!(a.phone, b.phone);
    assert_eq!(a.token_parts, b.token_parts);
    assert_eq!(a.identity, b.identity);
}
