//! One run: the fake, the backend, the selected cases one after another with their evidence,
//! and the events reporters consume.

use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use rand::{Rng, SeedableRng};

use super::block::Blocker;
use super::redact::{known_secrets, redact_outcome, redact_text};
use super::start::{prepare, ready_url};
use super::stop::{Ender, StopCause, StopRequest};
use super::watch::Watch;
use crate::backend::wait_ready;
use crate::case::{catalogue, Case, Outcome};
use crate::clock::{BackendClock, ClockHook};
use crate::context::Ctx;
use crate::error::HarnessError;
use crate::exchange::Evidence;
use crate::fake::Fake;
use crate::output::OutputScan;
use crate::profile::{Profile, Vars};
use crate::report::{CaseReport, Event, Interruption, Reporter, RunReport, Summary};
use crate::selection::{select, ExpectedFailures};
use crate::transport::Failure;

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
    /// The run deadline, from the run's start (None: none). When it passes, the case in progress
    /// is abandoned and the rest are not run; the report says so.
    pub deadline: Option<std::time::Duration>,
    /// A stop request (SIGINT/SIGTERM in the CLI): the run ends the same way.
    pub stop: Option<StopRequest>,
    /// A listener the fake serves on instead of binding `[fake] listen` (a copy of it is
    /// taken): a caller that keeps it holds a fixed port across runs, so nothing else can take
    /// it in between (a backend already running was configured with that address).
    pub fake_listener: Option<Arc<std::net::TcpListener>>,
}

/// Where the fake listens and which app the backend must use (handed to a launcher).
#[derive(Clone, Debug)]
pub struct FakeInfo {
    pub base_url: String,
    pub appid: String,
    pub secret: String,
    /// Where a backend launched in-process writes its own log output ([`OutputScan::sink`]), so
    /// robust.no-secret-in-logs reads it as it reads a started backend's stdout and stderr.
    pub output: OutputScan,
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
    let started_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
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
    let listen = options
        .fake_listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .unwrap_or(listen);
    let fake_start = |e: &dyn std::fmt::Display| HarnessError::FakeStart {
        listen: listen.to_string(),
        message: e.to_string(),
    };
    // The fake draws openids, codes and keys from the run's seed too, so `--seed` replays a run.
    let mut builder = wxmock_server::MockWeChat::builder()
        .seed(seed)
        .listen(listen);
    if let Some(listener) = &options.fake_listener {
        builder = builder.listener(listener.try_clone().map_err(|e| fake_start(&e))?);
    }
    let wechat = builder.try_start().await.map_err(|e| fake_start(&e))?;
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
    // The backend's output, scanned for the run's secrets as it streams.
    let output = OutputScan::new();
    output.learn([("appsecret", secret.as_str())]);
    let info = FakeInfo {
        base_url: wechat.base_url(),
        appid: appid.clone(),
        secret: secret.clone(),
        output: output.clone(),
    };

