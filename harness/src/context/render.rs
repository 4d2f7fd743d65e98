//! The one request renderer: a profile request ([`RequestTemplate`]) plus the values of this
//! moment ([`Values`]: code, encrypted data, phone code, credential parts) and of the run
//! ([`Vars`]) becomes the HTTP request sent. Every case builds its requests through it.

use serde_json::Value;

use super::credential::Credential;
use crate::exchange::{Body, Request};
use crate::fake::Encrypted;
use crate::profile::{
    fill, fill_lossy, fill_value, value_text, BodyTemplate, RequestTemplate, Vars,
};

/// The values of this moment. A value that is None makes every entry naming it left out.
#[derive(Clone, Debug, Default)]
pub struct Values {
    /// `{{code}}`: the login code.
    pub code: Option<String>,
    /// `{{encrypted_data}}`, `{{iv}}`, `{{raw_data}}`, `{{signature}}`.
    pub data: Option<Encrypted>,
    /// `{{phone_code}}`.
    pub phone_code: Option<String>,
    /// `{{token}}` and `{{token.NAME}}`.
    pub token: Option<Credential>,
}

impl Values {
    /// Values carrying only a login code.
    pub fn code(code: Option<&str>) -> Self {
        Self {
            code: code.map(str::to_owned),
            ..Self::default()
        }
    }

    /// Values carrying only a credential.
    pub fn token(token: Option<&Credential>) -> Self {
        Self {
            token: token.cloned(),
            ..Self::default()
        }
    }

    /// The value of a placeholder of the moment (None: absent, or not such a placeholder).
    pub fn get(&self, name: &str) -> Option<String> {
        let data = self.data.as_ref();
        match name {
            "code" => self.code.clone(),
            "encrypted_data" => data.map(|d| d.encrypted_data.clone()),
            "iv" => data.map(|d| d.iv.clone()),
            "raw_data" => data.and_then(|d| d.raw_data.clone()),
            "signature" => data.and_then(|d| d.signature.clone()),
            "phone_code" => self.phone_code.clone(),
            _ => self.token.as_ref().and_then(|t| t.lookup(name)),
        }
    }
}

/// Renders a profile request with the run's and the moment's values.
pub fn render(t: &RequestTemplate, vars: &Vars, values: &Values) -> Request {
    let lookup = |name: &str| vars.get(name).or_else(|| values.get(name));
    let mut req = Request::new(&t.method, &fill_lossy(&t.path, &lookup));
    for (k, v) in &t.query {
        if let Some(v) = fill(v, &lookup) {
            req.query.push((k.clone(), v));
        }
    }
    for (k, v) in &t.headers {
        if let Some(v) = fill(v, &lookup) {
            req.headers.push((k.clone(), v));
        }
    }
    let cookies: Vec<String> = t
        .cookies
        .iter()
        .filter_map(|(k, v)| fill(v, &lookup).map(|v| format!("{k}={v}")))
        .collect();
    if !cookies.is_empty() {
        req.headers.push(("Cookie".into(), cookies.join("; ")));
    }
    req.body = match &t.body {
        None => None,
        Some(BodyTemplate::Json(v)) => Some(Body::Json(
            fill_value(v, &lookup).unwrap_or(Value::Object(Default::default())),
        )),
        Some(BodyTemplate::Form(pairs)) => Some(Body::Form(
            pairs
                .iter()
                .filter_map(|(k, v)| fill_value(v, &lookup).map(|v| (k.clone(), value_text(&v))))
                .collect(),
        )),
    };
    req
}
