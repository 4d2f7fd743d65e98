//! token.expired-rejected on the backend's own clock, with no JWT key: a stand-in verifier whose
//! clock tolerance is set per test (in the manner of jsonwebtoken's `clockTolerance`) shows the
//! boundary the case states is the one the backend enforces, to the second; the reference
//! backend, started in-process with its clock hook and with its key withheld, fails `ignore-exp`
//! and `opaque-token-no-expiry` and passes clean. The Node (jsonwebtoken-style) and Python
//! (PyJWT-style) backends under libfaketime are in real_world.rs.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};
use wxmock_harness::case::token;
use wxmock_harness::jwt::{self, HmacAlg};
use wxmock_harness::profile::REFERENCE_PROFILE;
use wxmock_harness::runner::{FakeInfo, LaunchedBackend, Launcher};
use wxmock_harness::{run, HarnessError, Profile, RunOptions};
use wxmock_reference_backend::{start, Config, Defect};

const KEY: &[u8] = b"a-strong-key-nobody-guesses-9c1b7d4f8e2a";
const CASE: &str = "token.expired-rejected";

fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The stand-in's clock: real time plus the offset the harness sets through the hook.
#[derive(Clone, Default)]
struct Clock {
    offset: Arc<AtomicI64>,
    /// Every instant the harness set the clock to (offset + real time at the move).
    moves: Arc<Mutex<Vec<i64>>>,
    /// The exp of the last token issued.
    exp: Arc<AtomicI64>,
}

impl Clock {
    fn now(&self) -> i64 {
        real_now() + self.offset.load(Ordering::SeqCst)
    }
}

/// Issues a two-hour HS256 JWT on its own clock.
struct Issue(Clock);

impl Respond for Issue {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let now = self.0.now();
        let exp = now + 7_200;
        self.0.exp.store(exp, Ordering::SeqCst);
        let claims: Map<String, Value> = match json!({"sub": "u-1", "iat": now, "exp": exp}) {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        ResponseTemplate::new(200)
            .set_body_json(json!({"token": jwt::mint(HmacAlg::Hs256, &claims, KEY)}))
    }
}

/// Verifies the signature, then `exp` on its own clock: expired from `exp + tolerance` on
/// (jsonwebtoken's `clockTimestamp >= exp + clockTolerance`); `None`: exp never checked.
struct Verify {
    clock: Clock,
    tolerance: Option<i64>,
}

impl Respond for Verify {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let refused = ResponseTemplate::new(401).set_body_json(json!({"error": "invalid token"}));
        let sent = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let Ok(jws) = jwt::decode(sent) else {
            return refused;
        };
        if !jws.verifies_with(KEY) {
            return refused;
        }
        let exp = jws.numeric_claim("exp").unwrap_or(0);
        match self.tolerance {
            Some(t) if self.clock.now() >= exp + t => refused,
            _ => ResponseTemplate::new(200).set_body_json(json!({"userId": "u-1"})),
        }
    }
}

fn stand_in_launcher(tolerance: Option<i64>, clock: Clock) -> Launcher {
    Box::new(move |_: FakeInfo| {
        Box::pin(async move {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .and(path("/api/login"))
                .respond_with(Issue(clock.clone()))
                .mount(&server)
                .await;
            Mock::given(method("GET"))
                .and(path("/api/me"))
                .respond_with(Verify {
                    clock: clock.clone(),
                    tolerance,
                })
                .mount(&server)
                .await;
            let hook_clock = clock.clone();
            Ok(LaunchedBackend {
                base_url: server.uri(),
                jwt_secret: None,
                clock: Some(Arc::new(move |offset| {
                    hook_clock.offset.store(offset, Ordering::SeqCst);
                    hook_clock.moves.lock().unwrap().push(offset + real_now());
                })),
                guard: Box::new(server),
            })
        })
    })
}

fn stand_in_profile(extra: &str) -> Profile {
    let text = format!(
        r#"
[backend]
base_url = "http://127.0.0.1:9"
[login]
path = "/api/login"
[protected]
path = "/api/me"
[jwt]
leeway_secs = 5
{extra}
"#
    );
    Profile::from_toml_str(&text, "stand-in.toml").expect("valid")
}

