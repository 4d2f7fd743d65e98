//! The OpenAPI document cannot drift from the router: every documented route answers through
//! `app()`, and every route the admin sources declare is documented.

mod control_plane_support;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Request};
use control_plane_support::fake;
use serde_json::Value;
use wxmock_server::admin::openapi::{document, route_table};
use wxmock_server::{ALICE_OPENID, DEMO_APPID};

/// `(METHOD, /path/{param})` of every `.route(…)` in `src/admin/*.rs`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/admin");
    let mut found = BTreeSet::new();
    for file in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        for call in text.split(".route(").skip(1) {
            // `"/path", get(a).post(b))` up to the matching close paren of `.route(`.
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap_or(call.len());
            let call = &call[..end];
            let Some(path) = call.split('"').nth(1) else {
                continue;
            };
            for method in ["get", "post", "put", "patch", "delete"] {
                let rest = &call[call.find(',').unwrap_or(0)..];
                let called = rest.match_indices(&format!("{method}(")).any(|(i, _)| {
                    i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if called {
                    found.insert((method.to_uppercase(), path.to_owned()));
                }
            }
        }
    }
    found
}

#[test]
fn every_admin_route_in_the_source_is_documented() {
    let documented: BTreeSet<(String, String)> = route_table()
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let declared = routes_in_source();
    assert!(
        declared.len() >= 10,
        "the source scan found too little: {declared:?}"
    );
    let missing: Vec<_> = declared.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from admin::openapi::route_table(): {missing:?}"
    );
}

#[tokio::test]
async fn every_documented_route_answers_through_app() {
    let fake = fake();
    for route in route_table() {
        let uri = format!(
            "/__admin{}",
            route
                .path
                .replace("{appid}", DEMO_APPID)
                .replace("{openid}", ALICE_OPENID)
                .replace("{id}", "f-999")
                .replace("{name}", "wechat-busy")
        );
        let body = route
            .request
            .as_ref()
            .map(Value::to_string)
            .unwrap_or_default();
        let request = Request::builder()
            .method(route.method)
            .uri(&uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let answer = fake.send(request).await;
        let unrouted = answer.status == 405
            || (answer.status == 404 && answer.text().contains("no control-API endpoint"));
        assert!(
            !unrouted,
            "{} {uri} is documented but not routed: {} {}",
            route.method,
            answer.status,
            answer.text()
        );
    }
}

#[tokio::test]
async fn the_document_is_served_as_openapi_3_with_every_route() {
    let fake = fake();
    let answer = fake.get("/__admin/openapi.json").await;
    assert_eq!(answer.status, 200);
    let served = answer.json();
    assert_eq!(served, document());
    assert_eq!(served["openapi"], "3.0.3");
    let operations: usize = served["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(operations, route_table().len());
    let add_fault = &served["paths"]["/__admin/faults"]["post"];
    assert_eq!(
        add_fault["requestBody"]["content"]["application/json"]["schema"]["properties"]["path"]
            ["type"],
        "string"
    );
    assert!(add_fault["responses"]["201"].is_object());
    let reset_app = &served["paths"]["/__admin/apps/{appid}/reset"]["post"];
    assert_eq!(reset_app["operationId"], "post_apps_appid_reset");
    assert_eq!(reset_app["parameters"][0]["in"], "path");
}

#[test]
#[ignore = "prints the document"]
fn print_document() {
    println!("{}", serde_json::to_string_pretty(&document()).unwrap());
}
