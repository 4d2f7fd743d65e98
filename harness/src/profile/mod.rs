//! The backend profile (TOML): where the backend is, how to log in, how a protected request
//! carries the token, how the backend says "rejected", and the optional endpoints that unlock the
//! deeper cases. Plain serde data, validated once by [`Profile::validate`]; every field is
//! documented in `docs/harness.md`. Split by concern: the data (here), the checks serde cannot
//! express (`validate`), and `{{placeholder}}` templating (`template`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::HarnessError;

mod template;
mod validate;

pub use template::{Vars, PLACEHOLDERS};

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
}

/// Where the backend is, or how to start it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSection {
    /// e.g. `http://127.0.0.1:3000` or `http://127.0.0.1:{{port}}` with a `command`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// argv (`["node", "app.js"]`) or a shell string (`"npm start"`, run with `sh -c`).
    #[serde(default)]
    pub command: Option<CommandSpec>,
    /// Working directory of the command (relative paths are relative to the profile file).
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// Environment of the command; values are templated.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A URL (or a path on `base_url`) polled until it answers (any status below 500).
    #[serde(default)]
    pub ready_url: Option<String>,
    #[serde(default = "default_ready_timeout")]
    pub ready_timeout_secs: u64,
}

/// How to start a backend.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum CommandSpec {
    Argv(Vec<String>),
    Shell(String),
}

/// Where the fake WeChat listens and which app the run uses.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FakeSection {
    /// Default `127.0.0.1:0` (an ephemeral port handed to the backend through templating).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// A fixed appid (default: a fresh one per run).
    #[serde(default)]
    pub appid: Option<String>,
    /// A fixed appsecret (default: a fresh one per run).
    #[serde(default)]
    pub secret: Option<String>,
    /// Also answer as `https://api.weixin.qq.com` (a proxy and trust handed to the started
    /// backend, plus the Node preload), for a backend that hard-codes WeChat's URL.
    #[serde(default)]
    pub impersonate: bool,
}

impl Default for FakeSection {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            appid: None,
            secret: None,
            impersonate: false,
        }
    }
}

/// Where a value goes in a request.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    Query,
    Json,
    Form,
    Header,
}

/// How to log in.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSection {
    #[serde(default = "default_post")]
    pub method: String,
    pub path: String,
    /// Where the code goes: `json` (default), `query`, `form` or `header`.
    #[serde(default = "default_json")]
    pub code_in: Placement,
    /// The field/parameter/header name of the code. Default `code`, or none when `fields`,
    /// `query` or `headers` already use `{{code}}`.
    #[serde(default)]
    pub code_field: Option<String>,
    /// Extra constant body fields (json or form), templated: `{account = "{{code}}", type = 100}`.
    #[serde(default)]
    pub fields: serde_json::Map<String, Value>,
    /// Extra query parameters, templated.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Extra headers, templated.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON pointer of the token in the answer, e.g. `/token` or `/data/token`.
    #[serde(default = "default_token_pointer")]
    pub token_pointer: String,
    /// Take the token from this cookie of the answer's `Set-Cookie` instead of the body: a
    /// session cookie such as `connect.sid` (express-session), `koa:sess`, `EGG_SESS` or
    /// `sessionid` (Django). Such a cookie counts as a token only on a successful login answer,
    /// or when it really opens the protected endpoint (many session middlewares set a cookie on
    /// every answer, failed logins included).
    #[serde(default)]
    pub token_cookie: Option<String>,
    /// Take the token from this header of the answer (e.g. `X-Token`) instead of the body; a
    /// leading `Bearer ` is removed.
    #[serde(default)]
    pub token_header: Option<String>,
}

/// How a protected request carries the token.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AuthStyle {
    /// `Authorization: Bearer <token>`.
    #[default]
    Bearer,
    /// `Authorization: <scheme> <token>` (e.g. `JWT`), header overridable.
    Scheme,
    /// The raw token as a header value (`Token: <token>`).
    Header,
    /// HTTP Basic with the token as user name and an empty password.
    Basic,
    /// A JSON body field.
    Json,
    /// A query parameter.
    Query,
    /// A cookie (`Cookie: <name>=<token>`): session-cookie backends.
    Cookie,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    #[serde(default)]
    pub style: AuthStyle,
    /// The scheme word for `style = "scheme"` (e.g. `JWT`).
    #[serde(default)]
    pub scheme: Option<String>,
    /// The header for `bearer`/`scheme` (default `Authorization`) or `header` (required).
    #[serde(default)]
    pub header: Option<String>,
    /// The field/parameter name for `json`/`query` (default `token`).
    #[serde(default)]
    pub field: Option<String>,
    /// The cookie name for `style = "cookie"` (default: `login.token_cookie`).
    #[serde(default)]
    pub cookie: Option<String>,
}

