//! The server answers WeChat paths without going through the axum router (`wxmock_server::service`);
//! these tests hold it to the router's exact bytes: the same requests, raw over two sockets of
//! one fake, one served by `server::serve` and one by `app()` behind plain hyper, must get the
//! same status line, headers and body (the `Date` header and the random part of each rid aside).

use std::net::SocketAddr;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wxmock_server::{app, AppState, Clock, Config, DEMO_APPID};

/// One fake state, served both ways.
async fn both_ways() -> (SocketAddr, SocketAddr) {
    let state = AppState::new(&Config::default(), Clock::fixed(1_700_000_000));
    let served = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let served_at = served.local_addr().unwrap();
    tokio::spawn(wxmock_server::server::serve(
        served,
        state.clone(),
        std::future::pending(),
    ));
    let routed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let routed_at = routed.local_addr().unwrap();
    let router = app(state);
    tokio::spawn(async move {
        loop {
            let (stream, _) = routed.accept().await.unwrap();
            let service = TowerToHyperService::new(router.clone());
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    (served_at, routed_at)
}

/// Sends `request` as it is and reads the answer until the server closes.
async fn raw(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    normalized(&String::from_utf8_lossy(&answer))
}

/// The answer without its `Date` line, each rid's random groups replaced by `x`.
fn normalized(answer: &str) -> String {
    let without_date: Vec<&str> = answer
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("date:"))
        .collect();
    let mut text = without_date.join("\r\n");
    let mut from = 0;
    while let Some(at) = text[from..].find("rid: ") {
        // `rid: 6553f100-1a2b3c4d-5e6f7a8b`: keep the time group, blank the two random ones.
        let start = from + at + "rid: ".len() + 9;
        let end = (start + 17).min(text.len());
        text.replace_range(start..end, "xxxxxxxx-xxxxxxxx");
        from = end;
    }
    text
}

#[tokio::test]
async fn every_kind_of_request_gets_the_routers_exact_answer() {
    let (served, routed) = both_ways().await;
    let get = |target: &str| {
        format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    };
    let head = |target: &str| {
        format!("HEAD {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    };
    let post = |target: &str, body: &str| {
        format!(
            "POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let requests = [
        get("/wxa/checksession?access_token=89_nope&openid=o1&signature=s&sig_method=hmac_sha256"),
        head("/wxa/checksession?openid=o1"),
        head(&format!("/sns/jscode2session?appid={DEMO_APPID}&secret=wrong&js_code=c&grant_type=authorization_code")),
        get(&format!("/sns/jscode2session?appid={DEMO_APPID}&secret=wrong&js_code=c&grant_type=authorization_code")),
        get("/cgi-bin/token?grant_type=client_credential&appid=wx0&secret=s"),
        post("/cgi-bin/stable_token", r#"{"grant_type":"nope"}"#),
        post("/wxa/business/getuserphonenumber", r#"{"code":"c"}"#),
        post("/sns/jscode2session", "appid=wx"),
        get("/no/such/path"),
        get("/__adminx"),
        "OPTIONS /sns/jscode2session HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".to_owned(),
        "CONNECT api.weixin.qq.com:443 HTTP/1.1\r\nHost: api.weixin.qq.com:443\r\n\r\n".to_owned(),
        get("/"),
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
            .to_owned(),
        get("/__admin/health"),
        get("/__admin/nothing"),
    ];
    for request in &requests {
        let direct = raw(served, request).await;
        let through_router = raw(routed, request).await;
        assert_eq!(direct, through_router, "for {request:?}");
        assert!(direct.starts_with("HTTP/1.1 "), "{direct}");
    }
}

#[tokio::test]
async fn a_head_request_gets_the_length_of_the_body_it_does_not_get() {
    let (served, _) = both_ways().await;
    let answer = raw(
        served,
        "HEAD /cgi-bin/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    let get = raw(
        served,
        "GET /cgi-bin/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (head_lines, head_body) = answer.split_once("\r\n\r\n").unwrap();
    let (get_lines, get_body) = get.split_once("\r\n\r\n").unwrap();
    assert_eq!(head_body, "");
    assert!(get_body.contains("40066"), "{get_body}");
    assert_eq!(head_lines, get_lines);
    assert!(
        head_lines.contains(&format!("content-length: {}", get_body.len())),
        "{head_lines}"
    );
}

#[tokio::test]
async fn answers_bent_by_faults_are_the_routers_too() {
    let (served, routed) = both_ways().await;
    for rule in [
        r#"{"path":"/wxa/checksession","fault":"garbage"}"#,
        r#"{"path":"/cgi-bin/token","fault":"http_status","status":502}"#,
        r#"{"path":"/wxa/resetusersessionkey","fault":"empty"}"#,
        r#"{"path":"/sns/jscode2session","fault":"content_type","content_type":"text/html"}"#,
    ] {
        let request = format!(
            "POST /__admin/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{rule}",
            rule.len()
        );
        assert!(
            raw(served, &request).await.starts_with("HTTP/1.1 201"),
            "{rule}"
        );
    }
    for target in [
        "/wxa/checksession?openid=o1",
        "/cgi-bin/token?grant_type=client_credential",
        "/wxa/resetusersessionkey",
        "/sns/jscode2session?appid=wx1",
    ] {
        for method in ["GET", "HEAD"] {
            let request = format!(
                "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            );
            assert_eq!(
                raw(served, &request).await,
                raw(routed, &request).await,
                "{request:?}"
            );
        }
    }
}
