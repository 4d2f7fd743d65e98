//! Where the backend's log lines go when it runs inside another process (a test, the harness's
//! in-process demo) instead of printing to its own stderr: a [`LogSink`] in the configuration
//! gets every event of request handling, formatted as the binary prints them, so whoever runs
//! the backend can read its log as it would read the process's output.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::instrument::WithSubscriber as _;
use tracing_subscriber::fmt::MakeWriter;

/// What receives the log output.
type Write = dyn Fn(&[u8]) + Send + Sync;

/// A function that receives the backend's log output, a few lines at a time.
#[derive(Clone)]
pub struct LogSink(Arc<Write>);

impl LogSink {
    pub fn new(write: impl Fn(&[u8]) + Send + Sync + 'static) -> Self {
        Self(Arc::new(write))
    }
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogSink")
    }
}

/// One event's worth of writing into the sink.
pub struct SinkWriter(LogSink);

impl std::io::Write for SinkWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        (self.0 .0)(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogSink {
    type Writer = SinkWriter;

    fn make_writer(&'a self) -> SinkWriter {
        SinkWriter(self.clone())
    }
}

/// The subscriber that formats events into `sink` (INFO and above, as the binary's default).
pub fn dispatch(sink: &LogSink) -> tracing::Dispatch {
    tracing_subscriber::fmt()
        .with_writer(sink.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish()
        .into()
}

/// Handles each request with `dispatch` as the default subscriber, so its events go to the sink.
pub async fn capture(
    State(dispatch): State<tracing::Dispatch>,
    request: Request,
    next: Next,
) -> Response {
    next.run(request).with_subscriber(dispatch).await
}
