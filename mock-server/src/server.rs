//! Putting the fake together: [`app`] (the router, socket-free for tests), [`serve`] (a bound
//! listener until a shutdown future resolves) and [`MockWeChat`], the handle a Rust test
//! starts on `127.0.0.1:0` and that shuts the server down when dropped.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{OriginalUri, State};
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::admin::guard::{Gate, SecretsView};
use crate::admin::AdminError;
use crate::api;
use crate::clock::Clock;
use crate::config::{AppConfig, Config, UserConfig};
use crate::connection::{Registry, TrackedService};
use crate::engine::{AppView, Engine, Secret, UserView};
use crate::error::{EngineError, ServerError};
use crate::expect::Expectations;
use crate::service::FakeService;
use crate::state::AppState;

/// The whole fake as one router: the WeChat API (and the 40066 fallback) behind the fault
/// injector and the journal (journal outermost, so it records injected answers too), and the
/// control API at `/__admin` (with the console), which is neither journaled nor faulted and
/// answers browsers per its CORS policy, behind its guard (Host, token, JSON). A browser asking
/// for `/` gets a page pointing at the console; an API client there still gets WeChat's 40066.
/// Without a socket, the control API is treated as reached on a loopback address.
pub fn app(state: AppState) -> Router {
    app_on(state, true)
}

/// [`app`] as served on a listen address that is (or is not) loopback: on a non-loopback one
/// the control API needs its token unless opened on purpose.
pub fn app_on(state: AppState, loopback: bool) -> Router {
    // Every WeChat path (and the 40066 of unknown ones) through one function: the same one the
    // server's front calls without this router (`crate::service`).
    async fn wechat(State(state): State<AppState>, request: axum::extract::Request) -> Response {
        api::answer(&state, request).await
    }
    let wechat = Router::new().fallback(wechat);
    let wechat_alone = wechat.clone().with_state(state.clone());
    let admin = crate::admin::routes()
        .fallback(admin_not_found)
        .method_not_allowed_fallback(admin_wrong_method)
        .layer(from_fn_with_state(
            Gate {
                state: state.clone(),
                loopback,
            },
            crate::admin::guard::middleware,
        ))
        // Outside the guard: a browser's preflight carries no token and must still be answered.
        .layer(from_fn_with_state(
            state.clone(),
            crate::admin::cors::middleware,
        ));
    Router::new()
        // `/__admin` itself and `/__admin/` are the control API's too, not WeChat's.
        .route("/__admin", any(admin_not_found))
        .route("/__admin/", any(admin_not_found))
        // The console's static files: outside the guard, so the page loads and asks for a token.
        .merge(crate::console::routes())
        .nest("/__admin", admin)
        .route(
            "/",
            any(move |request: axum::extract::Request| {
                crate::console::home(wechat_alone.clone(), request)
            }),
        )
        .merge(wechat)
        .with_state(state)
}

async fn admin_wrong_method(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    AdminError {
        status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
        message: format!("{method} is not allowed on {}", uri.path()),
    }
    .into_response()
}

async fn admin_not_found(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    AdminError::not_found(format!(
        "no control-API endpoint {method} {} (endpoints: /__admin/openapi.json; console: /__admin/console)",
        uri.path()
    ))
    .into_response()
}

/// Binds `addr` (use port 0 for an ephemeral port).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}

