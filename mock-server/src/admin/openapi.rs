//! `GET /__admin/openapi.json`: OpenAPI 3.0 of the control API, generated from one route table
//! whose examples are built from the real request and response types with serde. A test checks
//! that every row answers through `app()` and that every admin route in the source is a row, so
//! the document cannot drift from the router.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::config::UserConfig;
use crate::engine::persona::{ALICE_OPENID, DEMO_APPID};
use crate::engine::{AppView, UserView};
use crate::fault::{Action, FaultSpec, Scenario};
use crate::journal::JournalEntry;
use crate::state::AppState;

use super::scenarios::ScenarioRequest;

/// `GET /openapi.json` under `/__admin`: the OpenAPI document of the control API.
pub fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(document()) }))
}

/// A query parameter of a route.
#[derive(Clone, Debug)]
pub struct Param {
    /// The parameter's name in the query string.
    pub name: &'static str,
    /// What the parameter does, one sentence.
    pub description: &'static str,
    /// A value it may take, shown in the document.
    pub example: Value,
}

/// One control-API route: the single source of the OpenAPI document.
#[derive(Clone, Debug)]
pub struct Route {
    /// The HTTP method, upper case (`GET`, `POST`, `DELETE`).
    pub method: &'static str,
    /// Relative to `/__admin`, with `{name}` path parameters, e.g. `/faults/{id}`.
    pub path: &'static str,
    /// What the route does, one line.
    pub summary: &'static str,
    /// The query parameters it reads.
    pub query: Vec<Param>,
    /// Example JSON body, when the route takes one.
    pub request: Option<Value>,
    /// Success status and example JSON answer.
    pub status: u16,
    /// Example JSON answer for that status.
    pub response: Value,
}

fn route(method: &'static str, path: &'static str, summary: &'static str) -> Route {
    Route {
        method,
        path,
        summary,
        query: Vec::new(),
        request: None,
        status: 200,
        response: json!({}),
    }
}

impl Route {
    fn body(mut self, request: Value) -> Self {
        self.request = Some(request);
        self
    }

    fn answers(mut self, status: u16, response: Value) -> Self {
        self.status = status;
        self.response = response;
        self
    }

