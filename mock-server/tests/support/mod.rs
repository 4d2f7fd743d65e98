//! Socket-free helpers for the handler tests: a fake on a fixed clock, driven through
//! `app(state).oneshot(request)`.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use wxmock_server::{app, AppState, Clock, Config, ALICE_OPENID, DEMO_APPID, DEMO_SECRET};

pub const START: i64 = 1_700_000_000;

pub struct Fake {
    pub state: AppState,
    pub router: Router,
}

/// The demo app and personas on a clock frozen at [`START`].
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

pub fn rules(toml_rules: &str) -> Config {
    Config::from_toml(&format!("[rules]\n{toml_rules}")).unwrap()
}

pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The errcode, or 0 when the answer has none (a success).
    pub fn errcode(&self) -> i64 {
        self.json()["errcode"].as_i64().unwrap_or(0)
    }

    pub fn errmsg(&self) -> String {
        self.json()["errmsg"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
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
            text: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    pub async fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post(&self, uri: &str, content_type: &str, body: &str) -> Answer {
        self.send(
            Request::post(uri)
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .await
    }

    pub async fn post_json(&self, uri: &str, body: &Value) -> Answer {
        self.post(uri, "application/json", &body.to_string()).await
    }

    /// A login code for a demo persona.
    pub fn login(&self, openid: &str) -> String {
        self.state.engine.login(DEMO_APPID, openid).unwrap()
    }

    /// jscode2session on the demo app with its right secret.
    pub async fn exchange(&self, code: &str) -> Answer {
        self.get(&format!(
            "/sns/jscode2session?appid={DEMO_APPID}&secret={DEMO_SECRET}&js_code={code}&grant_type=authorization_code"
        ))
        .await
    }

    /// A fresh access token of the demo app.
    pub fn token(&self) -> String {
        self.state.engine.mint_access_token(DEMO_APPID).unwrap()
    }

    pub fn advance(&self, secs: u64) {
        self.state.clock.advance(secs);
    }

    /// Alice's current session_key and its checksession signature.
    pub fn alice_signature(&self) -> (String, String) {
        let user = self.state.engine.user(DEMO_APPID, ALICE_OPENID).unwrap();
        let key = user.session_key.unwrap();
        let sig = wxmock_fixtures::signature::login_state_signature(&key, "");
        (key, sig)
    }
}
