//! The backend profile (TOML): where the backend is, how to log in, how a protected request
//! carries the token, how the backend says "rejected", and the optional endpoints that unlock the
//! deeper cases. Plain serde data, validated once by [`Profile::validate`]; every field is
//! documented in `docs/harness.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::HarnessError;

/// The reference backend's profile, shipped in the binary (used by `wxmock demo`).
pub const REFERENCE_PROFILE: &str = include_str!("../profiles/reference.toml");

/// Placeholders a profile may use in templated strings.
pub const PLACEHOLDERS: &[&str] = &["wechat_base_url", "appid", "secret", "port", "code"];

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
}

impl Default for FakeSection {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            appid: None,
            secret: None,
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
        let profile: Profile = toml::from_str(text).map_err(|e| HarnessError::ProfileParse {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        profile.validate(origin)?;
        Ok(profile)
    }

    /// The login code field (see [`LoginSection::code_field`]).
    pub fn login_code_field(&self) -> Option<String> {
        if let Some(f) = &self.login.code_field {
            return (!f.is_empty()).then(|| f.clone());
        }
        let uses_code = self.login.fields.values().any(value_mentions_code)
            || self.login.query.values().any(|v| v.contains("{{code}}"))
            || self.login.headers.values().any(|v| v.contains("{{code}}"));
        (!uses_code).then(|| "code".to_string())
    }

    /// Checks every rule serde cannot express; errors name the field.
    pub fn validate(&self, origin: &str) -> Result<(), HarnessError> {
        let err = |field: &str, message: String| HarnessError::ProfileInvalid {
            origin: origin.into(),
            field: field.into(),
            message,
        };
        let b = &self.backend;
        match (&b.base_url, &b.command) {
            (None, None) => {
                return Err(err(
                    "backend",
                    "needs `base_url` (and optionally `command`)".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(err(
                    "backend.base_url",
                    "is required with `command` (use {{port}} for the picked port)".into(),
                ))
            }
            _ => {}
        }
        if let Some(url) = &b.base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(err(
                    "backend.base_url",
                    format!("must start with http:// or https://, got {url:?}"),
                ));
            }
            check_template("backend.base_url", url, origin)?;
        }
        match &b.command {
            Some(CommandSpec::Argv(argv)) if argv.is_empty() => {
                return Err(err("backend.command", "must not be empty".into()))
            }
            Some(CommandSpec::Shell(s)) if s.trim().is_empty() => {
                return Err(err("backend.command", "must not be empty".into()))
            }
            Some(CommandSpec::Argv(argv)) => {
                for a in argv {
                    check_template("backend.command", a, origin)?;
                }
            }
            Some(CommandSpec::Shell(s)) => check_template("backend.command", s, origin)?,
            None => {}
        }
        for (k, v) in &b.env {
            check_template(&format!("backend.env.{k}"), v, origin)?;
        }
        if let Some(r) = &b.ready_url {
            if !(r.starts_with('/') || r.starts_with("http://") || r.starts_with("https://")) {
                return Err(err(
                    "backend.ready_url",
                    "must be a URL or a path starting with '/'".into(),
                ));
            }
            check_template("backend.ready_url", r, origin)?;
        }
        if b.ready_timeout_secs == 0 {
            return Err(err(
                "backend.ready_timeout_secs",
                "must be at least 1".into(),
            ));
        }
        if self.fake.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(err(
                "fake.listen",
                format!(
                    "must be an address like 127.0.0.1:0, got {:?}",
                    self.fake.listen
                ),
            ));
        }
        if self.fake.appid.is_some() != self.fake.secret.is_some() {
            return Err(err("fake", "`appid` and `secret` go together".into()));
        }
        check_method("login.method", &self.login.method, origin)?;
        check_path("login.path", &self.login.path, origin)?;
        check_pointer("login.token_pointer", &self.login.token_pointer, origin)?;
        if self.login.token_pointer.is_empty() {
            return Err(err(
                "login.token_pointer",
                "must point at the token, e.g. /token".into(),
            ));
        }
        if self.login.code_in == Placement::Header && self.login_code_field().is_none() {
            return Err(err(
                "login.code_field",
                "is required with code_in = \"header\"".into(),
            ));
        }
        check_fields("login.fields", &self.login.fields, origin)?;
        for (k, v) in self.login.query.iter().chain(self.login.headers.iter()) {
            check_template(&format!("login.{k}"), v, origin)?;
        }
        let a = &self.auth;
        if a.style == AuthStyle::Header && a.header.is_none() {
            return Err(err(
                "auth.header",
                "is required with style = \"header\" (e.g. \"Token\")".into(),
            ));
        }
        if a.style == AuthStyle::Scheme && !matches!(a.scheme.as_deref(), Some(s) if !s.is_empty())
        {
            return Err(err(
                "auth.scheme",
                "is required with style = \"scheme\" (e.g. \"JWT\")".into(),
            ));
        }
        if a.scheme.is_some() && a.style != AuthStyle::Scheme {
            return Err(err(
                "auth.scheme",
                "only applies to style = \"scheme\"".into(),
            ));
        }
        if a.field.is_some() && !matches!(a.style, AuthStyle::Json | AuthStyle::Query) {
            return Err(err(
                "auth.field",
                "only applies to style = \"json\" or \"query\"".into(),
            ));
        }
        check_method("protected.method", &self.protected.method, origin)?;
        check_path("protected.path", &self.protected.path, origin)?;
        check_fields("protected.fields", &self.protected.fields, origin)?;
        if let Some(p) = &self.protected.identity_pointer {
            check_pointer("protected.identity_pointer", p, origin)?;
        }
        if a.style == AuthStyle::Json && self.protected.method.eq_ignore_ascii_case("GET") {
            return Err(err(
                "protected.method",
                "cannot be GET when the token goes in a JSON body".into(),
            ));
        }
        let r = &self.rejected;
        for s in &r.statuses {
            if !(100..=599).contains(s) {
                return Err(err(
                    "rejected.statuses",
                    format!("{s} is not an HTTP status"),
                ));
            }
        }
        if let Some(p) = &r.pointer {
            check_pointer("rejected.pointer", p, origin)?;
            if r.values.is_empty() && r.success_values.is_empty() {
                return Err(err(
                    "rejected",
                    "`pointer` needs `values` or `success_values`".into(),
                ));
            }
        } else if !r.values.is_empty() || !r.success_values.is_empty() {
            return Err(err(
                "rejected.pointer",
                "is required with `values`/`success_values`".into(),
            ));
        }
        if r.statuses.is_empty() && r.pointer.is_none() {
            return Err(err("rejected", "needs `statuses` or a `pointer`".into()));
        }
        if let Some(u) = &self.user_info {
            check_method("user_info.method", &u.method, origin)?;
            check_path("user_info.path", &u.path, origin)?;
            check_pointer("user_info.result_pointer", &u.result_pointer, origin)?;
            check_fields("user_info.fields", &u.fields, origin)?;
            if !matches!(u.body_in, Placement::Json | Placement::Form) {
                return Err(err(
                    "user_info.body_in",
                    "must be \"json\" or \"form\"".into(),
                ));
            }
            if u.encrypted_data_field.is_empty() || u.iv_field.is_empty() {
                return Err(err(
                    "user_info",
                    "`encrypted_data_field` and `iv_field` must not be empty".into(),
                ));
            }
        }
        if let Some(p) = &self.phone {
            check_method("phone.method", &p.method, origin)?;
            check_path("phone.path", &p.path, origin)?;
            check_pointer(
                "phone.phone_number_pointer",
                &p.phone_number_pointer,
                origin,
            )?;
            check_fields("phone.fields", &p.fields, origin)?;
            if p.code_field.is_empty() {
                return Err(err("phone.code_field", "must not be empty".into()));
            }
        }
        for (i, op) in self.access_token.operations.iter().enumerate() {
            check_method(
                &format!("access_token.operations[{i}].method"),
                &op.method,
                origin,
            )?;
            check_path(
                &format!("access_token.operations[{i}].path"),
                &op.path,
                origin,
            )?;
            check_fields(
                &format!("access_token.operations[{i}].fields"),
                &op.fields,
                origin,
            )?;
        }
        if self.jwt.max_lifetime_secs == 0 {
            return Err(err("jwt.max_lifetime_secs", "must be at least 1".into()));
        }
        if self.limits.upstream_timeout_secs == 0 || self.limits.request_timeout_secs == 0 {
            return Err(err("limits", "timeouts must be at least 1 s".into()));
        }
        Ok(())
    }
}

