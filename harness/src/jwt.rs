//! JWT inspection and minting for the token.* cases.
//!
//! The harness has to look inside whatever token a backend hands out without trusting it: decode a
//! compact JWS, re-sign claims with a known secret, forge unsigned (`alg:none`) and tampered copies,
//! look for weak HMAC keys, sensitive claims and tokens derived from user identifiers. Everything here
//! is a pure function on strings so it can be unit-tested without a backend; `jsonwebtoken` is not
//! used on purpose, because it refuses to produce exactly the malformed tokens we need.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::Md5;
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

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
}

/// A decoded compact JWS. The raw segments are kept so forged copies can reuse them byte for byte.
#[derive(Clone, Debug, PartialEq)]
pub struct Jws {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
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
        match self.alg().and_then(HmacAlg::from_name) {
            Some(alg) => alg.sign(secret, self.signing_input().as_bytes()) == self.signature,
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

/// Decodes a compact JWS. Opaque tokens (no dots, not base64 JSON) give an error, which callers
/// treat as "not a JWT" and skip JWT-only checks with that reason.
pub fn decode(token: &str) -> Result<Jws, JwtError> {
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(JwtError::NotCompact(parts.len()));
    }
    let header = decode_object(parts[0], "header")?;
    let claims = decode_object(parts[1], "payload")?;
    let signature = b64_decode_lenient(parts[2]).ok_or(JwtError::Base64 { part: "signature" })?;
    if !header.get("alg").is_some_and(Value::is_string) {
        return Err(JwtError::NoAlg);
    }
    Ok(Jws {
        header,
        claims,
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

fn encode_object(map: &Map<String, Value>) -> String {
    // Serialising a `Map<String, Value>` cannot fail: every key is a string.
    b64url(&serde_json::to_vec(map).expect("json object serialises"))
}

/// Signs `claims` with `header` (whose `alg` must be HS256/384/512) and returns the compact JWS.
pub fn mint_with_header(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    secret: &[u8],
) -> Result<String, JwtError> {
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(JwtError::NoAlg)?;
    let alg = HmacAlg::from_name(alg_name)
        .ok_or_else(|| JwtError::UnsupportedAlg(alg_name.to_owned()))?;
    let input = format!("{}.{}", encode_object(header), encode_object(claims));
    let signature = alg.sign(secret, input.as_bytes());
    Ok(format!("{input}.{}", b64url(&signature)))
}

/// Signs `claims` with a plain `{"alg":…,"typ":"JWT"}` header.
pub fn mint(alg: HmacAlg, claims: &Map<String, Value>, secret: &[u8]) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), Value::from(alg.name()));
    header.insert("typ".into(), Value::from("JWT"));
    let input = format!("{}.{}", encode_object(&header), encode_object(claims));
    let signature = alg.sign(secret, input.as_bytes());
    format!("{input}.{}", b64url(&signature))
}

/// An unsigned copy of a token, with a label saying which spelling it tries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForgedToken {
    pub label: String,
    pub token: String,
}

