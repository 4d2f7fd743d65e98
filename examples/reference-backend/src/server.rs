//! Building the router and running it: `start` binds 127.0.0.1:0, `start_on` takes a listener the
//! caller bound (so it knows the address before anything runs), and the handle shuts the server
//! down when dropped.

use std::net::SocketAddr;

use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api;
use crate::config::Config;
use crate::crash;
use crate::error::ApiError;
use crate::state::AppState;
use crate::token;

/// The whole HTTP API over `state` (tests can drive it with `tower::ServiceExt::oneshot`).
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(api::health::handle))
        .route("/api/login", post(api::login::handle))
        .route("/api/me", get(api::me::handle))
        .route("/api/user-info", post(api::user_info::handle))
        .route("/api/phone", post(api::phone::handle))
        .route("/api/session-check", get(api::session_check::handle))
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crash::simulate,
        ))
        .with_state(state)
}

/// A running reference backend. Dropping it shuts the server down.
#[derive(Debug)]
pub struct RunningBackend {
    addr: SocketAddr,
    jwt_secret: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningBackend {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The key the backend really signs its JWTs with ("secret" under the defect `weak-secret`).
    pub fn jwt_secret(&self) -> &str {
        &self.jwt_secret
    }

    /// Stops accepting connections and waits for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningBackend {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            // The server may already be gone; then there is nothing to stop.
            let _ = tx.send(());
        }
    }
}

/// Starts the backend on `127.0.0.1:0`.
pub async fn start(config: Config) -> std::io::Result<RunningBackend> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    Ok(start_on(config, listener).await)
}

/// Starts the backend on a listener the caller bound.
pub async fn start_on(config: Config, listener: TcpListener) -> RunningBackend {
    // A listener that bind() returned always has a local address.
    let addr = listener
        .local_addr()
        .expect("bound listener has an address");
    let jwt_secret = token::signing_key(&config).to_owned();
    if config.wechat_base_url.starts_with("https://") {
        // The workspace builds reqwest without TLS: this backend is meant to face the wxmock
        // fake over plain http. Say so at once rather than with a 502 on the first login.
        tracing::warn!(
            url = %config.wechat_base_url,
            "this build has no TLS support: https upstreams are unreachable, use a plain-http fake or proxy"
        );
    }
    if !config.defects.is_empty() {
        let names: Vec<&str> = config.defects.iter().map(|d| d.name()).collect();
        tracing::warn!(defects = ?names, "reference backend running with defects switched on");
    }
    let log = config.log.clone();
    let mut router = app(AppState::new(config));
    if let Some(sink) = log {
        router = router.layer(axum::middleware::from_fn_with_state(
            crate::log::dispatch(&sink),
            crate::log::capture,
        ));
    }
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(err) = served {
            tracing::error!(error = %err, "reference backend stopped");
        }
    });
    RunningBackend {
        addr,
        jwt_secret,
        shutdown: Some(tx),
        task: Some(task),
    }
}
