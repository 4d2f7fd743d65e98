//! The control API's gate: Host names (DNS rebinding), the token on a non-loopback address,
//! JSON-only mutations (no preflight-free cross-origin POSTs), and credentials masked in the
//! journal API unless asked for in clear.

mod control_plane_support;

use axum::body::Body;
use axum::http::{header, Request};
use control_plane_support::{Answer, Fake, START};
use serde_json::{json, Value};
use wxmock_server::admin::guard::AdminConfig;
use wxmock_server::{
    app_on, AppState, Clock, Config, Secret, ALICE_OPENID, DEMO_APPID, DEMO_SECRET,
};

/// A fake served as on a listen address that is (or is not) loopback.
fn fake_on(config: Config, loopback: bool) -> Fake {
    config.validate().unwrap();
    let state = AppState::new(&config, Clock::fixed(START));
    Fake {
        router: app_on(state.clone(), loopback),
        state,
    }
}

fn with_admin(admin: AdminConfig) -> Config {
    Config {
        admin,
        ..Config::default()
    }
}

async fn send(fake: &Fake, request: axum::http::request::Builder, body: &str) -> Answer {
    fake.send(request.body(Body::from(body.to_owned())).unwrap())
        .await
}

fn error_of(answer: &Answer) -> String {
    answer.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_host_that_is_not_loopback_an_ip_or_configured_is_refused() {
    let fake = fake_on(
        with_admin(AdminConfig {
            allowed_hosts: vec!["devbox.lan".into()],
            ..AdminConfig::default()
        }),
        true,
    );
    let get = |host: &str| Request::get("/__admin/apps").header(header::HOST, host);
    let rebound = send(&fake, get("evil.example:7070"), "").await;
    assert_eq!(rebound.status, 403, "{}", rebound.text());
    assert!(
        error_of(&rebound).contains("DNS rebinding"),
        "{}",
        rebound.text()
    );
    for host in [
        "localhost:7070",
        "127.0.0.1:7070",
        "[::1]:7070",
        "devbox.lan:7070",
    ] {
        assert_eq!(send(&fake, get(host), "").await.status, 200, "{host}");
    }
    // The WeChat API itself is not behind the gate: backends call it under any name.
    let wechat = send(
        &fake,
        Request::get("/sns/jscode2session?appid=x").header(header::HOST, "api.weixin.qq.com"),
        "",
    )
    .await;
    assert_eq!(wechat.status, 200);
}

#[tokio::test]
async fn a_text_plain_reset_is_refused_and_resets_nothing() {
    let fake = control_plane_support::fake();
    let code = fake.state.engine.login(DEMO_APPID, ALICE_OPENID).unwrap();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = Request::post("/__admin/reset").header(header::HOST, "127.0.0.1:7070");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let refused = send(&fake, request, "").await;
        assert_eq!(refused.status, 415, "{content_type:?}: {}", refused.text());
        assert!(error_of(&refused).contains("application/json"));
    }
    // Nothing was reset: the code minted before is still redeemable.
    let exchanged = fake
        .get(&format!(
            "/sns/jscode2session?appid={DEMO_APPID}&secret={DEMO_SECRET}&js_code={code}"
        ))
        .await;
    assert_eq!(
        exchanged.json()["openid"],
        ALICE_OPENID,
        "{}",
        exchanged.text()
    );
    // With a JSON type the same call works, empty body or not.
    let reset = send(
        &fake,
        Request::post("/__admin/reset").header(header::CONTENT_TYPE, "application/json"),
        "",
    )
    .await;
    assert_eq!(reset.status, 200, "{}", reset.text());
}

#[tokio::test]
async fn on_a_non_loopback_address_the_control_api_is_closed_without_a_token() {
    let fake = fake_on(Config::default(), false);
    let apps = fake.get("/__admin/apps").await;
    assert_eq!(apps.status, 403, "{}", apps.text());
    assert!(error_of(&apps).contains("--admin-token"), "{}", apps.text());
    let login = fake
        .post(
            "/__admin/login",
            json!({"appid": DEMO_APPID, "openid": ALICE_OPENID}),
        )
        .await;
    assert_eq!(login.status, 403);
    // Liveness stays answerable.
    assert_eq!(fake.get("/__admin/health").await.status, 200);

    let open = fake_on(
        with_admin(AdminConfig {
            open: true,
            ..AdminConfig::default()
        }),
        false,
    );
    assert_eq!(open.get("/__admin/apps").await.status, 200);
}

