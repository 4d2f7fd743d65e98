//! End-to-end tests of `wxmock serve`: the printed URL works, SIGTERM exits 0, a port in use
//! and a bad config are one-line errors with exit codes 1 and 3.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_wxmock");

/// Starts `wxmock serve` with `args` and returns the child and the base URL from its first line.
fn start(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let url = first
        .trim()
        .split("listening on ")
        .nth(1)
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    (child, url)
}

fn terminate(child: &mut Child) -> i32 {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "wxmock serve did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(args: &[&str]) -> (i32, String) {
    let output = Command::new(BIN)
        .arg("serve")
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn serve_prints_a_working_url_and_stops_cleanly_on_sigterm() {
    let (mut child, url) = start(&["--listen", "127.0.0.1:0"]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let client = reqwest::Client::new();
    let health: serde_json::Value = client
        .get(format!("{url}/__admin/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let login: serde_json::Value = client
        .post(format!("{url}/__admin/login"))
        .json(&serde_json::json!({"appid":"wxdeadbeef00c0ffee","openid":"oAlice_wxmockDemoPersona0001"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = login["code"].as_str().unwrap();
    let session: serde_json::Value = serde_json::from_str(
        &client
            .get(format!("{url}/sns/jscode2session?appid=wxdeadbeef00c0ffee&secret=0123456789abcdef0123456789abcdef&js_code={code}&grant_type=authorization_code"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(session["openid"], "oAlice_wxmockDemoPersona0001");
    drop(client);
    assert_eq!(terminate(&mut child), 0);
}

#[tokio::test]
async fn serve_seeds_apps_from_a_config_file() {
    let dir = std::env::temp_dir().join(format!("wxmock-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ok.toml");
    std::fs::write(
        &path,
        "[[apps]]\nappid = \"wxfromfile00000001\"\nsecret = \"file-secret\"\n",
    )
    .unwrap();
    let (mut child, url) = start(&[
        "--listen",
        "127.0.0.1:0",
        "--config",
        path.to_str().unwrap(),
    ]);
    let token: serde_json::Value = reqwest::get(format!(
        "{url}/cgi-bin/token?grant_type=client_credential&appid=wxfromfile00000001&secret=file-secret"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(token["access_token"].is_string(), "{token}");
    assert_eq!(terminate(&mut child), 0);
}

#[test]
fn a_port_in_use_is_a_one_line_error_with_exit_code_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, stderr) = run(&["--listen", &addr]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&addr), "{stderr}");
}

#[test]
fn a_bad_config_is_a_one_line_error_with_exit_code_3() {
    let dir = std::env::temp_dir().join(format!("wxmock-serve-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[rules]\ncode_ttl_secs = \"five\"\n").unwrap();
    for path in [bad.to_str().unwrap(), "/nonexistent/wxmock.toml"] {
        let (code, stderr) = run(&["--listen", "127.0.0.1:0", "--config", path]);
        assert_eq!(code, 3, "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("wxmock: "), "{stderr}");
    }
    let invalid = dir.join("invalid.toml");
    std::fs::write(&invalid, "[rules]\nmalformed_token_errcode = 1\n").unwrap();
    let (code, stderr) = run(&["--config", invalid.to_str().unwrap()]);
    assert_eq!(code, 3, "{stderr}");
}

#[test]
fn the_example_config_is_valid_and_seeds_its_apps() {
    let text = include_str!("../wxmock.example.toml");
    let config = wxmock_server::Config::from_toml(text).unwrap();
    assert_eq!(config.rules, wxmock_server::Rules::default());
    assert_eq!(config.wire, wxmock_server::wire::WireConfig::default());
    assert_eq!(config.apps.len(), 1);
    assert_eq!(config.apps[0].users.len(), 3);
}

#[tokio::test]
async fn request_logs_mask_the_secret() {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .split("listening on ")
        .nth(1)
        .unwrap()
        .to_owned();
    let secret = "0123456789abcdef0123456789abcdef";
    let answer = reqwest::get(format!(
        "{url}/cgi-bin/token?grant_type=client_credential&appid=wxdeadbeef00c0ffee&secret={secret}"
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let token: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    reqwest::get(format!(
        "{url}/wxa/checksession?access_token={token}&openid=x&signature=y&sig_method=hmac_sha256"
    ))
    .await
    .unwrap();
    assert_eq!(terminate(&mut child), 0);
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    assert!(logs.contains("/cgi-bin/token"), "{logs}");
    assert!(logs.contains("***"), "{logs}");
    assert!(!logs.contains(secret), "{logs}");
    assert!(!logs.contains(&token), "{logs}");
}

#[test]
fn an_unknown_code_user_naming_nobody_is_exit_code_3_naming_the_key() {
    let dir = std::env::temp_dir().join(format!("wxmock-serve-nobody-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("zed.toml");
    std::fs::write(&path, "[rules]\nunknown_code_user = \"zed\"\n").unwrap();
    let (code, stderr) = run(&[
        "--listen",
        "127.0.0.1:0",
        "--config",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("rules.unknown_code_user"), "{stderr}");
    assert!(stderr.contains("\"zed\""), "{stderr}");
    let (code, stderr) = run(&["--listen", "127.0.0.1:0", "--cors-origin", "*"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("cors_origins"), "{stderr}");
}

/// The whole banner of `wxmock serve` with `args` (the server is stopped after it).
fn banner(args: &[&str]) -> String {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    // The banner ends with the line about real wx.login codes.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        text.push_str(&line);
        if line.contains("real wx.login codes") {
            break;
        }
    }
    assert_eq!(terminate(&mut child), 0);
    text
}

#[test]
fn the_banner_shows_what_works_for_ones_own_apps() {
    let dir = std::env::temp_dir().join(format!("wxmock-serve-banner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let personas = dir.join("personas.toml");
    std::fs::write(
        &personas,
        "[rules]\nunknown_code_user = \"bob\"\n[[apps]]\nappid = \"wxmine0000000000001\"\nsecret = \"my-own-secret-value\"\n",
    )
    .unwrap();
    let text = banner(&["--config", personas.to_str().unwrap()]);
    assert!(text.contains("console:     http://127.0.0.1:"), "{text}");
    assert!(
        text.contains(
            "appid=wxmine0000000000001 secret=my-own-secret-value (personas alice, bob, mallory)"
        ),
        "{text}"
    );
    assert!(
        text.contains("secret=my-own-secret-value&js_code=$CODE"),
        "{text}"
    );
    assert!(
        !text.contains("<secret>") && !text.contains("demo app"),
        "{text}"
    );
    assert!(
        text.contains("-d '{\"openid\":\"oAlice_wxmockDemoPersona0001\"}'"),
        "one app, no appid: {text}"
    );
    assert!(text.contains("js_code=wxmock-as-alice"), "{text}");
    assert!(
        text.contains("real wx.login codes (from WeChat DevTools) log in as bob"),
        "{text}"
    );

    let own = dir.join("own.toml");
    std::fs::write(
        &own,
        "[[apps]]\nappid = \"wxmine0000000000001\"\nsecret = \"s1\"\n[[apps.users]]\nopenid = \"oZed_ownUser000000000000001\"\n\
         [[apps]]\nappid = \"wxmine0000000000002\"\nsecret = \"s2\"\n",
    )
    .unwrap();
    let text = banner(&["--config", own.to_str().unwrap()]);
    assert!(
        text.contains("appid=wxmine0000000000001 secret=s1 (1 user: oZed_ownUser000000000000001)"),
        "{text}"
    );
    assert!(
        text.contains("appid=wxmine0000000000002 secret=s2 (personas alice, bob, mallory)"),
        "{text}"
    );
    assert!(
        !text.contains("wxmock-as-alice"),
        "the first app has no alice: {text}"
    );
    assert!(
        text.contains("js_code=wxmock-as-oZed_ownUser000000000000001"),
        "{text}"
    );
    assert!(
        text.contains("\"appid\":\"wxmine0000000000001\""),
        "two apps: the appid is needed: {text}"
    );
    assert!(
        text.contains("unknown_code_user = \"oZed_ownUser000000000000001\""),
        "{text}"
    );
}

#[tokio::test]
async fn request_logs_show_the_errcode_answered() {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .split("listening on ")
        .nth(1)
        .unwrap()
        .to_owned();
    let base = format!("{url}/sns/jscode2session?appid=wxdeadbeef00c0ffee&secret=0123456789abcdef0123456789abcdef&grant_type=authorization_code");
    for code in ["never-issued", "wxmock-as-alice"] {
        reqwest::get(format!("{base}&js_code={code}"))
            .await
            .unwrap();
    }
    assert_eq!(terminate(&mut child), 0);
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("wechat request"))
        .collect();
    assert_eq!(lines.len(), 2, "{logs}");
    assert!(
        lines[0].contains("status=200") && lines[0].contains("errcode=40029"),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("errcode=none (success)"), "{}", lines[1]);
}
