//! wxmock-server: a faithful fake of `api.weixin.qq.com` for mini-program login, with a control
//! API to bend every rule on purpose.
//!
//! ```no_run
//! # async fn demo() {
//! let wechat = wxmock_server::MockWeChat::start().await;
//! let code = wechat.login(wxmock_server::DEMO_APPID, wxmock_server::ALICE_OPENID).unwrap();
//! let url = format!("{}/sns/jscode2session?appid=…&secret=…&js_code={code}", wechat.base_url());
//! # let _ = url;
//! # }
//! ```

pub mod admin;
pub mod api;
pub mod ca;
pub mod clock;
pub mod config;
pub mod engine;
pub mod errcode;
pub mod error;
pub mod expect;
pub mod fault;
pub mod journal;
pub mod proxy;
pub mod server;
pub mod state;
pub mod wire;

pub use clock::Clock;
pub use config::{AppConfig, Config, Rules, UserConfig};
pub use engine::persona::{ALICE_OPENID, BOB_OPENID, DEMO_APPID, DEMO_SECRET, MALLORY_OPENID};
pub use engine::{Engine, Secret};
pub use error::{CaError, ConfigError, EngineError, ServerError};
pub use server::{app, MockWeChat, MockWeChatBuilder};
pub use state::AppState;