    fn param(mut self, name: &'static str, description: &'static str, example: Value) -> Self {
        self.query.push(Param {
            name,
            description,
            example,
        });
        self
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    // Plain data structs with string keys always serialise.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn example_user() -> Value {
    to_json(&UserView {
        appid: DEMO_APPID.into(),
        openid: ALICE_OPENID.into(),
        unionid: Some("oUnion0000000000000000000001".into()),
        nick_name: "Alice".into(),
        avatar_url: "https://thirdwx.qlogo.cn/mmopen/vi_32/alice/132".into(),
        gender: 2,
        language: "zh_CN".into(),
        city: "Guangzhou".into(),
        province: "Guangdong".into(),
        country: "CN".into(),
        phone_number: Some("13800138000".into()),
        country_code: "86".into(),
        blocked: false,
        session_key: Some("tiihtNczf5v6AKRyjwEUhQ==".into()),
        session_key_expires_at: Some(1_700_172_800),
        previous_session_key: None,
    })
}

fn example_user_request() -> Value {
    let mut body = Map::new();
    body.insert("appid".into(), DEMO_APPID.into());
    if let Value::Object(fields) = to_json(&UserConfig {
        nick_name: Some("Alice".into()),
        phone_number: Some("13800138000".into()),
        ..UserConfig::default()
    }) {
        body.extend(fields.into_iter().filter(|(_, v)| !v.is_null()));
    }
    Value::Object(body)
}

fn example_fault() -> FaultSpec {
    FaultSpec {
        appid: Some(DEMO_APPID.into()),
        times: Some(2),
        ..FaultSpec::new(
            "/sns/jscode2session",
            &Action::Errcode {
                errcode: -1,
                errmsg: None,
            },
        )
    }
}

fn example_rule() -> Value {
    let mut rule = Map::new();
    rule.insert("id".into(), "f-1".into());
    if let Value::Object(spec) = to_json(&example_fault()) {
        rule.extend(spec);
    }
    rule.insert("hits".into(), 0.into());
    rule.insert("remaining".into(), 2.into());
    Value::Object(rule)
}

fn example_entry() -> Value {
    to_json(&JournalEntry {
        id: 1,
        time: 1_700_000_000,
        method: "GET".into(),
        path: "/sns/jscode2session".into(),
        query: json!({"appid": DEMO_APPID, "secret": "***", "js_code": "***", "grant_type": "authorization_code"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        body: String::new(),
        body_size: 0,
        status: 200,
        response_size: 71,
        response_body: r#"{"errcode":-1,"errmsg":"system error rid: 6553f100-1a2b3c4d-5e6f7a8b"}"#.into(),
        appid: Some(DEMO_APPID.into()),
        fault: Some("f-1".into()),
    })
}

/// Every control-API route. Add a row here when you add a route: the openapi test fails until
/// you do.
pub fn route_table() -> Vec<Route> {
    let app = json!({"appid": DEMO_APPID, "secret": "demo-secret"});
    let who = json!({"appid": DEMO_APPID, "openid": ALICE_OPENID});
    vec![
        route("GET", "/health", "Liveness: the fake is up.").answers(200, json!({"status": "ok"})),
        route("POST", "/apps", "Create an app, or replace its secret.")
            .body(app.clone())
            .answers(200, to_json(&AppView { appid: DEMO_APPID.into(), secret: "demo-secret".into() })),
        route("GET", "/apps", "Every appid.").answers(200, json!({"apps": [DEMO_APPID]})),
        route("POST", "/users", "Create a user (openid generated in WeChat's format when absent), or replace its profile.")
            .body(example_user_request())
            .answers(200, example_user()),
        route("GET", "/apps/{appid}/users", "Every user of an app, sorted by openid, with current session_keys.")
            .answers(200, json!({"users": [example_user()]})),
        route("GET", "/apps/{appid}/users/{openid}", "A user with its current session_key.")
            .answers(200, example_user()),
        route("POST", "/login", "What wx.login gives the user: a fresh js_code (may rotate the session_key per policy).")
            .body(who.clone())
            .answers(200, json!({"code": "051v0m000ObAyK19vV1005SDWf0v0m0s", "openid": ALICE_OPENID})),
        route("POST", "/phone-code", "A phone code for /wxa/business/getuserphonenumber.")
            .body(who.clone())
            .answers(200, json!({"code": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"})),
        route("GET", "/clock", "The fake's now (Unix seconds).").answers(200, json!({"now": 1_700_000_000})),
        route("POST", "/clock", "Move the fake's clock forward: every expiry reads it, nothing sleeps.")
            .body(json!({"advance_secs": 301}))
            .answers(200, json!({"now": 1_700_000_301})),
        route("POST", "/encrypt", "Encrypted open data (WXBizDataCrypt) under the user's current session_key, valid or broken on purpose (variant).")
            .body(json!({"appid": DEMO_APPID, "openid": ALICE_OPENID, "kind": "userInfo", "variant": "valid"}))
            .answers(200, json!({"encryptedData": "…", "iv": "r7BXXKkLb8qrSNn05n0qiA==", "plaintext": "{…}", "variant": "valid", "rawData": "{…}", "signature": "75e81ceda165f4ffa64f4068af58c64b8f54b88c"})),
        route("GET", "/encrypt", "The kinds and variants POST /encrypt accepts, each variant with what it is and what a correct backend does with it.")
            .answers(200, super::encrypt::choices_json()),
        route("POST", "/faults", "Install a fault rule: which endpoint (and app, user, code), what happens (errcode or fault), how often (times, probability + seed, or sequence).")
            .body(to_json(&example_fault()))
            .answers(201, example_rule()),
        route("GET", "/faults", "The installed fault rules, oldest first, with hits and remaining counts.")
            .param("appid", "only the rules naming this app", json!(DEMO_APPID))
            .answers(200, json!({"faults": [example_rule()]})),
        route("DELETE", "/faults", "Remove every fault rule (or only those naming an app).")
            .param("appid", "only the rules naming this app", json!(DEMO_APPID))
            .answers(200, json!({"removed": 1})),
        route("DELETE", "/faults/{id}", "Remove one fault rule.").answers(200, json!({"removed": 1, "id": "f-1"})),
        route("GET", "/scenarios", "The named scenarios and what each reproduces.")
            .answers(200, json!({"scenarios": Scenario::ALL.iter().map(|s| json!({"name": s.name(), "description": s.description()})).collect::<Vec<_>>()})),
        route("POST", "/scenarios/{name}", "Apply a named scenario to an app (and user).")
            .body(to_json(&ScenarioRequest { appid: Some(DEMO_APPID.into()), openid: Some(ALICE_OPENID.into()), times: Some(2), ..ScenarioRequest::default() }))
            .answers(200, json!({"scenario": "wechat-busy", "applied": {"fault": example_rule()}})),
        route("GET", "/journal", "What the fake received and answered, oldest first; last_id is the newest id, to pass as since.")
            .param("path", "exact request path", json!("/sns/jscode2session"))
            .param("appid", "only requests concerning this app", json!(DEMO_APPID))
            .param("since", "only entries with an id greater than this", json!(0))
            .param("limit", "at most this many entries (the oldest matching first); when more matched, more is true and next_since is the id to pass as since", json!(100))
            .param("secrets", "credentials (appsecret, access tokens, session keys, login and phone codes) \"masked\" as *** (the default of wxmock serve) or in \"clear\", for local debugging", json!("masked"))
            .answers(200, json!({"entries": [example_entry()], "last_id": 1, "more": false, "next_since": null})),
        route("DELETE", "/journal", "Forget the journal (or one app's entries). Ids keep counting up.")
            .param("appid", "only this app's entries", json!(DEMO_APPID))
            .answers(200, json!({"removed": 1})),
        route("POST", "/reset", "The whole fake back to its configured state: apps and users as configured, no codes or tokens, no faults, an empty journal, the clock's advances undone.")
            .answers(200, json!({"reset": "all", "faults_removed": 0, "journal_entries_removed": 0, "now": 1_700_000_000})),
        route("POST", "/apps/{appid}/reset", "One app back to its configured state, with its faults and journal entries gone.")
            .answers(200, json!({"reset": DEMO_APPID, "faults_removed": 0, "journal_entries_removed": 0})),
        route("GET", "/openapi.json", "This document.").answers(200, json!({"openapi": "3.0.3"})),
    ]
}

/// A JSON schema (OpenAPI 3.0 flavour) describing the shape of an example value.
pub fn schema_of(example: &Value) -> Value {
    match example {
        Value::Null => json!({"nullable": true}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Number(n) if n.is_f64() => json!({"type": "number"}),
        Value::Number(_) => json!({"type": "integer"}),
        Value::String(_) => json!({"type": "string"}),
        Value::Array(items) => match items.first() {
            Some(first) => json!({"type": "array", "items": schema_of(first)}),
            None => json!({"type": "array", "items": {}}),
        },
        Value::Object(map) => {
            let properties: Map<String, Value> = map
                .iter()
                .map(|(key, value)| (key.clone(), schema_of(value)))
                .collect();
            json!({"type": "object", "properties": properties})
        }
    }
}

fn operation(route: &Route) -> Value {
    let mut op = Map::new();
    op.insert("summary".into(), route.summary.into());
    // `POST /apps/{appid}/reset` → `post_apps_appid_reset`.
    let operation_id = format!("{} {}", route.method, route.path)
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    op.insert("operationId".into(), operation_id.into());
    let mut parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    parameters.extend(route.query.iter().map(|p| {
        json!({"name": p.name, "in": "query", "required": false, "description": p.description,
               "schema": schema_of(&p.example), "example": p.example})
    }));
    if !parameters.is_empty() {
        op.insert("parameters".into(), parameters.into());
    }
    if let Some(request) = &route.request {
        op.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": schema_of(request), "example": request}}}),
        );
    }
    op.insert(
        "responses".into(),
        json!({
            route.status.to_string(): {"description": "success", "content": {"application/json": {"schema": schema_of(&route.response), "example": route.response}}},
            "4XX": {"description": "the request is malformed or names something unknown; nothing changed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }),
    );
    Value::Object(op)
}

/// The OpenAPI 3.0 document of the control API.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in route_table() {
        let item = paths
            .entry(format!("/__admin{}", route.path))
            .or_insert_with(|| json!({}));
        if let Value::Object(item) = item {
            item.insert(route.method.to_lowercase(), operation(&route));
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "wxmock control API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Seed, bend and inspect the fake WeChat: apps, users, login codes, the clock, encrypted data, faults, scenarios, the journal and resets. WeChat's own endpoints (/sns, /cgi-bin, /wxa) are not described here: they answer exactly as api.weixin.qq.com does."
        },
        "paths": paths,
        "components": {"schemas": {"Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string", "description": "a plain sentence saying what is wrong"}}
        }}}
    })
}