fn value_mentions_code(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{{code}}"),
        Value::Array(a) => a.iter().any(value_mentions_code),
        Value::Object(o) => o.values().any(value_mentions_code),
        _ => false,
    }
}

fn invalid(origin: &str, field: &str, message: String) -> HarnessError {
    HarnessError::ProfileInvalid {
        origin: origin.into(),
        field: field.into(),
        message,
    }
}

fn check_method(field: &str, m: &str, origin: &str) -> Result<(), HarnessError> {
    const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
    if METHODS.iter().any(|x| x.eq_ignore_ascii_case(m)) {
        Ok(())
    } else {
        Err(invalid(
            origin,
            field,
            format!("must be one of {METHODS:?}, got {m:?}"),
        ))
    }
}

fn check_path(field: &str, p: &str, origin: &str) -> Result<(), HarnessError> {
    if !p.starts_with('/') {
        return Err(invalid(
            origin,
            field,
            format!("must start with '/', got {p:?}"),
        ));
    }
    check_template(field, p, origin)
}

fn check_pointer(field: &str, p: &str, origin: &str) -> Result<(), HarnessError> {
    if p.is_empty() || p.starts_with('/') {
        Ok(())
    } else {
        Err(invalid(
            origin,
            field,
            format!("must be a JSON pointer starting with '/', got {p:?}"),
        ))
    }
}

