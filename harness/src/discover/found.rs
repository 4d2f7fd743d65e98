//! What `discover` is asked to probe and what it found: plain data, written as a profile by
//! `render`, and (partly filled) compiled into the candidate profiles the probes run through the
//! harness's own request renderer.

use std::net::SocketAddr;

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
    /// A fixed app (a backend already running was configured with it); default a fresh one.
    pub appid: Option<String>,
    pub secret: Option<String>,
    /// The backend's extra environment: a value that verifies the token's HMAC signature is
    /// written as the `[jwt] secret`.
    pub env: Vec<(String, String)>,
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
            appid: None,
            secret: None,
            env: Vec::new(),
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
}
