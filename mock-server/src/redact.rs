//! Which values are credentials, and how they are hidden: one list for the request log and the
//! journal API, so the two never disagree. Names are compared case-insensitively (`SECRET=` is
//! as secret as `secret=`).

use std::borrow::Cow;

use serde_json::Value;

/// What a hidden value is replaced by.
pub const MASK: &str = "***";

/// Parameter and field names whose values are credentials: the appsecret, access tokens,
/// session keys and their signatures, and the one-time login and phone codes.
const SECRET_NAMES: &[&str] = &[
    "secret",
    "appsecret",
    "access_token",
    "refresh_token",
    "session_key",
    "signature",
    "js_code",
    "code",
];

/// Whether a query parameter or JSON field of this name holds a credential.
pub fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// A query string's pairs, decoded, with credential values masked.
pub fn query_pairs(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(key, value)| {
            let value = if is_secret_name(&key) {
                MASK.to_owned()
            } else {
                value.into_owned()
            };
            (key.into_owned(), value)
        })
        .collect()
}

/// Masks the credentials in a body's text: a JSON document by field name (at any depth), a
/// form-encoded body by parameter name. A body that is neither but mentions a credential's name
/// (e.g. a truncated JSON document) is withheld whole, since its values cannot be told apart.
pub fn body_text(text: &str) -> Cow<'_, str> {
    if text.is_empty() {
        return Cow::Borrowed(text);
    }
    if let Ok(mut value) = serde_json::from_str::<Value>(text) {
        if !mask_json(&mut value) {
            return Cow::Borrowed(text);
        }
        return Cow::Owned(value.to_string());
    }
    if looks_form_encoded(text) {
        let pairs: Vec<(String, String)> = query_pairs(text);
        if !pairs.iter().any(|(key, _)| is_secret_name(key)) {
            return Cow::Borrowed(text);
        }
        return Cow::Owned(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish(),
        );
    }
    let lower = text.to_ascii_lowercase();
    if SECRET_NAMES.iter().any(|name| lower.contains(name)) {
        return Cow::Owned(format!(
            "{MASK} (withheld: {} bytes that name a credential but are neither JSON nor a form)",
            text.len()
        ));
    }
    Cow::Borrowed(text)
}

/// Masks credential fields in place; says whether anything was masked.
fn mask_json(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut masked = false;
            for (key, field) in map.iter_mut() {
                if is_secret_name(key) && !field.is_null() {
                    *field = Value::String(MASK.to_owned());
                    masked = true;
                } else {
                    masked |= mask_json(field);
                }
            }
            masked
        }
        Value::Array(items) => items.iter_mut().fold(false, |acc, v| mask_json(v) | acc),
        _ => false,
    }
}

fn looks_form_encoded(text: &str) -> bool {
    text.contains('=')
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'{' && b != b'"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_whatever_their_case() {
        for name in [
            "secret",
            "SECRET",
            "Access_Token",
            "js_code",
            "JS_CODE",
            "code",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["appid", "openid", "grant_type", "sig_method"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn query_values_of_credentials_are_masked() {
        let pairs =
            query_pairs("appid=wx1&SECRET=s3cr3t&js_code=abc&grant_type=authorization_code");
        assert_eq!(
            pairs,
            vec![
                ("appid".into(), "wx1".into()),
                ("SECRET".into(), MASK.into()),
                ("js_code".into(), MASK.into()),
                ("grant_type".into(), "authorization_code".into()),
            ]
        );
    }

    #[test]
    fn json_bodies_are_masked_at_any_depth_and_keep_their_other_fields() {
        let masked = body_text(r#"{"appid":"wx1","secret":"s3cr3t","x":[{"Session_Key":"k=="}]}"#);
        assert_eq!(
            masked,
            r#"{"appid":"wx1","secret":"***","x":[{"Session_Key":"***"}]}"#
        );
        let untouched = r#"{"errcode":0,"errmsg":"ok"}"#;
        assert!(matches!(body_text(untouched), Cow::Borrowed(_)));
    }

    #[test]
    fn form_bodies_are_masked_and_unparsable_ones_that_name_a_credential_are_withheld() {
        assert_eq!(body_text("appid=wx1&secret=s"), "appid=wx1&secret=***");
        let truncated = r#"{"appid":"wx1","secret":"s3cr"#;
        let withheld = body_text(truncated);
        assert!(
            withheld.starts_with(MASK) && !withheld.contains("s3cr"),
            "{withheld}"
        );
        assert_eq!(body_text("hello world"), "hello world");
    }
}
