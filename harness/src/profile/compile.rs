//! Turns the request sections as written (with their shorthands) into the one request model:
//! a [`RequestTemplate`] per request, the credential's named parts and where each is read, the
//! identity source and the rejection rules. Every check here names the profile field.

use serde_json::{json, Map, Value};

use super::rejection::{Rejection, Rule};
use super::request::{
    AuthSection, AuthStyle, BodyTemplate, Placement, RequestTemplate, Shape, UserInfoMode,
};
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

/// Where the credential goes in requests that carry it.
#[derive(Default)]
struct AuthTemplate {
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
    json: Vec<(String, Value)>,
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
        rejection: rejection(p, origin)?,
    })
}

/// The credential parts: `token_parts`, or the single part `token` of the shorthands.
fn token_parts(p: &Profile, origin: &str) -> Result<Vec<(String, Source)>, HarnessError> {
    let l = &p.login;
    let err = |field: &str, m: String| invalid(origin, field, m);
    let shorthand = [
        ("login.token_pointer", l.token_pointer.is_some()),
        ("login.token_cookie", l.token_cookie.is_some()),
        ("login.token_header", l.token_header.is_some()),
    ];
    if !l.token_parts.is_empty() {
        if let Some((field, _)) = shorthand.iter().find(|(_, set)| *set) {
            return Err(err(
                field,
                "and `login.token_parts` exclude each other: name every part in `token_parts`"
                    .into(),
            ));
        }
        let mut out = Vec::new();
        for (name, v) in &l.token_parts {
            let field = format!("login.token_parts.{name}");
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(err(
                    &field,
                    "needs a name of letters, digits, '_' or '-' (used as {{token.NAME}})".into(),
                ));
            }
            let Value::String(s) = v else {
                return Err(err(
                    &field,
                    "must be a string such as \"/data/token\"".into(),
                ));
            };
            let source = Source::parse(s).map_err(|m| err(&field, m))?;
            if matches!(source, Source::Jwt(_)) {
                return Err(err(
                    &field,
                    "cannot read from a JWT: use a pointer, cookie:NAME or header:NAME".into(),
                ));
            }
            out.push((name.clone(), source));
        }
        return Ok(out);
    }
    if l.token_cookie.is_some() && l.token_header.is_some() {
        return Err(err(
            "login.token_cookie",
            "and `login.token_header` exclude each other: the token comes from one place".into(),
        ));
    }
    for (field, name) in [
        ("login.token_cookie", &l.token_cookie),
        ("login.token_header", &l.token_header),
    ] {
        if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(err(field, "must not be empty".into()));
        }
    }
    let source = match (&l.token_cookie, &l.token_header, &l.token_pointer) {
        (Some(c), _, _) => Source::Cookie(c.trim().into()),
        (_, Some(h), _) => Source::Header(h.trim().into()),
        (_, _, Some(ptr)) if ptr.is_empty() => {
            return Err(err(
                "login.token_pointer",
                "must point at the token, e.g. /token".into(),
            ))
        }
        (_, _, ptr) => Source::Pointer(pointer(
            "login.token_pointer",
            ptr.as_deref().unwrap_or("/token"),
            origin,
        )?),
    };
    Ok(vec![("token".into(), source)])
}