/// Serves `state` on `listener` until `shutdown` resolves, then lets in-flight requests finish.
///
/// HTTP/1.1 only (WeChat's API is HTTP/1.1), served with hyper directly rather than through
/// `axum::serve`, whose HTTP/2 detection costs CPU on every request of a keep-alive connection.
/// Connections are watched for slow heads, idleness and their number (`crate::connection`).
pub async fn serve<F>(listener: TcpListener, state: AppState, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let faults = state.faults.clone();
    let loopback = listener.local_addr()?.ip().is_loopback();
    let registry = Registry::new(&state.connections);
    let fake = FakeService::new(state, loopback);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(err) => {
                    // Per-connection failures (reset before accept, fd exhaustion) must not
                    // stop the server; back off briefly so a persistent one does not spin.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = registry.admit() else {
            tracing::warn!(
                limit = registry.max(),
                "connection refused: every connection is answering a request"
            );
            drop(stream);
            continue;
        };
        let service = TrackedService {
            inner: fake.clone(),
            registry: registry.clone(),
            watch: slot.watch.clone(),
        };
        let io = TokioIo::new(registry.watched(stream, slot.watch.clone()));
        // No hyper timer: the connection's watchdog keeps the timeouts (see
        // `crate::connection` for why not hyper's header-read timeout).
        let connection = http1::Builder::new().serve_connection(io, service);
        let connection = graceful.watch(connection);
        // The connection and its watchdog as two tasks, so that the watchdog is not polled
        // every time the connection wakes (each request); the watchdog's task ends the
        // connection's (and waits until it is gone) when it fires, then frees the slot.
        // A client that goes away mid-request is not the server's problem: the connection's
        // result is not looked at.
        let mut served = tokio::spawn(connection);
        let registry = registry.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = &mut served => {}
                () = registry.watchdog(&slot.watch) => {
                    served.abort();
                    let _ = served.await;
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    // A `timeout` fault may be holding a connection for minutes on purpose; a shutdown must not
    // wait for it.
    faults.release_held();
    graceful.shutdown().await;
    Ok(())
}

/// An isolated fake WeChat on an ephemeral port, for tests (the wiremock-rs way): seeded from a
/// [`Config`] (the demo app and personas by default), stopped when dropped. Expectations
/// registered on it are verified on drop.
pub struct MockWeChat {
    state: AppState,
    address: SocketAddr,
    default_app: AppView,
    shutdown: Option<oneshot::Sender<()>>,
    /// wiremock-style expectations, checked against the journal on drop.
    pub(crate) expectations: Expectations,
}

/// Configures a [`MockWeChat`] before starting it.
#[derive(Default)]
pub struct MockWeChatBuilder {
    config: Option<Config>,
    seed: Option<u64>,
    clock: Option<Clock>,
    listen: Option<SocketAddr>,
    listener: Option<std::net::TcpListener>,
}

impl MockWeChatBuilder {
    /// Apps, users and rules (validated at start). Default: the demo app and personas.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Seed of the generated ids, codes, keys and tokens (overrides the config's `seed`), so a
    /// run is repeatable.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The clock every expiry reads (e.g. `Clock::fixed(…)`). Default: the system clock.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Where to listen. Default: `127.0.0.1:0`.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// Serves on a listener the caller bound, instead of binding `listen`. The caller may keep a
    /// copy (`try_clone`): the port then stays reserved after this fake stops, with nothing
    /// else able to take it, and can be handed to the next fake (a backend already running was
    /// configured with that fixed address, say).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wxmock_server::MockWeChat;
    /// let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let address = reserved.local_addr().unwrap();
    /// for _ in 0..2 {
    ///     let wechat = MockWeChat::builder()
    ///         .listener(reserved.try_clone().unwrap())
    ///         .start()
    ///         .await;
    ///     assert_eq!(wechat.address(), address);
    ///     drop(wechat);
    ///     // Stopped, the fake leaves the port with the caller: nothing else can bind it.
    ///     assert!(std::net::TcpListener::bind(address).is_err());
    /// }
    /// # }
    /// ```
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Starts the fake, or says why it could not (invalid config, address in use).
    pub async fn try_start(self) -> Result<MockWeChat, ServerError> {
        let mut config = self.config.unwrap_or_default();
        if self.seed.is_some() {
            config.seed = self.seed;
        }
        // The journal of an in-process fake belongs to the test that started it.
        config
            .admin
            .journal_secrets
            .get_or_insert(SecretsView::Clear);
        config.validate()?;
        let clock = self.clock.unwrap_or_else(Clock::system);
        let state = AppState::new(&config, clock);
        let listener = match self.listener {
            Some(listener) => {
                listener.set_nonblocking(true)?;
                TcpListener::from_std(listener)?
            }
            None => bind(self.listen.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)))).await?,
        };
        let address = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let server_state = state.clone();
        tokio::spawn(async move {
            let stopped = async {
                // Either a send or the sender's drop ends the wait: both mean stop.
                let _ = stop.await;
            };
            if let Err(err) = serve(listener, server_state, stopped).await {
                tracing::error!(error = %err, "mock WeChat server failed");
            }
        });
        let default_app = config
            .seed_apps()
            .first()
            .map(|app| AppView {
                appid: app.appid.clone(),
                secret: app.secret.expose().to_owned(),
            })
            .unwrap_or_else(|| AppView {
                appid: String::new(),
                secret: String::new(),
            });
        Ok(MockWeChat {
            state,
            address,
            default_app,
            shutdown: Some(shutdown),
            expectations: Expectations::default(),
        })
    }

    /// Starts the fake. Panics if it cannot (a test helper: the panic is the test failure).
    pub async fn start(self) -> MockWeChat {
        match self.try_start().await {
            Ok(mock) => mock,
            Err(err) => panic!("cannot start MockWeChat: {err}"),
        }
    }
}

