//! Load benchmark: server CPU per request of the fake (`checksession`, `jscode2session`, with
//! the journal on, as `wxmock serve` runs) against a bare hyper server answering a fixed JSON,
//! measured in the same run on loopback.
//!
//! Each server runs in a child process (this binary re-executed with `WXMOCK_BENCH_CHILD`
//! set; the child prints its port), so its CPU time can be read from `/proc` (the sum of its
//! threads' `schedstat` run time, in nanoseconds; utime + stime from `stat` as a fallback)
//! before and after a fixed number of keep-alive requests over a few concurrent connections.
//! jscode2session needs a fresh code per request: the codes are minted through the control
//! API beforehand and that minting is not counted.
//!
//! Bounded: ROUNDS x REQUESTS per server, each run stopping early at RUN_DEADLINE. The best
//! round of each server is reported: other processes on the machine only ever add CPU time.
//!
//! A second method follows (`load/wrk.rs`): wrk against servers pinned to one CPU, 5 s each.
//! `WXMOCK_BENCH_METHOD=reqwest` or `=wrk` runs only one of them.

#[path = "load/wrk.rs"]
mod wrk;

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use wxmock_server::{AppState, Clock, Config, ALICE_OPENID, BOB_OPENID, DEMO_APPID, DEMO_SECRET};

const REQUESTS: usize = 20_000;
const ROUNDS: usize = 5;
const CONNECTIONS: usize = 4;
const RUN_DEADLINE: Duration = Duration::from_secs(25);
const CHILD_ENV: &str = "WXMOCK_BENCH_CHILD";
const BARE_BODY: &[u8] = br#"{"errcode":0,"errmsg":"ok"}"#;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match std::env::var(CHILD_ENV).as_deref() {
        Ok("bare") => runtime.block_on(child_bare()),
        Ok("wxmock") => runtime.block_on(child_wxmock()),
        Ok("wxmock-checksession") => runtime.block_on(child_checksession()),
        _ => {
            let method = std::env::var("WXMOCK_BENCH_METHOD").unwrap_or_default();
            if method != "wrk" {
                runtime.block_on(parent());
            }
            if method != "reqwest" {
                wrk::run(CHILD_ENV, "wxmock-checksession");
            }
        }
    }
}

async fn listen() -> tokio::net::TcpListener {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback bind");
    let port = listener.local_addr().expect("bound address").port();
    println!("{port}");
    listener
}

