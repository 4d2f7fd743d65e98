//! Impersonation benchmark: requests per second and server CPU per request of a jscode2session
//! exchange through the proxy front — absolute-form in clear, and CONNECT + TLS — against the
//! plain fake, all in one run on loopback, over keep-alive connections.
//!
//! One child process (this binary re-executed with `WXMOCK_BENCH_CHILD` set) runs the fake and
//! its proxy front on the same state, as `wxmock serve --proxy` does; its CPU time is read from
//! `/proc/<pid>/task/*/schedstat` before and after each batch. The three modes take turns for
//! ROUNDS rounds; the best round of each is kept (other processes only ever add CPU time), and
//! the median of the per-round ratios is printed beside it. Every mode uses the same small
//! HTTP/1.1 client, so the difference is the front. Codes are `wxmock-as-alice` (a fresh login
//! each time) with the per-user limit lifted. Bounded: ROUNDS x REQUESTS per mode, RUN_DEADLINE.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use wxmock_server::ca::LocalCa;
use wxmock_server::proxy::{FrontHandle, Mode};
use wxmock_server::{AppState, Clock, Config, DEMO_APPID, DEMO_SECRET};

const REQUESTS: usize = 6_000;
const ROUNDS: usize = 5;
const CONNECTIONS: usize = 4;
const RUN_DEADLINE: Duration = Duration::from_secs(20);
const CHILD_ENV: &str = "WXMOCK_BENCH_CHILD";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    if std::env::var_os(CHILD_ENV).is_some() {
        runtime.block_on(child());
    } else {
        runtime.block_on(parent());
    }
}

/// The fake and its proxy front; prints `PLAIN_PORT PROXY_PORT CA_PATH`.
async fn child() {
    let mut config = Config::default();
    config.rules.code2session_user_per_minute = u64::MAX;
    config.journal_capacity = Some(REQUESTS * ROUNDS * 4);
    let state = AppState::new(&config, Clock::system());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback bind");
    let plain = listener.local_addr().expect("bound").port();
    let dir = std::env::temp_dir().join(format!("wxmock-bench-ca-{}", std::process::id()));
    let mut ca = LocalCa::generate().expect("ca");
    let ca_path = ca.write_cert(&dir).expect("ca written");
    let front = FrontHandle::start(
        "127.0.0.1:0".parse().expect("addr"),
        state.clone(),
        ca.server_config().expect("tls"),
        Mode::Proxy,
    )
    .await
    .expect("front");
    println!("{plain} {} {}", front.address().port(), ca_path.display());
    let _ = wxmock_server::server::serve(listener, state, std::future::pending()).await;
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Way {
    Plain,
    AbsoluteForm,
    ConnectTls,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::Plain => "plain fake (origin-form)",
            Way::AbsoluteForm => "proxy, absolute-form",
            Way::ConnectTls => "proxy, CONNECT + TLS",
        }
    }
}

struct FakeProcess {
    child: Child,
    plain: u16,
    proxy: u16,
    ca_pem: String,
}

impl FakeProcess {
    fn start() -> Self {
        let exe = std::env::current_exe().expect("own path");
        let mut child = Command::new(exe)
            .env(CHILD_ENV, "1")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .spawn()
            .expect("bench child starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("child prints its ports");
        let parts: Vec<&str> = line.split_whitespace().collect();
        let ca_pem = std::fs::read_to_string(parts[2]).expect("ca readable");
        Self {
            plain: parts[0].parse().expect("port"),
            proxy: parts[1].parse().expect("port"),
            ca_pem,
            child,
        }
    }

    /// CPU time the child's threads have run, in seconds (schedstat, nanoseconds).
    fn cpu_secs(&self) -> f64 {
        let pid = self.child.id();
        let mut nanos: u64 = 0;
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for task in tasks.flatten() {
                if let Some(ns) = std::fs::read_to_string(task.path().join("schedstat"))
                    .ok()
                    .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok())
                {
                    nanos += ns;
                }
            }
        }
        nanos as f64 / 1e9
    }
}

impl Drop for FakeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::env::temp_dir().join(format!("wxmock-bench-ca-{}", self.child.id()));
        let _ = std::fs::remove_dir_all(dir);
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Reads one response (headers, then a content-length body); returns the body.
async fn read_response(io: &mut (impl AsyncRead + Unpin), buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())?;
            let total = end + 4 + length;
            while buf.len() < total {
                let mut chunk = [0u8; 8192];
                let n = io.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = String::from_utf8_lossy(&buf[end + 4..total]).into_owned();
            buf.drain(..total);
            return Some(body);
        }
        let mut chunk = [0u8; 8192];
        let n = io.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn open(way: Way, child: &FakeProcess, tls: &tokio_rustls::TlsConnector) -> Box<dyn Io> {
    match way {
        Way::Plain => Box::new(connect(child.plain).await),
        Way::AbsoluteForm => Box::new(connect(child.proxy).await),
        Way::ConnectTls => {
            let mut tcp = connect(child.proxy).await;
            tcp.write_all(
                b"CONNECT api.weixin.qq.com:443 HTTP/1.1\r\nHost: api.weixin.qq.com:443\r\n\r\n",
            )
            .await
            .expect("CONNECT sent");
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") {
                let mut byte = [0u8; 1];
                tcp.read_exact(&mut byte).await.expect("CONNECT answer");
                head.push(byte[0]);
            }
            assert!(
                head.starts_with(b"HTTP/1.1 200"),
                "{}",
                String::from_utf8_lossy(&head)
            );
            let name = rustls::pki_types::ServerName::try_from("api.weixin.qq.com").expect("name");
            Box::new(tls.connect(name, tcp).await.expect("TLS handshake"))
        }
    }
}

