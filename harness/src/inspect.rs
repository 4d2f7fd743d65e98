//! Inspection of what the client saw: secrets in answers (bodies, headers, decoded JWT payloads)
//! and stack traces or internal paths in error answers. Pure functions over recorded exchanges,
//! shared by the run-level cases (login.no-secret-leak, access-token.not-exposed,
//! robust.no-stack-trace).

use base64::Engine as _;
use serde_json::Value;

use crate::exchange::Exchange;

/// A secret value found where the client can see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leak {
    /// What the secret is (`appsecret`, `session_key`, `access_token`…).
    pub label: String,
    /// Where: `body of login POST http://…/api/login`, `decoded JWT payload in …`.
    pub place: String,
}

/// Every text the client could read in an answer: the raw body, header values, JSON string
/// values (unescaped), and decoded JWT headers/payloads found anywhere in them.
pub fn visible_texts(x: &Exchange) -> Vec<(String, String)> {
    let Some(r) = &x.response else { return vec![] };
    let at = format!("{} {} {}", x.label, x.method, x.url);
    let mut texts = vec![(format!("body of {at}"), r.body.clone())];
    for (k, v) in &r.headers {
        texts.push((format!("header {k} of {at}"), v.clone()));
    }
    if let Some(j) = &r.json {
        let mut strings = vec![];
        collect_strings(j, &mut strings);
        texts.push((format!("body of {at}"), strings.join("\n")));
    }
    let mut decoded = vec![];
    for (place, text) in &texts {
        for payload in jwt_segments(text) {
            decoded.push((format!("decoded JWT in the {place}"), payload));
        }
    }
    texts.extend(decoded);
    texts
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            collect_strings(x, out)
        }),
        _ => {}
    }
}

/// Decoded header and payload text of every JWT-looking substring (`eyJ…`).
pub fn jwt_segments(text: &str) -> Vec<String> {
    jwt_spans(text)
        .into_iter()
        .flat_map(|(_, decoded)| decoded)
        .collect()
}

/// Every JWT-looking substring (`eyJ…`): its byte range and its decoded header/payload texts.
pub fn jwt_spans(text: &str) -> Vec<(std::ops::Range<usize>, Vec<String>)> {
    let mut out = vec![];
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find("eyJ") {
        let start = i + pos;
        let mut end = start;
        while end < bytes.len()
            && (bytes[end].is_ascii_alphanumeric()
                || matches!(bytes[end], b'-' | b'_' | b'.' | b'+' | b'/' | b'='))
        {
            end += 1;
        }
        let mut decoded = vec![];
        for seg in text[start..end].split('.').take(2) {
            let clean = seg.trim_end_matches('=');
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(clean)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(clean));
            if let Ok(b) = bytes {
                decoded.push(String::from_utf8_lossy(&b).into_owned());
            }
        }
        out.push((start..end, decoded));
        i = end.max(start + 3);
    }
    out
}

/// The first secret (value, label) visible in any of the exchanges.
pub fn find_leak<'a>(
    exchanges: impl IntoIterator<Item = &'a Exchange>,
    secrets: &[(String, String)],
) -> Option<Leak> {
    for x in exchanges {
        for (place, text) in visible_texts(x) {
            for (secret, label) in secrets {
                if secret.len() >= 6 && contains_secret(&text, secret) {
                    return Some(Leak {
                        label: label.clone(),
                        place,
                    });
                }
            }
        }
    }
    None
}

/// Whether `text` contains `secret` as is, with `/` escaped as `\/`, or URL-encoded.
pub fn contains_secret(text: &str, secret: &str) -> bool {
    if text.contains(secret) {
        return true;
    }
    let escaped = secret.replace('/', "\\/");
    if escaped != secret && text.contains(&escaped) {
        return true;
    }
    let encoded = secret
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    encoded != secret && text.contains(&encoded)
}