/// A hyper 1 server that answers every request with the same small JSON.
async fn child_bare() {
    let listener = listen().await;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let service = service_fn(|_request| async {
                let mut response = hyper::Response::new(Full::new(Bytes::from_static(BARE_BODY)));
                response.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("application/json; encoding=utf-8"),
                );
                Ok::<_, Infallible>(response)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The fake as `wxmock serve` runs it (journal on, faults checked), with the per-user
/// minute limit lifted so one persona can log in REQUESTS times.
async fn child_wxmock() {
    let listener = listen().await;
    let mut config = Config::default();
    config.rules.code2session_user_per_minute = u64::MAX;
    config.journal_capacity = Some(REQUESTS * ROUNDS * 2);
    let state = AppState::new(&config, Clock::system());
    let _ = wxmock_server::server::serve(listener, state, std::future::pending()).await;
}

/// The fake as `wxmock serve` runs it, with one user logged in and an access token minted; prints
/// its port and the checksession path (always the same valid request) on one line.
async fn child_checksession() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback bind");
    let port = listener.local_addr().expect("bound address").port();
    let state = AppState::new(&Config::default(), Clock::system());
    let engine = &state.engine;
    let token = engine.mint_access_token(DEMO_APPID).expect("a token");
    engine.login(DEMO_APPID, BOB_OPENID).expect("a login");
    let (key, _) = engine.session_keys(DEMO_APPID, BOB_OPENID).expect("a key");
    let signature = wxmock_fixtures::signature::login_state_signature(&key, "");
    println!(
        "{port} /wxa/checksession?access_token={token}&openid={BOB_OPENID}&signature={signature}&sig_method=hmac_sha256"
    );
    let _ = wxmock_server::server::serve(listener, state, std::future::pending()).await;
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(mode: &str) -> Self {
        let exe = std::env::current_exe().expect("own path");
        let mut child = Command::new(exe)
            .env(CHILD_ENV, mode)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .spawn()
            .expect("bench child starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("child prints its port");
        let port: u16 = line.trim().parse().expect("a port number");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        Self {
            child,
            base: format!("http://{addr}"),
        }
    }

    /// CPU time the child's threads have run, in seconds: the sum of the first field of
    /// `/proc/<pid>/task/*/schedstat` (nanoseconds, user + system), far finer than the 10 ms
    /// ticks of utime/stime in `/proc/<pid>/stat`, which is the fallback.
    fn cpu_secs(&self) -> f64 {
        let pid = self.child.id();
        let mut nanos: u64 = 0;
        let mut found = false;
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for task in tasks.flatten() {
                let path = task.path().join("schedstat");
                if let Some(ns) = std::fs::read_to_string(path)
                    .ok()
                    .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok())
                {
                    nanos += ns;
                    found = true;
                }
            }
        }
        if found {
            return nanos as f64 / 1e9;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .expect("/proc/<pid>/stat is readable (Linux)");
        // Fields after the `(comm)` part; utime and stime are fields 14 and 15 overall.
        let after = &stat[stat.rfind(')').expect("stat has (comm)") + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 =
            fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
        ticks as f64 / clock_ticks_per_sec()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clock_ticks_per_sec() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

struct Measured {
    requests: usize,
    failures: usize,
    cpu_us_per_request: f64,
    wall: Duration,
}

/// Sends `urls` over CONNECTIONS keep-alive connections; `ok` judges each answer.
async fn drive(server: &Server, urls: Vec<String>, ok: fn(&str) -> bool) -> Measured {
    let urls = Arc::new(urls);
    let cpu_before = server.cpu_secs();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONNECTIONS {
        let urls = urls.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client builds");
            let (mut done, mut failures) = (0, 0);
            for url in urls.iter().skip(worker).step_by(CONNECTIONS) {
                if started.elapsed() > RUN_DEADLINE {
                    break;
                }
                let text = match client.get(url).send().await {
                    Ok(response) => response.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                done += 1;
                if !ok(&text) {
                    failures += 1;
                }
            }
            (done, failures)
        }));
    }
    let (mut requests, mut failures) = (0, 0);
    for task in tasks {
        let (done, failed) = task.await.expect("driver task");
        requests += done;
        failures += failed;
    }
    let wall = started.elapsed();
    let cpu = server.cpu_secs() - cpu_before;
    Measured {
        requests,
        failures,
        cpu_us_per_request: cpu * 1e6 / requests.max(1) as f64,
        wall,
    }
}

async fn admin(client: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    client
        .post(format!("{base}/__admin/{path}"))
        .json(&body)
        .send()
        .await
        .expect("control API answers")
        .json()
        .await
        .expect("control API answers JSON")
}

async fn parent() {
    let client = reqwest::Client::new();
    println!(
        "load benchmark: {ROUNDS} rounds x {REQUESTS} requests per server over {CONNECTIONS} keep-alive connections; \
         server CPU of a child process (/proc/<pid>/task/*/schedstat); best round and median per-round ratio reported (other processes add noise, never remove it)"
    );
    let bare = Server::start("bare");
    let fake = Server::start("wxmock");
    let base = fake.base.clone();
    let check_url = checksession_url(&client, &base).await;
    let (mut bare_runs, mut check_runs, mut exchange_runs) = (vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        let urls = vec![format!("{}/anything", bare.base); REQUESTS];
        bare_runs.push(round(
            "bare",
            drive(&bare, urls, |t| t.as_bytes() == BARE_BODY).await,
        ));
        let urls = vec![check_url.clone(); REQUESTS];
        check_runs.push(round(
            "checksession",
            drive(&fake, urls, |t| t.starts_with(r#"{"errcode":0,"#)).await,
        ));
        let urls = exchange_urls(&client, &base).await;
        exchange_runs.push(round(
            "jscode2session",
            drive(&fake, urls, |t| t.starts_with(r#"{"session_key":"#)).await,
        ));
    }
    let (Some(bare_run), Some(check), Some(exchange)) =
        (best(&bare_runs), best(&check_runs), best(&exchange_runs))
    else {
        return;
    };
    report("bare hyper, fixed JSON", bare_run, None);
    report("wxmock checksession, journal on", check, Some(bare_run));
    report(
        "wxmock jscode2session, journal on (codes minted beforehand via /__admin/login, not counted)",
        exchange,
        Some(bare_run),
    );
    // The best rounds of two servers may come from different moments of the machine's load; the
    // ratio within one round (the servers ran back to back) is the steadier figure.
    println!(
        "median of per-round ratios vs bare: checksession {:.2}x, jscode2session {:.2}x",
        median_ratio(&check_runs, &bare_runs),
        median_ratio(&exchange_runs, &bare_runs)
    );
}

fn round(name: &str, run: Measured) -> Measured {
    println!(
        "  round {name}: {:.2} us CPU/request",
        run.cpu_us_per_request
    );
    run
}

fn best(runs: &[Measured]) -> Option<&Measured> {
    runs.iter()
        .min_by(|a, b| a.cpu_us_per_request.total_cmp(&b.cpu_us_per_request))
}

fn median_ratio(runs: &[Measured], bare: &[Measured]) -> f64 {
    let mut ratios: Vec<f64> = runs
        .iter()
        .zip(bare)
        .map(|(r, b)| r.cpu_us_per_request / b.cpu_us_per_request)
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One token, one login, a fixed signature: the same checksession URL every time.
async fn checksession_url(client: &reqwest::Client, base: &str) -> String {
    let token: Value = client
        .get(format!(
            "{base}/cgi-bin/token?grant_type=client_credential&appid={DEMO_APPID}&secret={DEMO_SECRET}"
        ))
        .send()
        .await
        .expect("token call")
        .json()
        .await
        .expect("token JSON");
    let token = token["access_token"].as_str().expect("a token").to_owned();
    admin(
        client,
        base,
        "login",
        json!({"appid": DEMO_APPID, "openid": BOB_OPENID}),
    )
    .await;
    let user = client
        .get(format!(
            "{base}/__admin/apps/{DEMO_APPID}/users/{BOB_OPENID}"
        ))
        .send()
        .await
        .expect("user")
        .json::<Value>()
        .await
        .expect("user JSON");
    let key = user["session_key"].as_str().expect("a session key");
    let signature = wxmock_fixtures::signature::login_state_signature(key, "");
    format!(
        "{base}/wxa/checksession?access_token={token}&openid={BOB_OPENID}&signature={signature}&sig_method=hmac_sha256"
    )
}

/// REQUESTS fresh codes for alice, minted through the control API (not measured).
async fn exchange_urls(client: &reqwest::Client, base: &str) -> Vec<String> {
    let minting = Instant::now();
    let mut urls = Vec::with_capacity(REQUESTS);
    while urls.len() < REQUESTS && minting.elapsed() < RUN_DEADLINE {
        let answer = admin(
            client,
            base,
            "login",
            json!({"appid": DEMO_APPID, "openid": ALICE_OPENID}),
        )
        .await;
        let code = answer["code"].as_str().expect("a code");
        urls.push(format!(
            "{base}/sns/jscode2session?appid={DEMO_APPID}&secret={DEMO_SECRET}&js_code={code}&grant_type=authorization_code"
        ));
    }
    urls
}

fn report(name: &str, run: &Measured, bare: Option<&Measured>) {
    let ratio = bare
        .map(|b| {
            format!(
                "  ratio vs bare: {:.2}x",
                run.cpu_us_per_request / b.cpu_us_per_request
            )
        })
        .unwrap_or_default();
    println!(
        "{name}: {:.2} us CPU/request over {} requests ({} unexpected answers, {:.0} req/s wall){ratio}",
        run.cpu_us_per_request,
        run.requests,
        run.failures,
        run.requests as f64 / run.wall.as_secs_f64()
    );
}