    // The backend: launched in-process, started from the profile's command, or already running.
    let mut vars = Vars {
        wechat_base_url: info.base_url.clone(),
        appid,
        secret,
        port: None,
    };
    let mut clock = BackendClock::fixed();
    let backend_started = Instant::now();
    let _guard: Option<Box<dyn Any + Send>>;
    let (backend_url, mut launch) = match launcher {
        Some(launch) => {
            let launched = launch(info.clone()).await?;
            if let Some(secret) = launched.jwt_secret {
                profile.jwt.secret = Some(secret);
            }
            if let Some(hook) = launched.clock {
                clock = BackendClock::hook(hook);
            }
            _guard = Some(launched.guard);
            (launched.base_url, None)
        }
        None => {
            _guard = None;
            prepare(&profile, &mut vars, impersonation.as_ref(), &mut clock).await?
        }
    };
    if let Some(l) = launch.as_mut() {
        output.attach();
        l.scan = Some(output.clone());
    }
    let ready = ready_url(&profile, &vars, &backend_url);
    emit(
        reporters,
        &Event::BackendWaiting {
            url: &ready,
            timeout_secs: profile.backend.ready_timeout_secs,
        },
    );
    let mut ender = Ender::new(started, options.deadline, options.stop.clone());
    let starting = async {
        match &launch {
            Some(l) => Ok(Some(l.start().await?)),
            None => {
                let timeout = std::time::Duration::from_secs(profile.backend.ready_timeout_secs);
                wait_ready(&ready, timeout, None).await?;
                Ok::<_, HarnessError>(None)
            }
        }
    };
    // Stopped while the backend starts: a half-started process is killed with its group when
    // dropped, and the loop below runs no case, so the reports still list every case.
    let process = ender.race(starting).await.unwrap_or(Ok(None))?;
    let backend_startup_ms =
        u64::try_from(backend_started.elapsed().as_millis()).unwrap_or(u64::MAX);
    emit(
        reporters,
        &Event::BackendReady {
            waited_ms: backend_startup_ms,
        },
    );
    let mut watch = Watch::new(launch, process, ready);
    let mut blocker = Blocker::default();

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
    ctx.output = output.clone();
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
    let mut evidence_budget = crate::limits::EvidenceBudget::default();
    let mut interrupted: Option<(StopCause, usize, bool)> = None;
    let mut skipped_silent = 0usize;
    for (index, case) in cases.iter().enumerate() {
        if let Some(cause) = ender.ended() {
            interrupted = Some((cause, index, false));
            break;
        }
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
        ctx.backend_exits.clone_from(&watch.exits);
        ctx.root = blocker.root();
        let case_started = Instant::now();
        let silent = ctx.silence.skip_reason();
        let work = async {
            if let Some(reason) = silent {
                return Outcome::skipped(reason);
            }
            match watch.before_case(&mut warnings, case.id).await {
                Some(reason) => {
                    // The probe got no answer either: it counts towards failing fast.
                    ctx.silence.missed(case.id);
                    Outcome::skipped(reason)
                }
                None => match blocker.before(case) {
                    Some(blocked) => blocked,
                    None => blocker.outcome((case.body)(&mut ctx).await),
                },
            }
        };
        let mut outcome = match ender.race(work).await {
            Ok(outcome) => outcome,
            Err(cause) => {
                interrupted = Some((cause, index, true));
                break;
            }
        };
        if ctx.silence.down_since().is_some() && matches!(outcome, Outcome::Skipped { .. }) {
            skipped_silent += 1;
        }
        let lost_connection = ctx.exchanges.iter().any(|x| {
            matches!(
                x.failure,
                Some(Failure::Refused | Failure::Reset | Failure::Closed)
            )
        });
        watch
            .after_case(case.id, &mut outcome, &mut warnings, lost_connection)
            .await;
        let duration_ms = u64::try_from(case_started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if output.attached() {
            // The secrets this case handed out, so the output is searched for them too.
            if let Ok(entries) = fake.journal(None, mark).await {
                let handed_out = handed_out_secrets(&entries);
                output.learn(handed_out.iter().map(|(l, v)| (*l, v.as_str())));
            }
        }
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
        crate::limits::cap_outcome(&mut outcome, &mut evidence_budget);
        // After redaction: the root's reason is quoted by every case it blocks.
        blocker.observe(case, &outcome, ctx.unmet.take());
        // INFO findings show on passing cases too, so they are redacted whatever the verdict.
        let mut info = std::mem::take(&mut ctx.info);
        if !info.is_empty() {
            let secrets = known_secrets(&fake, profile.jwt.secret.as_deref()).await;
            for finding in &mut info {
                finding.text = redact_text(&finding.text, &secrets);
            }
            crate::limits::cap_info(&mut info);
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
        let mut report = CaseReport::new(
            case.id,
            case.severity,
            case.rule,
            &outcome,
            duration_ms,
            expected,
        )
        .with_info(info);
        report.expected_by = options.expected_failures.matching(case.id);
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

    warnings.extend(blocker.warning());
    if let Some(since) = ctx.silence.down_since() {
        warnings.push(format!(
            "the backend gave no answer to {} requests in a row since {since}: {skipped_silent} later case(s) were skipped",
            super::stop::SILENCE_LIMIT
        ));
    }
    let interruption = interrupted.map(|(cause, from, in_progress)| {
        let unfinished: Vec<String> = cases[from..].iter().map(|c| c.id.to_string()).collect();
        for c in &cases[from..] {
            let outcome = Outcome::skipped(format!("not run: {}", cause.text()));
            let expected = options.expected_failures.contains(c.id);
            results.push(CaseReport::new(
                c.id, c.severity, c.rule, &outcome, 0, expected,
            ));
        }
        Interruption {
            cause: cause.kind().into(),
            reason: cause.text(),
            during: in_progress.then(|| cases[from].id.to_string()),
            unfinished,
        }
    });
    let backend_output = match watch.process.take() {
        Some(p) => {
            let out = p.stop().await;
            let secrets = known_secrets(&fake, profile.jwt.secret.as_deref()).await;
            Some(redact_text(&out, &secrets))
        }
        None => None,
    };
    drop(wechat);
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let summary = Summary::of(&results, duration_ms);
    if !summary.now_passing.is_empty() {
        warnings.push(
            "some expected failures now pass: remove them from the expected-failures file".into(),
        );
    }
    let mut summary = Summary::of(&results, duration_ms);
    // A run cut short proves nothing about the cases it did not run.
    summary.conforms &= interruption.is_none();
    let report = RunReport {
        wxmock: env!("CARGO_PKG_VERSION").into(),
        seed,
        profile: profile_name,
        backend_url,
        summary,
        cases: results,
        warnings,
        backend_output,
        started_at,
        backend_startup_ms,
        replay: None,
        interrupted: interruption,
    };
    emit(reporters, &Event::RunFinished { report: &report });
    Ok(report)
}

/// The session_keys and access tokens the fake answered in `entries`.
fn handed_out_secrets(entries: &[crate::fake::JournalEntry]) -> Vec<(&'static str, String)> {
    let mut out = vec![];
    for e in entries {
        let Some(body) = e.response_json() else {
            continue;
        };
        for field in ["session_key", "access_token"] {
            if let Some(value) = body.get(field).and_then(|v| v.as_str()) {
                out.push((field, value.to_string()));
            }
        }
    }
    out
}

fn emit(reporters: &mut [&mut dyn Reporter], event: &Event<'_>) {
    for r in reporters.iter_mut() {
        r.on_event(event);
    }
}
