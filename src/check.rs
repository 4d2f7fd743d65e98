//! `wxmock check` (drive a backend described by a profile through the catalogue) and
//! `wxmock demo` (the same against the bundled reference backend, started in-process). Flags
//! into library calls; the library's result into an exit code.

use std::path::{Path, PathBuf};
use std::time::Duration;

use wxmock_harness::profile::{Profile, REFERENCE_PROFILE};
use wxmock_harness::report::terminal::TerminalReporter;
use wxmock_harness::report::{write_files, RunReport};
use wxmock_harness::runner::{
    run as run_catalogue, FakeInfo, LaunchedBackend, Launcher, RunOptions, StopRequest,
    DEFAULT_DEADLINE,
};
use wxmock_harness::selection::ExpectedFailures;
use wxmock_harness::{ErrorClass, HarnessError};
use wxmock_reference_backend::Defect;

use crate::exit_code;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The backend's profile (TOML; see docs/harness.md).
    #[arg(long, env = "WXMOCK_PROFILE")]
    profile: PathBuf,
    /// Run only these cases: ids or globs, repeated or comma-separated (`token.*,login.happy`).
    #[arg(long, env = "WXMOCK_ONLY", value_delimiter = ',')]
    only: Vec<String>,
    /// Do not run these cases: ids or globs, repeated or comma-separated.
    #[arg(long, env = "WXMOCK_SKIP", value_delimiter = ',')]
    skip: Vec<String>,
    /// Seed for generated users, codes and property tests (default: random, printed to replay).
    #[arg(long, env = "WXMOCK_SEED")]
    seed: Option<u64>,
    /// File of case ids (or globs) expected to fail, one per line, `#` comments: listed failures
    /// do not fail the run; listed cases that pass are reported so the file can shrink.
    #[arg(long, env = "WXMOCK_EXPECTED_FAILURES")]
    expected_failures: Option<PathBuf>,
    /// Let token.weak-secret also brute-force short HMAC keys (lowercase letters and digits, up
    /// to 8 characters, on every core) for at most this many seconds (0, the default: off).
    #[arg(long, env = "WXMOCK_CRACK_SECS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    crack_secs: u64,
    /// End the run after this many seconds (0: no deadline): the case in progress is abandoned,
    /// the backend stopped, the reports written with the unfinished cases listed (exit 7).
    /// Default: 900, plus --crack-secs.
    #[arg(long, env = "WXMOCK_DEADLINE_SECS")]
    deadline_secs: Option<u64>,
    /// Write the JSON report here.
    #[arg(long, env = "WXMOCK_JSON")]
    json: Option<PathBuf>,
    /// Write the JUnit XML report here.
    #[arg(long, env = "WXMOCK_JUNIT")]
    junit: Option<PathBuf>,
    /// Write the self-contained HTML report here.
    #[arg(long, env = "WXMOCK_HTML")]
    html: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Switch on a defect of the reference backend (repeatable; `--list-defects` names them):
    /// the run then shows the cases that catch it.
    #[arg(long = "defect", env = "WXMOCK_DEFECTS", value_delimiter = ',')]
    defects: Vec<String>,
    /// Directory for report.json, junit.xml and report.html.
    #[arg(long, env = "WXMOCK_REPORT_DIR", default_value = "wxmock-report")]
    out: PathBuf,
    /// Seed for generated users, codes and property tests (default: random, printed).
    #[arg(long, env = "WXMOCK_SEED")]
    seed: Option<u64>,
    /// Run only these cases: ids or globs, repeated or comma-separated.
    #[arg(long, env = "WXMOCK_ONLY", value_delimiter = ',')]
    only: Vec<String>,
    /// Do not run these cases: ids or globs, repeated or comma-separated.
    #[arg(long, env = "WXMOCK_SKIP", value_delimiter = ',')]
    skip: Vec<String>,
    /// Print the reference backend's defect switches and exit.
    #[arg(long, env = "WXMOCK_LIST_DEFECTS")]
    list_defects: bool,
}

pub fn run(args: CheckArgs) -> u8 {
    let profile = match Profile::from_file(&args.profile) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let expected_failures = match &args.expected_failures {
        Some(path) => match ExpectedFailures::from_file(path) {
            Ok(x) => x,
            Err(e) => return fail(&e),
        },
        None => ExpectedFailures::default(),
    };
    let options = RunOptions {
        seed: args.seed,
        only: args.only,
        skip: args.skip,
        expected_failures,
        cases: None,
        crack_secs: args.crack_secs,
        deadline: match args.deadline_secs {
            Some(0) => None,
            Some(n) => Some(Duration::from_secs(n)),
            None => Some(DEFAULT_DEADLINE + Duration::from_secs(args.crack_secs)),
        },
        stop: None,
        fake_listener: None,
    };
    let mut replay = format!("wxmock check --profile {}", shell_word(&args.profile));
    if let Some(path) = &args.expected_failures {
        replay.push_str(&format!(" --expected-failures {}", shell_word(path)));
    }
    let files = ReportFiles {
        json: args.json,
        junit: args.junit,
        html: args.html,
        replay,
    };
    execute(profile, options, None, &files)
}

