//! The console's files, the page at `/` for browsers, and the control API's answers around them
//! (`/__admin` itself, unknown paths), socket-free through `app(state).oneshot`.

mod control_plane_support;

use axum::body::Body;
use axum::http::{header, Request};
use control_plane_support::fake;
use serde_json::Value;
use wxmock_server::console::SCRIPTS;
use wxmock_server::engine::persona::PERSONAS;

async fn get_with(
    fake: &control_plane_support::Fake,
    uri: &str,
    accept: &str,
) -> control_plane_support::Answer {
    fake.send(
        Request::get(uri)
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_console_and_its_files_are_served_from_the_binary() {
    let fake = fake();
    let page = fake.get("/__admin/console").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    let html = page.text();
    // Every script the page loads, in order, and nothing else.
    let loaded: Vec<&str> = html
        .split("<script src=\"/__admin/console/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    let served: Vec<&str> = SCRIPTS.iter().map(|(name, _)| *name).collect();
    assert_eq!(loaded, served);
    assert!(!html.contains("{{"), "every placeholder is filled: {html}");
    // The personas the page labels users with come from the server's own table.
    let config = html
        .split("id=\"wxmock-config\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    let config: Value = serde_json::from_str(config).unwrap();
    assert_eq!(config["personas"].as_array().unwrap().len(), PERSONAS.len());
    assert_eq!(config["personas"][0]["name"], "alice");
    for (name, _) in SCRIPTS {
        let answer = fake.get(&format!("/__admin/console/{name}")).await;
        assert_eq!(answer.status, 200, "{name}");
        assert_eq!(
            answer.content_type, "text/javascript; charset=utf-8",
            "{name}"
        );
        // Nothing from elsewhere: no CDN, no absolute URL in what the page loads.
        let script = answer.text();
        assert!(
            !script.contains("http://") && !script.contains("https://"),
            "{name}"
        );
    }
    for (path, content_type) in [
        ("/__admin/console/console.css", "text/css; charset=utf-8"),
        ("/__admin/console/favicon.svg", "image/svg+xml"),
        (
            "/__admin/console/wxmock-login.js",
            "text/javascript; charset=utf-8",
        ),
    ] {
        let answer = fake.get(path).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.content_type, content_type, "{path}");
        assert!(!answer.bytes.is_empty(), "{path}");
    }
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    // It calls the control API, nothing else: one fetch, in the shared client.
    let all: String = SCRIPTS.iter().map(|(_, body)| *body).collect();
    assert_eq!(all.matches("fetch(").count(), 1);
    assert!(all.contains("fetch('/__admin' + path"));
}

#[tokio::test]
async fn the_console_is_not_journaled() {
    let fake = fake();
    for path in ["/__admin/console", "/__admin/console/core.js"] {
        assert_eq!(fake.get(path).await.status, 200);
    }
    assert!(fake.journal("").await.is_empty());
}

#[tokio::test]
async fn a_browser_at_the_root_gets_a_page_and_an_api_client_gets_40066() {
    let fake = fake();
    let browser = get_with(&fake, "/", "text/html,application/xhtml+xml,*/*;q=0.8").await;
    assert_eq!(browser.status, 200);
    assert!(browser.content_type.starts_with("text/html"));
    assert!(browser.text().contains("href=\"/__admin/console\""));
    for accept in ["*/*", "application/json"] {
        let api = get_with(&fake, "/", accept).await;
        assert_eq!(api.json()["errcode"], 40066, "{accept}");
    }
    assert_eq!(fake.get("/").await.json()["errcode"], 40066);
    // Only the API clients' calls are WeChat calls: the browser's page is not journaled.
    assert_eq!(fake.journal("?path=/").await.len(), 3);
    // Another path stays WeChat's, even for a browser.
    assert_eq!(
        get_with(&fake, "/sns/nothing", "text/html").await.json()["errcode"],
        40066
    );
}

#[tokio::test]
async fn the_admin_root_and_unknown_admin_paths_are_the_control_apis_404() {
    let fake = fake();
    for path in [
        "/__admin",
        "/__admin/",
        "/__admin/nothing",
        "/__admin/console/missing.js",
    ] {
        let answer = fake.get(path).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.text());
        let error = answer.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(path), "{path}: {error}");
        assert!(
            error.contains("/__admin/console"),
            "it points at the console: {error}"
        );
    }
    assert!(
        fake.journal("").await.is_empty(),
        "none of them is a WeChat call"
    );
}

#[tokio::test]
async fn the_encrypt_choices_list_every_kind_and_variant() {
    let fake = fake();
    let choices = fake.get("/__admin/encrypt").await.json();
    let kinds: Vec<&str> = choices["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"userInfo") && kinds.contains(&"phoneNumber") && kinds.contains(&"weRun")
    );
    let variants = choices["variants"].as_array().unwrap();
    assert_eq!(variants.len(), wxmock_fixtures::forge::Variant::ALL.len());
    assert!(variants
        .iter()
        .all(|v| v["description"].as_str().is_some_and(|d| !d.is_empty())));
}

/// `(METHOD, path)` of every `api('METHOD', '/path' …)` call in the console's script, with
/// `${…}` parts as `{}` and the query string dropped.
fn calls_in_the_script() -> Vec<(String, String)> {
    let script: String = SCRIPTS.iter().map(|(_, body)| *body).collect();
    let mut calls = Vec::new();
    for call in script.split("api('").skip(1) {
        let Some((method, rest)) = call.split_once("', ") else {
            continue;
        };
        let quote = rest.chars().next().unwrap();
        let literal: String = rest[1..].chars().take_while(|c| *c != quote).collect();
        let mut path = String::new();
        let mut rest = literal.as_str();
        while let Some(start) = rest.find("${") {
            path.push_str(&rest[..start]);
            path.push_str("{}");
            let end = rest[start..]
                .find('}')
                .map_or(rest.len(), |e| start + e + 1);
            rest = &rest[end..];
        }
        path.push_str(rest);
        let path = path.split('?').next().unwrap().to_owned();
        calls.push((method.to_owned(), path));
    }
    calls
}

#[test]
fn every_call_the_console_makes_is_a_documented_control_api_route() {
    let calls = calls_in_the_script();
    assert!(calls.len() >= 12, "the scan found too little: {calls:?}");
    let routes = wxmock_server::admin::openapi::route_table();
    for (method, path) in &calls {
        let matches = routes.iter().any(|route| {
            let want: Vec<&str> = route.path.split('/').collect();
            let got: Vec<&str> = path.split('/').collect();
            route.method == method
                && want.len() == got.len()
                && want
                    .iter()
                    .zip(&got)
                    .all(|(w, g)| w == g || (w.starts_with('{') && *g == "{}"))
        });
        assert!(
            matches,
            "the console calls {method} /__admin{path}, which is not a control-API route"
        );
    }
}

#[tokio::test]
async fn with_a_token_the_console_loads_and_its_calls_need_the_token() {
    let fake = control_plane_support::fake_with(
        wxmock_server::Config::from_toml("[admin]\ntoken = 'console-test-token'").unwrap(),
    );
    for path in ["/__admin/console", "/__admin/console/core.js"] {
        assert_eq!(fake.get(path).await.status, 200, "{path}");
    }
    assert_eq!(fake.get("/__admin/apps").await.status, 401);
    let with_token = fake
        .send(
            Request::get("/__admin/apps")
                .header(header::AUTHORIZATION, "Bearer console-test-token")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(with_token.status, 200, "{}", with_token.text());
}
