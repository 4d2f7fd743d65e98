//! Impersonation of `api.weixin.qq.com`, so a backend that hard-codes WeChat's URL can be tested
//! unchanged. Split by what each part is about: `target` decides what a request is for (pure),
//! `front` owns the sockets (sniffing, CONNECT tunnels, TLS), `client` writes what a client needs
//! to follow (the trust bundle, the Node preload, the environment lines).

mod client;
mod front;
mod target;

pub use client::{
    client_env, write_preload, write_trust_bundle, ClientFiles, BUNDLE_FILE, PRELOAD_FILE,
    PRELOAD_JS, SYSTEM_BUNDLES,
};
pub use front::{serve, FrontHandle, Mode};
pub use target::{decide, Decision, Place};
