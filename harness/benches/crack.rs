//! Benchmark of token.weak-secret's key searches, as keys per second against a baseline measured
//! in the same run: a bare single-threaded HMAC-SHA256 verification loop over the same token (the
//! work one guess costs, with nothing around it). Reported:
//! - the brute-force search on one thread (ratio ≈ 1: enumeration adds little to the HMAC),
//! - the brute-force search on every core (ratio ≈ cores: the threads scale),
//! - the dictionary search (published keys and their variants, plus a miss at the end).
//!
//! Bounded: each measurement runs for about 1.5 s (about 6 s in all), on no network.
//! Run: `cargo bench -p wxmock-harness --bench crack`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::json;
use wxmock_harness::jwt::{self, CrackSpec, HmacAlg};

const BUDGET: Duration = Duration::from_millis(1500);

fn main() {
    let claims = match json!({"sub": "oGZUI0egBJY1zhBYw2KhdUfwVJJE", "iat": 1_700_000_000, "exp": 1_700_086_400})
    {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("an object"),
    };
    // A key outside every search space, so each search runs its whole budget.
    let token = jwt::mint(
        HmacAlg::Hs256,
        &claims,
        b"Key-Outside-The-Search-Space-7f3e9a1c",
    );
    let jws = jwt::decode(&token).expect("a minted token decodes");
    let input = jws.signing_input();

    // Baseline: the bare verification loop, one thread.
    let started = Instant::now();
    let mut tried: u64 = 0;
    let mut key = [b'a'; 6];
    while started.elapsed() < BUDGET {
        for _ in 0..1024 {
            key[(tried % 6) as usize] = b'a' + (tried % 26) as u8;
            black_box(HmacAlg::Hs256.verify(&key, input.as_bytes(), &jws.signature));
            tried += 1;
        }
    }
    let baseline = tried as f64 / started.elapsed().as_secs_f64();

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut rows = vec![(
        "bare HMAC-SHA256 verify, 1 thread (baseline)".to_owned(),
        baseline,
    )];
    for t in [1, threads] {
        let spec = CrackSpec {
            threads: t,
            ..CrackSpec::short_keys(BUDGET)
        };
        let out = jwt::crack(&jws, &spec);
        assert!(out.found.is_none(), "the key is outside the search space");
        rows.push((format!("brute force, {t} thread(s)"), out.keys_per_sec()));
    }
    let started = Instant::now();
    let mut rounds = 0u64;
    while started.elapsed() < BUDGET {
        black_box(jwt::find_weak_secret(&jws, &["wx0123456789abcdef"]));
        rounds += 1;
    }
    let per_sec =
        rounds as f64 * (jwt::dictionary_size() + 1) as f64 / started.elapsed().as_secs_f64();
    rows.push((
        format!("dictionary ({} keys), 1 thread", jwt::dictionary_size()),
        per_sec,
    ));

    println!("token.weak-secret key search on a {} core machine", threads);
    println!("{:<52} {:>14} {:>8}", "search", "keys/s", "ratio");
    for (name, rate) in rows {
        println!("{name:<52} {rate:>14.0} {:>7.2}x", rate / baseline);
    }
}
