//! Connection hygiene over real sockets: a half-sent request and an idle keep-alive connection
//! are closed after their timeouts, a request being answered is not, and past the connection
//! limit a flood of half-sent and idle connections does not lock out the health check.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wxmock_server::connection::ConnectionConfig;
use wxmock_server::{Config, MockWeChat};

async fn fake(connections: ConnectionConfig) -> MockWeChat {
    MockWeChat::builder()
        .config(Config {
            connections,
            ..Config::default()
        })
        .start()
        .await
}

/// Waits (bounded) for the server to close the socket; returns what it sent before.
async fn closed_by_server(socket: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    match tokio::time::timeout(within, socket.read_to_end(&mut received)).await {
        Ok(_) => Some(received),
        Err(_) => None,
    }
}

async fn health(wechat: &MockWeChat) -> u16 {
    let client = reqwest::Client::new();
    let request = client
        .get(format!("{}/__admin/health", wechat.base_url()))
        .timeout(Duration::from_secs(10))
        .send();
    request.await.expect("health answers").status().as_u16()
}

#[tokio::test]
async fn a_half_sent_head_and_an_idle_connection_are_closed_after_their_timeouts() {
    let wechat = fake(ConnectionConfig {
        header_read_timeout_ms: 200,
        idle_timeout_ms: 400,
        ..ConnectionConfig::default()
    })
    .await;
    let mut half = TcpStream::connect(wechat.address()).await.unwrap();
    half.write_all(b"GET /sns/jscode2session HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut idle = TcpStream::connect(wechat.address()).await.unwrap();
    let mut used = TcpStream::connect(wechat.address()).await.unwrap();
    used.write_all(b"GET /__admin/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    assert!(
        closed_by_server(&mut half, Duration::from_secs(10))
            .await
            .is_some(),
        "a half-sent request must not hold its connection"
    );
    assert!(closed_by_server(&mut idle, Duration::from_secs(10))
        .await
        .is_some());
    let answered = closed_by_server(&mut used, Duration::from_secs(10))
        .await
        .expect("an idle keep-alive connection is closed after its answer");
    assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_request_being_answered_outlives_the_idle_timeout() {
    let wechat = fake(ConnectionConfig {
        header_read_timeout_ms: 100,
        idle_timeout_ms: 100,
        ..ConnectionConfig::default()
    })
    .await;
    let client = reqwest::Client::new();
    let installed = client
        .post(format!("{}/__admin/faults", wechat.base_url()))
        .json(&json!({"path": "/cgi-bin/token", "fault": "delay", "delay_ms": 600, "times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        installed.status(),
        201,
        "{}",
        installed.text().await.unwrap()
    );
    let answer = client
        .get(format!(
            "{}/cgi-bin/token?grant_type=client_credential&appid=x&secret=y",
            wechat.base_url()
        ))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("a delayed answer still arrives");
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn a_flood_of_half_sent_and_idle_connections_does_not_lock_out_health() {
    let wechat = fake(ConnectionConfig {
        max_connections: 40,
        ..ConnectionConfig::default()
    })
    .await;
    let mut held = Vec::new();
    for i in 0..120 {
        let mut socket = TcpStream::connect(wechat.address()).await.unwrap();
        if i % 3 != 0 {
            socket
                .write_all(b"POST /cgi-bin/stable_token HTTP/1.1\r\nHost: x\r\nContent-")
                .await
                .unwrap();
        }
        held.push(socket);
    }
    assert_eq!(health(&wechat).await, 200);
    assert_eq!(health(&wechat).await, 200);
    drop(held);
}
