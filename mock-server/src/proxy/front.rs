//! The sockets of the impersonation front. A proxy listener sniffs each connection's first byte
//! (0x16 opens a TLS handshake: a client speaking TLS to the proxy itself), serves HTTP/1.1 on
//! it, opens `CONNECT api.weixin.qq.com:443` tunnels and terminates TLS inside them; a TLS
//! listener (the hosts-file mode) terminates TLS on every connection. Every request that
//! [`decide`] lets through goes to the fake's own service (`crate::service`), so journal, faults
//! and rules see a direct request.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio_rustls::TlsAcceptor;

use super::target::{decide, Decision, Place};
use crate::connection::{Registry, TrackedService, Watch};
use crate::error::ServerError;
use crate::service::FakeService;
use crate::state::AppState;

/// The first byte of a TLS record carrying a handshake.
const TLS_HANDSHAKE: u8 = 0x16;
/// How long a new connection may stay silent before its first byte (a bound on idle sockets).
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(30);

/// Which kind of listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `--proxy`: CONNECT, absolute-form in clear, and TLS spoken straight to the port.
    Proxy,
    /// `--tls-listen`: TLS on every connection, as `api.weixin.qq.com` itself.
    Tls,
}

/// Serves the impersonation front for `state` on `listener` until `shutdown` resolves.
/// Connections are watched as on the main port (`crate::connection`: slow heads, idleness, the
/// connection limit), a tunnel counting as its one connection.
pub async fn serve<F>(
    listener: TcpListener,
    state: AppState,
    tls: Arc<rustls::ServerConfig>,
    mode: Mode,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    // The same gate as the main port: off loopback, the control API needs its token.
    let loopback = listener.local_addr()?.ip().is_loopback();
    let registry = Registry::new(&state.connections);
    let front = Front {
        fake: FakeService::new(state, loopback),
        acceptor: TlsAcceptor::from(tls),
        registry: registry.clone(),
    };
    // Connections watch this to close once their in-flight request is answered.
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(err) => {
                    // As on the main port: a failed accept must not stop the front.
                    tracing::warn!(error = %err, "impersonation front: accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = registry.admit() else {
            tracing::warn!(
                limit = registry.max(),
                "impersonation front: connection refused, every connection is answering a request"
            );
            drop(stream);
            continue;
        };
        let front = front.clone();
        let stopping = stopping.clone();
        let registry = registry.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = front.connection(stream, mode, slot.watch.clone(), stopping) => {}
                () = registry.watchdog(&slot.watch) => {}
            }
            drop(slot);
        });
    }
    let _ = stop.send(true);
    Ok(())
}

#[derive(Clone)]
struct Front {
    fake: FakeService,
    acceptor: TlsAcceptor,
    registry: Arc<Registry>,
}

/// Where a CONNECT's upgrade waits for the connection task to take it over. A std Mutex: set
/// once by the request, taken once after the connection ends, never held across an await.
type TunnelSlot = Arc<Mutex<Option<OnUpgrade>>>;

impl Front {
    async fn connection(
        self,
        stream: TcpStream,
        mode: Mode,
        watch: Arc<Watch>,
        stopping: watch::Receiver<bool>,
    ) {
        let _ = stream.set_nodelay(true);
        let tls_first = match mode {
            Mode::Tls => true,
            Mode::Proxy => {
                let mut first = [0u8; 1];
                match tokio::time::timeout(FIRST_BYTE_TIMEOUT, stream.peek(&mut first)).await {
                    Ok(Ok(1)) => first[0] == TLS_HANDSHAKE,
                    // Closed, failed or silent: nothing to serve.
                    _ => return,
                }
            }
        };
        let place = match mode {
            Mode::Proxy => Place::Proxy,
            Mode::Tls => Place::Direct,
        };
        let stream = self.registry.watched(stream, watch.clone());
        let tunnel: TunnelSlot = Arc::default();
        if tls_first {
            match self.acceptor.accept(stream).await {
                Ok(tls) => {
                    self.http(tls, place, &watch, Some(&tunnel), stopping.clone())
                        .await
                }
                Err(err) => {
                    tracing::debug!(error = %err, "impersonation front: TLS handshake failed")
                }
            }
        } else {
            self.http(stream, place, &watch, Some(&tunnel), stopping.clone())
                .await;
        }
        // A CONNECT ended the HTTP connection by upgrading it: TLS as api.weixin.qq.com inside.
        let upgrade = tunnel.lock().ok().and_then(|mut slot| slot.take());
        let Some(upgrade) = upgrade else {
            return;
        };
        match upgrade.await {
            Ok(upgraded) => match self.acceptor.accept(TokioIo::new(upgraded)).await {
                Ok(tls) => self.http(tls, Place::Tunnel, &watch, None, stopping).await,
                Err(err) => tracing::debug!(
                    error = %err,
                    "impersonation front: TLS handshake in a tunnel failed"
                ),
            },
            Err(err) => {
                tracing::debug!(error = %err, "impersonation front: CONNECT upgrade failed")
            }
        }
    }