fn auth_template(a: &AuthSection, p: &Profile, origin: &str) -> Result<AuthTemplate, HarnessError> {
    let err = |field: &str, m: &str| invalid(origin, field, m.to_string());
    if a.has_templates() {
        for (field, set) in [
            ("auth.style", a.style.is_some()),
            ("auth.scheme", a.scheme.is_some()),
            ("auth.header", a.header.is_some()),
            ("auth.field", a.field.is_some()),
            ("auth.cookie", a.cookie.is_some()),
        ] {
            if set {
                return Err(err(field, "is a shorthand; with explicit `auth.headers`/`cookies`/`query`/`json` say everything there"));
            }
        }
        return Ok(AuthTemplate {
            query: pairs(&a.query),
            headers: pairs(&a.headers),
            cookies: pairs(&a.cookies),
            json: a.json.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        });
    }
    let style = a.style.unwrap_or_default();
    let only = |field: &str, set: bool, styles: &str| {
        if set {
            Err(err(field, &format!("only applies to style = {styles}")))
        } else {
            Ok(())
        }
    };
    only(
        "auth.scheme",
        a.scheme.is_some() && style != AuthStyle::Scheme,
        "\"scheme\"",
    )?;
    only(
        "auth.cookie",
        a.cookie.is_some() && style != AuthStyle::Cookie,
        "\"cookie\"",
    )?;
    only(
        "auth.field",
        a.field.is_some() && !matches!(style, AuthStyle::Json | AuthStyle::Query),
        "\"json\" or \"query\"",
    )?;
    let header = a.header.clone().unwrap_or_else(|| "Authorization".into());
    let field = a.field.clone().unwrap_or_else(|| "token".into());
    let mut t = AuthTemplate::default();
    match style {
        AuthStyle::Bearer => t.headers.push((header, "Bearer {{token}}".into())),
        AuthStyle::Scheme => {
            let scheme = a.scheme.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
                err(
                    "auth.scheme",
                    "is required with style = \"scheme\" (e.g. \"JWT\")",
                )
            })?;
            t.headers.push((header, format!("{scheme} {{{{token}}}}")));
        }
        AuthStyle::Header => {
            let h = a.header.clone().ok_or_else(|| {
                err(
                    "auth.header",
                    "is required with style = \"header\" (e.g. \"Token\")",
                )
            })?;
            t.headers.push((h, "{{token}}".into()));
        }
        AuthStyle::Basic => t
            .headers
            .push(("Authorization".into(), "Basic {{token|basic}}".into())),
        AuthStyle::Json => t.json.push((field, json!("{{token}}"))),
        AuthStyle::Query => t.query.push((field, "{{token}}".into())),
        AuthStyle::Cookie => {
            let name = a
                .cookie
                .clone()
                .or_else(|| p.login.token_cookie.clone())
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    err(
                        "auth.cookie",
                        "is required with style = \"cookie\" (or set `login.token_cookie`)",
                    )
                })?;
            t.cookies.push((name, "{{token}}".into()));
        }
    }
    Ok(t)
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

fn pointer(field: &str, p: &str, origin: &str) -> Result<String, HarnessError> {
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

/// The rejection rules: the shorthand fields folded into the list.
fn rejection(p: &Profile, origin: &str) -> Result<Rejection, HarnessError> {
    let r = &p.rejected;
    let err = |field: &str, m: String| invalid(origin, field, m);
    for s in r
        .statuses
        .iter()
        .chain(r.rules.iter().flat_map(|x| &x.statuses))
    {
        if !(100..=599).contains(s) {
            return Err(err(
                "rejected.statuses",
                format!("{s} is not an HTTP status"),
            ));
        }
    }
    let mut rules = Vec::new();
    if !r.statuses.is_empty() {
        rules.push(Rule {
            statuses: r.statuses.clone(),
            ..Rule::default()
        });
    }
    match &r.pointer {
        Some(ptr) => {
            let ptr = pointer("rejected.pointer", ptr, origin)?;
            if r.values.is_empty() && r.success_values.is_empty() {
                return Err(err(
                    "rejected",
                    "`pointer` needs `values` or `success_values`".into(),
                ));
            }
            if !r.values.is_empty() {
                rules.push(Rule {
                    pointer: Some(ptr.clone()),
                    equals: r.values.clone(),
                    ..Rule::default()
                });
            }
            if !r.success_values.is_empty() {
                rules.push(Rule {
                    pointer: Some(ptr),
                    not_equals: r.success_values.clone(),
                    ..Rule::default()
                });
            }
        }
        None if !r.values.is_empty() || !r.success_values.is_empty() => {
            return Err(err(
                "rejected.pointer",
                "is required with `values`/`success_values`".into(),
            ))
        }
        None => {}
    }
    for (i, rule) in r.rules.iter().enumerate() {
        if let Some(m) = rule.problem() {
            return Err(err(&format!("rejected.rules[{i}]"), m.into()));
        }
        if let Some(ptr) = &rule.pointer {
            pointer(&format!("rejected.rules[{i}].pointer"), ptr, origin)?;
        }
        rules.push(rule.clone());
    }
    if let Some(s) = &r.success {
        if let Some(m) = s.problem() {
            return Err(err("rejected.success", m.into()));
        }
    }
    if rules.is_empty() {
        return Err(err(
            "rejected",
            "needs `statuses`, a `pointer` or `rules`: otherwise nothing is ever rejected".into(),
        ));
    }
    Ok(Rejection {
        rules,
        success: r.success.clone(),
    })
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