/// Fixed markers of stack traces and crash dumps in common stacks.
const TRACE_MARKERS: &[&str] = &[
    "panicked at",
    "stack backtrace",
    "RUST_BACKTRACE",
    "Traceback (most recent call last)",
    "at Object.<anonymous>",
    "at Module._compile",
    "at process.processTicksAndRejections",
    "at Layer.handle",
    "node_modules/",
    "node:internal",
    "Exception in thread",
    "java.lang.",
    "at java.",
    "at org.springframework",
    "goroutine ",
    "runtime/panic.go",
    "/usr/src/app",
    "/home/",
    "C:\\Users\\",
    "django/core/handlers",
    "Werkzeug Debugger",
    "Fatal error: ",
    "Stack trace:",
];

/// Source-file extensions whose `file.ext:LINE` pattern betrays an internal path.
const SOURCE_EXTENSIONS: &[&str] = &[
    ".rs", ".js", ".ts", ".mjs", ".cjs", ".go", ".java", ".kt", ".py", ".rb", ".php", ".cs",
];

/// The first stack-trace marker in `text` (e.g. `panicked at`, `src/main.rs:42`).
pub fn stack_trace_marker(text: &str) -> Option<String> {
    for m in TRACE_MARKERS {
        if text.contains(m) {
            return Some((*m).to_string());
        }
    }
    // `something.rs:123` / `app.js:10:5` / `File "x.py", line 3`.
    for ext in SOURCE_EXTENSIONS {
        let mut from = 0;
        while let Some(pos) = text[from..].find(ext) {
            let at = from + pos;
            let rest = &text[at + ext.len()..];
            let preceded_by_name = text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            let line_follows = rest
                .strip_prefix(':')
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                || rest.starts_with("\", line ");
            if preceded_by_name && line_follows {
                let start = text[..at]
                    .rfind(|c: char| c.is_whitespace() || c == '"' || c == '(')
                    .map_or(0, |i| i + 1);
                let end = (at + ext.len() + 6).min(text.len());
                let snippet: String = text
                    .get(start..end)
                    .unwrap_or(ext)
                    .chars()
                    .take(80)
                    .collect();
                return Some(snippet);
            }
            from = at + ext.len();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rust_panic_location_is_a_stack_trace() {
        assert!(stack_trace_marker("thread 'tokio' panicked at src/api/login.rs:42:9").is_some());
        assert!(stack_trace_marker("error at src/api/login.rs:42").is_some());
    }

    #[test]
    fn node_and_python_traces_are_found() {
        assert!(stack_trace_marker("SyntaxError: Unexpected token\n    at JSON.parse (<anonymous>)\n    at parse (/app/node_modules/body-parser/lib/types/json.js:89:19)").is_some());
        assert!(stack_trace_marker("File \"/srv/app/views.py\", line 12, in login").is_some());
    }

    #[test]
    fn plain_error_bodies_are_not_stack_traces() {
        for body in [
            "{\"error\":\"invalid code\"}",
            "{\"error\":\"upstream error\"}",
            "{\"msg\":\"see docs.rs for details\"}",
            "version 1.2.3",
        ] {
            assert_eq!(stack_trace_marker(body), None, "{body}");
        }
    }

    #[test]
    fn a_session_key_inside_a_jwt_payload_is_visible() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"sub":"u-1","sk":"tiihtNczf5v6AKRyjwEUhQ=="}"#);
        let token = format!("eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln");
        let texts = jwt_segments(&format!("{{\"token\":\"{token}\"}}"));
        assert!(texts
            .iter()
            .any(|t| contains_secret(t, "tiihtNczf5v6AKRyjwEUhQ==")));
    }

    #[test]
    fn an_escaped_secret_is_still_found() {
        assert!(contains_secret(
            r#"{"k":"O\/YVQPHxQY18DrsFq+\/bjQ=="}"#,
            "O/YVQPHxQY18DrsFq+/bjQ=="
        ));
    }
}
