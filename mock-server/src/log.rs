//! The request log: one line per WeChat request, with every value that came from outside
//! escaped (a `%0A` in a query must not start a forged line) and credentials masked.

use std::fmt;
use std::future::Future;
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use crate::redact;

/// Displays a value from outside with control characters escaped (`\n`, `\r`, `\t`, `\u{1b}`…),
/// so it stays on its line and cannot drive a terminal. A backslash is doubled, so an escape in
/// the log always means a control character was there.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0;
        if !text.chars().any(|c| c.is_control() || c == '\\') {
            return f.write_str(text);
        }
        for c in text.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                c if c.is_control() => write!(f, "{}", c.escape_default())?,
                c => fmt::Write::write_char(f, c)?,
            }
        }
        Ok(())
    }
}

/// The query as logged: decoded pairs, credentials masked, everything escaped.
pub fn query(raw: Option<&str>) -> String {
    let Some(raw) = raw else {
        return String::new();
    };
    redact::query_pairs(raw)
        .iter()
        .map(|(key, value)| format!("{}={}", Escaped(key), Escaped(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Logs each WeChat request (method, path, query with credentials masked, status, the errcode
/// answered, duration): WeChat answers its errors with HTTP 200, so the status alone says little.
pub async fn request(request: Request, next: Next) -> Response {
    around(request, |request| next.run(request)).await
}

/// [`request`] as a plain function around `inner`, the handler that answers.
pub async fn around<N, F>(request: Request, inner: N) -> Response
where
    N: FnOnce(Request) -> F,
    F: Future<Output = Response>,
{
    if !tracing::enabled!(tracing::Level::INFO) {
        return inner(request).await;
    }
    let method = request.method().clone();
    let uri = request.uri().clone();
    let started = Instant::now();
    let (parts, body) = inner(request).await.into_parts();
    // The journal inside has buffered the body already: collecting it again is a copy-free
    // unwrap of the same bytes.
    let (response, errcode) = match to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            let errcode = Answered::of(&bytes);
            (Response::from_parts(parts, Body::from(bytes)), errcode)
        }
        Err(_) => (crate::fault::dropped_connection(), Answered::Nothing),
    };
    tracing::info!(
        method = %Escaped(method.as_str()),
        path = %Escaped(uri.path()),
        query = %query(uri.query()),
        status = response.status().as_u16(),
        errcode = %errcode,
        micros = started.elapsed().as_micros() as u64,
        "wechat request"
    );
    response
}

/// What a WeChat answer said, for the request log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answered {
    /// `errcode` in the body (0 included).
    Errcode(i64),
    /// A JSON body without `errcode`: a success.
    Success,
    /// A body that is not JSON (a `garbage` fault).
    NotJson,
    /// The connection was dropped (a `reset` fault).
    Nothing,
}

impl Answered {
    fn of(body: &[u8]) -> Self {
        #[derive(serde::Deserialize)]
        struct Envelope {
            errcode: Option<i64>,
        }
        match serde_json::from_slice::<Envelope>(body) {
            Ok(Envelope {
                errcode: Some(errcode),
            }) => Answered::Errcode(errcode),
            Ok(Envelope { errcode: None }) => Answered::Success,
            Err(_) => Answered::NotJson,
        }
    }
}

impl fmt::Display for Answered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answered::Errcode(errcode) => write!(f, "{errcode}"),
            Answered::Success => f.write_str("none (success)"),
            Answered::NotJson => f.write_str("none (not JSON)"),
            Answered::Nothing => f.write_str("none (connection dropped)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newline_in_a_query_value_cannot_forge_a_log_line() {
        let logged = query(Some(
            "appid=wx1%0A2026-01-01T00:00:00Z%20INFO%20forged&x=%1b[31m",
        ));
        assert!(
            !logged.contains('\n') && !logged.contains('\u{1b}'),
            "{logged}"
        );
        assert_eq!(
            logged,
            "appid=wx1\\n2026-01-01T00:00:00Z INFO forged&x=\\u{1b}[31m"
        );
    }

    #[test]
    fn credentials_are_masked_whatever_the_case_of_their_name() {
        let logged = query(Some("appid=wx1&SECRET=s3cr3t&Js_Code=abc&access_token=t"));
        assert_eq!(logged, "appid=wx1&SECRET=***&Js_Code=***&access_token=***");
    }

    #[test]
    fn a_backslash_is_doubled_so_escapes_are_unambiguous() {
        assert_eq!(Escaped("a\\nb").to_string(), "a\\\\nb");
        assert_eq!(Escaped("plain").to_string(), "plain");
    }
}
