//! The profile's request sections as written (`[login]`, `[protected]`, `[user_info]`,
//! `[phone]`, `[[access_token.operations]]`, `[auth]`). Every one shares the same request shape —
//! method, path, query, headers, cookies, a JSON or form body (nested JSON too), all templated —
//! plus a few older shorthands (`code_in`/`code_field`, `fields`, `encrypted_data_field`, `[auth]
//! style`, …) that `compile` turns into the same [`RequestTemplate`]s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A request, compiled from its section: what the one renderer fills in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestTemplate {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub cookies: Vec<(String, String)>,
    pub body: Option<BodyTemplate>,
}

/// A templated body.
#[derive(Clone, Debug, PartialEq)]
pub enum BodyTemplate {
    /// A JSON document (string leaves templated, nested objects and arrays allowed).
    Json(Value),
    /// `application/x-www-form-urlencoded` pairs (values templated, scalars only).
    Form(Vec<(String, Value)>),
}

impl RequestTemplate {
    /// Whether any string of the request (path, query, headers, cookies, body) names `name`.
    pub fn mentions(&self, name: &str) -> bool {
        use super::template::{mentions, value_mentions};
        mentions(&self.path, name)
            || self
                .query
                .iter()
                .chain(&self.headers)
                .chain(&self.cookies)
                .any(|(_, v)| mentions(v, name))
            || match &self.body {
                Some(BodyTemplate::Json(v)) => value_mentions(v, name),
                Some(BodyTemplate::Form(pairs)) => {
                    pairs.iter().any(|(_, v)| value_mentions(v, name))
                }
                None => false,
            }
    }

    /// The same request without the entries that carry the credential (query parameters,
    /// headers, cookies and top-level body fields naming `{{token}}` or `{{token.NAME}}`): the
    /// base for requests that put a credential somewhere else on purpose.
    pub fn without_credential(&self) -> RequestTemplate {
        use super::template::{mentions, value_mentions};
        let keep = |pairs: &[(String, String)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .filter(|(_, v)| !mentions(v, "token"))
                .cloned()
                .collect()
        };
        let body = match &self.body {
            Some(BodyTemplate::Json(serde_json::Value::Object(map))) => {
                Some(BodyTemplate::Json(serde_json::Value::Object(
                    map.iter()
                        .filter(|(_, v)| !value_mentions(v, "token"))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )))
            }
            Some(BodyTemplate::Form(pairs)) => Some(BodyTemplate::Form(
                pairs
                    .iter()
                    .filter(|(_, v)| !value_mentions(v, "token"))
                    .cloned()
                    .collect(),
            )),
            other => other.clone(),
        };
        RequestTemplate {
            method: self.method.clone(),
            path: self.path.clone(),
            query: keep(&self.query),
            headers: keep(&self.headers),
            cookies: keep(&self.cookies),
            body,
        }
    }

    /// Where the credential travels: `"query"`, `"header"`, `"cookie"`, `"body"` or `"path"`.
    pub fn credential_places(&self) -> Vec<&'static str> {
        use super::template::{mentions, value_mentions};
        let mut out = Vec::new();
        if mentions(&self.path, "token") {
            out.push("path");
        }
        for (place, pairs) in [
            ("query", &self.query),
            ("header", &self.headers),
            ("cookie", &self.cookies),
        ] {
            if pairs.iter().any(|(_, v)| mentions(v, "token")) {
                out.push(place);
            }
        }
        let in_body = match &self.body {
            Some(BodyTemplate::Json(v)) => value_mentions(v, "token"),
            Some(BodyTemplate::Form(pairs)) => {
                pairs.iter().any(|(_, v)| value_mentions(v, "token"))
            }
            None => false,
        };
        if in_body {
            out.push("body");
        }
        out
    }

    /// Whether the request carries encrypted user data (`{{encrypted_data}}` or `{{iv}}`).
    pub fn carries_data(&self) -> bool {
        ["encrypted_data", "iv", "raw_data", "signature"]
            .iter()
            .any(|n| self.mentions(n))
    }
}

