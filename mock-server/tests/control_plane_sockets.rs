//! The control plane over real sockets: dropped and held connections as a client sees them,
//! tenant isolation under concurrent load, and wiremock-style expectations on `MockWeChat`.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use wxmock_server::expect::Expectation;
use wxmock_server::{MockWeChat, ALICE_OPENID, DEMO_APPID, DEMO_SECRET};

async fn install(wechat: &MockWeChat, rule: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/__admin/faults", wechat.base_url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn exchange_url(wechat: &MockWeChat, appid: &str, secret: &str, code: &str) -> String {
    format!(
        "{}/sns/jscode2session?appid={appid}&secret={secret}&js_code={code}&grant_type=authorization_code",
        wechat.base_url()
    )
}

#[tokio::test]
async fn a_reset_fault_drops_the_connection_without_any_answer() {
    let wechat = MockWeChat::start().await;
    install(
        &wechat,
        json!({"path": "/sns/jscode2session", "fault": "reset"}),
    )
    .await;

    // A real HTTP client sees a transport error, not a response.
    let err = reqwest::get(exchange_url(&wechat, DEMO_APPID, DEMO_SECRET, "x"))
        .await
        .expect_err("a reset connection must not produce a response");
    assert!(!err.is_status() && !err.is_decode(), "{err:?}");

    // On the raw socket: not a single byte of an HTTP answer before the close.
    let mut socket = TcpStream::connect(wechat.address()).await.unwrap();
    socket
        .write_all(
            format!(
                "GET /sns/jscode2session?appid={DEMO_APPID}&js_code=x HTTP/1.1\r\nHost: wx\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut received))
        .await
        .expect("the fake must close the connection");
    assert!(
        read.is_err() || received.is_empty(),
        "got bytes: {:?}",
        String::from_utf8_lossy(&received)
    );

    let entries = wechat.received_requests();
    assert_eq!(entries.len(), 2);
    assert!(entries
        .iter()
        .all(|e| e.status == 0 && e.fault.as_deref() == Some("f-1")));
}

#[tokio::test]
async fn a_timeout_fault_holds_the_connection_past_the_clients_timeout() {
    let wechat = MockWeChat::start().await;
    install(
        &wechat,
        json!({"path": "/sns/jscode2session", "fault": "timeout", "delay_ms": 10000}),
    )
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client
        .get(exchange_url(&wechat, DEMO_APPID, DEMO_SECRET, "x"))
        .send()
        .await
        .expect_err("the fake must not answer in time");
    assert!(err.is_timeout(), "{err:?}");
    // The journal shows the request as held by the fault, with no answer.
    let entries = wechat.received_requests();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].status, 0);
    assert_eq!(entries[0].fault.as_deref(), Some("f-1"));
}

/// Three tenants hammer one fake at once; two of them have different faults. Nobody sees
/// another tenant's fault or journal entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_under_concurrent_load_never_see_each_others_faults_or_journal() {
    const PER_TENANT: usize = 60;
    let wechat = MockWeChat::start().await;
    let tenants = [
        ("wxtenant0000000001", "secret-one-0000000000000000000001"),
        ("wxtenant0000000002", "secret-two-0000000000000000000002"),
        ("wxtenant0000000003", "secret-three-00000000000000000003"),
    ];
    let mut users = Vec::new();
    for (appid, secret) in tenants {
        wechat.add_app(appid, secret).unwrap();
        let user = wechat
            .add_user(appid, wxmock_server::UserConfig::default())
            .unwrap();
        users.push(user.openid);
    }
    let busy = install(
        &wechat,
        json!({"path": "/sns/jscode2session", "appid": tenants[0].0, "errcode": -1}),
    )
    .await;
    let blocked = install(
        &wechat,
        json!({"path": "/sns/jscode2session", "appid": tenants[1].0, "errcode": 40226}),
    )
    .await;

    let client = reqwest::Client::new();
    let limit = Arc::new(Semaphore::new(16));
    let mut calls = JoinSet::new();
    for i in 0..PER_TENANT * tenants.len() {
        let t = i % tenants.len();
        let (appid, secret) = tenants[t];
        let code = wechat.login(appid, &users[t]).unwrap();
        let url = exchange_url(&wechat, appid, secret, &code);
        let client = client.clone();
        let limit = limit.clone();
        calls.spawn(async move {
            let _permit = limit.acquire_owned().await.unwrap();
            let body: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            (t, body)
        });
    }
    while let Some(result) = calls.join_next().await {
        let (t, body) = result.unwrap();
        match t {
            0 => assert_eq!(body["errcode"], -1, "tenant 1: {body}"),
            1 => assert_eq!(body["errcode"], 40226, "tenant 2: {body}"),
            _ => assert_eq!(body["openid"], users[2].as_str(), "tenant 3: {body}"),
        }
    }

    for (t, expected_fault) in [
        (0, busy["id"].clone()),
        (1, blocked["id"].clone()),
        (2, Value::Null),
    ] {
        let url = format!(
            "{}/__admin/journal?appid={}",
            wechat.base_url(),
            tenants[t].0
        );
        let journal: Value = client.get(url).send().await.unwrap().json().await.unwrap();
        let entries = journal["entries"].as_array().unwrap();
        assert_eq!(entries.len(), PER_TENANT, "tenant {}", t + 1);
        for entry in entries {
            assert_eq!(entry["appid"], tenants[t].0);
            assert_eq!(entry["query"]["appid"], tenants[t].0);
            assert_eq!(entry["fault"], expected_fault);
        }
        let url = format!(
            "{}/__admin/faults?appid={}",
            wechat.base_url(),
            tenants[t].0
        );
        let faults: Value = client.get(url).send().await.unwrap().json().await.unwrap();
        let expected = usize::from(t < 2);
        assert_eq!(faults["faults"].as_array().unwrap().len(), expected);
    }
    assert_eq!(
        wechat.request_counts()["/sns/jscode2session"],
        PER_TENANT * 3
    );
}