    /// HTTP/1.1 on one connection (with upgrades when `tunnel` can take one), closed
    /// gracefully on shutdown.
    async fn http<S>(
        &self,
        io: S,
        place: Place,
        watch: &Arc<Watch>,
        tunnel: Option<&TunnelSlot>,
        stopping: watch::Receiver<bool>,
    ) where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let front = self.clone();
        let tunnel = tunnel.cloned();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let front = front.clone();
            let tunnel = tunnel.clone();
            async move { Ok::<_, Infallible>(front.answer(request, place, tunnel).await) }
        });
        let service = TrackedService {
            inner: service,
            registry: self.registry.clone(),
            watch: watch.clone(),
        };
        let connection = http1::Builder::new()
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades();
        tokio::pin!(connection);
        let mut stopping = stopping;
        // The guard `wait_for` returns is not Send: drop it before the branch awaits.
        let stopped = async move {
            let _ = stopping.wait_for(|stop| *stop).await.map(|_| ());
        };
        tokio::select! {
            _ = connection.as_mut() => {}
            () = stopped => {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        }
    }

    async fn answer(
        &self,
        request: Request<Incoming>,
        place: Place,
        tunnel: Option<TunnelSlot>,
    ) -> Response<Body> {
        match decide(request, place) {
            Decision::Fake(request) => match self.fake.answer(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            },
            Decision::Refuse(reason) => {
                tracing::info!(reason = %reason, "impersonation front: refused");
                refusal(reason)
            }
            Decision::Tunnel(mut request) => {
                // `decide` opens tunnels only on the proxy port, where the slot always exists.
                let Some(tunnel) = tunnel else {
                    return refusal("CONNECT is not accepted here".into());
                };
                let upgrade = hyper::upgrade::on(&mut request);
                if let Ok(mut slot) = tunnel.lock() {
                    *slot = Some(upgrade);
                }
                Response::new(Body::empty())
            }
        }
    }
}

/// `403` with the reason on one line (the body a proxy client shows its user).
fn refusal(reason: String) -> Response<Body> {
    let mut response = Response::new(Body::from(format!("{reason}\n")));
    *response.status_mut() = StatusCode::FORBIDDEN;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A running front, stopped when dropped (the shape of [`crate::MockWeChat`]).
pub struct FrontHandle {
    address: SocketAddr,
    mode: Mode,
    shutdown: Option<oneshot::Sender<()>>,
}

impl FrontHandle {
    /// Binds `addr` (port 0: any free port) and serves the front for `state` there.
    pub async fn start(
        addr: SocketAddr,
        state: AppState,
        tls: Arc<rustls::ServerConfig>,
        mode: Mode,
    ) -> Result<Self, ServerError> {
        let listener = crate::server::bind(addr).await?;
        let address = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let stopped = async {
                // A send or the sender's drop both mean stop.
                let _ = stop.await;
            };
            if let Err(err) = serve(listener, state, tls, mode, stopped).await {
                tracing::error!(error = %err, "impersonation front failed");
            }
        });
        Ok(Self {
            address,
            mode,
            shutdown: Some(shutdown),
        })
    }

    /// The address the front listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT` for a proxy (what `HTTPS_PROXY` takes), `https://…` for TLS.
    pub fn url(&self) -> String {
        match self.mode {
            Mode::Proxy => format!("http://{}", self.address),
            Mode::Tls => format!("https://{}", self.address),
        }
    }
}

impl Drop for FrontHandle {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The front may already be gone; nothing to do then.
            let _ = shutdown.send(());
        }
    }
}
