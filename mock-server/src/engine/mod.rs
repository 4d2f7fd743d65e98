//! The fake's model of WeChat, split by noun: the registry of tenants (apps) and their users,
//! login codes, session keys, access tokens, phone codes, quotas, id formats and the demo
//! personas. Every operation is an [`Engine`] method; the HTTP layer only parses and encodes.

mod code;
mod id;
pub mod persona;
mod phone;
mod quota;
mod registry;
mod secret;
mod session;
mod tenant;
mod token;

pub use code::Code2Session;
pub use id::looks_like_access_token;
pub use phone::PhoneInfo;
pub use registry::{AppView, Engine};
pub use secret::Secret;
pub use tenant::UserView;
pub(crate) use token::Grant;
pub use token::{IssuedToken, TokenKind};
