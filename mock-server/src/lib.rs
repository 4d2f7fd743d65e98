//! wxmock-server: a faithful fake of `api.weixin.qq.com` for mini-program login, with a control
//! API to bend every rule on purpose.

pub mod admin;
pub mod clock;
pub mod engine;
pub mod errcode;
pub mod expect;
pub mod fault;
pub mod journal;
pub mod state;
pub mod wire;
