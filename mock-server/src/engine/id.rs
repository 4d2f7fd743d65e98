//! Identifiers in WeChat's formats (docs/wechat-api.md section 4), drawn from the engine's seeded
//! generator so a fixed `seed` gives the same ids every run.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::Rng;

const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The prefix number of current access tokens (it grows over the years: `84_` 2024, `89_` 2025).
const ACCESS_TOKEN_PREFIX: &str = "89_";

fn pick<R: Rng + ?Sized>(rng: &mut R, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

/// openid: 28 chars of `[A-Za-z0-9_-]`, starting with `o`.
pub fn openid<R: Rng + ?Sized>(rng: &mut R) -> String {
    format!("o{}", pick(rng, URL_SAFE, 27))
}

/// session_key: standard base64 of 16 random bytes (24 chars ending in `==`).
pub fn session_key<R: Rng + ?Sized>(rng: &mut R) -> String {
    let bytes: [u8; 16] = rng.gen();
    STANDARD.encode(bytes)
}

/// js_code: 32 alphanumeric chars.
pub fn js_code<R: Rng + ?Sized>(rng: &mut R) -> String {
    pick(rng, ALNUM, 32)
}

/// access_token: `<n>_` then 140 chars of `[A-Za-z0-9_-]`.
pub fn access_token<R: Rng + ?Sized>(rng: &mut R) -> String {
    format!("{ACCESS_TOKEN_PREFIX}{}", pick(rng, URL_SAFE, 140))
}

/// phone code (getPhoneNumber button): 64 lowercase hex digits.
pub fn phone_code<R: Rng + ?Sized>(rng: &mut R) -> String {
    let bytes: [u8; 32] = rng.gen();
    hex::encode(bytes)
}

/// Whether `token` is shaped like an access token at all (`<digits>_<[A-Za-z0-9_-]+>`, at
/// least 32 chars); a token that is not gets `rules.malformed_token_errcode` instead of 40001.
pub fn looks_like_access_token(token: &str) -> bool {
    let Some((number, rest)) = token.split_once('_') else {
        return false;
    };
    token.len() >= 32
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn generated_ids_have_wechat_shapes() {
        let mut rng = StdRng::seed_from_u64(7);
        let openid = openid(&mut rng);
        assert_eq!(openid.len(), 28);
        assert!(openid.starts_with('o'));
        let key = session_key(&mut rng);
        assert_eq!(key.len(), 24);
        assert!(key.ends_with("=="));
        assert_eq!(js_code(&mut rng).len(), 32);
        let token = access_token(&mut rng);
        assert!(looks_like_access_token(&token), "{token}");
        assert!(!looks_like_access_token("hello"));
        let phone = phone_code(&mut rng);
        assert_eq!(phone.len(), 64);
        assert!(phone
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}
