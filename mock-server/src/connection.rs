//! Connection hygiene: a client that sends half a request, or opens a connection and says
//! nothing, must not hold a slot forever, and a flood of them must not lock out the next
//! caller (the control API's health check, say).
//!
//! Each connection has a [`Watch`]: the service marks it busy while a request is being
//! answered, the socket marks when request bytes arrive, and a watchdog closes the connection
//! when a request head has been arriving for longer than the header-read timeout, or nothing at
//! all has arrived for the idle timeout. A request being answered (a held `timeout` fault, a
//! slow body) is never cut by these timers. Past the connection limit, a new connection takes
//! the slot of the quietest connection that is not answering a request; if every one is, the
//! new connection is closed at once.
//!
//! Our own watchdog rather than hyper's `header_read_timeout`: hyper's runs from the end of one
//! answer to the end of the next request head, so it cannot tell "idle between requests" from
//! "sending a head slowly", and it arms a timer on every request.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// The `[connections]` section of the config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionConfig {
    /// A request head (request line and headers) must arrive within this many milliseconds of
    /// its first byte.
    pub header_read_timeout_ms: u64,
    /// A keep-alive connection with no request for this many milliseconds is closed.
    pub idle_timeout_ms: u64,
    /// Most connections open at once (also kept below the process's open-file limit).
    pub max_connections: usize,
}

/// Default header-read timeout.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// Default idle keep-alive timeout.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
/// Default connection limit.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// File descriptors kept free below the open-file limit (listener, logs, config reads).
const SPARE_FDS: u64 = 32;

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: DEFAULT_HEADER_READ_TIMEOUT_MS,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ConnectionConfig {
    /// Checks that every timeout and the connection limit are positive; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("header_read_timeout_ms", self.header_read_timeout_ms),
            ("idle_timeout_ms", self.idle_timeout_ms),
            ("max_connections", self.max_connections as u64),
        ] {
            if value == 0 {
                return Err(format!("connections.{name} must be at least 1"));
            }
        }
        Ok(())
    }

    /// The connection limit in force: the configured one, kept below the open-file limit so
    /// the limit (and its eviction) is reached before `accept` starts failing.
    pub fn effective_max_connections(&self) -> usize {
        let configured = self.max_connections;
        match open_file_limit() {
            Some(limit) if limit > SPARE_FDS * 2 => {
                configured.min(usize::try_from(limit - SPARE_FDS).unwrap_or(usize::MAX))
            }
            Some(_) => configured.min(8),
            None => configured,
        }
    }
}

fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own and reads nothing else.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every Unix.
        ok.then_some(limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// What a connection's watchdog watches. Times are nanoseconds since the registry's start.
#[derive(Debug, Default)]
pub struct Watch {
    /// Requests being answered right now.
    busy: AtomicU32,
    /// When the connection last became idle (opened, or an answer finished).
    idle_since: AtomicU64,
    /// When the first byte after `idle_since` arrived (≤ `idle_since`: none yet).
    head_since: AtomicU64,
    /// Told to close (evicted for a newer connection).
    close: Notify,
}

/// Every open connection, for the limit and its eviction.
#[derive(Debug)]
pub struct Registry {
    start: Instant,
    max: usize,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    next_id: AtomicU64,
    // A std Mutex: held only to insert, remove or scan on accept and close, never across an
    // `.await`.
    open: Mutex<HashMap<u64, Arc<Watch>>>,
}

/// A connection's place in the [`Registry`]; leaving it (drop) frees the slot.
pub struct Slot {
    registry: Arc<Registry>,
    id: u64,
    /// The connection's busy/idle state, shared with its service.
    pub watch: Arc<Watch>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

impl Registry {
    /// A registry enforcing the configuration's connection limit and timeouts.
    pub fn new(config: &ConnectionConfig) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            max: config.effective_max_connections().max(1),
            header_read_timeout: Duration::from_millis(config.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(config.idle_timeout_ms),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Watch>>> {
        // Every update is a single insert or remove: a poisoned map is still consistent.
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The connection limit in force.
    pub fn max(&self) -> usize {
        self.max
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// A slot for a new connection: a free one, or the quietest idle connection's (told to
    /// close), or `None` when every open connection is answering a request.
    pub fn admit(self: &Arc<Self>) -> Option<Slot> {
        let now = self.now();
        let watch = Arc::new(Watch {
            idle_since: AtomicU64::new(now),
            ..Watch::default()
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut open = self.lock();
        if open.len() >= self.max {
            let quietest = open
                .iter()
                .filter(|(_, w)| w.busy.load(Ordering::Relaxed) == 0)
                .min_by_key(|(_, w)| {
                    w.idle_since
                        .load(Ordering::Relaxed)
                        .max(w.head_since.load(Ordering::Relaxed))
                })
                .map(|(id, _)| *id)?;
            if let Some(evicted) = open.remove(&quietest) {
                evicted.close.notify_one();
            }
        }
        open.insert(id, watch.clone());
        drop(open);
        Some(Slot {
            registry: self.clone(),
            id,
            watch,
        })
    }

    /// Resolves when the connection should be closed: told to (evicted), a head arriving for
    /// longer than the header-read timeout, or idle for longer than the idle timeout.
    pub async fn watchdog(&self, watch: &Watch) {
        let tick = self.header_read_timeout.min(self.idle_timeout);
        let closed = watch.close.notified();
        tokio::pin!(closed);
        loop {
            let wait = if watch.busy.load(Ordering::Relaxed) > 0 {
                tick
            } else {
                let idle = watch.idle_since.load(Ordering::Relaxed);
                let head = watch.head_since.load(Ordering::Relaxed);
                let (since, limit) = if head > idle {
                    (head, self.header_read_timeout)
                } else {
                    (idle, self.idle_timeout)
                };
                let due = since.saturating_add(u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX));
                let now = self.now();
                if now >= due {
                    return;
                }
                // Wake by `tick` at the latest: a head may start arriving meanwhile, and its
                // deadline can come before the idle one.
                Duration::from_nanos(due - now).min(tick)
            };
            tokio::select! {
                () = &mut closed => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// The socket of a connection, marking its watch when bytes arrive.
    pub fn watched<T>(self: &Arc<Self>, io: T, watch: Arc<Watch>) -> Watched<T> {
        Watched {
            io,
            watch,
            registry: self.clone(),
        }
    }

    /// Marks the connection busy until the returned guard is dropped.
    pub fn busy(self: &Arc<Self>, watch: &Arc<Watch>) -> Busy {
        watch.busy.fetch_add(1, Ordering::Relaxed);
        Busy {
            watch: watch.clone(),
            registry: self.clone(),
        }
    }
}

/// A request being answered; on drop (answer ready, or the request abandoned) the connection
/// is idle again.
pub struct Busy {
    watch: Arc<Watch>,
    registry: Arc<Registry>,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.watch
            .idle_since
            .store(self.registry.now(), Ordering::Relaxed);
        self.watch.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An I/O stream whose reads tell the watchdog that a request head is arriving.
pub struct Watched<T> {
    io: T,
    watch: Arc<Watch>,
    registry: Arc<Registry>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            let watch = &self.watch;
            if watch.head_since.load(Ordering::Relaxed) <= watch.idle_since.load(Ordering::Relaxed)
            {
                watch
                    .head_since
                    .store(self.registry.now().max(1), Ordering::Relaxed);
            }
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

pin_project_lite::pin_project! {
    /// A service's answer future that keeps its connection marked busy while it runs.
    pub struct Tracked<F> {
        #[pin]
        inner: F,
        busy: Option<Busy>,
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let polled = this.inner.poll(cx);
        if polled.is_ready() {
            this.busy.take();
        }
        polled
    }
}

/// A hyper service that marks its connection busy while each request is answered.
#[derive(Clone)]
pub struct TrackedService<S> {
    /// The service that answers the requests.
    pub inner: S,
    /// The registry the connection belongs to.
    pub registry: Arc<Registry>,
    /// The connection's busy/idle state.
    pub watch: Arc<Watch>,
}

impl<S, R> hyper::service::Service<R> for TrackedService<S>
where
    S: hyper::service::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Tracked<S::Future>;

    fn call(&self, request: R) -> Self::Future {
        let busy = self.registry.busy(&self.watch);
        Tracked {
            inner: self.inner.call(request),
            busy: Some(busy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(max: usize) -> Arc<Registry> {
        Registry::new(&ConnectionConfig {
            max_connections: max,
            ..ConnectionConfig::default()
        })
    }

    #[test]
    fn past_the_limit_the_quietest_idle_connection_gives_up_its_slot() {
        let registry = registry(2);
        let first = registry.admit().unwrap();
        let second = registry.admit().unwrap();
        // The first is answering a request: it is not evictable.
        let _busy = registry.busy(&first.watch);
        let third = registry
            .admit()
            .expect("the idle second connection makes room");
        assert_eq!(registry.len(), 2);
        // The evicted one is told to close (a stored permit, so its watchdog sees it).
        {
            let notified = second.watch.close.notified();
            tokio::pin!(notified);
            assert!(futures_ready(notified.as_mut()));
        }
        drop(third);
        drop(second);
        assert_eq!(registry.len(), 1);
    }

    #[test]
    fn when_every_connection_is_answering_a_new_one_is_refused() {
        let registry = registry(1);
        let only = registry.admit().unwrap();
        let _busy = registry.busy(&only.watch);
        assert!(registry.admit().is_none());
        assert_eq!(registry.len(), 1);
    }

    #[test]
    fn zero_timeouts_and_limits_are_rejected() {
        let config = ConnectionConfig {
            idle_timeout_ms: 0,
            ..ConnectionConfig::default()
        };
        assert!(config.validate().unwrap_err().contains("idle_timeout_ms"));
        assert!(ConnectionConfig::default().validate().is_ok());
    }

    /// Polls a future once with a no-op waker.
    fn futures_ready<F: Future>(future: Pin<&mut F>) -> bool {
        let waker = std::task::Waker::noop();
        future.poll(&mut Context::from_waker(waker)).is_ready()
    }
}
