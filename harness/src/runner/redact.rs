//! Secrets never reach a report: the appsecret, every session_key and access token the fake
//! handed out, the profile's JWT key, and any JWT whose readable payload carries one of them.

use serde_json::Value;

use crate::case::Outcome;
use crate::exchange::Evidence;
use crate::fake::Fake;

/// Values that must never appear in a report: the appsecret, every session_key and access token
/// the fake handed out, and the profile's JWT secret.
pub(super) async fn known_secrets(
    fake: &Fake,
    jwt_secret: Option<&str>,
) -> Vec<(String, &'static str)> {
    let mut out = vec![(fake.secret().to_string(), "appsecret")];
    // A weak key is public knowledge (that is what token.weak-secret reports), and redacting a
    // dictionary word such as "secret" would mangle every sentence that contains it.
    if let Some(s) = jwt_secret.filter(|s| s.len() >= 8 && !crate::jwt::WEAK_SECRETS.contains(s)) {
        out.push((s.to_string(), "jwt secret"));
    }
    if let Ok(entries) = fake.journal(None, 0).await {
        for e in entries {
            let Some(body) = e.response_json() else {
                continue;
            };
            for (field, label) in [
                ("session_key", "session_key"),
                ("access_token", "access_token"),
            ] {
                if let Some(Value::String(s)) = body.get(field) {
                    if !s.is_empty() {
                        out.push((s.clone(), label));
                    }
                }
            }
        }
    }
    // Longest first, so a secret containing another is replaced whole.
    out.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
    out.dedup_by(|a, b| a.0 == b.0);
    out.retain(|(s, _)| s.len() >= 6);
    out
}

/// Replaces every known secret (and its JSON-escaped and URL-encoded forms) in `text`, and every
/// JWT whose readable payload carries one (base64 is not a hiding place).
pub fn redact_text(text: &str, secrets: &[(String, &'static str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (span, decoded) in crate::inspect::jwt_spans(text) {
        let carried = secrets.iter().find(|(secret, _)| {
            decoded
                .iter()
                .any(|d| crate::inspect::contains_secret(d, secret))
        });
        if let Some((_, label)) = carried {
            out.push_str(&text[last..span.start]);
            out.push_str(&format!("<redacted JWT carrying a {label}>"));
            last = span.end;
        }
    }
    out.push_str(&text[last..]);
    for (secret, label) in secrets {
        let mark = format!("<redacted {label}>");
        out = out.replace(secret.as_str(), &mark);
        let escaped = secret.replace('/', "\\/");
        if escaped != *secret {
            out = out.replace(&escaped, &mark);
        }
        let url_encoded = secret
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        if url_encoded != *secret {
            out = out.replace(&url_encoded, &mark);
        }
    }
    out
}

pub(super) fn redact_outcome(outcome: &mut Outcome, secrets: &[(String, &'static str)]) {
    if secrets.is_empty() {
        return;
    }
    match outcome {
        Outcome::Failed { reason, evidence } | Outcome::Errored { reason, evidence } => {
            *reason = redact_text(reason, secrets);
            for e in evidence.iter_mut() {
                if let Ok(v) = serde_json::to_value(&*e) {
                    let text = redact_text(&v.to_string(), secrets);
                    if let Ok(v) = serde_json::from_str::<Value>(&text) {
                        *e = evidence_from_value(v, e);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Rebuilds an evidence item from its redacted JSON form.
fn evidence_from_value(v: Value, original: &Evidence) -> Evidence {
    match original {
        Evidence::Note { .. } => {
            Evidence::note(v.get("text").and_then(Value::as_str).unwrap_or_default())
        }
        Evidence::Journal { .. } => Evidence::Journal {
            entry: v.get("entry").cloned().unwrap_or(Value::Null),
        },
        Evidence::Exchange(x) => {
            let mut x = x.clone();
            let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
            x.url = s("url").unwrap_or(x.url);
            x.request_body = s("request_body").or(x.request_body);
            x.error = s("error").or(x.error);
            if let Some(hs) = v.get("request_headers").and_then(Value::as_array) {
                x.request_headers = hs.iter().filter_map(pair).collect();
            }
            if let (Some(r), Some(rv)) = (x.response.as_mut(), v.get("response")) {
                if let Some(b) = rv.get("body").and_then(Value::as_str) {
                    r.body = b.to_string();
                    r.json = serde_json::from_str(b).ok();
                }
                if let Some(hs) = rv.get("headers").and_then(Value::as_array) {
                    r.headers = hs.iter().filter_map(pair).collect();
                }
            }
            Evidence::Exchange(x)
        }
    }
}

fn pair(v: &Value) -> Option<(String, String)> {
    let a = v.as_array()?;
    Some((
        a.first()?.as_str()?.to_string(),
        a.get(1)?.as_str()?.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::redact_text;

    #[test]
    fn secrets_and_jwts_carrying_them_are_redacted() {
        let key = "tiihtNczf5v6AKRyjwEUhQ==";
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let jwt = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"HS256"}"#),
            b64(&format!(r#"{{"sk":"{key}"}}"#))
        );
        let clean = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"HS256"}"#),
            b64(r#"{"sub":"u1"}"#)
        );
        let text = format!(
            r#"{{"a":"{jwt}","b":"{clean}","c":"{key}","d":"tiihtNczf5v6AKRyjwEUhQ%3D%3D"}}"#
        );
        let out = redact_text(&text, &[(key.to_string(), "session_key")]);
        assert!(!out.contains(key) && !out.contains(&jwt), "{out}");
        assert!(out.contains("<redacted JWT carrying a session_key>"));
        assert!(out.contains(&clean), "a JWT without secrets stays readable");
        assert_eq!(out.matches("<redacted session_key>").count(), 2, "{out}");
    }
}
