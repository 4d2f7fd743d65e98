//! The token itself: decoding a compact JWS whatever its payload, the HMAC algorithms the harness
//! can sign with, and minting.

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Sha256, Sha384, Sha512};

/// Why a string is not a JWS we can read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("token is not a compact JWS: expected 3 dot-separated parts, found {0}")]
    NotCompact(usize),
    #[error("jwt {part} is not valid base64url")]
    Base64 { part: &'static str },
    #[error("jwt {part} is not a JSON object")]
    Json { part: &'static str },
    #[error("jwt header has no \"alg\" string")]
    NoAlg,
    #[error("algorithm {0:?} is not an HMAC algorithm this harness can sign with")]
    UnsupportedAlg(String),
}

/// The HMAC algorithms we can sign and verify with (what nearly every login backend uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HmacAlg {
    Hs256,
    Hs384,
    Hs512,
}

impl HmacAlg {
    pub fn name(self) -> &'static str {
        match self {
            HmacAlg::Hs256 => "HS256",
            HmacAlg::Hs384 => "HS384",
            HmacAlg::Hs512 => "HS512",
        }
    }

    /// Parses a JOSE `alg` value (exact spelling, as RFC 7518 defines it).
    pub fn from_name(alg: &str) -> Option<Self> {
        match alg {
            "HS256" => Some(HmacAlg::Hs256),
            "HS384" => Some(HmacAlg::Hs384),
            "HS512" => Some(HmacAlg::Hs512),
            _ => None,
        }
    }

    /// The smallest key RFC 7518 §3.2 allows: as long as the hash output (32, 48 or 64 bytes).
    pub fn min_key_bytes(self) -> usize {
        match self {
            HmacAlg::Hs256 => 32,
            HmacAlg::Hs384 => 48,
            HmacAlg::Hs512 => 64,
        }
    }

    pub fn sign(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        // `new_from_slice` only fails for fixed-size-key MACs; HMAC takes keys of any length.
        macro_rules! mac {
            ($h:ty) => {{
                let mut mac = <Hmac<$h> as Mac>::new_from_slice(key).expect("hmac accepts any key");
                mac.update(message);
                mac.finalize().into_bytes().to_vec()
            }};
        }
        match self {
            HmacAlg::Hs256 => mac!(Sha256),
            HmacAlg::Hs384 => mac!(Sha384),
            HmacAlg::Hs512 => mac!(Sha512),
        }
    }

    /// Whether `signature` is the MAC of `message` under `key` (no allocation: the brute-force
    /// search calls this millions of times).
    pub fn verify(self, key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        macro_rules! check {
            ($h:ty) => {{
                let mut mac = <Hmac<$h> as Mac>::new_from_slice(key).expect("hmac accepts any key");
                mac.update(message);
                mac.verify_slice(signature).is_ok()
            }};
        }
        match self {
            HmacAlg::Hs256 => check!(Sha256),
            HmacAlg::Hs384 => check!(Sha384),
            HmacAlg::Hs512 => check!(Sha512),
        }
    }
}

/// A decoded compact JWS. The raw segments are kept so forged copies can reuse them byte for byte.
///
/// The payload of a JWS is any bytes: most backends put a JSON object there (then `claims` holds
/// it), but a bare JSON string or number (`jwt.sign("o123", key)` in some libraries) or plain bytes
/// are tokens too, and every JWT case has to judge them (`claims` is then empty).
#[derive(Clone, Debug, PartialEq)]
pub struct Jws {
    pub header: Map<String, Value>,
    /// The payload when it is a JSON object; empty otherwise (see `payload`).
    pub claims: Map<String, Value>,
    /// The payload as JSON, whatever its type (`None` when it is not JSON at all).
    pub payload: Option<Value>,
    /// The payload's bytes, decoded from base64url.
    pub payload_bytes: Vec<u8>,
    pub signature: Vec<u8>,
    pub raw_header: String,
    pub raw_claims: String,
    pub raw_signature: String,
}

impl Jws {
    /// The `alg` header value.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// The HMAC algorithm of the header, if it is one the harness can sign with.
    pub fn hmac_alg(&self) -> Option<HmacAlg> {
        self.alg().and_then(HmacAlg::from_name)
    }