/// (status, reason or INFO finding) of the case.
async fn judge(profile: Profile, launcher: Launcher, seed: u64) -> (String, String) {
    let cases = token::cases()
        .into_iter()
        .filter(|c| c.id == CASE)
        .collect();
    let options = RunOptions {
        seed: Some(seed),
        cases: Some(cases),
        ..RunOptions::default()
    };
    let report = run(profile, options, Some(launcher), &mut [])
        .await
        .expect("run completes");
    let c = &report.cases[0];
    // A failure states the boundary in its reason, a pass as an INFO finding.
    let text = c
        .reason
        .clone()
        .or_else(|| c.info.first().map(|f| f.text.clone()))
        .unwrap_or_default();
    (c.status.clone(), text)
}

async fn judge_stand_in(tolerance: Option<i64>, extra: &str) -> (String, String) {
    let clock = Clock::default();
    judge(
        stand_in_profile(extra),
        stand_in_launcher(tolerance, clock),
        11,
    )
    .await
}

/// The seconds after exp in "refused from exp + 1 day 2 h 3 min 4 s" (negative for "exp - …").
/// A stated boundary is the enforced one or a second earlier: real time may tick over between
/// the harness setting the clock and the backend reading it, which only makes the backend later.
fn refused_from(text: &str) -> i64 {
    let rest = text
        .split("refused from exp ")
        .nth(1)
        .unwrap_or_else(|| panic!("no boundary in {text:?}"));
    let sign = if rest.starts_with('-') { -1 } else { 1 };
    let span = rest[1..].split([':', '(']).next().unwrap_or_default();
    let words: Vec<&str> = span.split_whitespace().collect();
    let mut secs = 0;
    for pair in words.windows(2) {
        let Ok(n) = pair[0].parse::<i64>() else {
            continue;
        };
        let unit = match pair[1] {
            "day" | "days" => 86_400,
            "h" => 3_600,
            "min" => 60,
            "s" => 1,
            _ => break,
        };
        secs += n * unit;
    }
    sign * secs
}

#[tokio::test]
async fn a_verifier_checking_exp_passes_and_the_report_says_refused_from_exp_plus_zero() {
    let (status, note) = judge_stand_in(Some(0), "").await;
    assert_eq!(status, "passed", "{note}");
    assert!(note.starts_with("refused from exp "), "{note}");
    assert!((-1..=0).contains(&refused_from(&note)), "{note}");
    assert!(note.contains("in-process hook"), "{note}");
}

#[tokio::test]
async fn a_tolerance_within_the_leeway_passes_stating_the_boundary() {
    let (status, note) = judge_stand_in(Some(3), "").await;
    assert_eq!(status, "passed", "{note}");
    assert!((2..=3).contains(&refused_from(&note)), "{note}");
}

#[tokio::test]
async fn a_day_of_clock_tolerance_fails_with_the_boundary_at_exp_plus_one_day() {
    let (status, reason) = judge_stand_in(Some(86_400), "").await;
    assert_eq!(status, "failed", "{reason}");
    assert!(reason.starts_with("refused from exp + "), "{reason}");
    assert!(
        (86_399..=86_400).contains(&refused_from(&reason)),
        "{reason}"
    );
    assert!(
        reason.contains("accepted past exp plus the 5 s leeway at exp + 6 s"),
        "{reason}"
    );
    assert!(reason.contains("replay with --seed 11"), "{reason}");
}

#[tokio::test]
async fn the_stated_boundary_is_the_enforced_one_to_a_second_at_any_scale() {
    for tolerance in [47, 3_601, 1_000_003] {
        let (status, reason) = judge_stand_in(Some(tolerance), "").await;
        assert_eq!(status, "failed", "{tolerance}: {reason}");
        let found = refused_from(&reason);
        assert!(
            (tolerance - 1..=tolerance).contains(&found),
            "tolerance {tolerance}, stated {found}: {reason}"
        );
    }
}

