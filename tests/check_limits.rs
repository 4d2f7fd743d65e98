//! `wxmock check` against a backend that answers 50 MB to every request: the harness reads each
//! answer only up to its documented limit, its memory stays bounded (peak RSS of the process,
//! from wait4's rusage) and it finishes with reports of a bounded size that say what was cut.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The goal the harness is held to against a 50 MB-per-answer backend.
const PEAK_RSS_LIMIT_KIB: i64 = 200 * 1024;
/// Generous for a loaded 2-core machine; a healthy run takes well under a minute.
const RUN_LIMIT: Duration = Duration::from_secs(300);

mod support;

use support::{backend_script, have_python};

fn temp_dir(name: &str) -> PathBuf {
    support::temp_dir("limits", name)
}

/// Runs the command to its end (killed past `limit`) and returns its exit status and peak RSS
/// in KiB (the largest of the process and of the children it waited for).
fn run_measured(mut cmd: Command, limit: Duration) -> (libc::c_int, i64) {
    let child = cmd.spawn().expect("spawn wxmock");
    let pid = i32::try_from(child.id()).expect("pid");
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = done.clone();
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            while start.elapsed() < limit {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            if !done.load(Ordering::SeqCst) {
                // SAFETY: kill(2) on a pid we spawned and have not reaped yet.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        })
    };
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; std's Child is never waited on after this.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    done.store(true, Ordering::SeqCst);
    let _ = watchdog.join();
    assert_eq!(r, pid, "wait4 failed");
    std::mem::forget(child);
    (status, usage.ru_maxrss)
}

fn profile(dir: &Path, script: &str) -> PathBuf {
    let text = format!(
        r#"
name = "huge-answers"
[backend]
command = ["python3", {script:?}, "{{{{port}}}}"]
base_url = "http://127.0.0.1:{{{{port}}}}"
ready_timeout_secs = 20
[login]
path = "/api/login"
[protected]
path = "/api/me"
"#
    );
    let p = dir.join("huge.toml");
    std::fs::write(&p, text).expect("write profile");
    p
}

#[test]
fn a_backend_answering_50_mb_to_every_request_keeps_check_under_200_mb_and_it_finishes() {
    if !have_python() {
        return;
    }
    let dir = temp_dir("huge");
    let p = profile(&dir, &backend_script("huge_answers.py"));
    let json = dir.join("report.json");
    let html = dir.join("report.html");
    let junit = dir.join("junit.xml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxmock"));
    cmd.arg("check")
        .arg("--profile")
        .arg(&p)
        .arg("--seed")
        .arg("7")
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .arg("--junit")
        .arg(&junit)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let (status, peak_kib) = run_measured(cmd, RUN_LIMIT);
    eprintln!("peak RSS of wxmock check against 50 MB answers: {peak_kib} KiB");
    assert!(
        libc::WIFEXITED(status),
        "wxmock check did not finish by itself: {status}"
    );
    assert_eq!(
        libc::WEXITSTATUS(status),
        5,
        "the run ends with conformance failures"
    );
    assert!(
        peak_kib < PEAK_RSS_LIMIT_KIB,
        "peak RSS {peak_kib} KiB is over {PEAK_RSS_LIMIT_KIB} KiB"
    );
    let report = std::fs::read_to_string(&json).expect("the JSON report is written");
    assert!(
        report.len() < 10 * 1024 * 1024,
        "JSON report of {} bytes",
        report.len()
    );
    assert!(
        report.contains("the body was longer than the 1 MiB the harness reads"),
        "the cut is noted in the evidence"
    );
    assert!(
        report.contains("more bytes cut]"),
        "long texts carry a cut marker"
    );
    for f in [&html, &junit] {
        let size = std::fs::metadata(f).expect("report written").len();
        assert!(size < 10 * 1024 * 1024, "{} is {size} bytes", f.display());
    }
}
