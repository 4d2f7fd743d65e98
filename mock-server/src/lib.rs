//! wxmock-server: a faithful fake of `api.weixin.qq.com` for mini-program login, with a control
//! API to bend every rule on purpose.
//!
//! In a Rust test, [`MockWeChat`] is an isolated fake on an ephemeral port, stopped on drop:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use wxmock_server::expect::Expectation;
//! use wxmock_server::{Fault, MockWeChat, Path, Scenario, ALICE_OPENID, DEMO_APPID};
//!
//! let wechat = MockWeChat::start().await;
//! let code = wechat.login(DEMO_APPID, ALICE_OPENID).unwrap(); // what wx.login would give
//! wechat.fault(Fault::errcode(-1).times(2).on(Path::Code2Session)).unwrap();
//! wechat.scenario(Scenario::RateLimited.user(ALICE_OPENID)).unwrap();
//! wechat.expect(Expectation::on(Path::Code2Session).js_code(code.as_str()).never());
//! // … point the backend under test at wechat.base_url() and log in with `code` …
//! # }
//! ```

#![deny(missing_docs)]

pub mod admin;
pub mod api;
pub mod ca;
pub mod clock;
pub mod config;
pub mod connection;
pub mod console;
pub mod engine;
pub mod errcode;
pub mod error;
pub mod expect;
pub mod fault;
pub mod journal;
pub mod log;
pub mod memory;
pub mod proxy;
pub mod redact;
pub mod server;
pub mod service;
pub mod state;
pub mod wire;

pub use clock::Clock;
pub use config::{AppConfig, Config, Rules, UserConfig};
pub use engine::persona::{ALICE_OPENID, BOB_OPENID, DEMO_APPID, DEMO_SECRET, MALLORY_OPENID};
pub use engine::{Engine, Secret};
pub use error::{CaError, ConfigError, EngineError, FaultError, ScenarioError, ServerError};
pub use fault::{Fault, FaultId, Path, Scenario, ScenarioApplied, ScenarioRun, Step};
pub use server::{app, app_on, MockWeChat, MockWeChatBuilder};
pub use state::AppState;
