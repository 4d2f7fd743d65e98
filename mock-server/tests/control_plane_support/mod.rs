//! Helpers for the control-plane tests: a fake on a frozen clock driven through
//! `app(state).oneshot`, and JSON shortcuts for the control API.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use wxmock_server::{app, AppState, Clock, Config, DEMO_APPID, DEMO_SECRET};

pub const START: i64 = 1_700_000_000;
/// A second tenant, created by [`Fake::add_app`].
pub const OTHER_APPID: &str = "wx0ther00000000001";
pub const OTHER_SECRET: &str = "fedcba9876543210fedcba9876543210";

pub struct Fake {
    pub state: AppState,
    pub router: Router,
}

pub fn fake() -> Fake {
    fake_with(Config::default())
}

pub fn fake_with(config: Config) -> Fake {
    config.validate().unwrap();
    let state = AppState::new(&config, Clock::fixed(START));
    Fake {
        router: app(state.clone()),
        state,
    }
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// WeChat's errcode, or 0 for an answer without one (a success).
    pub fn errcode(&self) -> i64 {
        self.json()["errcode"].as_i64().unwrap_or(0)
    }
}

impl Fake {
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            content_type,
            bytes: bytes.to_vec(),
        }
    }

    pub async fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn delete(&self, uri: &str) -> Answer {
        self.send(Request::delete(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post_raw(&self, uri: &str, body: &str) -> Answer {
        self.send(
            Request::post(uri)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .await
    }

    pub async fn post(&self, uri: &str, body: Value) -> Answer {
        self.post_raw(uri, &body.to_string()).await
    }

    /// Installs a fault rule; panics unless the control API accepts it. Returns the rule.
    pub async fn fault(&self, rule: Value) -> Value {
        let answer = self.post("/__admin/faults", rule).await;
        assert_eq!(answer.status, 201, "{}", answer.text());
        answer.json()
    }

    pub async fn scenario(&self, name: &str, body: Value) -> Answer {
        self.post(&format!("/__admin/scenarios/{name}"), body).await
    }

    pub fn add_app(&self) {
        self.state
            .engine
            .upsert_app(OTHER_APPID, OTHER_SECRET.into())
            .unwrap();
    }

    pub fn login(&self, appid: &str, openid: &str) -> String {
        self.state.engine.login(appid, openid).unwrap()
    }

    /// jscode2session on an app with its right secret.
    pub async fn exchange_for(&self, appid: &str, code: &str) -> Answer {
        let secret = if appid == DEMO_APPID {
            DEMO_SECRET
        } else {
            OTHER_SECRET
        };
        self.get(&format!(
            "/sns/jscode2session?appid={appid}&secret={secret}&js_code={code}&grant_type=authorization_code"
        ))
        .await
    }

    pub async fn exchange(&self, code: &str) -> Answer {
        self.exchange_for(DEMO_APPID, code).await
    }

    /// The journal's entries, credentials in clear (the tests look at codes and secrets).
    pub async fn journal(&self, query: &str) -> Vec<Value> {
        let separator = if query.is_empty() { "?" } else { "&" };
        let answer = self
            .get(&format!("/__admin/journal{query}{separator}secrets=clear"))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        answer.json()["entries"].as_array().unwrap().clone()
    }

    pub async fn faults(&self, query: &str) -> Vec<Value> {
        let answer = self.get(&format!("/__admin/faults{query}")).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        answer.json()["faults"].as_array().unwrap().clone()
    }
}