/// Where the token goes, resolved from [`AuthSection`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenPlacement {
    /// `header: <prefix> <token>` (no prefix: the raw token).
    Header {
        name: String,
        prefix: Option<String>,
    },
    Basic,
    Json {
        field: String,
    },
    Query {
        field: String,
    },
    /// `Cookie: <name>=<token>`.
    Cookie {
        name: String,
    },
}

impl AuthSection {
    /// The resolved placement (call after validation).
    pub fn placement(&self) -> TokenPlacement {
        let header = || {
            self.header
                .clone()
                .unwrap_or_else(|| "Authorization".into())
        };
        let field = || self.field.clone().unwrap_or_else(|| "token".into());
        match self.style {
            AuthStyle::Bearer => TokenPlacement::Header {
                name: header(),
                prefix: Some("Bearer".into()),
            },
            AuthStyle::Scheme => TokenPlacement::Header {
                name: header(),
                prefix: Some(self.scheme.clone().unwrap_or_else(|| "Bearer".into())),
            },
            AuthStyle::Header => TokenPlacement::Header {
                name: header(),
                prefix: None,
            },
            AuthStyle::Basic => TokenPlacement::Basic,
            AuthStyle::Json => TokenPlacement::Json { field: field() },
            AuthStyle::Query => TokenPlacement::Query { field: field() },
            // Validation fills `cookie` from `login.token_cookie` when it is not given.
            AuthStyle::Cookie => TokenPlacement::Cookie {
                name: self.cookie.clone().unwrap_or_default(),
            },
        }
    }
}

/// A request the harness makes to the backend (protected call, access-token operation).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSection {
    #[serde(default = "default_get")]
    pub method: String,
    pub path: String,
    /// JSON body fields (templated); with `auth.style = "json"` the token is added here.
    #[serde(default)]
    pub fields: serde_json::Map<String, Value>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Whether this request carries the login token (default true).
    #[serde(default = "default_true")]
    pub with_token: bool,
}

/// The protected request and where the user's identity appears in its answer.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectedSection {
    #[serde(default = "default_get")]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub fields: serde_json::Map<String, Value>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON pointer of a stable user identity (e.g. `/userId`); unlocks identity cases.
    #[serde(default)]
    pub identity_pointer: Option<String>,
}

/// How the backend says "rejected".
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RejectedSection {
    /// HTTP statuses that mean rejected (default 401 and 403).
    #[serde(default = "default_rejected_statuses")]
    pub statuses: Vec<u16>,
    /// A JSON pointer into the answer body (e.g. `/code`).
    #[serde(default)]
    pub pointer: Option<String>,
    /// Rejected when the value at `pointer` equals one of these (compared as text: 10200 = "10200").
    #[serde(default)]
    pub values: Vec<Value>,
    /// Rejected when the value at `pointer` is present and NOT one of these (e.g. `[0]`).
    #[serde(default)]
    pub success_values: Vec<Value>,
}

impl Default for RejectedSection {
    fn default() -> Self {
        Self {
            statuses: default_rejected_statuses(),
            pointer: None,
            values: vec![],
            success_values: vec![],
        }
    }
}

impl RejectedSection {
    /// Whether an answer (status + parsed body) means "rejected".
    pub fn is_rejected(&self, status: u16, body: Option<&Value>) -> bool {
        if self.statuses.contains(&status) {
            return true;
        }
        self.pointer_says_rejected(body)
    }

    /// Whether the JSON-pointer rule alone says "rejected".
    pub fn pointer_says_rejected(&self, body: Option<&Value>) -> bool {
        let (Some(pointer), Some(body)) = (&self.pointer, body) else {
            return false;
        };
        let Some(found) = body.pointer(pointer) else {
            return false;
        };
        let text = value_text(found);
        if self.values.iter().any(|v| value_text(v) == text) {
            return true;
        }
        !self.success_values.is_empty()
            && !self.success_values.iter().any(|v| value_text(v) == text)
    }
}

/// A JSON value as comparable text (strings unquoted).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The endpoint that takes encrypted user data.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserInfoSection {
    #[serde(default = "default_post")]
    pub method: String,
    pub path: String,
    /// `json` (default) or `form`.
    #[serde(default = "default_json")]
    pub body_in: Placement,
    #[serde(default = "default_encrypted_data_field")]
    pub encrypted_data_field: String,
    #[serde(default = "default_iv_field")]
    pub iv_field: String,
    /// Empty string: do not send rawData.
    #[serde(default = "default_raw_data_field")]
    pub raw_data_field: String,
    /// Empty string: do not send the signature.
    #[serde(default = "default_signature_field")]
    pub signature_field: String,
    #[serde(default)]
    pub fields: serde_json::Map<String, Value>,
    /// JSON pointer of the decrypted object in the answer (`""` = the whole body, e.g. `/data`).
    #[serde(default)]
    pub result_pointer: String,
    /// Whether the call carries the login token (default true).
    #[serde(default = "default_true")]
    pub with_token: bool,
}

