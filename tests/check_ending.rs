//! `wxmock check` ends well whatever happens: SIGTERM or SIGINT stops the backend's whole process
//! group and writes the reports with the run marked interrupted (exit 6); the run deadline does
//! the same (exit 7); a backend that stops answering after start-up, answers one byte a second, or
//! keeps its health endpoint up while its API hangs, ends the run in bounded time with the rest
//! skipped as "backend not answering since <case>".

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Generous for a loaded 2-core machine: the old behaviour took about 8.5 minutes.
const FAIL_FAST_LIMIT: Duration = Duration::from_secs(150);

mod support;

use support::{backend_script as script, have_python};

fn temp_dir(name: &str) -> PathBuf {
    support::temp_dir("ending", name)
}

/// A profile starting `python3 <script> <port>` through `sh -c` (so the backend is a process
/// group of two: the shell and python).
fn profile(dir: &Path, backend: &str, ready: &str, extra_env: &str) -> PathBuf {
    let text = format!(
        r#"
name = "ending"
[backend]
command = "python3 {} {{{{port}}}}"
base_url = "http://127.0.0.1:{{{{port}}}}"
{ready}
ready_timeout_secs = 20
[backend.env]
{extra_env}
[login]
path = "/api/login"
[protected]
path = "/api/me"
"#,
        script(backend)
    );
    let p = dir.join("profile.toml");
    std::fs::write(&p, text).expect("write profile");
    p
}

fn check(profile: &Path, dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxmock"));
    cmd.arg("check")
        .arg("--profile")
        .arg(profile)
        .arg("--seed")
        .arg("5")
        .arg("--json")
        .arg(dir.join("report.json"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--html")
        .arg(dir.join("report.html"))
        .args(extra)
        .env("RUST_LOG", "error");
    cmd
}

fn report(dir: &Path) -> Value {
    let text =
        std::fs::read_to_string(dir.join("report.json")).expect("the JSON report is written");
    serde_json::from_str(&text).expect("JSON")
}

fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // A zombie waiting for its reaper is stopped too.
        Ok(stat) => stat.split_whitespace().nth(2) == Some("Z"),
    }
}

