//! The runner: starts the fake, starts (or waits for) the backend, runs the selected cases one
//! after another, attaches evidence to failures, and emits events to reporters. It decides
//! nothing about formatting and nothing about exit codes.

use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::backend::{free_port, wait_ready, BackendProcess};
use crate::case::{catalogue, Case, Outcome};
use crate::clock::{BackendClock, ClockHook};
use crate::context::Ctx;
use crate::error::HarnessError;
use crate::exchange::Evidence;
use crate::fake::Fake;
use crate::profile::{CommandSpec, Profile, Vars};
use crate::report::{CaseReport, Event, Reporter, RunReport, Summary};
use crate::selection::{select, ExpectedFailures};

/// How many journal entries a failure's evidence carries at most (the newest are kept).
const JOURNAL_EVIDENCE_LIMIT: usize = 12;

/// What to run and how.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The run's seed (default: a random one, printed).
    pub seed: Option<u64>,
    /// Case ids or globs to run (empty: all).
    pub only: Vec<String>,
    /// Case ids or globs not to run.
    pub skip: Vec<String>,
    pub expected_failures: ExpectedFailures,
    /// Run these cases instead of the catalogue (tests of single cases).
    pub cases: Option<Vec<Case>>,
    /// Seconds `token.weak-secret` may spend brute-forcing short HMAC keys (0: dictionary only).
    pub crack_secs: u64,
}

/// Where the fake listens and which app the backend must use (handed to a launcher).
#[derive(Clone, Debug)]
pub struct FakeInfo {
    pub base_url: String,
    pub appid: String,
    pub secret: String,
}