/// The endpoint that resolves a getuserphonenumber code.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneSection {
    #[serde(default = "default_post")]
    pub method: String,
    pub path: String,
    #[serde(default = "default_json")]
    pub code_in: Placement,
    #[serde(default = "default_code_field")]
    pub code_field: String,
    #[serde(default)]
    pub fields: serde_json::Map<String, Value>,
    /// JSON pointer of the phone number (with country code, as WeChat's `phoneNumber`).
    #[serde(default = "default_phone_pointer")]
    pub phone_number_pointer: String,
    #[serde(default = "default_true")]
    pub with_token: bool,
}

/// Requests that make the backend use its access token.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccessTokenSection {
    #[serde(default)]
    pub operations: Vec<RequestSection>,
}

/// What the harness knows about the backend's JWTs.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSection {
    /// The HMAC signing secret (unlocks minting expired and near-expiry tokens).
    #[serde(default)]
    pub secret: Option<String>,
    /// The longest token lifetime (exp - iat) the team accepts (default 7 days).
    #[serde(default = "default_max_lifetime")]
    pub max_lifetime_secs: u64,
    /// Clock leeway the backend may allow on exp (default 30 s).
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
}

impl Default for JwtSection {
    fn default() -> Self {
        Self {
            secret: None,
            max_lifetime_secs: default_max_lifetime(),
            leeway_secs: default_leeway(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// The backend must answer within this when WeChat hangs (default 5 s).
    #[serde(default = "default_upstream_timeout")]
    pub upstream_timeout_secs: u64,
    /// Client timeout of every other request to the backend (default 15 s).
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            upstream_timeout_secs: default_upstream_timeout(),
            request_timeout_secs: default_request_timeout(),
        }
    }
}

fn default_ready_timeout() -> u64 {
    30
}
fn default_listen() -> String {
    "127.0.0.1:0".into()
}
fn default_post() -> String {
    "POST".into()
}
fn default_get() -> String {
    "GET".into()
}
fn default_json() -> Placement {
    Placement::Json
}
fn default_token_pointer() -> String {
    "/token".into()
}
fn default_true() -> bool {
    true
}
fn default_rejected_statuses() -> Vec<u16> {
    vec![401, 403]
}
fn default_encrypted_data_field() -> String {
    "encryptedData".into()
}
fn default_iv_field() -> String {
    "iv".into()
}
fn default_raw_data_field() -> String {
    "rawData".into()
}
fn default_signature_field() -> String {
    "signature".into()
}
fn default_code_field() -> String {
    "code".into()
}
fn default_phone_pointer() -> String {
    "/phoneNumber".into()
}
fn default_max_lifetime() -> u64 {
    7 * 24 * 3600
}
fn default_leeway() -> u64 {
    30
}
fn default_upstream_timeout() -> u64 {
    5
}
fn default_request_timeout() -> u64 {
    15
}

impl Profile {
    /// Reads, parses and validates a profile file.
    pub fn from_file(path: &Path) -> Result<Self, HarnessError> {
        let text = std::fs::read_to_string(path).map_err(|source| HarnessError::ProfileRead {
            path: path.to_path_buf(),
            source,
        })?;
        let mut profile = Self::from_toml_str(&text, &path.display().to_string())?;
        if profile.name.is_none() {
            profile.name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        }
        // A relative cwd is relative to the profile, not to wherever wxmock was started.
        if let (Some(cwd), Some(dir)) = (&profile.backend.cwd, path.parent()) {
            if cwd.is_relative() {
                profile.backend.cwd = Some(dir.join(cwd));
            }
        }
        Ok(profile)
    }

    /// Parses and validates a profile; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, HarnessError> {
        let mut profile: Profile =
            toml::from_str(text).map_err(|e| HarnessError::ProfileParse {
                origin: origin.into(),
                message: e.to_string(),
            })?;
        if profile.auth.style == AuthStyle::Cookie && profile.auth.cookie.is_none() {
            profile.auth.cookie = profile.login.token_cookie.clone();
        }
        profile.validate(origin)?;
        Ok(profile)
    }

    /// The login code field (see [`LoginSection::code_field`]).
    pub fn login_code_field(&self) -> Option<String> {
        if let Some(f) = &self.login.code_field {
            return (!f.is_empty()).then(|| f.clone());
        }
        let uses_code = self
            .login
            .fields
            .values()
            .any(template::value_mentions_code)
            || self.login.query.values().any(|v| v.contains("{{code}}"))
            || self.login.headers.values().any(|v| v.contains("{{code}}"));
        (!uses_code).then(|| "code".to_string())
    }
}