fn interrupted_by(signal: &str, signal_name: &str) {
    let dir = temp_dir(signal_name);
    let pid_file = dir.join("backend.pid");
    let p = profile(
        &dir,
        "silent_after_start.py",
        "",
        &format!("PID_FILE = {:?}", pid_file.display().to_string()),
    );
    let mut child = check(&p, &dir, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the run is under way (the first progress line), then signal it.
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    for line in lines.by_ref() {
        if line.expect("line").starts_with("running ") {
            break;
        }
    }
    let backend_pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("the backend wrote its pid")
        .trim()
        .parse()
        .expect("pid");
    assert!(!gone(backend_pid), "the backend runs during the run");
    // Signal once the backend holds the first case's request (the case is in progress).
    let held = pid_file.with_extension("pid.held");
    let waiting = Instant::now();
    while !held.exists() {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "no request reached the backend"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let signalled = Instant::now();
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("wait");
    assert!(
        signalled.elapsed() < Duration::from_secs(30),
        "it stops promptly: {:?}",
        signalled.elapsed()
    );
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(gone(backend_pid), "the backend's process group was stopped");
    let stdout = rest.join("\n");
    assert!(stdout.contains("run INTERRUPTED"), "{stdout}");
    let r = report(&dir);
    assert_eq!(r["interrupted"]["cause"], "signal", "{}", r["interrupted"]);
    assert_eq!(
        r["interrupted"]["reason"],
        format!("{signal_name} received"),
        "{}",
        r["interrupted"]
    );
    // The first case of the catalogue is the one in progress.
    assert_eq!(
        r["interrupted"]["during"],
        wxmock_harness::case::catalogue()[0].id
    );
    let unfinished = r["interrupted"]["unfinished"].as_array().expect("list");
    assert!(unfinished.len() > 10, "{unfinished:?}");
    assert_eq!(r["summary"]["conforms"], false);
    let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit written");
    assert!(junit.contains("name=\"interrupted\""), "{junit}");
    let html = std::fs::read_to_string(dir.join("report.html")).expect("html written");
    assert!(html.contains("run INTERRUPTED"), "the HTML report says so");
}

#[test]
fn sigterm_stops_the_backend_group_writes_the_reports_and_exits_6() {
    if have_python() {
        interrupted_by("TERM", "SIGTERM");
    }
}

#[test]
fn sigint_stops_the_backend_group_writes_the_reports_and_exits_6() {
    if have_python() {
        interrupted_by("INT", "SIGINT");
    }
}

fn run_to_end(cmd: &mut Command) -> (Output, Duration) {
    let started = Instant::now();
    let out = cmd.output().expect("run wxmock");
    (out, started.elapsed())
}

fn skip_reasons(r: &Value) -> Vec<String> {
    r["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["status"] == "skipped")
        .filter_map(|c| c["reason"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn the_run_deadline_ends_the_run_with_the_reports_and_exit_7() {
    if !have_python() {
        return;
    }
    let dir = temp_dir("deadline");
    let p = profile(&dir, "silent_after_start.py", "", "");
    let (out, took) = run_to_end(&mut check(&p, &dir, &["--deadline-secs", "3"]));
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
    let r = report(&dir);
    assert_eq!(r["interrupted"]["cause"], "deadline");
    assert!(r["interrupted"]["reason"]
        .as_str()
        .is_some_and(|s| s.contains("deadline of 3 s")));
    assert!(skip_reasons(&r)
        .iter()
        .any(|s| s.starts_with("not run: the run deadline of 3 s passed")));
}

fn fails_fast(backend: &str, ready: &str) {
    let dir = temp_dir(backend);
    let p = profile(&dir, backend, ready, "");
    let (out, took) = run_to_end(&mut check(&p, &dir, &[]));
    eprintln!("{backend}: the run took {took:?}");
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < FAIL_FAST_LIMIT, "{backend}: {took:?}");
    let r = report(&dir);
    let reasons = skip_reasons(&r);
    let silent = reasons
        .iter()
        .filter(|s| s.starts_with("backend not answering since "))
        .count();
    assert!(silent >= 10, "{backend}: {reasons:#?}");
}

#[test]
fn a_backend_silent_after_start_up_is_given_up_in_bounded_time() {
    if have_python() {
        fails_fast("silent_after_start.py", "");
    }
}

#[test]
fn a_backend_answering_one_byte_a_second_is_given_up_in_bounded_time() {
    if have_python() {
        fails_fast("trickle.py", "");
    }
}

#[test]
fn a_backend_whose_health_answers_but_api_hangs_is_given_up_in_bounded_time() {
    if have_python() {
        fails_fast("api_hangs.py", "ready_url = \"/health\"");
    }
}

#[test]
fn sigterm_while_the_backend_starts_stops_it_and_lists_every_case_as_not_run() {
    let dir = temp_dir("starting");
    let pid_file = dir.join("backend.pid");
    // A backend that never becomes ready: the harness waits up to 60 s for it.
    let text = format!(
        r#"
[backend]
command = "echo $$ > {pid}; exec sleep 300"
base_url = "http://127.0.0.1:{{{{port}}}}"
ready_timeout_secs = 60
[login]
path = "/api/login"
[protected]
path = "/api/me"
"#,
        pid = pid_file.display()
    );
    let p = dir.join("profile.toml");
    std::fs::write(&p, text).expect("write profile");
    let mut child = check(&p, &dir, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    for line in lines.by_ref() {
        if line.expect("line").contains("waiting for backend") {
            break;
        }
    }
    let started = Instant::now();
    let backend_pid: i32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break pid;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no pid file");
        std::thread::sleep(Duration::from_millis(50));
    };
    let signalled = Instant::now();
    assert!(Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill")
        .success());
    let _rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("wait");
    assert!(
        signalled.elapsed() < Duration::from_secs(30),
        "{:?}",
        signalled.elapsed()
    );
    assert_eq!(out.status.code(), Some(6));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gone(backend_pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(gone(backend_pid), "the starting backend was stopped");
    let r = report(&dir);
    assert_eq!(r["interrupted"]["during"], Value::Null);
    let total = r["summary"]["total"].as_u64().expect("total");
    assert_eq!(
        r["interrupted"]["unfinished"].as_array().map(Vec::len),
        Some(total as usize),
        "every case is listed as not run"
    );
}