async fn connect(port: u16) -> TcpStream {
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    tcp
}

struct Measured {
    requests: usize,
    failures: usize,
    cpu_us: f64,
    wall: Duration,
}

impl Measured {
    fn per_sec(&self) -> f64 {
        self.requests as f64 / self.wall.as_secs_f64()
    }
}

async fn drive(way: Way, child: &FakeProcess, tls: &tokio_rustls::TlsConnector) -> Measured {
    let path = format!(
        "/sns/jscode2session?appid={DEMO_APPID}&secret={DEMO_SECRET}&js_code=wxmock-as-alice&grant_type=authorization_code"
    );
    let target = match way {
        Way::AbsoluteForm => format!("http://api.weixin.qq.com{path}"),
        _ => path,
    };
    let request = Arc::new(format!(
        "GET {target} HTTP/1.1\r\nHost: api.weixin.qq.com\r\nAccept: application/json\r\n\r\n"
    ));
    // Connections (and their handshakes) are opened before the clock starts: keep-alive.
    let mut ios = Vec::new();
    for _ in 0..CONNECTIONS {
        ios.push(open(way, child, tls).await);
    }
    let cpu_before = child.cpu_secs();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut io in ios {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let (mut done, mut failures) = (0usize, 0usize);
            let mut buf = Vec::new();
            while done < REQUESTS / CONNECTIONS && started.elapsed() < RUN_DEADLINE {
                if io.write_all(request.as_bytes()).await.is_err() {
                    failures += 1;
                    break;
                }
                done += 1;
                match read_response(&mut io, &mut buf).await {
                    Some(body) if body.contains("\"openid\"") => {}
                    Some(_) => failures += 1,
                    None => {
                        failures += 1;
                        break;
                    }
                }
            }
            (done, failures)
        }));
    }
    let (mut requests, mut failures) = (0, 0);
    for task in tasks {
        let (d, f) = task.await.expect("worker");
        requests += d;
        failures += f;
    }
    let wall = started.elapsed();
    let cpu = child.cpu_secs() - cpu_before;
    Measured {
        requests,
        failures,
        cpu_us: cpu * 1e6 / requests.max(1) as f64,
        wall,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

async fn parent() {
    let child = FakeProcess::start();
    let mut roots = rustls::RootCertStore::empty();
    let ca: rustls::pki_types::CertificateDer<'static> =
        rustls::pki_types::pem::PemObject::from_pem_slice(child.ca_pem.as_bytes()).expect("pem");
    roots.add(ca).expect("root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config));
    let ways = [Way::Plain, Way::AbsoluteForm, Way::ConnectTls];
    // Warm-up (not counted): first connections, allocator growth, the journal filling.
    for way in ways {
        drive(way, &child, &tls).await;
    }
    let mut rounds: Vec<Vec<Measured>> = Vec::new();
    for _ in 0..ROUNDS {
        let mut round = Vec::new();
        for way in ways {
            round.push(drive(way, &child, &tls).await);
        }
        rounds.push(round);
    }
    println!(
        "impersonation benchmark: jscode2session, {CONNECTIONS} keep-alive connections, {ROUNDS} rounds x {REQUESTS} requests per way"
    );
    let best = |i: usize, f: &dyn Fn(&Measured) -> f64, max: bool| {
        rounds
            .iter()
            .map(|r| f(&r[i]))
            .fold(if max { f64::MIN } else { f64::MAX }, |a, b| {
                if max {
                    a.max(b)
                } else {
                    a.min(b)
                }
            })
    };
    let plain_rps = best(0, &Measured::per_sec, true);
    let plain_cpu = best(0, &|m| m.cpu_us, false);
    for (i, way) in ways.iter().enumerate() {
        let failures: usize = rounds.iter().map(|r| r[i].failures).sum();
        let requests: usize = rounds.iter().map(|r| r[i].requests).sum();
        let rps = best(i, &Measured::per_sec, true);
        let cpu = best(i, &|m| m.cpu_us, false);
        let cpu_ratio = median(rounds.iter().map(|r| r[i].cpu_us / r[0].cpu_us).collect());
        let rps_ratio = median(
            rounds
                .iter()
                .map(|r| r[i].per_sec() / r[0].per_sec())
                .collect(),
        );
        println!(
            "  {:<26} {rps:>8.0} req/s ({:.2}x plain; median of rounds {rps_ratio:.2}x)  {cpu:>6.1} us CPU/request ({:.2}x plain; median {cpu_ratio:.2}x)  failures {failures}/{requests}",
            way.name(),
            rps / plain_rps,
            cpu / plain_cpu,
        );
        assert_eq!(failures, 0, "{} had failures", way.name());
    }
}