#[tokio::test]
async fn a_verifier_that_never_checks_exp_is_still_accepted_at_exp_plus_30_days() {
    let (status, reason) = judge_stand_in(None, "").await;
    assert_eq!(status, "failed", "{reason}");
    assert!(
        reason.starts_with("still accepted at exp + 30 days:"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_verifier_refusing_an_hour_early_fails_for_refusing_valid_tokens() {
    let (status, reason) = judge_stand_in(Some(-3_600), "").await;
    assert_eq!(status, "failed", "{reason}");
    assert!(
        reason.contains("valid tokens refused before exp minus the 5 s leeway"),
        "{reason}"
    );
    assert!(
        (-3_601..=-3_600).contains(&refused_from(&reason)),
        "{reason}"
    );
}

#[tokio::test]
async fn with_the_key_too_both_properties_run_and_both_failures_are_reported() {
    let secret = format!("secret = {:?}", String::from_utf8_lossy(KEY));
    let (status, reason) = judge_stand_in(Some(86_400), &secret).await;
    assert_eq!(status, "failed", "{reason}");
    assert!(
        (86_399..=86_400).contains(&refused_from(&reason)),
        "{reason}"
    );
    assert!(reason.contains("minted with the [jwt] secret"), "{reason}");
    // A correct verifier passes both.
    let (status, note) = judge_stand_in(Some(0), &secret).await;
    assert_eq!(status, "passed", "{note}");
    assert!((-1..=0).contains(&refused_from(&note)), "{note}");
}

/// The instants the clock was set to, relative to the token's exp.
async fn probed(seed: u64) -> Vec<i64> {
    let clock = Clock::default();
    let (status, note) = judge(
        stand_in_profile(""),
        stand_in_launcher(Some(0), clock.clone()),
        seed,
    )
    .await;
    assert_eq!(status, "passed", "{note}");
    let exp = clock.exp.load(Ordering::SeqCst);
    let moves = clock.moves.lock().unwrap().clone();
    moves.into_iter().map(|at| at - exp).collect()
}

#[tokio::test]
async fn the_same_seed_sets_the_clock_to_the_same_instants() {
    let (a, b, c) = tokio::join!(probed(5), probed(5), probed(6));
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    // Within a second: real time may tick over between a move and its record.
    assert!(
        a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1),
        "{a:?} vs {b:?}"
    );
    assert!(
        a.len() != c.len() || a.iter().zip(&c).any(|(x, y)| (x - y).abs() > 1),
        "another seed probes elsewhere: {a:?} vs {c:?}"
    );
}

fn reference(defects: Vec<Defect>) -> Launcher {
    Box::new(move |fake: FakeInfo| {
        Box::pin(async move {
            let mut config = Config::new(&fake.base_url, &fake.appid, &fake.secret);
            config.defects.extend(defects);
            let clock = config.clock.clone();
            let backend = start(config)
                .await
                .map_err(|e| HarnessError::BackendStart(e.to_string()))?;
            Ok(LaunchedBackend {
                clock: Some(Arc::new(move |offset| clock.set_offset(offset))),
                base_url: backend.base_url(),
                // Withheld: the case must judge expiry without the key.
                jwt_secret: None,
                guard: Box::new(backend),
            })
        })
    })
}

async fn judge_reference(defects: &[Defect]) -> (String, String) {
    let mut profile = Profile::from_toml_str(REFERENCE_PROFILE, "reference.toml").expect("valid");
    profile.jwt.secret = None;
    judge(profile, reference(defects.to_vec()), 21).await
}

#[tokio::test]
async fn the_reference_backend_without_its_key_is_judged_on_its_clock() {
    let (status, note) = judge_reference(&[]).await;
    assert_eq!(status, "passed", "{note}");
    assert!((-1..=0).contains(&refused_from(&note)), "{note}");

    let (status, reason) = judge_reference(&[Defect::IgnoreExp]).await;
    assert_eq!(status, "failed", "{reason}");
    assert!(
        reason.starts_with("still accepted at exp + 30 days"),
        "{reason}"
    );
    assert!(
        !reason.contains("minted"),
        "no key, no minted tokens: {reason}"
    );

    // An opaque token has no exp: the profile's declared lifetime (1 day) is the deadline.
    let (status, reason) = judge_reference(&[Defect::OpaqueTokenNoExpiry]).await;
    assert_eq!(status, "failed", "{reason}");
    assert!(
        reason.starts_with("still accepted at login + 31 days")
            && reason.contains("max_lifetime_secs = 1 day after login plus the 5 s leeway"),
        "{reason}"
    );
}
