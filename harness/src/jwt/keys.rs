//! Weak HMAC keys: the dictionary of published and tutorial keys (data in
//! `harness/data/jwt-weak-keys.txt`) with common variants, the RFC 7518 §3.2 size rule, and a
//! bounded, multi-threaded brute-force search of short keys.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use super::parse::{HmacAlg, Jws};

/// The smallest HS256 key RFC 7518 §3.2 allows, in bytes (256 bits).
pub const MIN_HS256_KEY_BYTES: usize = 32;

/// The published keys, as written in the data file (comments dropped, `(empty)` is "").
pub static WEAK_SECRETS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/jwt-weak-keys.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| if line == "(empty)" { "" } else { line })
        .collect()
});

/// What people add to a published key before shipping it.
const SUFFIXES: &[&str] = &[
    "123", "1", "!", "2024", "2025", "2026", "_secret", "-secret", "_key", "-key", "_jwt", "-jwt",
];
const PREFIXES: &[&str] = &["jwt_", "jwt-", "my_", "my-"];

/// Every dictionary key and its variants (lowercase, UPPERCASE, Capitalised; with the suffixes and
/// prefixes above), deduplicated, the published spelling first.
static CANDIDATES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut push = |s: String| {
        if seen.insert(s.clone()) {
            out.push(s);
        }
    };
    for key in WEAK_SECRETS.iter() {
        push((*key).to_owned());
    }
    for key in WEAK_SECRETS
        .iter()
        .filter(|k| !k.is_empty() && k.len() <= 40)
    {
        let mut cased = vec![key.to_lowercase(), key.to_uppercase(), capitalised(key)];
        cased.dedup();
        for base in cased {
            push(base.clone());
            for suffix in SUFFIXES {
                push(format!("{base}{suffix}"));
            }
            for prefix in PREFIXES {
                push(format!("{prefix}{base}"));
            }
        }
    }
    out
});

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// How many keys the dictionary search tries (published keys and their variants), without extras.
pub fn dictionary_size() -> usize {
    CANDIDATES.len()
}

/// The first candidate under which the token's HMAC signature verifies: `extra` (e.g. the run's
/// appid and appsecret) first, then the dictionary and its variants. `None` for non-HMAC tokens or
/// keys not in the dictionary.
pub fn find_weak_secret(jws: &Jws, extra: &[&str]) -> Option<String> {
    let alg = jws.hmac_alg()?;
    let input = jws.signing_input();
    extra
        .iter()
        .copied()
        .chain(CANDIDATES.iter().map(String::as_str))
        .find(|candidate| alg.verify(candidate.as_bytes(), input.as_bytes(), &jws.signature))
        .map(str::to_owned)
}

/// `Some(reason)` when `key` is shorter than RFC 7518 §3.2 allows for `alg` (as long as the hash
/// output: 256 bits for HS256, 384 for HS384, 512 for HS512).
pub fn key_too_short(alg: HmacAlg, key: &[u8]) -> Option<String> {
    let min = alg.min_key_bytes();
    (key.len() < min).then(|| {
        format!(
            "the {} key is {} bits long; RFC 7518 §3.2 requires at least {} bits",
            alg.name(),
            key.len() * 8,
            min * 8
        )
    })
}

/// A bounded brute-force search: every key over `charset` from 1 to `max_len` characters, in
/// length order, on `threads` threads, stopping after `budget`.
#[derive(Clone, Debug)]
pub struct CrackSpec {
    pub charset: Vec<u8>,
    pub max_len: usize,
    pub threads: usize,
    pub budget: Duration,
}

impl CrackSpec {
    /// Lowercase letters and digits up to 8 characters, one thread per core, for `budget`.
    pub fn short_keys(budget: Duration) -> Self {
        Self {
            charset: b"abcdefghijklmnopqrstuvwxyz0123456789".to_vec(),
            max_len: 8,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            budget,
        }
    }
}

/// What a brute-force search did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrackOutcome {
    /// The key, when found.
    pub found: Option<String>,
    /// Keys tried.
    pub tried: u64,
    /// Every key up to this many characters was tried (0: not even all one-character keys).
    pub complete_len: usize,
    pub elapsed: Duration,
}