impl MockWeChat {
    /// The demo app and personas on `127.0.0.1:<ephemeral>`, system clock.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wxmock_server::{MockWeChat, DEMO_APPID};
    /// let wechat = MockWeChat::start().await;
    /// assert!(wechat.base_url().starts_with("http://127.0.0.1:"));
    /// assert_eq!(wechat.default_app().appid, DEMO_APPID);
    /// # }
    /// ```
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// A fake configured before it starts: a config, a seed, a clock, an address.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wxmock_server::{Clock, MockWeChat};
    /// let wechat = MockWeChat::builder()
    ///     .seed(42)
    ///     .clock(Clock::fixed(1_700_000_000))
    ///     .start()
    ///     .await;
    /// assert_eq!(wechat.now(), 1_700_000_000);
    /// # }
    /// ```
    pub fn builder() -> MockWeChatBuilder {
        MockWeChatBuilder::default()
    }

    /// E.g. `http://127.0.0.1:41234` (no trailing slash): use it as WeChat's API base.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The address the server listens on (the real port when bound to port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The shared state (engine, journal, faults, wire, clock).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The engine: apps, users, codes, session keys and tokens.
    pub fn engine(&self) -> &Engine {
        &self.state.engine
    }

    /// The first configured app (the demo app unless the config names apps).
    pub fn default_app(&self) -> &AppView {
        &self.default_app
    }

    /// Creates an app (or replaces its secret).
    pub fn add_app(&self, appid: &str, secret: &str) -> Result<AppView, EngineError> {
        self.state.engine.upsert_app(appid, Secret::new(secret))
    }

    /// Creates an app with its users, as a config file would.
    pub fn add_app_config(&self, app: &AppConfig) -> Result<Vec<UserView>, EngineError> {
        self.state
            .engine
            .upsert_app(&app.appid, app.secret.clone())?;
        app.users
            .iter()
            .map(|user| self.state.engine.add_user(&app.appid, user))
            .collect()
    }

    /// Creates a user (openid generated when absent) and returns it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wxmock_server::{MockWeChat, UserConfig, DEMO_APPID};
    /// let wechat = MockWeChat::start().await;
    /// let user = wechat.add_user(DEMO_APPID, UserConfig::default()).unwrap();
    /// assert!(user.openid.starts_with('o') && user.openid.len() == 28);
    /// # }
    /// ```
    pub fn add_user(&self, appid: &str, user: UserConfig) -> Result<UserView, EngineError> {
        self.state.engine.add_user(appid, &user)
    }

