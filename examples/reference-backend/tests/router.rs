//! The bare router, driven with `oneshot`: no socket, no WeChat (the paths below never call it).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use wxmock_reference_backend::{app, AppState, Config};

async fn call(request: Request<Body>) -> (StatusCode, Value) {
    // Nothing listens on port 9: a WeChat call would show up as a 502.
    let router = app(AppState::new(Config::new("http://127.0.0.1:9", "wx1", "s")));
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn health_answers_ok_without_a_socket() {
    let request = Request::get("/healthz").body(Body::empty()).unwrap();
    assert_eq!(
        call(request).await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
}

#[tokio::test]
async fn a_login_without_code_is_refused_before_any_wechat_call() {
    let request = Request::post("/api/login")
        .header("content-type", "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        call(request).await,
        (StatusCode::BAD_REQUEST, json!({"error": "missing code"}))
    );
}

#[tokio::test]
async fn a_protected_route_without_token_is_unauthorized() {
    let request = Request::get("/api/me").body(Body::empty()).unwrap();
    assert_eq!(
        call(request).await,
        (StatusCode::UNAUTHORIZED, json!({"error": "unauthorized"}))
    );
}