#[tokio::test]
async fn a_met_expectation_passes_on_drop() {
    let wechat = MockWeChat::start().await;
    wechat.expect(Expectation::path("/sns/jscode2session").times(1));
    wechat.expect(Expectation::path("/cgi-bin/token").never());
    let code = wechat.login(DEMO_APPID, ALICE_OPENID).unwrap();
    reqwest::get(exchange_url(&wechat, DEMO_APPID, DEMO_SECRET, &code))
        .await
        .unwrap();
    wechat.verify();
}

#[tokio::test]
async fn an_unmet_expectation_fails_on_drop_listing_what_was_received() {
    let wechat = MockWeChat::start().await;
    wechat.expect(
        Expectation::path("/sns/jscode2session")
            .appid(DEMO_APPID)
            .times(1)
            .named("one login"),
    );
    for _ in 0..2 {
        reqwest::get(exchange_url(&wechat, DEMO_APPID, DEMO_SECRET, "stale"))
            .await
            .unwrap();
    }
    let failure = wechat.check_expectations().unwrap_err().to_string();
    assert!(
        failure.contains("\"one login\": /sns/jscode2session for app"),
        "{failure}"
    );
    assert!(
        failure.contains("expected exactly 1, received 2"),
        "{failure}"
    );
    assert!(failure.contains("#1 GET /sns/jscode2session?"), "{failure}");
    assert!(failure.contains("40029"), "{failure}");
    assert!(
        !failure.contains(DEMO_SECRET),
        "the secret leaked: {failure}"
    );

    let panic = std::panic::catch_unwind(AssertUnwindSafe(move || drop(wechat)))
        .expect_err("dropping with an unmet expectation must panic");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("expected exactly 1, received 2"),
        "{message}"
    );
}

#[tokio::test]
async fn clearing_the_faults_releases_a_held_connection_at_once() {
    let wechat = MockWeChat::start().await;
    install(
        &wechat,
        json!({"path": "/sns/jscode2session", "fault": "timeout", "delay_ms": 300000}),
    )
    .await;
    let url = exchange_url(&wechat, DEMO_APPID, DEMO_SECRET, "x");
    let held = tokio::spawn(async move { reqwest::get(url).await });
    // Wait (bounded) until the fake is holding the request: the journal shows it with its fault.
    tokio::time::timeout(Duration::from_secs(10), async {
        while !wechat
            .received_requests()
            .iter()
            .any(|e| e.fault.as_deref() == Some("f-1"))
        {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the request never reached the fake");
    let cleared = reqwest::Client::new()
        .delete(format!("{}/__admin/faults", wechat.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 200);
    let outcome = tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .expect("the held connection must be released by the clear")
        .unwrap();
    assert!(
        outcome.is_err(),
        "a released timeout drops the connection: {outcome:?}"
    );
}

#[tokio::test]
async fn a_shutdown_does_not_wait_for_a_connection_a_timeout_fault_is_holding() {
    let state = wxmock_server::state::AppState::new(
        &wxmock_server::config::Config::default(),
        wxmock_server::clock::Clock::system(),
    );
    let journal = state.journal.clone();
    let listener = wxmock_server::server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(wxmock_server::server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let base = format!("http://{address}");
    let response = reqwest::Client::new()
        .post(format!("{base}/__admin/faults"))
        .json(&json!({"path": "/sns/jscode2session", "fault": "timeout", "delay_ms": 120_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let held = tokio::spawn(reqwest::get(format!(
        "{base}/sns/jscode2session?appid={DEMO_APPID}&js_code=x"
    )));
    // The journal records a held request (status 0) as soon as the fault takes it.
    while journal.count("/sns/jscode2session") == 0 {
        tokio::task::yield_now().await;
    }

    stop.send(()).unwrap();
    // Bounded far below the 120 s hold: without the release the shutdown would wait for it.
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the shutdown waited for the held connection")
        .unwrap()
        .unwrap();
    let _ = held.await;
}
