//! Turns the request sections as written (with their shorthands) into the one request model:
//! a [`RequestTemplate`] per request, the credential's named parts and where each is read, the
//! identity source and the rejection rules. Every check here names the profile field.

use serde_json::{json, Map, Value};

use super::credential::{auth_template, token_parts, AuthTemplate};
use super::rejection::{compile_rejection, Rejection};
use super::request::{BodyTemplate, Placement, RequestTemplate, Shape, UserInfoMode};
use super::source::Source;
use super::template::{check_template, check_value, mentions, value_mentions, Scope};
use super::validate::invalid;
use super::Profile;
use crate::error::HarnessError;

/// The profile compiled for the renderer and the cases.
#[derive(Clone, Debug, Default)]
pub struct Compiled {
    pub login: RequestTemplate,
    pub protected: RequestTemplate,
    pub user_info: Option<UserInfoTemplate>,
    pub phone: Option<PhoneTemplate>,
    pub operations: Vec<RequestTemplate>,
    /// The credential's parts in order, each with where the login answer has it; the first one
    /// named `token` (else the first) is the main token.
    pub token_parts: Vec<(String, Source)>,
    /// Where the user's identity is (None: the identity cases are skipped).
    pub identity: Option<Source>,
    pub rejection: Rejection,
}

/// The user-info request and how its answer is read.
#[derive(Clone, Debug, PartialEq)]
pub struct UserInfoTemplate {
    pub request: RequestTemplate,
    pub result_pointer: String,
    pub mode: UserInfoMode,
    /// With ack mode: the read-back request and where its answer shows the stored object.
    pub read_back: Option<(RequestTemplate, String)>,
}

/// The phone request and where its answer shows the number.
#[derive(Clone, Debug, PartialEq)]
pub struct PhoneTemplate {
    pub request: RequestTemplate,
    pub phone_number_pointer: String,
}

impl Compiled {
    /// The name of the main token part.
    pub fn main_part(&self) -> &str {
        self.token_parts
            .iter()
            .find(|(n, _)| n == "token")
            .or(self.token_parts.first())
            .map(|(n, _)| n.as_str())
            .unwrap_or("token")
    }

    /// Whether any part is read from a cookie (session middlewares set cookies on every answer).
    pub fn token_from_cookie(&self) -> bool {
        self.token_parts.iter().any(|(_, s)| s.is_cookie())
    }
}