    /// Whether the payload is a JSON object (a claims set).
    pub fn has_claims_object(&self) -> bool {
        matches!(self.payload, Some(Value::Object(_)))
    }

    /// What the payload is, for reports: "a JSON object", "a bare JSON string", "not JSON".
    pub fn payload_kind(&self) -> &'static str {
        match &self.payload {
            Some(Value::Object(_)) => "a JSON object",
            Some(Value::String(_)) => "a bare JSON string",
            Some(Value::Number(_)) => "a bare JSON number",
            Some(Value::Array(_)) => "a JSON array",
            Some(Value::Bool(_)) => "a JSON boolean",
            Some(Value::Null) => "JSON null",
            None => "bytes that are not JSON",
        }
    }

    /// The bytes the signature covers: `header.claims` exactly as received.
    pub fn signing_input(&self) -> String {
        format!("{}.{}", self.raw_header, self.raw_claims)
    }

    /// A numeric claim (`exp`, `iat`, `nbf`), accepting integers and floats.
    pub fn numeric_claim(&self, name: &str) -> Option<i64> {
        let v = self.claims.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }

    /// True when the signature verifies with `secret` under the header's HMAC algorithm.
    pub fn verifies_with(&self, secret: &[u8]) -> bool {
        match self.hmac_alg() {
            Some(alg) => alg.verify(secret, self.signing_input().as_bytes(), &self.signature),
            None => false,
        }
    }
}

/// Decodes base64url with or without padding; also tolerates the standard alphabet, which some
/// hand-rolled JWT libraries emit.
pub fn b64_decode_lenient(s: &str) -> Option<Vec<u8>> {
    let trimmed = s.trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(trimmed)
        .or_else(|_| STANDARD_NO_PAD.decode(trimmed))
        .ok()
}

/// base64url without padding, as JWS requires.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a compact JWS. Opaque tokens (no dots, no base64 JSON header with an `alg`) give an
/// error, which callers treat as "not a JWT" and skip JWT-only checks with that reason. The
/// payload may be anything: only the header has to be a JSON object.
pub fn decode(token: &str) -> Result<Jws, JwtError> {
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(JwtError::NotCompact(parts.len()));
    }
    let header = decode_object(parts[0], "header")?;
    if !header.get("alg").is_some_and(Value::is_string) {
        return Err(JwtError::NoAlg);
    }
    let payload_bytes = b64_decode_lenient(parts[1]).ok_or(JwtError::Base64 { part: "payload" })?;
    let signature = b64_decode_lenient(parts[2]).ok_or(JwtError::Base64 { part: "signature" })?;
    let payload = serde_json::from_slice::<Value>(&payload_bytes).ok();
    let claims = match &payload {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    Ok(Jws {
        header,
        claims,
        payload,
        payload_bytes,
        signature,
        raw_header: parts[0].to_owned(),
        raw_claims: parts[1].to_owned(),
        raw_signature: parts[2].to_owned(),
    })
}

fn decode_object(segment: &str, part: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = b64_decode_lenient(segment).ok_or(JwtError::Base64 { part })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Json { part }),
    }
}

pub(crate) fn encode_object(map: &Map<String, Value>) -> String {
    // Serialising a `Map<String, Value>` cannot fail: every key is a string.
    b64url(&serde_json::to_vec(map).expect("json object serialises"))
}

/// Signs `claims` with `header` (whose `alg` must be HS256/384/512) and returns the compact JWS.
pub fn mint_with_header(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    secret: &[u8],
) -> Result<String, JwtError> {
    // Serialising a `Map<String, Value>` cannot fail: every key is a string.
    let payload = serde_json::to_vec(claims).expect("json object serialises");
    sign_payload(header, &payload, secret)
}

/// Signs any payload bytes with `header` (HS256/384/512) and returns the compact JWS.
pub fn sign_payload(
    header: &Map<String, Value>,
    payload: &[u8],
    secret: &[u8],
) -> Result<String, JwtError> {
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(JwtError::NoAlg)?;
    let alg = HmacAlg::from_name(alg_name)
        .ok_or_else(|| JwtError::UnsupportedAlg(alg_name.to_owned()))?;
    let input = format!("{}.{}", encode_object(header), b64url(payload));
    let signature = alg.sign(secret, input.as_bytes());
    Ok(format!("{input}.{}", b64url(&signature)))
}

