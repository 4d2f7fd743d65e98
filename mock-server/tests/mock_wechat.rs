//! The Rust handle over a real socket: start on an ephemeral port, seed, mint codes, shut
//! down on drop; and single use under concurrency.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::Value;
use wxmock_server::{Clock, Config, MockWeChat, UserConfig, ALICE_OPENID, DEMO_APPID, DEMO_SECRET};

async fn exchange(client: &reqwest::Client, wechat: &MockWeChat, code: &str) -> Value {
    let url = format!(
        "{}/sns/jscode2session?appid={DEMO_APPID}&secret={DEMO_SECRET}&js_code={code}&grant_type=authorization_code",
        wechat.base_url()
    );
    let text = client.get(url).send().await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_started_fake_answers_a_full_login_over_a_socket() {
    let wechat = MockWeChat::start().await;
    assert!(wechat.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(wechat.default_app().appid, DEMO_APPID);
    let code = wechat.login(DEMO_APPID, ALICE_OPENID).unwrap();
    let client = reqwest::Client::new();
    let session = exchange(&client, &wechat, &code).await;
    assert_eq!(session["openid"], ALICE_OPENID);
    let user = wechat.user(DEMO_APPID, ALICE_OPENID).unwrap();
    assert_eq!(session["session_key"], user.session_key.unwrap());
    let health: Value = client
        .get(format!("{}/__admin/health", wechat.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn a_dropped_fake_stops_accepting_connections() {
    let wechat = MockWeChat::start().await;
    let address = wechat.address();
    drop(wechat);
    // The accept loop ends once the shutdown signal is seen; connecting afterwards fails.
    let mut refused = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(address).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused, "the listener is still open after drop");
}

#[tokio::test]
async fn two_fakes_are_isolated() {
    let one = MockWeChat::start().await;
    let two = MockWeChat::start().await;
    assert_ne!(one.address(), two.address());
    one.add_app("wxonly0000000000001", "s").unwrap();
    assert!(one.engine().has_app("wxonly0000000000001"));
    assert!(!two.engine().has_app("wxonly0000000000001"));
}

#[tokio::test]
async fn a_builder_seeds_apps_users_and_a_fixed_clock() {
    let config = Config::from_toml(
        r#"
seed = 42
[[apps]]
appid = "wxcustom000000001"
secret = "custom-secret"
[[apps.users]]
openid = "oCustomUser0000000000000001"
nickName = "Dora"
"#,
    )
    .unwrap();
    let wechat = MockWeChat::builder()
        .config(config)
        .clock(Clock::fixed(1_800_000_000))
        .start()
        .await;
    assert_eq!(wechat.default_app().appid, "wxcustom000000001");
    assert!(!wechat.engine().has_app(DEMO_APPID));
    assert_eq!(wechat.now(), 1_800_000_000);
    assert_eq!(wechat.advance_clock(10), 1_800_000_010);
    let added = wechat
        .add_user(
            "wxcustom000000001",
            UserConfig {
                unionid: Some("oUnion".into()),
                ..UserConfig::default()
            },
        )
        .unwrap();
    assert_eq!(added.openid.len(), 28);
    let code = wechat.login("wxcustom000000001", &added.openid).unwrap();
    assert_eq!(
        wechat.engine().code_owner("wxcustom000000001", &code),
        Some(added.openid.clone())
    );
    let sig = wechat
        .session_signature("wxcustom000000001", &added.openid)
        .unwrap();
    assert_eq!(sig.len(), 64);
}

#[tokio::test]
async fn an_invalid_config_is_refused_at_start() {
    let config = Config {
        journal_capacity: Some(0),
        ..Config::default()
    };
    let err = MockWeChat::builder().config(config).try_start().await;
    assert!(err.is_err());
}

#[tokio::test]
async fn the_builder_seed_gives_the_same_codes_every_run() {
    let a = MockWeChat::builder().seed(11).start().await;
    let b = MockWeChat::builder().seed(11).start().await;
    let c = MockWeChat::builder().seed(12).start().await;
    let code = a.login(DEMO_APPID, ALICE_OPENID).unwrap();
    assert_eq!(code, b.login(DEMO_APPID, ALICE_OPENID).unwrap());
    assert_ne!(code, c.login(DEMO_APPID, ALICE_OPENID).unwrap());
}

#[tokio::test]
async fn the_same_seed_gives_the_same_codes() {
    let config = Config::from_toml("seed = 7").unwrap();
    let a = MockWeChat::builder().config(config.clone()).start().await;
    let b = MockWeChat::builder().config(config).start().await;
    assert_eq!(
        a.login(DEMO_APPID, ALICE_OPENID).unwrap(),
        b.login(DEMO_APPID, ALICE_OPENID).unwrap()
    );
}

/// Redeems one code from `clients` concurrent tasks; returns how many succeeded and how
/// many got 40163.
async fn race(clients: usize) -> (usize, usize) {
    let wechat = Arc::new(MockWeChat::start().await);
    let code = Arc::new(wechat.login(DEMO_APPID, ALICE_OPENID).unwrap());
    let ok = Arc::new(AtomicUsize::new(0));
    let used = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (wechat, code, ok, used) = (wechat.clone(), code.clone(), ok.clone(), used.clone());
        tasks.push(tokio::spawn(async move {
            // A client per task: separate connections, truly concurrent requests.
            let client = reqwest::Client::new();
            let answer = exchange(&client, &wechat, &code).await;
            match answer["errcode"].as_i64() {
                None => ok.fetch_add(1, Ordering::SeqCst),
                Some(40163) => used.fetch_add(1, Ordering::SeqCst),
                Some(other) => panic!("unexpected errcode {other}: {answer}"),
            };
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    (ok.load(Ordering::SeqCst), used.load(Ordering::SeqCst))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn a_code_redeemed_concurrently_by_many_clients_succeeds_exactly_once(clients in 2usize..=32) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (ok, used) = runtime.block_on(race(clients));
        prop_assert_eq!(ok, 1);
        prop_assert_eq!(used, clients - 1);
    }
}
