//! End-to-end tests of impersonation from the command line: `wxmock serve --proxy` prints the
//! environment lines to paste, and a client given exactly those lines reaches the fake as
//! https://api.weixin.qq.com; `wxmock ca --ca-dir` keeps one CA across runs.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_wxmock");

fn have(tool: &str) -> bool {
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

fn temp_dir() -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    std::env::temp_dir().join(format!("wxmock-cli-ca-{}-{nanos}", std::process::id()))
}

#[test]
fn serve_with_a_proxy_prints_env_lines_that_make_curl_reach_the_fake_as_wechat() {
    if !have("curl") {
        return;
    }
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--proxy", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut env = BTreeMap::new();
    let mut banner = String::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        banner.push_str(&line);
        banner.push('\n');
        if let Some((name, value)) = line
            .trim()
            .strip_prefix("export ")
            .and_then(|l| l.split_once('='))
        {
            env.insert(name.to_owned(), value.trim_matches('\'').to_owned());
            if name == "WXMOCK_WECHAT_URL" {
                break;
            }
        }
    }
    for name in [
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "SSL_CERT_FILE",
        "CURL_CA_BUNDLE",
        "NODE_OPTIONS",
    ] {
        assert!(env.contains_key(name), "{name} not printed:\n{banner}");
    }
    let bundle = std::path::PathBuf::from(&env["CURL_CA_BUNDLE"]);
    assert!(bundle.is_file(), "{banner}");
    let preload = env["NODE_OPTIONS"]
        .trim_start_matches("--require ")
        .to_owned();
    assert!(std::path::Path::new(&preload).is_file(), "{banner}");

    // Exactly the printed lines, nothing else from this machine.
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            "https://api.weixin.qq.com/sns/jscode2session?appid=wxdeadbeef00c0ffee&secret=0123456789abcdef0123456789abcdef&js_code=wxmock-as-alice&grant_type=authorization_code",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(&env)
        .output()
        .expect("curl");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(
        body.contains("\"openid\":\"oAlice_wxmockDemoPersona0001\""),
        "{body}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "serve did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(0));
    // A fresh CA's files go with the run.
    assert!(!bundle.exists(), "{} left behind", bundle.display());
}

#[test]
fn ca_keeps_one_ca_in_its_directory_and_needs_one() {
    let out = Command::new(BIN)
        .arg("ca")
        .env_remove("WXMOCK_CA_DIR")
        .output()
        .expect("ca");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ca-dir"));

    let dir = temp_dir();
    let print = || {
        let out = Command::new(BIN)
            .args(["ca", "--ca-dir"])
            .arg(&dir)
            .output()
            .expect("ca");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let first = print();
    let (path, pem) = first.split_once('\n').expect("path line");
    assert_eq!(path, dir.join("wxmock-ca.pem").display().to_string());
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert!(!first.contains("PRIVATE KEY"), "the key was printed");
    assert_eq!(print(), first, "a second run made another CA");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_proxy_address_in_use_is_a_one_line_error_with_exit_code_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--proxy", &addr])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("serve");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot impersonate api.weixin.qq.com") && stderr.contains(&addr),
        "{stderr}"
    );
}
