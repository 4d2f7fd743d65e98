//! JWTs found in a recorded request, decoded for a reader of the HTML report: which variant a
//! request carried (`alg:none, header {"alg":"None"}`) and what its header and payload say. A
//! display aid only: nothing here judges a token.

use serde_json::Value;

use crate::exchange::Exchange;

/// One token seen in a request.
#[derive(Clone, Debug, PartialEq)]
pub struct SeenToken {
    /// Where it was: `authorization header`, `cookie header`, `url`, `body`.
    pub place: String,
    /// The variant in one line: `alg:HS256`, `alg:none (unsigned), header {"alg":"none"}`.
    pub label: String,
    pub header: String,
    pub payload: String,
}

/// Every JWT in the request's headers, URL and body, in that order (duplicates once).
pub fn tokens_in(x: &Exchange) -> Vec<SeenToken> {
    let mut places: Vec<(String, &str)> = x
        .request_headers
        .iter()
        .map(|(name, value)| {
            (
                format!("{} header", name.to_ascii_lowercase()),
                value.as_str(),
            )
        })
        .collect();
    places.push(("url".to_owned(), x.url.as_str()));
    if let Some(body) = &x.request_body {
        places.push(("body".to_owned(), body.as_str()));
    }
    let mut seen: Vec<SeenToken> = Vec::new();
    let mut raw_seen: Vec<String> = Vec::new();
    for (place, text) in places {
        for candidate in text.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.=".contains(c))) {
            let candidate = candidate.trim_matches('=');
            if candidate.matches('.').count() != 2 || raw_seen.iter().any(|r| r == candidate) {
                continue;
            }
            let Ok(jws) = crate::jwt::decode(candidate) else {
                continue;
            };
            raw_seen.push(candidate.to_owned());
            let header = Value::Object(jws.header.clone());
            let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("?");
            let mut label = format!("alg:{alg}");
            if jws.signature.is_empty() {
                label.push_str(" (unsigned)");
            }
            if alg != "HS256" || jws.header.len() > 2 || jws.signature.is_empty() {
                label.push_str(&format!(", header {header}"));
            }
            let payload = match &jws.payload {
                Some(json) => serde_json::to_string_pretty(json).unwrap_or_default(),
                None => String::from_utf8_lossy(&jws.payload_bytes).into_owned(),
            };
            seen.push(SeenToken {
                place: place.clone(),
                label,
                header: serde_json::to_string_pretty(&header).unwrap_or_default(),
                payload,
            });
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(headers: Vec<(&str, &str)>) -> Exchange {
        Exchange {
            label: "protected call".into(),
            method: "GET".into(),
            url: "http://127.0.0.1:1/api/me".into(),
            request_headers: headers
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            request_body: None,
            response: None,
            error: None,
            failure: None,
            body_cut: None,
            duration_ms: 0,
        }
    }

    #[test]
    fn an_unsigned_token_is_labelled_with_its_header() {
        // {"alg":"None"} . {"sub":"u1"} . (no signature)
        let token = "eyJhbGciOiJOb25lIn0.eyJzdWIiOiJ1MSJ9.";
        let seen = tokens_in(&exchange(vec![(
            "Authorization",
            &format!("Bearer {token}"),
        )]));
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].place, "authorization header");
        assert_eq!(
            seen[0].label,
            r#"alg:None (unsigned), header {"alg":"None"}"#
        );
        assert!(seen[0].payload.contains("\"sub\": \"u1\""));
    }

    #[test]
    fn opaque_tokens_and_plain_text_are_not_taken_for_jwts() {
        let seen = tokens_in(&exchange(vec![
            ("Authorization", "Bearer 3f9a0c1d.e2.77"),
            ("Content-Type", "application/json"),
        ]));
        assert!(seen.is_empty(), "{seen:?}");
    }
}
