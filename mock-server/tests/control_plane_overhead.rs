//! What the journal and the fault injector cost per request: the same requests through the bare
//! WeChat routes and through `app()` (journal + fault middleware), socket-free. Ignored by
//! default (a measurement, not a check); run with
//! `cargo test --release -p wxmock-server --test control_plane_overhead -- --ignored --nocapture`.

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;
use wxmock_server::{api, app, AppState, Clock, Config, ALICE_OPENID, DEMO_APPID, DEMO_SECRET};

const ROUNDS: usize = 10_000;

async fn per_request_ns(router: &Router, uri: &str) -> f64 {
    // Warm up allocator and caches.
    for _ in 0..1_000 {
        let response = router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        response.into_body().collect().await.unwrap();
    }
    let started = Instant::now();
    for _ in 0..ROUNDS {
        let response = router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        response.into_body().collect().await.unwrap();
    }
    started.elapsed().as_nanos() as f64 / ROUNDS as f64
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "a measurement; run with --release --ignored --nocapture"]
async fn journal_and_fault_middleware_overhead() {
    let config = Config {
        journal_capacity: Some(10_000),
        ..Config::default()
    };
    let state = AppState::new(&config, Clock::fixed(1_700_000_000));
    let code = state.engine.login(DEMO_APPID, ALICE_OPENID).unwrap();
    let bare: Router = api::routes()
        .fallback(api::unknown_path)
        .with_state(state.clone());
    let full = app(state.clone());
    async fn noop(
        request: axum::extract::Request,
        next: axum::middleware::Next,
    ) -> axum::response::Response {
        next.run(request).await
    }
    let with_noop: Router = api::routes()
        .fallback(api::unknown_path)
        .layer(axum::middleware::from_fn(noop))
        .with_state(state.clone());
    let with_journal: Router = api::routes()
        .fallback(api::unknown_path)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            wxmock_server::journal::middleware,
        ))
        .with_state(state.clone());
    let with_fault: Router = api::routes()
        .fallback(api::unknown_path)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            wxmock_server::fault::middleware,
        ))
        .with_state(state.clone());
    bare.clone()
        .oneshot(
            Request::get(format!(
                "/sns/jscode2session?appid={DEMO_APPID}&secret={DEMO_SECRET}&js_code={code}&grant_type=authorization_code"
            ))
            .body(Body::empty())
            .unwrap(),
        )
        .await
        .unwrap();
    let token = state.engine.mint_access_token(DEMO_APPID).unwrap();
    let user = state.engine.user(DEMO_APPID, ALICE_OPENID).unwrap();
    let sig = wxmock_fixtures::signature::login_state_signature(&user.session_key.unwrap(), "");
    let checksession = format!(
        "/wxa/checksession?access_token={token}&openid={ALICE_OPENID}&signature={sig}&sig_method=hmac_sha256"
    );
    let jscode2session = format!(
        "/sns/jscode2session?appid={DEMO_APPID}&secret={DEMO_SECRET}&js_code=used-or-unknown&grant_type=authorization_code"
    );
    for (name, uri) in [
        ("checksession", checksession),
        ("jscode2session", jscode2session),
    ] {
        // Interleaved runs, best of five: the machine is shared, the minimum is the cost.
        let mut best = [f64::MAX; 5];
        for _ in 0..5 {
            for (i, router) in [&bare, &with_noop, &with_journal, &with_fault, &full]
                .into_iter()
                .enumerate()
            {
                best[i] = best[i].min(per_request_ns(router, &uri).await);
            }
        }
        let [bare_ns, noop_ns, journal_ns, fault_ns, full_ns] = best;
        println!(
            "{name}: bare routes {bare_ns:.0} ns/req; +noop layer {:.0}; +journal {:.0}; +fault {:.0}; app() {full_ns:.0} ({:.2}x bare)",
            noop_ns - bare_ns,
            journal_ns - bare_ns,
            fault_ns - bare_ns,
            full_ns / bare_ns
        );
    }
    // The pieces of the journal's work, without axum around them.
    let uri: axum::http::Uri = format!(
        "/sns/jscode2session?appid={DEMO_APPID}&secret={DEMO_SECRET}&js_code=abc&grant_type=authorization_code"
    )
    .parse()
    .unwrap();
    let started = Instant::now();
    for _ in 0..ROUNDS * 10 {
        std::hint::black_box(wxmock_server::fault::appid_of(
            &state.engine,
            uri.query(),
            &[],
        ));
    }
    let appid_ns = started.elapsed().as_nanos() as f64 / (ROUNDS * 10) as f64;
    let started = Instant::now();
    for _ in 0..ROUNDS * 10 {
        std::hint::black_box(axum::body::to_bytes(Body::from("{\"errcode\":40029,\"errmsg\":\"invalid code, rid: 6553f100-1a2b3c4d-5e6f7a8b\"}"), usize::MAX).await.unwrap());
    }
    let collect_ns = started.elapsed().as_nanos() as f64 / (ROUNDS * 10) as f64;
    println!(
        "journal pieces: appid_of {appid_ns:.0} ns, collect a response body {collect_ns:.0} ns"
    );
    assert!(!state.journal.is_empty());
}
