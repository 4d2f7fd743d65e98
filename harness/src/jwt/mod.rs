//! JWT inspection and minting for the token.* cases.
//!
//! The harness has to look inside whatever token a backend hands out without trusting it: decode a
//! compact JWS (whatever its payload: an object, a bare JSON string or number, or bytes), re-sign
//! it with a known key, forge unsigned (`alg:none`) and tampered copies, look for weak HMAC keys,
//! sensitive claims and tokens derived from user identifiers. Everything here is a pure function
//! on strings so it can be unit-tested without a backend; `jsonwebtoken` is not used on purpose,
//! because it refuses to produce exactly the malformed tokens we need.
//!
//! Split by noun: `parse` (the token and its algorithms), `attack` (forged copies), `keys` (weak
//! keys: the dictionary, the RFC 7518 size rule, the brute-force search), `claims` (what a
//! readable payload must not carry) and `derive` (tokens computed from identifiers).

mod attack;
mod claims;
mod derive;
mod keys;
mod parse;

pub use attack::{alg_none_copies, tamper, with_claims, with_payload, ForgedToken};
pub use claims::{identity_claims, sensitive_claims, KnownSecret, SensitiveClaim};
pub use derive::{predictable_derivation, Identifier};
pub use keys::dictionary_size;
pub use keys::{
    crack, find_weak_secret, key_too_short, CrackOutcome, CrackSpec, MIN_HS256_KEY_BYTES,
    WEAK_SECRETS,
};
pub use parse::{
    b64_decode_lenient, b64url, decode, mint, mint_with_header, sign_payload, HmacAlg, Jws,
    JwtError,
};