pub(super) fn compile(p: &Profile, origin: &str) -> Result<Compiled, HarnessError> {
    let err = |field: &str, m: String| invalid(origin, field, m);
    let token_parts = token_parts(p, origin)?;
    let names: Vec<String> = token_parts.iter().map(|(n, _)| n.clone()).collect();
    let scope = Scope::Request { parts: &names };
    let auth = auth_template(&p.auth, p, origin)?;
    for (table, entries) in [
        ("query", &auth.query),
        ("headers", &auth.headers),
        ("cookies", &auth.cookies),
    ] {
        for (k, v) in entries {
            check_template(&format!("auth.{table}.{k}"), v, scope, origin)?;
        }
    }
    for (k, v) in &auth.json {
        check_value(&format!("auth.json.{k}"), v, scope, origin)?;
    }

    // Login: the code goes where the shorthand says, unless a template already places it.
    let l = &p.login;
    let mut login = base("login", &l.shape(), "POST", l.code_in, scope, origin)?;
    if let Some(field) = p.login_code_field() {
        place(
            &mut login,
            l.code_in.unwrap_or(Placement::Json),
            &field,
            "{{code}}",
        );
    }
    if l.code_in == Some(Placement::Header) && p.login_code_field().is_none() {
        return Err(err(
            "login.code_field",
            "is required with code_in = \"header\"".into(),
        ));
    }
    finish_body(&mut login);

    for (field, ptr) in [
        ("login.data_pointer", &l.data_pointer),
        ("login.data_read_back", &l.data_read_back),
    ] {
        if let Some(ptr) = ptr {
            pointer(field, ptr, origin)?;
            if !login.carries_data() {
                return Err(err(
                    field,
                    "only applies when the login request carries {{encrypted_data}} or {{iv}}"
                        .into(),
                ));
            }
        }
    }
    let pr = &p.protected;
    let mut protected = base("protected", &pr.shape(), "GET", None, scope, origin)?;
    if !auth.json.is_empty() && protected.method == "GET" && !protected.mentions("token") {
        return Err(err(
            "protected.method",
            "cannot be GET when the token goes in a JSON body".into(),
        ));
    }
    with_auth(&mut protected, &auth);
    finish_body(&mut protected);
    let identity = match (&pr.identity, &pr.identity_pointer) {
        (Some(_), Some(_)) => {
            return Err(err(
                "protected.identity",
                "and `protected.identity_pointer` say the same thing: keep `identity`".into(),
            ))
        }
        (Some(s), None) => Some(Source::parse(s).map_err(|m| err("protected.identity", m))?),
        (None, Some(ptr)) => Some(Source::Pointer(pointer(
            "protected.identity_pointer",
            ptr,
            origin,
        )?)),
        (None, None) => None,
    };
    if matches!(identity, Some(Source::Cookie(_))) {
        return Err(err(
            "protected.identity",
            "cannot be a cookie: use a JSON pointer, header:NAME or jwt:/claim".into(),
        ));
    }

    let user_info = match &p.user_info {
        None => None,
        Some(u) => {
            let mut t = base("user_info", &u.shape(), "POST", u.body_in, scope, origin)?;
            if !matches!(
                u.body_in,
                None | Some(Placement::Json) | Some(Placement::Form)
            ) {
                return Err(err(
                    "user_info.body_in",
                    "must be \"json\" or \"form\"".into(),
                ));
            }
            if !t.carries_data() {
                // The shorthand: named body fields for the encrypted data.
                if u.encrypted_data_field.is_empty() || u.iv_field.is_empty() {
                    return Err(err(
                        "user_info",
                        "`encrypted_data_field` and `iv_field` must not be empty".into(),
                    ));
                }
                let kind = u.body_in.unwrap_or(Placement::Json);
                for (field, value) in [
                    (&u.encrypted_data_field, "{{encrypted_data}}"),
                    (&u.iv_field, "{{iv}}"),
                    (&u.raw_data_field, "{{raw_data}}"),
                    (&u.signature_field, "{{signature}}"),
                ] {
                    if !field.is_empty() {
                        place(&mut t, kind, field, value);
                    }
                }
            }
            if u.with_token {
                with_auth(&mut t, &auth);
            }
            finish_body(&mut t);
            let result_pointer = pointer("user_info.result_pointer", &u.result_pointer, origin)?;
            let read_back = match (&u.read_back, u.mode) {
                (Some(_), UserInfoMode::Echo) => return Err(err(
                    "user_info.read_back",
                    "only applies to mode = \"ack\" (an echoing answer shows the fields itself)"
                        .into(),
                )),
                (Some(rb), UserInfoMode::Ack) => {
                    let mut t = base(
                        "user_info.read_back",
                        &rb.shape(),
                        "GET",
                        None,
                        scope,
                        origin,
                    )?;
                    if rb.with_token {
                        with_auth(&mut t, &auth);
                    }
                    finish_body(&mut t);
                    let ptr = pointer(
                        "user_info.read_back.result_pointer",
                        &rb.result_pointer,
                        origin,
                    )?;
                    Some((t, ptr))
                }
                (None, _) => None,
            };
            Some(UserInfoTemplate {
                request: t,
                result_pointer,
                mode: u.mode,
                read_back,
            })
        }
    };

    let phone = match &p.phone {
        None => None,
        Some(ph) => {
            let mut t = base("phone", &ph.shape(), "POST", ph.code_in, scope, origin)?;
            let field = match &ph.code_field {
                Some(f) if f.is_empty() => {
                    return Err(err("phone.code_field", "must not be empty".into()))
                }
                Some(f) => Some(f.clone()),
                None => (!t.mentions("phone_code")).then(|| "code".to_string()),
            };
            if let Some(f) = field {
                place(
                    &mut t,
                    ph.code_in.unwrap_or(Placement::Json),
                    &f,
                    "{{phone_code}}",
                );
            }
            if ph.with_token {
                with_auth(&mut t, &auth);
            }
            finish_body(&mut t);
            Some(PhoneTemplate {
                request: t,
                phone_number_pointer: pointer(
                    "phone.phone_number_pointer",
                    &ph.phone_number_pointer,
                    origin,
                )?,
            })
        }
    };

    let mut operations = Vec::new();
    for (i, op) in p.access_token.operations.iter().enumerate() {
        let name = format!("access_token.operations[{i}]");
        let mut t = base(&name, &op.shape(), "GET", None, scope, origin)?;
        if op.with_token {
            with_auth(&mut t, &auth);
        }
        finish_body(&mut t);
        operations.push(t);
    }

    Ok(Compiled {
        login,
        protected,
        user_info,
        phone,
        operations,
        token_parts,
        identity,
        rejection: compile_rejection(p, origin)?,
    })
}