pub fn demo(args: DemoArgs) -> u8 {
    if args.list_defects {
        for d in Defect::ALL {
            println!("{:<26} {}", d.name(), d.description());
        }
        return exit_code::OK;
    }
    let mut defects = Vec::new();
    let mut defect_names = Vec::new();
    for name in args
        .defects
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        match name.parse::<Defect>() {
            Ok(d) => {
                defects.push(d);
                defect_names.push(name.to_owned());
            }
            Err(e) => {
                eprintln!("wxmock: {e} (see `wxmock demo --list-defects`)");
                return exit_code::USAGE;
            }
        }
    }
    let profile = match Profile::from_toml_str(REFERENCE_PROFILE, "the shipped reference profile") {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let launcher: Launcher = Box::new(move |fake: FakeInfo| {
        Box::pin(async move {
            let mut config = wxmock_reference_backend::Config::new(
                fake.base_url.as_str(),
                fake.appid.as_str(),
                fake.secret.as_str(),
            );
            // A strong random JWT secret comes with Config::new; a short upstream timeout keeps
            // the upstream-timeout case quick.
            config.upstream_timeout = Duration::from_secs(1);
            config.defects = defects.into_iter().collect();
            // Its log goes to the harness, which checks it for secrets as it would a process's.
            config.log = Some(wxmock_reference_backend::LogSink::new(fake.output.sink()));
            let clock = config.clock.clone();
            let backend = wxmock_reference_backend::start(config)
                .await
                .map_err(|e| HarnessError::BackendStart(format!("the reference backend: {e}")))?;
            Ok(LaunchedBackend {
                clock: Some(std::sync::Arc::new(move |offset| clock.set_offset(offset))),
                base_url: backend.base_url(),
                jwt_secret: Some(backend.jwt_secret().to_string()),
                guard: Box::new(backend),
            })
        })
    });
    let options = RunOptions {
        seed: args.seed,
        only: args.only,
        skip: args.skip,
        ..RunOptions::default()
    };
    let mut replay = "wxmock demo".to_owned();
    for name in &defect_names {
        replay.push_str(&format!(" --defect {name}"));
    }
    let files = ReportFiles {
        json: Some(args.out.join("report.json")),
        junit: Some(args.out.join("junit.xml")),
        html: Some(args.out.join("report.html")),
        replay,
    };
    execute(profile, options, Some(launcher), &files)
}

struct ReportFiles {
    json: Option<PathBuf>,
    junit: Option<PathBuf>,
    html: Option<PathBuf>,
    /// How this run is started again (the reports add `--seed N --only ID` per case).
    replay: String,
}

fn execute(
    profile: Profile,
    options: RunOptions,
    launcher: Option<Launcher>,
    files: &ReportFiles,
) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wxmock: cannot start the async runtime: {e}");
            return exit_code::INTERNAL;
        }
    };
    let result: Result<RunReport, HarnessError> = runtime.block_on(async {
        let (handle, request) = StopRequest::channel();
        tokio::spawn(async move {
            let why = stop_signal().await;
            eprintln!("wxmock: {why} received: stopping the backend and writing the reports");
            handle.stop(why);
        });
        let options = RunOptions {
            stop: Some(request),
            ..options
        };
        let mut terminal = TerminalReporter::new(std::io::stdout());
        run_catalogue(profile, options, launcher, &mut [&mut terminal]).await
    });
    let mut report = match result {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    report.replay = Some(files.replay.clone());
    if let Err(e) = write_files(
        &report,
        files.json.as_deref(),
        files.junit.as_deref(),
        files.html.as_deref(),
    ) {
        return fail(&e);
    }
    for (kind, path) in [
        ("JSON", &files.json),
        ("JUnit", &files.junit),
        ("HTML", &files.html),
    ] {
        if let Some(p) = path {
            println!("{kind} report: {}", display(p));
        }
    }
    if let Some(i) = &report.interrupted {
        return if i.cause == "deadline" {
            exit_code::DEADLINE
        } else {
            exit_code::INTERRUPTED
        };
    }
    if report.summary.conforms {
        exit_code::OK
    } else {
        exit_code::CONFORMANCE_FAILURES
    }
}

/// A path as one shell word: quoted when it holds anything but plain path characters.
fn shell_word(p: &Path) -> String {
    let text = p.display().to_string();
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,".contains(c))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// The first SIGINT or SIGTERM (Ctrl-C alone where SIGTERM cannot be listened to).
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

/// Prints a harness error with its causes on one line and maps it to an exit code.
pub(crate) fn fail(e: &HarnessError) -> u8 {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    eprintln!("wxmock: {text}");
    match e.class() {
        ErrorClass::ProfileInvalid => exit_code::PROFILE_INVALID,
        ErrorClass::BackendUnreachable => exit_code::BACKEND_UNREACHABLE,
        ErrorClass::Usage => exit_code::USAGE,
        ErrorClass::Internal => exit_code::INTERNAL,
    }
}