/// A backend started by a launcher: its URL and whatever keeps it alive (dropped at the end).
pub struct LaunchedBackend {
    pub base_url: String,
    /// The JWT signing secret the launched backend really uses (overrides `[jwt] secret`).
    pub jwt_secret: Option<String>,
    /// Moves the launched backend's clock (its offset from real time), for time-travel cases.
    pub clock: Option<ClockHook>,
    pub guard: Box<dyn Any + Send>,
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Starts a backend in-process once the fake is up (`wxmock demo`, the catalogue tests).
pub type Launcher =
    Box<dyn FnOnce(FakeInfo) -> BoxFuture<Result<LaunchedBackend, HarnessError>> + Send>;

/// Runs the catalogue against the backend the profile describes (or the launcher starts).
pub async fn run(
    mut profile: Profile,
    options: RunOptions,
    launcher: Option<Launcher>,
    reporters: &mut [&mut dyn Reporter],
) -> Result<RunReport, HarnessError> {
    let started = Instant::now();
    // Sections changed in code after loading (tests, `wxmock demo`) are compiled again here.
    let origin = profile.name.clone().unwrap_or_else(|| "profile".into());
    profile.recompile(&origin)?;
    let all = options.cases.clone().unwrap_or_else(catalogue);
    let mut warnings: Vec<String> = options
        .expected_failures
        .unknown(&all)
        .into_iter()
        .map(|id| format!("expected-failures entry `{id}` matches no case"))
        .collect();
    let cases = select(all, &options.only, &options.skip)?;
    let seed = options.seed.unwrap_or_else(|| rand::thread_rng().gen());
    let mut ids = rand::rngs::StdRng::seed_from_u64(seed);

    // The fake: in-process, on the profile's address (an ephemeral port by default).
    let listen: SocketAddr =
        profile
            .fake
            .listen
            .parse()
            .map_err(|_| HarnessError::ProfileInvalid {
                origin: "profile".into(),
                field: "fake.listen".into(),
                message: "is not an address".into(),
            })?;
    // The fake draws openids, codes and keys from the run's seed too, so `--seed` replays a run.
    let wechat = wxmock_server::MockWeChat::builder()
        .seed(seed)
        .listen(listen)
        .try_start()
        .await
        .map_err(|e| HarnessError::FakeStart {
            listen: listen.to_string(),
            message: e.to_string(),
        })?;
    let (appid, secret) = match (&profile.fake.appid, &profile.fake.secret) {
        (Some(a), Some(s)) => (a.clone(), s.clone()),
        _ => (
            format!("wx{:016x}", ids.gen::<u64>()),
            format!("{:016x}{:016x}", ids.gen::<u64>(), ids.gen::<u64>()),
        ),
    };
    let fake = Fake::new(&wechat.base_url(), &appid, &secret);
    fake.create_app().await?;
    let impersonation = crate::impersonate::Impersonation::start_if_asked(
        &profile,
        wechat.state(),
        &wechat.base_url(),
    )
    .await?;
    let info = FakeInfo {
        base_url: wechat.base_url(),
        appid: appid.clone(),
        secret: secret.clone(),
    };

    // The backend: launched in-process, started from the profile's command, or already running.
    let mut vars = Vars {
        wechat_base_url: info.base_url.clone(),
        appid,
        secret,
        port: None,
    };
    let mut process: Option<BackendProcess> = None;
    let mut clock = BackendClock::fixed();
    let _guard: Option<Box<dyn Any + Send>>;
    let backend_url = match launcher {
        Some(launch) => {
            let launched = launch(info.clone()).await?;
            if let Some(secret) = launched.jwt_secret {
                profile.jwt.secret = Some(secret);
            }
            if let Some(hook) = launched.clock {
                clock = BackendClock::hook(hook);
            }
            _guard = Some(launched.guard);
            launched.base_url
        }
        None => {
            _guard = None;
            start_from_profile(
                &profile,
                &mut vars,
                &mut process,
                impersonation.as_ref(),
                &mut clock,
            )
            .await?
        }
    };
    let ready_timeout = std::time::Duration::from_secs(profile.backend.ready_timeout_secs);
    let ready_url = match &profile.backend.ready_url {
        Some(u) if u.starts_with('/') => {
            format!("{}{}", backend_url.trim_end_matches('/'), vars.render(u))
        }
        Some(u) => vars.render(u),
        None => backend_url.clone(),
    };
    if let Err(e) = wait_ready(&ready_url, ready_timeout, process.as_mut()).await {
        if let Some(p) = process.take() {
            let _ = p.stop().await;
        }
        return Err(e);
    }

    let profile_name = profile.name.clone().unwrap_or_else(|| "profile".into());
    let profile = Arc::new(profile);
    let mut ctx = Ctx::new(
        profile.clone(),
        fake.clone(),
        &backend_url,
        vars.clone(),
        seed,
    );
    ctx.crack_budget = std::time::Duration::from_secs(options.crack_secs);
    ctx.clock = clock;
    let total = cases.len();
    emit(
        reporters,
        &Event::RunStarted {
            seed,
            profile: &profile_name,
            backend_url: &backend_url,
            fake_url: &info.base_url,
            total,
        },
    );

    let mut results = Vec::with_capacity(total);
    for (index, case) in cases.iter().enumerate() {
        emit(
            reporters,
            &Event::CaseStarted {
                id: case.id,
                index,
                total,
            },
        );
        let mark = fake.journal_mark().await.unwrap_or(0);
        ctx.begin_case(case.id, mark);
        let case_started = Instant::now();
        let mut outcome = case.execute(&mut ctx).await;
        let duration_ms = u64::try_from(case_started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Some(evidence) = outcome.evidence_mut() {
            evidence.extend(ctx.exchanges.iter().cloned().map(Evidence::Exchange));
            if let Ok(entries) = fake.journal(None, mark).await {
                let skip = entries.len().saturating_sub(JOURNAL_EVIDENCE_LIMIT);
                evidence.extend(
                    entries
                        .into_iter()
                        .skip(skip)
                        .map(|e| Evidence::Journal { entry: e.raw }),
                );
            }
        }
        if matches!(outcome, Outcome::Failed { .. } | Outcome::Errored { .. }) {
            let secrets = known_secrets(&fake, profile.jwt.secret.as_deref()).await;
            redact_outcome(&mut outcome, &secrets);
        }
        // Nor does its time travel.
        if let Err(e) = ctx.clock.reset().await {
            warnings.push(format!(
                "could not put the backend's clock back after {}: {e}",
                case.id
            ));
        }
        // A case's faults never leak into the next one.
        if let Err(e) = fake.clear_faults().await {
            warnings.push(format!(
                "could not clear the fake's faults after {}: {e}",
                case.id
            ));
        }
        let seen = std::mem::take(&mut ctx.exchanges);
        ctx.seen.extend(seen);
        let expected = options.expected_failures.contains(case.id);
        let report = CaseReport::new(
            case.id,
            case.severity,
            case.rule,
            &outcome,
            duration_ms,
            expected,
        );
        emit(
            reporters,
            &Event::CaseFinished {
                case: &report,
                index,
                total,
            },
        );
        results.push(report);
    }

    let backend_output = match process.take() {
        Some(p) => {
            let out = p.stop().await;
            let secrets = known_secrets(&fake, profile.jwt.secret.as_deref()).await;
            Some(redact_text(&out, &secrets))
        }
        None => None,
    };
    drop(wechat);
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if results.iter().any(|c| c.now_passing()) {
        warnings.push(
            "some expected failures now pass: remove them from the expected-failures file".into(),
        );
    }
    let report = RunReport {
        wxmock: env!("CARGO_PKG_VERSION").into(),
        seed,
        profile: profile_name,
        backend_url,
        summary: Summary::of(&results, duration_ms),
        cases: results,
        warnings,
        backend_output,
    };
    emit(reporters, &Event::RunFinished { report: &report });
    Ok(report)
}

fn emit(reporters: &mut [&mut dyn Reporter], event: &Event<'_>) {
    for r in reporters.iter_mut() {
        r.on_event(event);
    }
}

/// Starts the profile's command (if any) and returns the backend's base URL.
async fn start_from_profile(
    profile: &Profile,
    vars: &mut Vars,
    process: &mut Option<BackendProcess>,
    impersonation: Option<&crate::impersonate::Impersonation>,
    clock: &mut BackendClock,
) -> Result<String, HarnessError> {
    let b = &profile.backend;
    let mentions_port = b.base_url.iter().any(|u| u.contains("{{port}}"))
        || b.env.values().any(|v| v.contains("{{port}}"))
        || match &b.command {
            Some(CommandSpec::Argv(a)) => a.iter().any(|x| x.contains("{{port}}")),
            Some(CommandSpec::Shell(s)) => s.contains("{{port}}"),
            None => false,
        };
    if mentions_port {
        vars.port = Some(free_port()?);
    }
    // Validation guarantees a base_url.
    let base_url = vars.render(b.base_url.as_deref().unwrap_or_default());
    if let Some(spec) = &b.command {
        let spec = match spec {
            CommandSpec::Argv(a) => CommandSpec::Argv(a.iter().map(|x| vars.render(x)).collect()),
            CommandSpec::Shell(s) => CommandSpec::Shell(vars.render(s)),
        };
        let mut env: Vec<(String, String)> = b
            .env
            .iter()
            .map(|(k, v)| (k.clone(), vars.render(v)))
            .collect();
        if let Some(impersonation) = impersonation {
            impersonation.apply(&mut env);
        }
        if b.clock == crate::profile::ClockMode::Faketime {
            *clock = crate::clock::faketime_env(b, &spec, &mut env)?;
        }
        *process = Some(BackendProcess::spawn(&spec, b.cwd.as_deref(), &env)?);
    }
    if let Some(template) = &b.clock_command {
        *clock = BackendClock::command(vars.render(template), b.cwd.clone());
    }
    Ok(base_url)
}

/// Values that must never appear in a report: the appsecret, every session_key and access token
/// the fake handed out, and the profile's JWT secret.
async fn known_secrets(fake: &Fake, jwt_secret: Option<&str>) -> Vec<(String, &'static str)> {
    let mut out = vec![(fake.secret().to_string(), "appsecret")];
    // A weak key is public knowledge (that is what token.weak-secret reports), and redacting a
    // dictionary word such as "secret" would mangle every sentence that contains it.
    if let Some(s) = jwt_secret.filter(|s| s.len() >= 8 && !crate::jwt::WEAK_SECRETS.contains(s)) {
        out.push((s.to_string(), "jwt secret"));
    }
    if let Ok(entries) = fake.journal(None, 0).await {
        for e in entries {
            let Some(body) = e.response_json() else {
                continue;
            };
            for (field, label) in [
                ("session_key", "session_key"),
                ("access_token", "access_token"),
            ] {
                if let Some(Value::String(s)) = body.get(field) {
                    if !s.is_empty() {
                        out.push((s.clone(), label));
                    }
                }
            }
        }
    }
    // Longest first, so a secret containing another is replaced whole.
    out.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
    out.dedup_by(|a, b| a.0 == b.0);
    out.retain(|(s, _)| s.len() >= 6);
    out
}

/// Replaces every known secret (and its JSON-escaped and URL-encoded forms) in `text`, and every
/// JWT whose readable payload carries one (base64 is not a hiding place).
pub fn redact_text(text: &str, secrets: &[(String, &'static str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (span, decoded) in crate::inspect::jwt_spans(text) {
        let carried = secrets.iter().find(|(secret, _)| {
            decoded
                .iter()
                .any(|d| crate::inspect::contains_secret(d, secret))
        });
        if let Some((_, label)) = carried {
            out.push_str(&text[last..span.start]);
            out.push_str(&format!("<redacted JWT carrying a {label}>"));
            last = span.end;
        }
    }
    out.push_str(&text[last..]);
    for (secret, label) in secrets {
        let mark = format!("<redacted {label}>");
        out = out.replace(secret.as_str(), &mark);
        let escaped = secret.replace('/', "\\/");
        if escaped != *secret {
            out = out.replace(&escaped, &mark);
        }
        let url_encoded = secret
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        if url_encoded != *secret {
            out = out.replace(&url_encoded, &mark);
        }
    }
    out
}

fn redact_outcome(outcome: &mut Outcome, secrets: &[(String, &'static str)]) {
    if secrets.is_empty() {
        return;
    }
    match outcome {
        Outcome::Failed { reason, evidence } | Outcome::Errored { reason, evidence } => {
            *reason = redact_text(reason, secrets);
            for e in evidence.iter_mut() {
                if let Ok(v) = serde_json::to_value(&*e) {
                    let text = redact_text(&v.to_string(), secrets);
                    if let Ok(v) = serde_json::from_str::<Value>(&text) {
                        *e = evidence_from_value(v, e);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Rebuilds an evidence item from its redacted JSON form.
fn evidence_from_value(v: Value, original: &Evidence) -> Evidence {
    match original {
        Evidence::Note { .. } => {
            Evidence::note(v.get("text").and_then(Value::as_str).unwrap_or_default())
        }
        Evidence::Journal { .. } => Evidence::Journal {
            entry: v.get("entry").cloned().unwrap_or(Value::Null),
        },
        Evidence::Exchange(x) => {
            let mut x = x.clone();
            let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
            x.url = s("url").unwrap_or(x.url);
            x.request_body = s("request_body").or(x.request_body);
            x.error = s("error").or(x.error);
            if let Some(hs) = v.get("request_headers").and_then(Value::as_array) {
                x.request_headers = hs.iter().filter_map(pair).collect();
            }
            if let (Some(r), Some(rv)) = (x.response.as_mut(), v.get("response")) {
                if let Some(b) = rv.get("body").and_then(Value::as_str) {
                    r.body = b.to_string();
                    r.json = serde_json::from_str(b).ok();
                }
                if let Some(hs) = rv.get("headers").and_then(Value::as_array) {
                    r.headers = hs.iter().filter_map(pair).collect();
                }
            }
            Evidence::Exchange(x)
        }
    }
}

fn pair(v: &Value) -> Option<(String, String)> {
    let a = v.as_array()?;
    Some((
        a.first()?.as_str()?.to_string(),
        a.get(1)?.as_str()?.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::redact_text;

    #[test]
    fn secrets_and_jwts_carrying_them_are_redacted() {
        let key = "tiihtNczf5v6AKRyjwEUhQ==";
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let jwt = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"HS256"}"#),
            b64(&format!(r#"{{"sk":"{key}"}}"#))
        );
        let clean = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"HS256"}"#),
            b64(r#"{"sub":"u1"}"#)
        );
        let text = format!(
            r#"{{"a":"{jwt}","b":"{clean}","c":"{key}","d":"tiihtNczf5v6AKRyjwEUhQ%3D%3D"}}"#
        );
        let out = redact_text(&text, &[(key.to_string(), "session_key")]);
        assert!(!out.contains(key) && !out.contains(&jwt), "{out}");
        assert!(out.contains("<redacted JWT carrying a session_key>"));
        assert!(out.contains(&clean), "a JWT without secrets stays readable");
        assert_eq!(out.matches("<redacted session_key>").count(), 2, "{out}");
    }
}