/// Signs `claims` with a plain `{"alg":…,"typ":"JWT"}` header.
pub fn mint(alg: HmacAlg, claims: &Map<String, Value>, secret: &[u8]) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), Value::from(alg.name()));
    header.insert("typ".into(), Value::from("JWT"));
    // The header names an HMAC algorithm, so signing cannot fail.
    mint_with_header(&header, claims, secret).expect("hmac header signs")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    /// A token whose payload is `payload` (any JSON, or raw bytes), signed with `key`.
    pub(crate) fn token_with_payload(payload: &[u8], key: &[u8]) -> String {
        let header = obj(json!({"alg": "HS256", "typ": "JWT"}));
        sign_payload(&header, payload, key).unwrap()
    }

    /// The example token jwt.io shows, signed with `your-256-bit-secret`.
    pub(crate) const JWT_IO: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    #[test]
    fn the_jwt_io_example_decodes_and_verifies_with_its_published_secret() {
        let jws = decode(JWT_IO).unwrap();
        assert_eq!(jws.alg(), Some("HS256"));
        assert_eq!(jws.claims["sub"], "1234567890");
        assert!(jws.has_claims_object());
        assert!(jws.verifies_with(b"your-256-bit-secret"));
        assert!(!jws.verifies_with(b"other"));
    }

    #[test]
    fn opaque_tokens_are_not_jws() {
        assert_eq!(
            decode("5d41402abc4b2a76b9719d911017c592"),
            Err(JwtError::NotCompact(1))
        );
        assert!(decode("a.b.c").is_err());
    }

    #[test]
    fn a_bare_string_number_or_byte_payload_is_still_a_jws() {
        for (payload, kind) in [
            (
                &b"\"oGZUI0egBJY1zhBYw2KhdUfwVJJE\""[..],
                "a bare JSON string",
            ),
            (b"42", "a bare JSON number"),
            (b"\x00\xffnot json", "bytes that are not JSON"),
        ] {
            let jws = decode(&token_with_payload(payload, b"k")).unwrap();
            assert_eq!(jws.payload_kind(), kind);
            assert!(jws.claims.is_empty());
            assert_eq!(jws.payload_bytes, payload);
            assert!(jws.verifies_with(b"k"));
            assert_eq!(jws.numeric_claim("exp"), None);
        }
    }

    #[test]
    fn minted_tokens_round_trip_for_every_hmac_alg() {
        let claims = obj(json!({"sub": "u-1", "exp": 1_700_000_000, "nick": "微信用户😀"}));
        for alg in [HmacAlg::Hs256, HmacAlg::Hs384, HmacAlg::Hs512] {
            let token = mint(alg, &claims, b"k3y");
            let jws = decode(&token).unwrap();
            assert_eq!(jws.alg(), Some(alg.name()));
            assert_eq!(jws.claims, claims);
            assert!(jws.verifies_with(b"k3y"));
            let again = mint_with_header(&jws.header, &jws.claims, b"k3y").unwrap();
            assert_eq!(again, token);
        }
    }

    #[test]
    fn padded_base64_segments_are_tolerated() {
        let token = mint(HmacAlg::Hs256, &obj(json!({"a": 1})), b"k");
        let parts: Vec<&str> = token.split('.').collect();
        let padded = |s: &str| format!("{s}{}", "=".repeat((4 - s.len() % 4) % 4));
        let with_padding = format!("{}.{}.{}", padded(parts[0]), padded(parts[1]), parts[2]);
        assert_eq!(decode(&with_padding).unwrap().claims["a"], 1);
    }

    #[test]
    fn minting_with_an_asymmetric_header_is_refused() {
        let header = obj(json!({"alg": "RS256"}));
        assert_eq!(
            mint_with_header(&header, &Map::new(), b"k"),
            Err(JwtError::UnsupportedAlg("RS256".into()))
        );
    }

    #[test]
    fn rfc_7518_minimum_key_sizes_follow_the_hash() {
        assert_eq!(HmacAlg::Hs256.min_key_bytes(), 32);
        assert_eq!(HmacAlg::Hs384.min_key_bytes(), 48);
        assert_eq!(HmacAlg::Hs512.min_key_bytes(), 64);
    }
}