/// Where a value goes in a request (the older `code_in` / `body_in` shorthand).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    Query,
    Json,
    Form,
    Header,
}

/// The request shape every section shares; `flatten`ed sections cannot deny unknown fields, so
/// each section repeats these fields through this macro instead.
macro_rules! request_fields {
    ($(#[$meta:meta])* pub struct $name:ident { $($extra:tt)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, Deserialize, Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// HTTP method (each section has its own default).
            #[serde(default)]
            pub method: Option<String>,
            pub path: String,
            /// Query parameters, templated.
            #[serde(default)]
            pub query: BTreeMap<String, String>,
            /// Headers, templated.
            #[serde(default)]
            pub headers: BTreeMap<String, String>,
            /// Cookies (sent as one `Cookie` header), templated.
            #[serde(default)]
            pub cookies: BTreeMap<String, String>,
            /// A JSON body, templated; nested tables and arrays are sent as nested JSON.
            #[serde(default)]
            pub json: Option<Map<String, Value>>,
            /// A form body (`application/x-www-form-urlencoded`), templated.
            #[serde(default)]
            pub form: Option<Map<String, Value>>,
            /// Older shorthand: body fields (JSON, or form per the section's `*_in`).
            #[serde(default)]
            pub fields: Map<String, Value>,
            $($extra)*
        }

        impl $name {
            /// The fields every request section shares.
            pub(crate) fn shape(&self) -> Shape<'_> {
                Shape {
                    method: self.method.as_deref(),
                    path: &self.path,
                    query: &self.query,
                    headers: &self.headers,
                    cookies: &self.cookies,
                    json: self.json.as_ref(),
                    form: self.form.as_ref(),
                    fields: &self.fields,
                }
            }
        }
    };
}

/// A borrowed view of the fields every request section shares.
pub(crate) struct Shape<'a> {
    pub method: Option<&'a str>,
    pub path: &'a str,
    pub query: &'a BTreeMap<String, String>,
    pub headers: &'a BTreeMap<String, String>,
    pub cookies: &'a BTreeMap<String, String>,
    pub json: Option<&'a Map<String, Value>>,
    pub form: Option<&'a Map<String, Value>>,
    pub fields: &'a Map<String, Value>,
}

request_fields! {
    /// How to log in.
    pub struct LoginSection {
        /// Shorthand: where the code goes, `json` (default), `query`, `form` or `header`.
        #[serde(default)]
        pub code_in: Option<Placement>,
        /// Shorthand: the field/parameter/header name of the code. Default `code`, or none when
        /// a template already uses `{{code}}`.
        #[serde(default)]
        pub code_field: Option<String>,
        /// JSON pointer of the token in the answer (shorthand for `token_parts = {token = …}`).
        #[serde(default)]
        pub token_pointer: Option<String>,
        /// Take the token from this cookie of the answer's `Set-Cookie` (`cookie:NAME`).
        #[serde(default)]
        pub token_cookie: Option<String>,
        /// Take the token from this answer header (`header:NAME`; a leading `Bearer ` is removed).
        #[serde(default)]
        pub token_header: Option<String>,
        /// Named credential parts and where each is read: `{id = "/data/session/id", skey =
        /// "cookie:skey"}`; requests use them as `{{token.id}}`. The part named `token` (else
        /// the first) is the main token (`{{token}}`, the one JWT checks decode).
        #[serde(default)]
        pub token_parts: Map<String, Value>,
        /// When the login carries encrypted data: where its answer shows the decrypted fields.
        #[serde(default)]
        pub data_pointer: Option<String>,
        /// When the login carries encrypted data: where the protected answer (with the new
        /// credential) shows the stored fields.
        #[serde(default)]
        pub data_read_back: Option<String>,
    }
}

request_fields! {
    /// The protected request and where the user's identity appears.
    pub struct ProtectedSection {
        /// Where a stable user identity is: `/userId` (the protected answer), `header:X-User-Id`
        /// (a header of that answer) or `jwt:/uid` (a claim of the token).
        #[serde(default)]
        pub identity: Option<String>,
        /// Older name of `identity` (a JSON pointer into the protected answer).
        #[serde(default)]
        pub identity_pointer: Option<String>,
    }
}

