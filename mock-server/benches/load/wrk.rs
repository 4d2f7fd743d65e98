//! The wrk method: each server pinned to CPU 0, `wrk -t1 -c64 -d5s --latency` pinned to CPU 1,
//! the server's CPU time read from `/proc/<pid>/stat` (utime + stime) before and after the 5 s
//! run, and the bare hyper server measured before and after the fake in the same run (their
//! mean is the baseline). Reports CPU per request, the ratio to the bare server, and wrk's p99.
//!
//! Needs `wrk` and `taskset` (util-linux) and two CPUs; says why and skips otherwise.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const DURATION: &str = "5s";
const CONNECTIONS: &str = "64";

struct Pinned {
    child: Child,
    url: String,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One wrk run against one server.
pub struct WrkRun {
    pub requests: u64,
    pub cpu_us_per_request: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

fn has(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Starts this bench binary as a child server (`mode`), pinned to CPU 0. The child prints its
/// port, then optionally a path, on its first line.
fn start(child_env: &str, mode: &str) -> Pinned {
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new("taskset")
        .args(["-c", "0"])
        .arg(exe)
        .env(child_env, mode)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .spawn()
        .expect("pinned bench child starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut line)
        .expect("child prints its port");
    let mut words = line.split_whitespace();
    let port = words.next().expect("a port");
    let path = words.next().unwrap_or("/anything");
    Pinned {
        url: format!("http://127.0.0.1:{port}{path}"),
        child,
    }
}

/// utime + stime of the whole process, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat");
    let after = &stat[stat.rfind(')').expect("stat has (comm)") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
    ticks as f64 / super::clock_ticks_per_sec()
}

/// `1.23ms`, `850.00us`, `1.01s` → milliseconds.
fn millis(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn measure(child_env: &str, mode: &str) -> WrkRun {
    let server = start(child_env, mode);
    let pid = server.child.id();
    let before = cpu_secs(pid);
    let output = Command::new("taskset")
        .args([
            "-c",
            "1",
            "wrk",
            "-t1",
            "-c",
            CONNECTIONS,
            "-d",
            DURATION,
            "--latency",
        ])
        .arg(&server.url)
        .output()
        .expect("wrk runs");
    let cpu = cpu_secs(pid) - before;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut requests = 0;
    let mut p99_ms = f64::NAN;
    let mut errors = 0;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["99%", value, ..] => p99_ms = millis(value).unwrap_or(f64::NAN),
            [count, "requests", "in", ..] => requests = count.parse().unwrap_or(0),
            ["Non-2xx", "or", "3xx", "responses:", count] => errors += count.parse().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>()
            }
            _ => {}
        }
    }
    WrkRun {
        requests,
        cpu_us_per_request: cpu * 1e6 / requests.max(1) as f64,
        p99_ms,
        errors,
    }
}

fn line(name: &str, run: &WrkRun, baseline: Option<f64>) {
    let ratio = baseline
        .map(|b| format!("  ratio vs bare: {:.2}x", run.cpu_us_per_request / b))
        .unwrap_or_default();
    println!(
        "  {name}: {:.2} us CPU/request, p99 {:.2} ms, {} requests in {DURATION} ({} errors){ratio}",
        run.cpu_us_per_request, run.p99_ms, run.requests, run.errors
    );
}

/// Runs the wrk method (bare, fake, bare) and prints its figures.
pub fn run(child_env: &str, fake_mode: &str) {
    if !has("wrk") || !has("taskset") {
        println!("wrk method skipped: needs wrk and taskset (apt-get install -y wrk util-linux)");
        return;
    }
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        println!("wrk method skipped: needs two CPUs (server on CPU 0, wrk on CPU 1)");
        return;
    }
    println!(
        "wrk method: server pinned to CPU 0, wrk -t1 -c{CONNECTIONS} -d{DURATION} pinned to CPU 1, server CPU from /proc/<pid>/stat; bare server before and after"
    );
    let bare_before = measure(child_env, "bare");
    let fake = measure(child_env, fake_mode);
    let bare_after = measure(child_env, "bare");
    let baseline = (bare_before.cpu_us_per_request + bare_after.cpu_us_per_request) / 2.0;
    line("bare hyper before", &bare_before, None);
    line("wxmock checksession, journal on", &fake, Some(baseline));
    line("bare hyper after", &bare_after, None);
    println!(
        "wrk method result: checksession {:.2}x the bare server's CPU per request, p99 {:.2} ms (bare {:.2} / {:.2} ms)",
        fake.cpu_us_per_request / baseline,
        fake.p99_ms,
        bare_before.p99_ms,
        bare_after.p99_ms
    );
}
