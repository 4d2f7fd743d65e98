//! The backend profile (TOML): where the backend is, how to log in, how requests carry the
//! credential, how the backend says "rejected", and the optional endpoints that unlock the
//! deeper cases. Plain serde data, checked and compiled once at load; every field is documented
//! in `docs/harness.md`. Split by concern: the sections that are requests (`request`) and those
//! that are not (`sections`), the one request model they compile into (`compile`), templating
//! (`template`), where answers keep values (`source`), the rejection rules (`rejection`), and
//! loading with its path rule (`load`, `validate`).

use serde::{Deserialize, Serialize};

mod compile;
mod credential;
mod load;
mod rejection;
mod request;
mod sections;
mod source;
mod template;
mod validate;

pub use compile::{Compiled, PhoneTemplate, UserInfoTemplate};
pub use rejection::{value_text, Rejection, Rule};
pub use request::{
    AccessTokenSection, AuthSection, AuthStyle, BodyTemplate, LoginSection, OperationSection,
    PhoneSection, Placement, ProtectedSection, ReadBackSection, RequestTemplate, UserInfoMode,
    UserInfoSection,
};
pub use sections::{
    BackendSection, ClockMode, CommandSpec, FakeSection, JwtSection, LimitsSection, MonotonicMode,
    RejectedSection,
};
pub use source::Source;
pub(crate) use template::{fill, fill_lossy, fill_value};
pub use template::{urlencode, Vars, FILTERS, PLACEHOLDERS};

/// The reference backend's profile, shipped in the binary (used by `wxmock demo`).
pub const REFERENCE_PROFILE: &str = include_str!("../../profiles/reference.toml");

/// A whole profile.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A display name for reports (default: the file name).
    #[serde(default)]
    pub name: Option<String>,
    pub backend: BackendSection,
    #[serde(default)]
    pub fake: FakeSection,
    pub login: LoginSection,
    #[serde(default)]
    pub auth: AuthSection,
    pub protected: ProtectedSection,
    #[serde(default)]
    pub rejected: RejectedSection,
    #[serde(default)]
    pub user_info: Option<UserInfoSection>,
    #[serde(default)]
    pub phone: Option<PhoneSection>,
    #[serde(default)]
    pub access_token: AccessTokenSection,
    #[serde(default)]
    pub jwt: JwtSection,
    #[serde(default)]
    pub limits: LimitsSection,
    /// The request model, compiled at load (what the renderer and the cases read).
    #[serde(skip)]
    pub compiled: Compiled,
}