fn check_fields(
    field: &str,
    fields: &serde_json::Map<String, Value>,
    origin: &str,
) -> Result<(), HarnessError> {
    fn walk(field: &str, v: &Value, origin: &str) -> Result<(), HarnessError> {
        match v {
            Value::String(s) => check_template(field, s, origin),
            Value::Array(a) => a.iter().try_for_each(|x| walk(field, x, origin)),
            Value::Object(o) => o
                .iter()
                .try_for_each(|(k, x)| walk(&format!("{field}.{k}"), x, origin)),
            _ => Ok(()),
        }
    }
    fields
        .iter()
        .try_for_each(|(k, v)| walk(&format!("{field}.{k}"), v, origin))
}

/// Every `{{name}}` in `s` must be a known placeholder.
fn check_template(field: &str, s: &str, origin: &str) -> Result<(), HarnessError> {
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(invalid(
                origin,
                field,
                format!("has an unclosed '{{{{' in {s:?}"),
            ));
        };
        let name = after[..end].trim();
        if !PLACEHOLDERS.contains(&name) {
            return Err(invalid(
                origin,
                field,
                format!("uses unknown placeholder {{{{{name}}}}} (known: {PLACEHOLDERS:?})"),
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// Values substituted into templated strings.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    pub wechat_base_url: String,
    pub appid: String,
    pub secret: String,
    pub port: Option<u16>,
    pub code: Option<String>,
}

impl Vars {
    /// Substitutes every known placeholder in `s`.
    pub fn render(&self, s: &str) -> String {
        let port = self.port.map(|p| p.to_string()).unwrap_or_default();
        s.replace("{{wechat_base_url}}", &self.wechat_base_url)
            .replace("{{appid}}", &self.appid)
            .replace("{{secret}}", &self.secret)
            .replace("{{port}}", &port)
            .replace("{{code}}", self.code.as_deref().unwrap_or(""))
    }

    /// Renders a JSON template; a string that is exactly `{{code}}` is dropped when there is no
    /// code (the "missing code" request), so no empty field is sent in its place.
    pub fn render_value(&self, v: &Value) -> Option<Value> {
        match v {
            Value::String(s) if s.trim() == "{{code}}" && self.code.is_none() => None,
            Value::String(s) => Some(Value::String(self.render(s))),
            Value::Array(a) => Some(Value::Array(
                a.iter().filter_map(|x| self.render_value(x)).collect(),
            )),
            Value::Object(o) => Some(Value::Object(self.render_map(o))),
            other => Some(other.clone()),
        }
    }

    /// Renders every field of a JSON object template.
    pub fn render_map(&self, m: &serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
        m.iter()
            .filter_map(|(k, v)| self.render_value(v).map(|v| (k.clone(), v)))
            .collect()
    }
}
