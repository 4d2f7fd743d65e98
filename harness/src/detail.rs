//! Internal detail in an error answer: what a runtime, a crypto library, a database driver or an
//! HTTP client says when it fails (`Cannot read properties of undefined`, `bad decrypt`,
//! `SQLITE_CONSTRAINT`, `socket hang up`…), as opposed to a message written for the client
//! (`{"errmsg":"invalid code"}`, an errcode such as 40029). Pure functions over a text, used by
//! `robust.no-internal-detail`; stack traces are `inspect::stack_trace_marker`'s business.
//!
//! The markers are exact, case-sensitive library texts, chosen so that a message a developer
//! wrote on purpose does not match: `TypeError` but not "type error", `ECONNRESET` but not
//! "connection problem", `ER_DUP_ENTRY` only as a word of its own (so `USER_NOT_FOUND` is fine).

/// Library texts by family: what a failing runtime, crypto library, database driver or HTTP
/// client writes into the exception message a careless handler sends to the client.
const MARKERS: &[(&str, &[&str])] = &[
    (
        "a runtime exception",
        &[
            "TypeError",
            "KeyError",
            "AttributeError",
            "ReferenceError",
            "IndexError",
            "NameError",
            "ValueError",
            "ZeroDivisionError",
            "UnboundLocalError",
            "RangeError",
            "NullPointerException",
            "NoneType",
            "object has no attribute",
            "Cannot read properties of",
            "Cannot read property '",
            "Cannot destructure property",
            "is not a function",
            "is not iterable",
            "undefined is not an object",
            "argument must be of type",
            "nil pointer dereference",
            "invalid memory address",
            "called `Option::unwrap()`",
            "called `Result::unwrap()`",
            "SyntaxError",
            "Unexpected token",
            "is not valid JSON",
            "Unexpected end of JSON input",
            "unexpected end of JSON input",
            "JSONDecodeError",
            "Expecting value: line",
            "looking for beginning of value",
            "json: cannot unmarshal",
            "Unexpected character (",
        ],
    ),
    (
        "a crypto library error",
        &[
            "bad decrypt",
            "wrong final block length",
            "Data must be padded",
            "Invalid padding",
            "Incorrect padding",
            "Padding is incorrect",
            "padding is incorrect",
            "Unpad Error",
            "UnpadError",
            "Invalid initialization vector",
            "Invalid key length",
            "Incorrect IV length",
            "BadPaddingException",
            "Given final block not properly padded",
            "javax.crypto",
            "ERR_OSSL",
            "Provider routines",
            "not a multiple of the block length",
            "Invalid base64",
            "Invalid symbol",
            "Invalid last symbol",
            "6-bit remainder",
            "Non-base64 digit",
            "binascii.Error",
            "illegal base64 data",
            "crypto/aes",
            "crypto/cipher",
        ],
    ),
    (
        "a database error",
        &[
            "sqlite3.",
            "UNIQUE constraint failed",
            "no such table",
            "no such column",
            "syntax error at or near",
            "duplicate key value violates",
            "violates foreign key constraint",
            "violates not-null constraint",
            "You have an error in your SQL syntax",
            "SQLSTATE",
            "psycopg2",
            "pymysql",
            "MySQLdb",
            "sqlalchemy",
            "Sequelize",
            "MongoServerError",
            "MongoError",
            "E11000",
            "QueryFailedError",
            "PrismaClient",
            "sql: no rows",
            "IntegrityError",
            "OperationalError",
            "ProgrammingError",
            "Deadlock found",
            "Lock wait timeout exceeded",
            "WRONGTYPE",
        ],
    ),
    (
        "an HTTP client or socket error",
        &[
            "socket hang up",
            "ECONNRESET",
            "ETIMEDOUT",
            "ECONNREFUSED",
            "ENOTFOUND",
            "EAI_AGAIN",
            "EPIPE",
            "ESOCKETTIMEDOUT",
            "EHOSTUNREACH",
            "UND_ERR",
            "fetch failed",
            "getaddrinfo",
            "Connection reset by peer",
            "Connection refused",
            "connection closed before message completed",
            "error sending request",
            "Max retries exceeded",
            "HTTPConnectionPool",
            "HTTPSConnectionPool",
            "RemoteDisconnected",
            "Remote end closed connection",
            "ConnectionResetError",
            "IncompleteRead",
            "Read timed out",
            "urllib3",
            "urlopen error",
            "dial tcp",
            "context deadline exceeded",
            "i/o timeout",
            "Client.Timeout exceeded",
            "AxiosError",
            "Request failed with status code",
        ],
    ),
    (
        "WeChat's own answer or address",
        &[
            "api.weixin.qq.com",
            "jscode2session?",
            // The fake's garbage body, passed on as it came.
            "wxmock}{",
        ],
    ),
];

/// Database error codes that only count as a word of their own followed by an upper-case
/// letter: `SQLITE_CONSTRAINT`, `ER_DUP_ENTRY` (MySQL), `ORA-00001` (a digit follows).
const CODE_PREFIXES: &[(&str, bool)] = &[("SQLITE_", false), ("ER_", false), ("ORA-", true)];