#[tokio::test]
async fn with_a_token_only_the_right_token_opens_the_control_api() {
    let fake = fake_on(
        with_admin(AdminConfig {
            token: Some(Secret::new("s3cret-t0ken")),
            ..AdminConfig::default()
        }),
        false,
    );
    let apps = |auth: Option<(&str, &str)>| {
        let mut request = Request::get("/__admin/apps");
        if let Some((name, value)) = auth {
            request = request.header(name, value);
        }
        request
    };
    for auth in [
        None,
        Some(("authorization", "Bearer wrong")),
        Some(("authorization", "Bearer s3cret-t0ke")),
        Some(("authorization", "Bearer s3cret-t0ken-and-more")),
        Some(("authorization", "Basic s3cret-t0ken")),
    ] {
        let answer = send(&fake, apps(auth), "").await;
        assert_eq!(answer.status, 401, "{auth:?}: {}", answer.text());
    }
    for auth in [
        ("authorization", "Bearer s3cret-t0ken"),
        ("x-wxmock-admin-token", "s3cret-t0ken"),
    ] {
        assert_eq!(
            send(&fake, apps(Some(auth)), "").await.status,
            200,
            "{auth:?}"
        );
    }
    assert_eq!(fake.get("/__admin/health").await.status, 200);
}

async fn journal(fake: &Fake, query: &str) -> Vec<Value> {
    let answer = fake.get(&format!("/__admin/journal{query}")).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_journal_api_masks_credentials_unless_asked_for_in_clear() {
    let fake = control_plane_support::fake();
    let code = fake.state.engine.login(DEMO_APPID, ALICE_OPENID).unwrap();
    fake.get(&format!(
        "/sns/jscode2session?appid={DEMO_APPID}&SECRET={DEMO_SECRET}&secret={DEMO_SECRET}&js_code={code}"
    ))
    .await;
    fake.post(
        "/cgi-bin/stable_token",
        json!({"grant_type": "client_credential", "appid": DEMO_APPID, "secret": DEMO_SECRET}),
    )
    .await;
    let session_key = fake
        .state
        .engine
        .session_keys(DEMO_APPID, ALICE_OPENID)
        .unwrap()
        .0;

    let masked = journal(&fake, "").await;
    let text = serde_json::to_string(&masked).unwrap();
    for secret in [DEMO_SECRET, code.as_str(), session_key.as_str()] {
        assert!(!text.contains(secret), "{secret} in clear in {text}");
    }
    assert_eq!(masked[0]["query"]["secret"], "***");
    assert_eq!(masked[0]["query"]["SECRET"], "***");
    assert_eq!(masked[0]["query"]["js_code"], "***");
    assert_eq!(masked[0]["query"]["appid"], DEMO_APPID);
    let answer: Value = serde_json::from_str(masked[0]["response_body"].as_str().unwrap()).unwrap();
    assert_eq!(answer["session_key"], "***");
    assert_eq!(answer["openid"], ALICE_OPENID);
    let body: Value = serde_json::from_str(masked[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["secret"], "***");
    let token: Value = serde_json::from_str(masked[1]["response_body"].as_str().unwrap()).unwrap();
    assert_eq!(token["access_token"], "***");

    let clear = journal(&fake, "?secrets=clear").await;
    assert_eq!(clear[0]["query"]["secret"], DEMO_SECRET);
    assert_eq!(clear[0]["query"]["js_code"], code.as_str());
    assert!(clear[0]["response_body"]
        .as_str()
        .unwrap()
        .contains(&session_key));

    let configured_clear = fake_on(
        with_admin(AdminConfig {
            journal_secrets: Some(wxmock_server::admin::guard::SecretsView::Clear),
            ..AdminConfig::default()
        }),
        true,
    );
    configured_clear
        .get(&format!(
            "/sns/jscode2session?appid={DEMO_APPID}&secret={DEMO_SECRET}&js_code=x"
        ))
        .await;
    assert_eq!(
        journal(&configured_clear, "").await[0]["query"]["secret"],
        DEMO_SECRET
    );
    assert_eq!(
        journal(&configured_clear, "?secrets=masked").await[0]["query"]["secret"],
        "***"
    );
}

#[tokio::test]
async fn connect_is_refused_like_a_wrong_method_not_answered_200() {
    let fake = control_plane_support::fake();
    let answer = send(
        &fake,
        Request::builder()
            .method("CONNECT")
            .uri("api.weixin.qq.com:443")
            .header(header::HOST, "api.weixin.qq.com:443"),
        "",
    )
    .await;
    assert_eq!(answer.status, 405, "{}", answer.text());
    assert_eq!(answer.errcode(), 43002);
    let entry = &fake.journal("").await[0];
    assert_eq!(entry["method"], "CONNECT");
    assert_eq!(entry["status"], 405);
}
