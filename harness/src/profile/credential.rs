//! The credential in the request model: its named parts and where the login answer has each,
//! and where requests that carry it put it (`[auth]`: explicit templates, or the `style`
//! shorthand expanded to them).

use serde_json::{json, Value};

use super::request::{AuthSection, AuthStyle};
use super::source::Source;
use super::validate::invalid;
use super::Profile;
use crate::error::HarnessError;

/// Where the credential goes in requests that carry it.
#[derive(Default)]
pub(super) struct AuthTemplate {
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub cookies: Vec<(String, String)>,
    pub json: Vec<(String, Value)>,
}

/// The credential parts: `token_parts`, or the single part `token` of the shorthands.
pub(super) fn token_parts(
    p: &Profile,
    origin: &str,
) -> Result<Vec<(String, Source)>, HarnessError> {
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
        (_, _, ptr) => Source::Pointer(super::compile::pointer(
            "login.token_pointer",
            ptr.as_deref().unwrap_or("/token"),
            origin,
        )?),
    };
    Ok(vec![("token".into(), source)])
}

pub(super) fn auth_template(
    a: &AuthSection,
    p: &Profile,
    origin: &str,
) -> Result<AuthTemplate, HarnessError> {
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

fn pairs(m: &std::collections::BTreeMap<String, String>) -> Vec<(String, String)> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}