/// Internal detail found in a text: its family and the text that matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detail {
    /// `a runtime exception`, `a crypto library error`, `a database error`…
    pub family: &'static str,
    /// What matched, as it reads in the answer (a secret in it is masked).
    pub text: String,
    /// The marker itself (`TypeError`, `ER_DUP_ENTRY`…), to tell an answer that repeats the
    /// client's own input from one that passes an internal text on.
    pub marker: String,
}

/// What the run knows beyond the fixed markers: the fake's address (an answer naming it passes
/// WeChat's URL on) and texts the fake was made to answer (an answer carrying one echoes it).
#[derive(Clone, Debug, Default)]
pub struct Echoes {
    /// `127.0.0.1:40123`: where the fake listens.
    pub fake_address: Option<String>,
    /// Bodies the fake was made to send (distinctive markers, 12 characters or more).
    pub upstream_texts: Vec<String>,
}

/// The first internal detail in `text`; an appsecret in a `secret=` parameter it shows is masked.
pub fn internal_detail(text: &str, echoes: &Echoes) -> Option<Detail> {
    first_detail(text, echoes).map(|mut d| {
        d.text = mask_secret_parameters(&d.text);
        d
    })
}

/// `…&secret=abc123&…` → `…&secret=<masked>&…`.
fn mask_secret_parameters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("secret=") {
        let (head, tail) = rest.split_at(pos + "secret=".len());
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '&' || c == '"' || c == '\'' || c.is_whitespace() || c == ')')
            .unwrap_or(tail.len());
        if end > 0 {
            out.push_str("<masked>");
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn first_detail(text: &str, echoes: &Echoes) -> Option<Detail> {
    for (family, markers) in MARKERS {
        if let Some(m) = markers.iter().find(|m| text.contains(**m)) {
            return Some(Detail {
                family,
                text: context_of(text, m),
                marker: (*m).to_string(),
            });
        }
    }
    for (prefix, digit) in CODE_PREFIXES {
        if let Some(code) = code_word(text, prefix, *digit) {
            return Some(Detail {
                family: "a database error",
                marker: code.clone(),
                text: code,
            });
        }
    }
    if let Some(t) = timeout_of_ms(text) {
        return Some(Detail {
            family: "an HTTP client or socket error",
            marker: t.clone(),
            text: t,
        });
    }
    if let Some(at) = secret_parameter(text) {
        return Some(Detail {
            family: "WeChat's own answer or address",
            text: format!("secret=<masked> (a WeChat URL with the appsecret, at byte {at})"),
            marker: "secret=".into(),
        });
    }
    if let Some(addr) = echoes.fake_address.as_deref().filter(|a| text.contains(a)) {
        return Some(Detail {
            family: "WeChat's own answer or address",
            text: format!("{addr} (the address of WeChat, here the fake)"),
            marker: addr.to_string(),
        });
    }
    for t in &echoes.upstream_texts {
        if t.len() >= 12 && text.contains(t.as_str()) {
            return Some(Detail {
                family: "WeChat's own answer or address",
                text: format!("{t} (the body WeChat sent)"),
                marker: t.clone(),
            });
        }
    }
    None
}

/// The marker with a little of what surrounds it (on character boundaries, one line).
fn context_of(text: &str, marker: &str) -> String {
    let Some(at) = text.find(marker) else {
        return marker.to_string();
    };
    let mut before: String = text[..at]
        .chars()
        .rev()
        .take(24)
        .take_while(|c| *c != '\n')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    // Start on a word: drop a word cut in half.
    if before.chars().count() == 24 {
        if let Some(space) = before.find(' ') {
            before = before[space + 1..].to_string();
        }
    }
    let after: String = text[at + marker.len()..]
        .chars()
        .take(40)
        .take_while(|c| *c != '\n')
        .collect();
    format!("{before}{marker}{after}").trim().to_string()
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `SQLITE_CONSTRAINT` / `ER_DUP_ENTRY` / `ORA-00001` as a word of its own.
fn code_word(text: &str, prefix: &str, digit_follows: bool) -> Option<String> {
    let mut from = 0;
    while let Some(pos) = text[from..].find(prefix) {
        let at = from + pos;
        let starts_word = !text[..at].chars().next_back().is_some_and(is_word_char);
        let rest = &text[at + prefix.len()..];
        let follows = rest.chars().next().is_some_and(|c| {
            if digit_follows {
                c.is_ascii_digit()
            } else {
                c.is_ascii_uppercase()
            }
        });
        if starts_word && follows {
            let tail: String = rest
                .chars()
                .take_while(|c| is_word_char(*c) && !c.is_ascii_lowercase())
                .take(40)
                .collect();
            return Some(format!("{prefix}{tail}"));
        }
        from = at + prefix.len();
    }
    None
}

/// axios's `timeout of 3000ms exceeded`.
fn timeout_of_ms(text: &str) -> Option<String> {
    let mut from = 0;
    while let Some(pos) = text[from..].find("timeout of ") {
        let at = from + pos;
        let rest = &text[at + "timeout of ".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && rest[digits.len()..].starts_with("ms exceeded") {
            return Some(format!("timeout of {digits}ms exceeded"));
        }
        from = at + 1;
    }
    None
}

/// Where a `secret=<value>` query parameter starts (a WeChat URL with the appsecret in it).
fn secret_parameter(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = text[from..].find("secret=") {
        let at = from + pos;
        let in_query = text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c == '?' || c == '&');
        let valued = text[at + "secret=".len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if in_query && valued {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Option<Detail> {
        internal_detail(text, &Echoes::default())
    }

    #[test]
    fn messages_written_for_the_client_are_not_internal_detail() {
        for body in [
            r#"{"errmsg":"invalid code"}"#,
            r#"{"error":"invalid code","errcode":40029}"#,
            r#"{"errcode":40029,"errmsg":"invalid code, rid: 6571a0c2-4b1f"}"#,
            r#"{"error":"wechat busy, retry later"}"#,
            r#"{"error":"upstream error"}"#,
            r#"{"error":"invalid encrypted data"}"#,
            r#"{"error":"unauthorized"}"#,
            r#"{"code":"USER_NOT_FOUND","message":"no such user"}"#,
            r#"{"code":"INVALID_TOKEN"}"#,
            r#"{"error":"token expired, please log in again"}"#,
            "<!DOCTYPE html><html><body><pre>Cannot GET /nope</pre></body></html>",
            "Internal Server Error",
            r#"{"msg":"the type of the code field is wrong"}"#,
        ] {
            assert_eq!(found(body), None, "{body}");
        }
    }

    #[test]
    fn node_exception_messages_are_found() {
        let d =
            found(r#"{"error":"Cannot read properties of undefined (reading 'openid')"}"#).unwrap();
        assert_eq!(d.family, "a runtime exception");
        assert!(d.text.contains("reading 'openid'"), "{}", d.text);
        assert!(found(r#"{"error":"data.map is not a function"}"#).is_some());
        assert!(found(
            r#"{"error":"Unexpected token '<', \"<html>\r\n<h\"... is not valid JSON"}"#
        )
        .is_some());
    }

    #[test]
    fn crypto_library_errors_are_found() {
        for text in [
            "error:1C800064:Provider routines::bad decrypt",
            "wrong final block length",
            "Data must be padded to 16 byte boundary in CBC mode",
            "PKCS#7 padding is incorrect.",
            "Invalid initialization vector",
            "Unpad Error",
            "binascii.Error: Incorrect padding",
        ] {
            let d = found(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(d.family, "a crypto library error", "{text}");
        }
    }

    #[test]
    fn database_codes_count_only_as_words_of_their_own() {
        assert_eq!(
            found(r#"{"error":"ER_DUP_ENTRY: Duplicate entry 'o1' for key 'openid'"}"#)
                .map(|d| d.text),
            Some("ER_DUP_ENTRY".into())
        );
        assert!(found("SQLITE_CONSTRAINT: UNIQUE constraint failed: users.openid").is_some());
        assert!(found("ORA-00001: unique constraint violated").is_some());
        assert_eq!(found(r#"{"code":"USER_NOT_FOUND"}"#), None);
        assert_eq!(found(r#"{"code":"ORDER_CLOSED"}"#), None);
        assert_eq!(found("SQLITE_"), None);
    }

    #[test]
    fn socket_and_http_client_errors_are_found() {
        for text in [
            "socket hang up",
            "read ECONNRESET",
            "connect ETIMEDOUT 127.0.0.1:443",
            "timeout of 3000ms exceeded",
            "Request failed with status code 502",
        ] {
            let d = found(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(d.family, "an HTTP client or socket error", "{text}");
        }
        assert_eq!(found("timeout of the session"), None);
    }

    #[test]
    fn a_wechat_url_with_the_appsecret_is_found_and_masked() {
        let d = found("GET /sns/jscode2session?appid=wx1&secret=abcdef0123456789&js_code=x failed")
            .unwrap();
        assert!(!d.text.contains("abcdef0123456789"), "{}", d.text);
        assert_eq!(
            found(r#"{"error":"the secret= field is not supported"}"#),
            None
        );
    }

    #[test]
    fn what_the_fake_sent_and_where_it_listens_are_echoes() {
        let echoes = Echoes {
            fake_address: Some("127.0.0.1:40123".into()),
            upstream_texts: vec!["wxmock upstream page 1f2e3d4c".into()],
        };
        assert!(internal_detail("request to http://127.0.0.1:40123/x failed", &echoes).is_some());
        assert!(internal_detail(r#"{"error":"wxmock upstream page 1f2e3d4c"}"#, &echoes).is_some());
        assert!(internal_detail("{\"error\":\"wxmock}{ not json\"}", &echoes).is_some());
        assert_eq!(
            internal_detail(r#"{"error":"upstream error"}"#, &echoes),
            None
        );
    }
}