/// The section's own request: method, path, query, headers, cookies and body, checked.
fn base(
    name: &str,
    s: &Shape<'_>,
    default_method: &str,
    shorthand_in: Option<Placement>,
    scope: Scope<'_>,
    origin: &str,
) -> Result<RequestTemplate, HarnessError> {
    let err = |field: &str, m: String| invalid(origin, &format!("{name}.{field}"), m);
    let method = s.method.unwrap_or(default_method).to_ascii_uppercase();
    const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
    if !METHODS.contains(&method.as_str()) {
        return Err(err(
            "method",
            format!(
                "must be one of {METHODS:?}, got {:?}",
                s.method.unwrap_or_default()
            ),
        ));
    }
    if !s.path.starts_with('/') {
        return Err(err(
            "path",
            format!("must start with '/', got {:?}", s.path),
        ));
    }
    check_template(&format!("{name}.path"), s.path, scope, origin)?;
    for (table, entries) in [
        ("query", s.query),
        ("headers", s.headers),
        ("cookies", s.cookies),
    ] {
        for (k, v) in entries {
            check_template(&format!("{name}.{table}.{k}"), v, scope, origin)?;
        }
    }
    let given = [s.json.is_some(), s.form.is_some(), !s.fields.is_empty()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(err(
            "json",
            "`json`, `form` and `fields` each describe the whole body: use one".into(),
        ));
    }
    let body = if let Some(j) = s.json {
        check_value(
            &format!("{name}.json"),
            &Value::Object(j.clone()),
            scope,
            origin,
        )?;
        Some(BodyTemplate::Json(Value::Object(j.clone())))
    } else if let Some(f) = s.form {
        for (k, v) in f {
            if matches!(v, Value::Object(_) | Value::Array(_)) {
                return Err(err(
                    &format!("form.{k}"),
                    "must be a plain value: a form body is flat (use `json` for nested bodies)"
                        .into(),
                ));
            }
            check_value(&format!("{name}.form.{k}"), v, scope, origin)?;
        }
        Some(BodyTemplate::Form(
            f.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        ))
    } else if !s.fields.is_empty() {
        check_value(
            &format!("{name}.fields"),
            &Value::Object(s.fields.clone()),
            scope,
            origin,
        )?;
        Some(if shorthand_in == Some(Placement::Form) {
            BodyTemplate::Form(
                s.fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        } else {
            BodyTemplate::Json(Value::Object(s.fields.clone()))
        })
    } else if shorthand_in == Some(Placement::Form) {
        Some(BodyTemplate::Form(vec![]))
    } else {
        None
    };
    Ok(RequestTemplate {
        method,
        path: s.path.to_string(),
        query: pairs(s.query),
        headers: pairs(s.headers),
        cookies: pairs(s.cookies),
        body,
    })
}

/// Puts `value` under `field` where the shorthand says.
fn place(t: &mut RequestTemplate, at: Placement, field: &str, value: &str) {
    match at {
        Placement::Query => t.query.push((field.into(), value.into())),
        Placement::Header => t.headers.push((field.into(), value.into())),
        Placement::Json | Placement::Form => body_insert(t, at, field, json!(value)),
    }
}

/// Adds a field to the body (creating one of kind `kind` when there is none).
fn body_insert(t: &mut RequestTemplate, kind: Placement, field: &str, value: Value) {
    match &mut t.body {
        Some(BodyTemplate::Json(Value::Object(m))) => {
            m.insert(field.into(), value);
        }
        Some(BodyTemplate::Form(pairs)) => pairs.push((field.into(), value)),
        Some(BodyTemplate::Json(_)) => {}
        None if kind == Placement::Form => {
            t.body = Some(BodyTemplate::Form(vec![(field.into(), value)]))
        }
        None => {
            let mut m = Map::new();
            m.insert(field.into(), value);
            t.body = Some(BodyTemplate::Json(Value::Object(m)));
        }
    }
}

/// Adds the credential's placements, unless the request places the token itself.
fn with_auth(t: &mut RequestTemplate, auth: &AuthTemplate) {
    if t.mentions("token") {
        return;
    }
    t.query.extend(auth.query.iter().cloned());
    t.headers.extend(auth.headers.iter().cloned());
    t.cookies.extend(auth.cookies.iter().cloned());
    for (k, v) in &auth.json {
        body_insert(t, Placement::Json, k, v.clone());
    }
}

/// A request whose method has a body gets at least `{}` (some frameworks refuse a bodiless POST).
fn finish_body(t: &mut RequestTemplate) {
    if t.body.is_none() && !matches!(t.method.as_str(), "GET" | "DELETE") {
        t.body = Some(BodyTemplate::Json(json!({})));
    }
}

fn pairs(m: &std::collections::BTreeMap<String, String>) -> Vec<(String, String)> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

pub(super) fn pointer(field: &str, p: &str, origin: &str) -> Result<String, HarnessError> {
    if p.is_empty() || p.starts_with('/') {
        Ok(p.to_string())
    } else {
        Err(invalid(
            origin,
            field,
            format!("must be a JSON pointer starting with '/', got {p:?}"),
        ))
    }
}

/// Whether any login template already places the code.
pub(super) fn login_mentions_code(p: &Profile) -> bool {
    let l = &p.login;
    l.query
        .values()
        .chain(l.headers.values())
        .chain(l.cookies.values())
        .any(|v| mentions(v, "code"))
        || mentions(&l.path, "code")
        || [l.json.as_ref(), l.form.as_ref(), Some(&l.fields)]
            .into_iter()
            .flatten()
            .any(|m| m.values().any(|v| value_mentions(v, "code")))
}
