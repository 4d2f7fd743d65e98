//! Talking to WeChat, one file per API area: the client and its failure modes (`client`),
//! `sns/jscode2session` (`sns`), the access-token cache (`access_token`), and the `wxa/*`
//! business calls (`wxa`).

pub mod access_token;
pub mod client;
pub mod sns;
pub mod wxa;

pub use access_token::{AccessToken, AccessTokenCache};
pub use client::{UpstreamError, UpstreamFailure, WeChat};