impl CrackOutcome {
    /// Keys per second over the whole search.
    pub fn keys_per_sec(&self) -> f64 {
        self.tried as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Keys tried between two looks at the clock and the stop flag.
const CHECK_EVERY: u64 = 1024;

/// Searches for the token's HMAC key (non-HMAC tokens: nothing is tried). Bounded in time by
/// `spec.budget` and in size by `spec.max_len`; stops at the first key that verifies.
pub fn crack(jws: &Jws, spec: &CrackSpec) -> CrackOutcome {
    let started = Instant::now();
    let deadline = started + spec.budget;
    let mut outcome = CrackOutcome {
        found: None,
        tried: 0,
        complete_len: 0,
        elapsed: Duration::ZERO,
    };
    let (Some(alg), false) = (jws.hmac_alg(), spec.charset.is_empty()) else {
        return outcome;
    };
    let input = jws.signing_input();
    let threads = spec.threads.max(1) as u64;
    let base = spec.charset.len() as u64;
    let stop = AtomicBool::new(false);
    let tried = AtomicU64::new(0);
    let found = std::sync::Mutex::new(None::<String>);
    for len in 1..=spec.max_len {
        let Some(total) = base.checked_pow(len as u32) else {
            break;
        };
        let chunk = total.div_ceil(threads);
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (from, to) = (t * chunk, ((t + 1) * chunk).min(total));
                let (stop, tried, found, input) = (&stop, &tried, &found, input.as_bytes());
                let charset = &spec.charset;
                let signature = &jws.signature;
                scope.spawn(move || {
                    let mut digits = odometer(from, base, len);
                    let mut key: Vec<u8> = digits.iter().map(|&d| charset[d]).collect();
                    let mut n = from;
                    while n < to {
                        if alg.verify(&key, input, signature) {
                            if let Ok(mut slot) = found.lock() {
                                *slot = Some(String::from_utf8_lossy(&key).into_owned());
                            }
                            stop.store(true, Ordering::Relaxed);
                        }
                        n += 1;
                        if (n - from) % CHECK_EVERY == 0 {
                            tried.fetch_add(CHECK_EVERY, Ordering::Relaxed);
                            if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                                stop.store(true, Ordering::Relaxed);
                                return;
                            }
                        }
                        // Next key: add one to the odometer, rightmost digit fastest.
                        for i in (0..len).rev() {
                            digits[i] += 1;
                            if digits[i] < charset.len() {
                                key[i] = charset[digits[i]];
                                break;
                            }
                            digits[i] = 0;
                            key[i] = charset[0];
                        }
                    }
                    tried.fetch_add((n - from) % CHECK_EVERY, Ordering::Relaxed);
                });
            }
        });
        if stop.load(Ordering::Relaxed) {
            break;
        }
        outcome.complete_len = len;
    }
    outcome.found = found.into_inner().ok().flatten();
    if outcome.found.is_some() {
        outcome.complete_len = 0;
    }
    outcome.tried = tried.load(Ordering::Relaxed);
    outcome.elapsed = started.elapsed();
    outcome
}

/// The digits of `n` in base `base`, `len` of them, most significant first.
fn odometer(mut n: u64, base: u64, len: usize) -> Vec<usize> {
    let mut digits = vec![0usize; len];
    for d in digits.iter_mut().rev() {
        *d = (n % base) as usize;
        n /= base;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::super::parse::tests::{obj, token_with_payload, JWT_IO};
    use super::super::parse::{decode, mint};
    use super::*;
    use serde_json::json;

    #[test]
    fn the_jwt_io_example_key_is_found() {
        let jws = decode(JWT_IO).unwrap();
        assert_eq!(
            find_weak_secret(&jws, &[]).as_deref(),
            Some("your-256-bit-secret")
        );
    }

    #[test]
    fn weak_secret_dictionary_is_large_and_finds_extras() {
        assert!(
            WEAK_SECRETS.len() >= 500,
            "only {} weak secrets",
            WEAK_SECRETS.len()
        );
        assert!(dictionary_size() >= 10 * WEAK_SECRETS.len());
        for s in [
            "secret",
            "shhhhh",
            "keyboard cat",
            "changeme",
            "",
            "X-Litemall-Token",
        ] {
            assert!(WEAK_SECRETS.contains(&s), "{s:?} missing");
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
    fn variants_of_published_keys_are_found() {
        let claims = obj(json!({"sub": "u"}));
        for key in [
            "MYSECRET2025",
            "Keyboard cat!",
            "jwt_wechat",
            "Mall-admin-secret123",
        ] {
            let jws = decode(&mint(HmacAlg::Hs256, &claims, key.as_bytes())).unwrap();
            assert_eq!(find_weak_secret(&jws, &[]).as_deref(), Some(key));
        }
    }

    #[test]
    fn a_bare_payload_token_is_tested_against_weak_keys() {
        let jws = decode(&token_with_payload(b"\"o-user\"", b"secret")).unwrap();
        assert_eq!(find_weak_secret(&jws, &[]).as_deref(), Some("secret"));
    }

    #[test]
    fn keys_shorter_than_the_hash_fail_rfc_7518() {
        let reason = key_too_short(HmacAlg::Hs256, &[7u8; 31]).unwrap();
        assert!(reason.contains("248 bits"), "{reason}");
        assert!(reason.contains("256 bits"), "{reason}");
        assert_eq!(
            key_too_short(HmacAlg::Hs256, &[7u8; MIN_HS256_KEY_BYTES]),
            None
        );
        assert!(key_too_short(HmacAlg::Hs512, &[7u8; 32]).is_some());
    }

    #[test]
    fn brute_force_finds_a_short_key_on_several_threads() {
        let jws = decode(&mint(HmacAlg::Hs256, &obj(json!({"sub": "u"})), b"zz9")).unwrap();
        let spec = CrackSpec {
            charset: b"abcdefghijklmnopqrstuvwxyz0123456789".to_vec(),
            max_len: 3,
            threads: 3,
            budget: Duration::from_secs(120),
        };
        let out = crack(&jws, &spec);
        assert_eq!(out.found.as_deref(), Some("zz9"));
        assert!(out.tried > 36 + 36 * 36, "tried only {}", out.tried);
    }

    #[test]
    fn brute_force_reports_the_lengths_it_exhausted() {
        let jws = decode(&mint(
            HmacAlg::Hs256,
            &obj(json!({"sub": "u"})),
            b"long-key",
        ))
        .unwrap();
        let spec = CrackSpec {
            charset: b"ab".to_vec(),
            max_len: 4,
            threads: 2,
            budget: Duration::from_secs(120),
        };
        let out = crack(&jws, &spec);
        assert_eq!(out.found, None);
        assert_eq!(out.complete_len, 4);
        assert_eq!(out.tried, 2 + 4 + 8 + 16);
    }

    #[test]
    fn brute_force_tries_nothing_on_a_non_hmac_token() {
        let mut jws = decode(JWT_IO).unwrap();
        jws.header.insert("alg".into(), json!("RS256"));
        let out = crack(&jws, &CrackSpec::short_keys(Duration::from_secs(1)));
        assert_eq!((out.found, out.tried), (None, 0));
    }
}
