//! What `discover` is asked to probe and what it found: plain data, written as a profile by
//! `render`, and (partly filled) compiled into the candidate profiles the probes run through the
//! harness's own request renderer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::profile::MonotonicMode;

/// The probes' overall time limit unless told otherwise.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(100);

/// What to probe.
#[derive(Clone, Debug)]
pub struct DiscoverOptions {
    /// The login path (`/api/login`).
    pub login_path: String,
    /// Protected paths to try (empty: the usual names, see `probe::protected_paths`).
    pub protected: Vec<String>,
    /// A path that takes the user's encrypted data (`/api/user-info`); not probed without it.
    pub user_info: Option<String>,
    /// A path that resolves a getPhoneNumber code (`/api/phone`); not probed without it.
    pub phone: Option<String>,
    /// Paths that make the backend use its access token (`/api/qrcode`); none probed without.
    pub access_token: Vec<String>,
    /// Where the in-process fake listens (`127.0.0.1:0` for a started command).
    pub fake_listen: SocketAddr,
    /// A listener the fake serves on instead of binding `fake_listen` (a copy of it is taken):
    /// a caller that keeps it holds a fixed port from discovery to the check that follows, so
    /// nothing else can take the port in between.
    pub fake_listener: Option<Arc<std::net::TcpListener>>,
    /// A fixed app (a backend already running was configured with it); default a fresh one.
    pub appid: Option<String>,
    pub secret: Option<String>,
    /// The backend's extra environment: a value that verifies the token's HMAC signature is
    /// written as the `[jwt] secret`.
    pub env: Vec<(String, String)>,
    /// The probes' overall time limit (the backend's first start aside): what was found when it
    /// runs out is written, the rest listed as not determined.
    pub time_limit: Duration,
    /// The libfaketime preload library tried on a started command.
    pub faketime_lib: PathBuf,
}

impl DiscoverOptions {
    /// Options for `login_path` with every other field at its default.
    pub fn new(login_path: &str) -> Self {
        Self {
            login_path: login_path.into(),
            protected: Vec::new(),
            user_info: None,
            phone: None,
            access_token: Vec::new(),
            fake_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            fake_listener: None,
            appid: None,
            secret: None,
            env: Vec::new(),
            time_limit: DEFAULT_TIME_LIMIT,
            faketime_lib: crate::clock::DEBIAN_FAKETIME_LIB.into(),
        }
    }
}

/// How the login wants its code and where its answer has the credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginFound {
    /// `POST` or `GET`.
    pub method: String,
    /// The request's TOML lines: `code_in`/`code_field`, or templated `headers`/`json`.
    pub request: String,
    /// Where the code (and data) goes, for the comment.
    pub label: String,
    /// The login carries encrypted user data (`{{encrypted_data}}`, `{{iv}}`).
    pub carries_data: bool,
    /// The credential parts: (name, source); one part named `token` is a single token.
    pub parts: Vec<(String, String)>,
    /// Where the login answer shows the decrypted userInfo (a login that carries data).
    pub data_pointer: Option<String>,
    /// Where the protected answer shows the stored userInfo (a login that carries data).
    pub data_read_back: Option<String>,
}

impl LoginFound {
    /// The source of the single part `token`, when the credential is one value.
    pub fn single_source(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [(name, source)] if name == "token" => Some(source),
            _ => None,
        }
    }
}

/// How the protected endpoint wants the credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthFound {
    pub path: String,
    /// The profile's `[auth]` body, as TOML lines.
    pub toml: String,
    /// A short description for the comment.
    pub label: String,
}

/// How the backend says "rejected".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RejectionFound {
    Status(u16),
    /// This status with this field holding this value (as JSON text).
    Field {
        status: u16,
        pointer: String,
        value: String,
    },
    /// This status with a field that the accepted answer does not have (`error`).
    Present {
        status: u16,
        pointer: String,
    },
}

/// What the user-info endpoint does with the encrypted data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfoFound {
    pub path: String,
    /// `json` or `form`.
    pub body_in: String,
    /// Where the accepted answer shows the decrypted fields (None: it only acknowledges).
    pub result_pointer: Option<String>,
    /// An acknowledge-only endpoint's read-back: (path, where its answer shows the fields).
    pub read_back: Option<(String, String)>,
}

/// How the phone endpoint takes the code and where it answers the number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneFound {
    pub path: String,
    /// The JSON body field of the phone code.
    pub code_field: String,
    pub phone_number_pointer: String,
}

/// A request that makes the backend use its access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationFound {
    pub path: String,
    /// The fake saw the backend call WeChat while answering it.
    pub calls_wechat: bool,
}