/// Unsigned `alg:none` copies of `jws` (same claims and other header fields) in the spellings
/// known to slip through broken libraries: `none`, `None`, `NONE`, `nOnE`, each with an empty
/// signature after a trailing dot, with no trailing dot, and with the original signature kept.
pub fn alg_none_copies(jws: &Jws) -> Vec<ForgedToken> {
    let claims = encode_object(&jws.claims);
    let mut out = Vec::new();
    for spelling in ["none", "None", "NONE", "nOnE"] {
        let mut header = jws.header.clone();
        header.insert("alg".into(), Value::from(spelling));
        let input = format!("{}.{}", encode_object(&header), claims);
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
/// Changes `sub` (or, without one, the first string or number claim that is not a time claim; or
/// adds `"admin":true`). Returns the token and a description of the change.
pub fn tamper(jws: &Jws) -> ForgedToken {
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

/// Weak or published HMAC secrets: framework and tutorial defaults, README samples, common passwords.
/// The run's appid and appsecret are added by the caller, since teams really reuse them as JWT keys.
#[rustfmt::skip]
pub const WEAK_SECRETS: &[&str] = &[
    // JWT docs and library READMEs
    "secret", "your-256-bit-secret", "your-384-bit-secret", "your-512-bit-secret", "shhhhh",
    "shhhhhared-secret", "keyboard cat", "secretOrPrivateKey", "secretkey", "secret-key",
    "secret_key", "SECRET_KEY", "SecretKey", "my-secret", "mysecret", "mySecret", "my_secret",
    "my-secret-key", "mysecretkey", "your-secret-key", "your_secret_key", "yoursecret",
    "supersecret", "super-secret", "supersecretkey", "super_secret_key", "topsecret", "jwt",
    "jwt-secret", "jwt_secret", "jwtsecret", "JWT_SECRET", "jwtSecret", "jwt-key", "jwtkey",
    "token", "tokensecret", "token-secret", "auth", "authsecret", "auth-secret", "session",
    "sessionsecret", "session-secret", "app", "appsecret", "app-secret", "app_secret", "api",
    "apisecret", "api-secret", "api_key", "key", "private", "privatekey", "private-key", "hmac",
    "hmacsecret", "signing-key", "sign", "signature",
    // framework and boilerplate defaults (Egg, Koa, Django, Laravel, Spring samples, tutorials)
    "egg-jwt", "koa-jwt", "koajwt", "express-jwt", "django-insecure", "changeme", "change-me",
    "change_me", "changethis", "CHANGEME", "replace-me", "replaceme", "todo", "default",
    "defaultsecret", "default-secret", "example", "test", "testing", "test-secret", "testsecret",
    "dev", "development", "dev-secret", "devsecret", "local", "demo", "sample", "mini-program",
    "miniprogram", "wechat", "weixin", "wx", "wxapp", "weapp", "mp", "login", "user", "admin",
    "root", "guest", "server",
    // common passwords, short words and digits
    "password", "Password", "password1", "pass", "passwd", "P@ssw0rd", "qwerty", "qwerty123",
    "abc123", "abcdef", "letmein", "welcome", "iloveyou", "monkey", "dragon", "master", "hello",
    "hello world", "helloworld", "foobar", "foo", "bar", "baz", "a", "x", "s", "0", "1", "12",
    "123", "1234", "12345", "123456", "1234567", "12345678", "123456789", "1234567890", "000000",
    "111111", "888888", "666666", "abcdefg", "abcdefgh", "asdf", "asdfgh", "zxcvbn", "secret123",
    "secret1", "Secret", "SECRET", "s3cr3t", "s3cret", "",
];

/// The first candidate under which the token's HMAC signature verifies: the dictionary above plus
/// `extra` (e.g. the run's appid and appsecret). `None` for non-HMAC tokens or strong keys.
pub fn find_weak_secret(jws: &Jws, extra: &[&str]) -> Option<String> {
    let alg = HmacAlg::from_name(jws.alg()?)?;
    let input = jws.signing_input();
    extra
        .iter()
        .copied()
        .chain(WEAK_SECRETS.iter().copied())
        .find(|candidate| alg.sign(candidate.as_bytes(), input.as_bytes()) == jws.signature)
        .map(str::to_owned)
}

/// A secret value the harness knows and must never find inside a token.
#[derive(Clone, Debug)]
pub struct KnownSecret<'a> {
    /// What it is, for the report ("session_key of user o…", "appsecret").
    pub label: &'a str,
    pub value: &'a str,
}

/// Something sensitive found in a token's claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SensitiveClaim {
    /// JSON pointer of the claim inside the payload.
    pub pointer: String,
    pub why: String,
}

/// Claim names that mean a secret travels in the token, compared after lowercasing and dropping
/// `_`/`-` so `session_key`, `sessionKey` and `SESSION-KEY` all match.
const SENSITIVE_NAMES: &[&str] = &[
    "sessionkey",
    "wxsessionkey",
    "appsecret",
    "secret",
    "clientsecret",
    "accesstoken",
    "password",
    "passwd",
];

/// Finds sensitive claims: a name from the list above, or any string value that contains a known
/// secret value (session keys from the journal, the appsecret, access tokens).
pub fn sensitive_claims(
    claims: &Map<String, Value>,
    known: &[KnownSecret<'_>],
) -> Vec<SensitiveClaim> {
    let mut found = Vec::new();
    for (name, value) in claims {
        walk(
            &format!("/{}", escape_pointer(name)),
            name,
            value,
            known,
            &mut found,
        );
    }
    found
}

fn walk(
    pointer: &str,
    name: &str,
    value: &Value,
    known: &[KnownSecret<'_>],
    found: &mut Vec<SensitiveClaim>,
) {
    let normalized: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .collect::<String>()
        .to_lowercase();
    if SENSITIVE_NAMES.contains(&normalized.as_str()) {
        found.push(SensitiveClaim {
            pointer: pointer.to_owned(),
            why: format!("claim name {name:?} carries a secret"),
        });
    }
    match value {
        Value::String(s) => {
            for secret in known.iter().filter(|k| !k.value.is_empty()) {
                if s.contains(secret.value) {
                    found.push(SensitiveClaim {
                        pointer: pointer.to_owned(),
                        why: format!("value contains the {}", secret.label),
                    });
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                walk(
                    &format!("{pointer}/{}", escape_pointer(k)),
                    k,
                    v,
                    known,
                    found,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(&format!("{pointer}/{i}"), name, v, known, found);
            }
        }
        _ => {}
    }
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// An identifier a token must not be derived from.
#[derive(Clone, Debug)]
pub struct Identifier<'a> {
    pub label: &'a str,
    pub value: &'a str,
}

/// If `token` is the identifier itself, or an md5/sha1/sha256 digest (hex, either case, or base64 in
/// any alphabet) of an identifier, or base64 of it, says which; `None` when no derivation matches.
/// Callers pass openid, unionid, session_key, userId and combinations such as openid+appid.
pub fn predictable_derivation(token: &str, identifiers: &[Identifier<'_>]) -> Option<String> {
    let token = token.trim();
    for id in identifiers.iter().filter(|id| !id.value.is_empty()) {
        let bytes = id.value.as_bytes();
        let mut candidates: Vec<(String, String)> =
            vec![("the value itself".into(), id.value.to_owned())];
        candidates.extend(
            base64_forms(bytes)
                .into_iter()
                .map(|b| ("base64".to_owned(), b)),
        );
        let digests = [
            ("md5", Md5::digest(bytes).to_vec()),
            ("sha1", Sha1::digest(bytes).to_vec()),
            ("sha256", Sha256::digest(bytes).to_vec()),
        ];
        for (name, digest) in digests {
            candidates.push((format!("{name} hex"), hex::encode(&digest)));
            candidates.extend(
                base64_forms(&digest)
                    .into_iter()
                    .map(|b| (format!("{name} base64"), b)),
            );
        }
        for (how, candidate) in candidates {
            if token == candidate
                || (how.ends_with("hex") && token.eq_ignore_ascii_case(&candidate))
            {
                return Some(format!("token is {how} of {}", id.label));
            }
        }
    }
    None
}

fn base64_forms(bytes: &[u8]) -> [String; 4] {
    [
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    /// The example token jwt.io shows, signed with `your-256-bit-secret`.
    const JWT_IO: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    #[test]
    fn the_jwt_io_example_decodes_and_verifies_with_its_published_secret() {
        let jws = decode(JWT_IO).unwrap();
        assert_eq!(jws.alg(), Some("HS256"));
        assert_eq!(jws.claims["sub"], "1234567890");
        assert!(jws.verifies_with(b"your-256-bit-secret"));
        assert!(!jws.verifies_with(b"other"));
        assert_eq!(
            find_weak_secret(&jws, &[]).as_deref(),
            Some("your-256-bit-secret")
        );
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
    fn weak_secret_dictionary_is_large_and_finds_extras() {
        assert!(
            WEAK_SECRETS.len() >= 100,
            "only {} weak secrets",
            WEAK_SECRETS.len()
        );
        for s in ["secret", "shhhhh", "keyboard cat", "changeme"] {
            assert!(WEAK_SECRETS.contains(&s));
        }
        let claims = obj(json!({"sub": "u"}));
        let appsecret = "0123456789abcdef0123456789abcdef";
        let jws = decode(&mint(HmacAlg::Hs256, &claims, appsecret.as_bytes())).unwrap();
        assert_eq!(
            find_weak_secret(&jws, &["wx1234", appsecret]).as_deref(),
            Some(appsecret)
        );
        let jws = decode(&mint(HmacAlg::Hs512, &claims, b"keyboard cat")).unwrap();
        assert_eq!(find_weak_secret(&jws, &[]).as_deref(), Some("keyboard cat"));
        let strong = decode(&mint(
            HmacAlg::Hs256,
            &claims,
            b"6f1c1b0e-strong-random-9a7d",
        ))
        .unwrap();
        assert_eq!(find_weak_secret(&strong, &["wx1234"]), None);
    }

    #[test]
    fn sensitive_claims_are_found_by_name_and_by_value() {
        let claims = obj(json!({
            "sub": "u-1",
            "sessionKey": "whatever",
            "ctx": {"k": "prefix-tiihtNczf5v6AKRyjwEUhQ==", "list": ["APPSECRET123"]},
        }));
        let known = [
            KnownSecret {
                label: "session_key",
                value: "tiihtNczf5v6AKRyjwEUhQ==",
            },
            KnownSecret {
                label: "appsecret",
                value: "APPSECRET123",
            },
        ];
        let found = sensitive_claims(&claims, &known);
        let pointers: Vec<&str> = found.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(pointers, ["/sessionKey", "/ctx/k", "/ctx/list/0"]);
        assert!(
            sensitive_claims(&obj(json!({"sub": "u", "sid": "s", "exp": 1})), &known).is_empty()
        );
        assert_eq!(
            sensitive_claims(&obj(json!({"session_key": 1})), &[]).len(),
            1
        );
    }

    #[test]
    fn tokens_derived_from_identifiers_are_recognised() {
        let openid = "oGZUI0egBJY1zhBYw2KhdUfwVJJE";
        let ids = [Identifier {
            label: "openid",
            value: openid,
        }];
        let md5_hex = hex::encode(Md5::digest(openid.as_bytes()));
        assert_eq!(
            predictable_derivation(&md5_hex, &ids).as_deref(),
            Some("token is md5 hex of openid")
        );
        assert!(predictable_derivation(&md5_hex.to_uppercase(), &ids).is_some());
        let sha_b64 = URL_SAFE_NO_PAD.encode(Sha256::digest(openid.as_bytes()));
        assert_eq!(
            predictable_derivation(&sha_b64, &ids).as_deref(),
            Some("token is sha256 base64 of openid")
        );
        let sha1_hex = hex::encode(Sha1::digest(openid.as_bytes()));
        assert!(predictable_derivation(&sha1_hex, &ids).is_some());
        assert!(predictable_derivation(&STANDARD.encode(openid), &ids).is_some());
        assert!(predictable_derivation(openid, &ids).is_some());
        assert_eq!(
            predictable_derivation("f3a1c0d2e4b5a6978877665544332211", &ids),
            None
        );
        assert_eq!(predictable_derivation(JWT_IO, &ids), None);
    }

    proptest::proptest! {
        #[test]
        fn any_claims_round_trip_and_any_tampering_breaks_the_signature(
            sub in "[a-zA-Z0-9_\\-\\p{Han}]{1,40}",
            exp in 0i64..4_000_000_000,
            key in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
        ) {
            let claims = obj(json!({"sub": sub, "exp": exp}));
            let token = mint(HmacAlg::Hs256, &claims, &key);
            let jws = decode(&token).unwrap();
            proptest::prop_assert_eq!(&jws.claims, &claims);
            proptest::prop_assert!(jws.verifies_with(&key));
            let forged = decode(&tamper(&jws).token).unwrap();
            proptest::prop_assert_ne!(&forged.claims["sub"], &claims["sub"]);
            proptest::prop_assert!(!forged.verifies_with(&key));
        }
    }
}
