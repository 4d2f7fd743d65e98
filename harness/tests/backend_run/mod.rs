//! What the tests that start a backend of tests/backends/ share: tool checks that fail in CI
//! instead of skipping (node, python3, libfaketime), the backends' paths, the profile every such
//! backend shares, the run helpers, and the check that discover found the clock movable.
#![allow(dead_code)]

use std::process::Command;

use wxmock_harness::clock::DEBIAN_FAKETIME_LIB;
use wxmock_harness::discover::{
    discover, ClockFound, CommandLine, DiscoverOptions, Discovery, Target,
};
use wxmock_harness::profile::Profile;
use wxmock_harness::report::RunReport;
use wxmock_harness::runner::{run, RunOptions};

pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "{tool} is required in CI");
        eprintln!("skipped: {tool} is not installed");
    }
    ok
}

/// Whether libfaketime is installed (required in CI; otherwise the caller skips what needs it,
/// with a note).
pub fn faketime() -> bool {
    let ok = std::path::Path::new(DEBIAN_FAKETIME_LIB).is_file();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "libfaketime ({DEBIAN_FAKETIME_LIB}) is required in CI"
        );
        eprintln!("skipped: libfaketime (Debian package faketime, {DEBIAN_FAKETIME_LIB}) is not installed");
    }
    ok
}

/// The path of the test backend `name` of tests/backends/.
pub fn script(name: &str) -> String {
    format!("{}/tests/backends/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn options(login_path: &str) -> DiscoverOptions {
    DiscoverOptions::new(login_path)
}

/// Discovers the backend `command` starts (no extra environment) from its `login_path`;
/// returns what was found and the profile written for that command.
pub async fn discover_command(command: &str, login_path: &str) -> (Discovery, String) {
    discover_command_with(command, &options(login_path)).await
}

/// [`discover_command`] with `opts`.
pub async fn discover_command_with(command: &str, opts: &DiscoverOptions) -> (Discovery, String) {
    let found = discover(Target::command(command.to_string(), Vec::new()), opts)
        .await
        .expect("discover");
    let toml = found.to_toml(Some(CommandLine { command, env: &[] }));
    (found, toml)
}

/// Discover wrote `clock = "faketime"` (the monotonic clock left to `auto`), saying why.
pub fn assert_faketime_found(found: &Discovery, toml: &str) {
    match &found.clock {
        Some(ClockFound::Faketime {
            monotonic: None,
            lib: None,
            seen,
        }) => assert!(seen.contains("two days ahead"), "{seen}"),
        other => panic!("libfaketime should move this backend's clock: {other:?}\n{toml}"),
    }
    assert!(
        toml.contains("\nclock = \"faketime\"\n") && !toml.contains("faketime_monotonic"),
        "{toml}"
    );
}

/// A profile for `script` run by `program`, with `defect` in its environment and `extra` TOML
/// appended after `[backend.env]` (so it may open new sections).
pub fn profile(
    program: &str,
    script: &str,
    defect: &str,
    backend_extra: &str,
    extra: &str,
) -> Profile {
    let script = self::script(script);
    let text = format!(
        r#"
[backend]
base_url = "http://127.0.0.1:{{{{port}}}}"
command = [{program:?}, {script:?}]
ready_url = "/ready"
ready_timeout_secs = 20
{backend_extra}
[backend.env]
PORT = "{{{{port}}}}"
WX_API_BASE = "{{{{wechat_base_url}}}}"
WX_APPID = "{{{{appid}}}}"
WX_SECRET = "{{{{secret}}}}"
DEFECT = {defect:?}
{extra}
"#
    );
    Profile::from_toml_str(&text, script.rsplit('/').next().unwrap_or("backend")).expect("valid")
}

/// Runs `ids`; returns the whole report.
pub async fn run_report(profile: Profile, ids: &[&str]) -> RunReport {
    run_report_seeded(profile, ids, 7).await
}

/// Runs `ids` with `seed`; returns the whole report.
pub async fn run_report_seeded(profile: Profile, ids: &[&str], seed: u64) -> RunReport {
    let options = RunOptions {
        seed: Some(seed),
        only: ids.iter().map(|s| s.to_string()).collect(),
        ..RunOptions::default()
    };
    let report = run(profile, options, None, &mut []).await.expect("run");
    assert_eq!(report.cases.len(), ids.len(), "unknown ids in {ids:?}");
    report
}

/// Runs `ids`; returns (id, status, reason) in catalogue order.
pub async fn statuses(profile: Profile, ids: &[&str]) -> Vec<(String, String, String)> {
    statuses_seeded(profile, ids, 7).await
}

/// Runs `ids` with `seed`; returns (id, status, reason) in catalogue order.
pub async fn statuses_seeded(
    profile: Profile,
    ids: &[&str],
    seed: u64,
) -> Vec<(String, String, String)> {
    run_report_seeded(profile, ids, seed)
        .await
        .cases
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                c.status.clone(),
                c.reason.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// Runs `ids`; every one must pass. Returns (id, status, reason) in catalogue order.
pub async fn passes(profile: Profile, ids: &[&str]) -> Vec<(String, String, String)> {
    let got = statuses(profile, ids).await;
    assert_all(&got, "passed");
    got
}

/// Runs `ids`; every one must fail. Returns (id, status, reason) in catalogue order.
pub async fn fails(profile: Profile, ids: &[&str]) -> Vec<(String, String, String)> {
    let got = statuses(profile, ids).await;
    assert_all(&got, "failed");
    got
}

pub fn assert_all(got: &[(String, String, String)], status: &str) {
    for (id, s, reason) in got {
        assert_eq!(s, status, "{id}: {reason}");
    }
}
