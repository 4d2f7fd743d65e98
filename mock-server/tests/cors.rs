//! CORS on the control API: loopback origins by default, a configurable list, preflight
//! included; a cross-origin request from elsewhere is refused before it changes anything.

mod control_plane_support;

use axum::body::Body;
use axum::http::{header, Request};
use control_plane_support::{fake, fake_with, Answer, Fake};
use wxmock_server::Config;

async fn preflight(fake: &Fake, origin: &str) -> (Answer, axum::http::HeaderMap) {
    let request = Request::options("/__admin/login")
        .header(header::HOST, "127.0.0.1:7070")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .body(Body::empty())
        .unwrap();
    send_with_headers(fake, request).await
}

async fn send_with_headers(fake: &Fake, request: Request<Body>) -> (Answer, axum::http::HeaderMap) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = fake.router.clone().oneshot(request).await.unwrap();
    let headers = response.headers().clone();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        Answer {
            status,
            content_type: String::new(),
            bytes: bytes.to_vec(),
        },
        headers,
    )
}

/// `POST /__admin/clock` moving time by 60 s, from a page on `origin`.
async fn advance_from(fake: &Fake, origin: Option<&str>) -> (Answer, axum::http::HeaderMap) {
    let mut request = Request::post("/__admin/clock")
        .header(header::HOST, "127.0.0.1:7070")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    send_with_headers(
        fake,
        request.body(Body::from(r#"{"advance_secs":60}"#)).unwrap(),
    )
    .await
}

fn header<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn a_preflight_from_a_loopback_origin_is_allowed() {
    let fake = fake();
    for origin in [
        "http://localhost:5173",
        "http://127.0.0.1:8080",
        "http://[::1]:3000",
    ] {
        let (answer, headers) = preflight(&fake, origin).await;
        assert_eq!(answer.status, 204, "{origin}: {}", answer.text());
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            Some(origin)
        );
        let methods = header(&headers, "access-control-allow-methods").unwrap();
        assert!(
            methods.contains("POST") && methods.contains("DELETE"),
            "{methods}"
        );
        assert_eq!(
            header(&headers, "access-control-allow-headers"),
            Some("content-type")
        );
        assert!(header(&headers, "vary").unwrap().contains("origin"));
    }
}

#[tokio::test]
async fn a_preflight_from_another_origin_is_refused_with_json() {
    let fake = fake();
    let (answer, headers) = preflight(&fake, "http://evil.example").await;
    assert_eq!(answer.status, 403);
    assert!(header(&headers, "access-control-allow-origin").is_none());
    let error = answer.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("http://evil.example") && error.contains("cors_origins"),
        "{error}"
    );
}

#[tokio::test]
async fn a_cross_origin_call_not_on_the_list_changes_nothing() {
    let fake = fake();
    let before = fake.state.clock.now();
    let (refused, _) = advance_from(&fake, Some("http://192.168.1.9:8080")).await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(
        fake.state.clock.now(),
        before,
        "the refused call did not run"
    );
    // The same call from a loopback page runs and says who may read it.
    let (allowed, headers) = advance_from(&fake, Some("http://localhost:5173")).await;
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(fake.state.clock.now(), before + 60);
}

#[tokio::test]
async fn the_fakes_own_origin_and_origin_less_clients_are_not_concerned() {
    // The console opened on a LAN address sends that origin; it is the fake's own.
    let config = Config::from_toml("cors_origins = []").unwrap();
    let fake = fake_with(config);
    let (same, _) = advance_from(&fake, Some("http://127.0.0.1:7070")).await;
    assert_eq!(same.status, 200, "{}", same.text());
    let (curl, headers) = advance_from(&fake, None).await;
    assert_eq!(curl.status, 200);
    assert!(header(&headers, "access-control-allow-origin").is_none());
    // With an empty list even loopback pages are refused.
    let (refused, _) = advance_from(&fake, Some("http://localhost:5173")).await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn a_configured_list_replaces_the_default_and_loopback_keeps_it() {
    let lan = fake_with(Config::from_toml("cors_origins = ['http://192.168.1.9:8080']").unwrap());
    assert_eq!(
        preflight(&lan, "http://192.168.1.9:8080").await.0.status,
        204
    );
    assert_eq!(preflight(&lan, "http://localhost:5173").await.0.status, 403);
    let both = fake_with(
        Config::from_toml("cors_origins = ['loopback', 'http://192.168.1.9:8080']").unwrap(),
    );
    assert_eq!(
        preflight(&both, "http://192.168.1.9:8080").await.0.status,
        204
    );
    assert_eq!(
        preflight(&both, "http://localhost:5173").await.0.status,
        204
    );
}

#[test]
fn a_cors_entry_that_is_not_an_origin_is_a_config_error() {
    for bad in ["'*'", "'192.168.1.9'", "'http://host/path'"] {
        let err = Config::from_toml(&format!("cors_origins = [{bad}]")).unwrap_err();
        assert!(err.to_string().contains("cors_origins"), "{err}");
    }
}