/// Whether libfaketime moves the backend's clock (probed on a second start of its command).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClockFound {
    /// It does: `clock = "faketime"`, with the monotonic setting when `auto` would guess wrong
    /// (and what went wrong with `auto`'s).
    Faketime {
        monotonic: Option<(MonotonicMode, String)>,
        /// The preload library, when not Debian's (written as `faketime_lib`).
        lib: Option<PathBuf>,
        /// What showed it, for the comment.
        seen: String,
    },
    /// It does not, or could not be seen to: the line is written commented out, with this.
    Not(String),
}

/// A part of the profile the probes fill, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Login,
    Auth,
    Identity,
    LoginData,
    UserInfo,
    Phone,
    AccessToken,
    JwtKey,
    Clock,
}

impl Section {
    /// Every section, in probe order.
    pub const ALL: [Section; 9] = [
        Section::Login,
        Section::Auth,
        Section::Identity,
        Section::LoginData,
        Section::UserInfo,
        Section::Phone,
        Section::AccessToken,
        Section::JwtKey,
        Section::Clock,
    ];

    /// The profile keys it fills, for one-line messages.
    pub fn key(self) -> &'static str {
        match self {
            Section::Login => "[login]",
            Section::Auth => "[auth]/[protected]/[rejected]",
            Section::Identity => "identity",
            Section::LoginData => "data_pointer",
            Section::UserInfo => "[user_info]",
            Section::Phone => "[phone]",
            Section::AccessToken => "[[access_token.operations]]",
            Section::JwtKey => "[jwt] secret",
            Section::Clock => "[backend] clock",
        }
    }

    /// What the section holds, for the NOT DETERMINED list.
    pub fn what(self) -> &'static str {
        match self {
            Section::Login => "how the login wants its code and where its answer has the credential (`[login]`)",
            Section::Auth => "the auth style, the protected path and how the backend says no (`[auth]`, `[protected]`, `[rejected]`)",
            Section::Identity => "where the protected answer names the user (`identity`)",
            Section::LoginData => "where the backend shows the userInfo the login carried (`data_pointer`, `data_read_back`)",
            Section::UserInfo => "the user-info endpoint (`[user_info]`)",
            Section::Phone => "the phone endpoint (`[phone]`)",
            Section::AccessToken => "the access-token operations (`[[access_token.operations]]`)",
            Section::JwtKey => "the JWT signing key among the --env values (`[jwt] secret`)",
            Section::Clock => "whether libfaketime moves the backend's clock (`[backend] clock`)",
        }
    }
}

/// The overall time limit ran out: where, and what was left unfinished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeLimitHit {
    pub secs: u64,
    /// What was being probed (`the login (POST /api/login, the code in the query as `code`)`).
    pub stage: String,
    pub unfinished: Vec<Section>,
}

impl TimeLimitHit {
    /// `the overall time limit of 100 s ran out while probing …`.
    pub fn sentence(&self) -> String {
        format!(
            "the overall time limit of {} s ran out while probing {}",
            self.secs, self.stage
        )
    }

    /// The unfinished sections' keys, comma-separated.
    pub fn keys(&self) -> String {
        let keys: Vec<&str> = self.unfinished.iter().map(|s| s.key()).collect();
        keys.join(", ")
    }

    /// Whether `section` was left unfinished.
    pub fn left(&self, section: Section) -> bool {
        self.unfinished.contains(&section)
    }
}

/// Everything found, and what could not be.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    pub base_url: String,
    pub login_path: String,
    pub login: Option<LoginFound>,
    pub auth: Option<AuthFound>,
    pub rejection: Option<RejectionFound>,
    pub identity: Option<String>,
    pub user_info: Option<UserInfoFound>,
    pub phone: Option<PhoneFound>,
    pub operations: Vec<OperationFound>,
    /// The `[jwt] secret`: (the environment variable that holds it, its value).
    pub jwt_secret: Option<(String, String)>,
    /// Plain sentences for the profile's comments.
    pub unknown: Vec<String>,
    /// How many login probes were sent (each with its own code).
    pub login_probes: usize,
    /// How many requests the protected and user-info probes sent.
    pub other_probes: usize,
    /// The fixed fake address and app a backend already running was configured with
    /// (listen, appid, secret), written as `[fake]` so `wxmock check` uses the same.
    pub fixed_fake: Option<(String, String, String)>,
    /// Whether libfaketime moves the backend's clock (None: not probed, said in `unknown`).
    pub clock: Option<ClockFound>,
    /// Set when the overall time limit ran out before the probes finished.
    pub time_limit: Option<TimeLimitHit>,
}
