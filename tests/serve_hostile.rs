//! `wxmock serve` under hostile load, as a separate process so its memory and file descriptors
//! can be measured and limited: 1000 POSTs of 1 MB keep its resident size under 64 MB, and a
//! flood of half-sent and idle connections under a 256-descriptor limit does not lock out the
//! health check. Loopback only, bounded in count and time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_wxmock");
const MB: usize = 1 << 20;

struct Served {
    child: Child,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `wxmock serve` on an ephemeral loopback port, started through `sh` so a `ulimit` can apply.
fn serve(shell_prefix: &str, args: &str) -> Served {
    let script = format!("{shell_prefix} exec \"$0\" serve --listen 127.0.0.1:0 {args}");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(BIN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .trim()
        .split("listening on http://")
        .nth(1)
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    Served { child, addr }
}

/// A `/proc/<pid>/status` field in kB (VmRSS: now, VmHWM: the peak).
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Sends one request on a keep-alive connection and reads the whole answer; returns its body.
fn exchange(socket: &mut TcpStream, head: &str, body: &[u8]) -> Vec<u8> {
    socket.write_all(head.as_bytes()).unwrap();
    socket.write_all(body).unwrap();
    let mut reader = BufReader::new(socket);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut answer = vec![0; length];
    reader.read_exact(&mut answer).unwrap();
    answer
}

#[test]
fn a_thousand_one_megabyte_posts_keep_the_server_under_64_mb() {
    let served = serve("", "");
    let pid = served.child.id();
    let started_kb = status_kb(pid, "VmRSS");
    let body = vec![b'a'; MB];
    let head = format!(
        "POST /cgi-bin/stable_token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {MB}\r\n\r\n"
    );
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let mut socket = TcpStream::connect(&served.addr).unwrap();
                socket
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .unwrap();
                for _ in 0..250 {
                    let answer = exchange(&mut socket, &head, &body);
                    assert!(String::from_utf8_lossy(&answer).contains("errcode"));
                }
            });
        }
    });
    let after_posts_kb = status_kb(pid, "VmRSS");
    let mut socket = TcpStream::connect(&served.addr).unwrap();
    let listing = exchange(
        &mut socket,
        "GET /__admin/journal HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"",
    );
    let listing: serde_json::Value = serde_json::from_slice(&listing).unwrap();
    let kept = listing["entries"].as_array().unwrap();
    assert_eq!(listing["last_id"], 1000);
    assert!(!kept.is_empty() && kept.len() <= 1000);
    assert_eq!(kept[0]["body_size"], MB);
    let after_read_kb = status_kb(pid, "VmRSS");
    let removed = exchange(
        &mut socket,
        "DELETE /__admin/journal HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"",
    );
    assert!(String::from_utf8_lossy(&removed).contains("removed"));
    let after_delete_kb = status_kb(pid, "VmRSS");
    let peak_kb = status_kb(pid, "VmHWM");
    eprintln!(
        "server RSS: start {started_kb} kB, after 1000 x 1 MB POSTs {after_posts_kb} kB, after GET journal {after_read_kb} kB, after DELETE {after_delete_kb} kB, peak {peak_kb} kB"
    );
    assert!(peak_kb < 64 * 1024, "peak RSS {peak_kb} kB");
    assert!(after_delete_kb <= after_read_kb, "DELETE gave nothing back");
}

#[test]
fn under_a_256_descriptor_limit_a_connection_flood_does_not_lock_out_health() {
    let served = serve("ulimit -n 256 &&", "");
    let mut held = Vec::new();
    for i in 0..400 {
        let Ok(mut socket) = TcpStream::connect(&served.addr) else {
            continue;
        };
        if i % 4 != 0 {
            // Half a request head: the server waits for the rest.
            let _ = socket.write_all(b"GET /sns/jscode2session HTTP/1.1\r\nHost: x\r\n");
        }
        held.push(socket);
    }
    let mut socket = TcpStream::connect(&served.addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    socket
        .write_all(b"GET /__admin/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = socket.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "health did not answer under the flood: {answer:?}"
    );
    drop(held);
}

#[test]
fn the_banner_says_in_one_line_who_may_use_the_control_api() {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-token",
            "t0ken-for-test",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner: Vec<String> = (0..6).map_while(|_| lines.next()?.ok()).collect();
    let _ = child.kill();
    let _ = child.wait();
    let access: Vec<&String> = banner
        .iter()
        .filter(|l| l.contains("control API access:"))
        .collect();
    assert_eq!(access.len(), 1, "{banner:?}");
    assert!(access[0].contains("token required"), "{banner:?}");
    assert!(
        !banner.join("\n").contains("t0ken-for-test"),
        "the token is not printed"
    );
}