request_fields! {
    /// A request that makes the backend use its access token.
    pub struct OperationSection {
        /// Whether this request carries the login token (default true).
        #[serde(default = "yes")]
        pub with_token: bool,
    }
}

request_fields! {
    /// The endpoint that takes encrypted user data.
    pub struct UserInfoSection {
        /// Shorthand: body kind of the shorthand fields, `json` (default) or `form`.
        #[serde(default)]
        pub body_in: Option<Placement>,
        /// Shorthand field names (used when no template names `{{encrypted_data}}`).
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
        /// JSON pointer of the decrypted object in the answer (`""` = the whole body).
        #[serde(default)]
        pub result_pointer: String,
        /// `echo` (default: the answer shows the decrypted fields) or `ack` (the answer only
        /// acknowledges; acceptance and rejection are judged, and `read_back` shows the fields).
        #[serde(default)]
        pub mode: UserInfoMode,
        /// With `mode = "ack"`: a request whose answer shows the stored fields.
        #[serde(default)]
        pub read_back: Option<ReadBackSection>,
        #[serde(default = "yes")]
        pub with_token: bool,
    }
}

request_fields! {
    /// With ack-only user-info: the request that reads the stored profile back.
    pub struct ReadBackSection {
        /// JSON pointer of the stored object in its answer (`""` = the whole body).
        #[serde(default)]
        pub result_pointer: String,
        #[serde(default = "yes")]
        pub with_token: bool,
    }
}

request_fields! {
    /// The endpoint that resolves a getuserphonenumber code.
    pub struct PhoneSection {
        /// Shorthand: where the phone code goes (default `json`).
        #[serde(default)]
        pub code_in: Option<Placement>,
        /// Shorthand: its field name (default `code`, or none when a template uses `{{phone_code}}`).
        #[serde(default)]
        pub code_field: Option<String>,
        /// JSON pointer of the phone number (with country code, as WeChat's `phoneNumber`).
        #[serde(default = "default_phone_pointer")]
        pub phone_number_pointer: String,
        #[serde(default = "yes")]
        pub with_token: bool,
    }
}

/// What the user-info answer shows.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum UserInfoMode {
    /// The answer carries the decrypted fields (at `result_pointer`).
    #[default]
    Echo,
    /// The answer only acknowledges (`{"id": 3}`).
    Ack,
}

/// Requests that make the backend use its access token.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccessTokenSection {
    #[serde(default)]
    pub operations: Vec<OperationSection>,
}

/// How a protected request carries the token (the shorthand `style`, or explicit templates).
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

/// `[auth]`: where requests that carry the credential put it. Either the `style` shorthand or
/// explicit templated `headers` / `cookies` / `query` / `json` entries using `{{token}}` and
/// `{{token.NAME}}` (several places at once for multi-part credentials).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    #[serde(default)]
    pub style: Option<AuthStyle>,
    /// The scheme word for `style = "scheme"` (e.g. `JWT`).
    #[serde(default)]
    pub scheme: Option<String>,
    /// The header for `bearer`/`scheme` (default `Authorization`) or `header` (required).
    #[serde(default)]
    pub header: Option<String>,
    /// The field/parameter name for `json`/`query` (default `token`).
    #[serde(default)]
    pub field: Option<String>,
    /// The cookie name for `style = "cookie"` (default: the login's token cookie).
    #[serde(default)]
    pub cookie: Option<String>,
    /// Explicit placements, templated.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub cookies: BTreeMap<String, String>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    #[serde(default)]
    pub json: Map<String, Value>,
}

impl AuthSection {
    /// Whether explicit placements are given.
    pub fn has_templates(&self) -> bool {
        !(self.headers.is_empty()
            && self.cookies.is_empty()
            && self.query.is_empty()
            && self.json.is_empty())
    }
}

fn yes() -> bool {
    true
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
fn default_phone_pointer() -> String {
    "/phoneNumber".into()
}