    /// A user with the current session_key.
    pub fn user(&self, appid: &str, openid: &str) -> Result<UserView, EngineError> {
        self.state.engine.user(appid, openid)
    }

    /// What `wx.login` would give the user: a fresh js_code (may rotate the session_key).
    /// Send it to the backend under test as the mini-program would.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wxmock_server::{EngineError, MockWeChat, ALICE_OPENID, DEMO_APPID};
    /// let wechat = MockWeChat::start().await;
    /// let code = wechat.login(DEMO_APPID, ALICE_OPENID).unwrap();
    /// assert!(!code.is_empty());
    /// assert!(matches!(
    ///     wechat.login(DEMO_APPID, "oNobody"),
    ///     Err(EngineError::UnknownUser { .. })
    /// ));
    /// # }
    /// ```
    pub fn login(&self, appid: &str, openid: &str) -> Result<String, EngineError> {
        self.state.engine.login(appid, openid)
    }

    /// A phone code for getuserphonenumber (what `<button open-type="getPhoneNumber">` gives).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wxmock_server::{MockWeChat, ALICE_OPENID, DEMO_APPID};
    /// let wechat = MockWeChat::start().await;
    /// let code = wechat.phone_code(DEMO_APPID, ALICE_OPENID).unwrap();
    /// assert_eq!(code.len(), 64);
    /// # }
    /// ```
    pub fn phone_code(&self, appid: &str, openid: &str) -> Result<String, EngineError> {
        self.state.engine.phone_code(appid, openid)
    }

    /// A valid access token for the app (as if `/cgi-bin/token` had been called).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wxmock_server::{MockWeChat, DEMO_APPID};
    /// let wechat = MockWeChat::start().await;
    /// let token = wechat.access_token(DEMO_APPID).unwrap();
    /// assert!(token.len() > 100);
    /// # }
    /// ```
    pub fn access_token(&self, appid: &str) -> Result<String, EngineError> {
        self.state.engine.mint_access_token(appid)
    }

    /// The checksession signature of the user's current session_key (HMAC-SHA256 of the
    /// empty string, keyed with the key's base64 text), as lowercase hex.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wxmock_server::{MockWeChat, ALICE_OPENID, DEMO_APPID};
    /// let wechat = MockWeChat::start().await;
    /// wechat.login(DEMO_APPID, ALICE_OPENID).unwrap();
    /// let signature = wechat.session_signature(DEMO_APPID, ALICE_OPENID).unwrap();
    /// assert_eq!(signature.len(), 64);
    /// # }
    /// ```
    pub fn session_signature(&self, appid: &str, openid: &str) -> Result<String, EngineError> {
        let (key, _) = self.state.engine.session_keys(appid, openid)?;
        Ok(wxmock_fixtures::signature::login_state_signature(&key, ""))
    }

    /// Moves the fake's clock forward; returns the new now (Unix seconds). Codes, session
    /// keys and access tokens expire by it: nothing sleeps.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wxmock_server::{Clock, MockWeChat};
    /// let wechat = MockWeChat::builder().clock(Clock::fixed(1_000)).start().await;
    /// assert_eq!(wechat.advance_clock(301), 1_301);
    /// assert_eq!(wechat.now(), 1_301);
    /// # }
    /// ```
    pub fn advance_clock(&self, secs: u64) -> i64 {
        self.state.clock.advance(secs)
    }

    /// The fake's now (Unix seconds).
    pub fn now(&self) -> i64 {
        self.state.clock.now()
    }
}

impl Drop for MockWeChat {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.expectations.verify(&self.state.journal);
        }
        if let Some(shutdown) = self.shutdown.take() {
            // The server may already be gone; nothing to do then.
            let _ = shutdown.send(());
        }
    }
}

impl std::fmt::Debug for MockWeChat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockWeChat")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}
