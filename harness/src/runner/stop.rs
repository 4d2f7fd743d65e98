//! Ending a run early, and well: a stop request (SIGINT or SIGTERM, handed in by the CLI), the
//! run deadline (`--deadline-secs`), and fail fast on a backend that gives no answer to several
//! requests in a row. Whatever ends the run, the runner still stops the backend and returns a
//! report: the cases that finished, the unfinished ones listed, and the run marked interrupted.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::exchange::Exchange;

/// How many requests in a row may get no answer (refused, reset, timed out) before the rest of
/// the run is skipped as "backend not answering since <case>".
pub const SILENCE_LIMIT: usize = 3;

/// The default run deadline: 15 minutes (plus `--crack-secs`). A whole catalogue against a
/// working backend takes seconds to a few minutes.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(900);

/// Asks a run to stop (the CLI's signal handler holds it).
#[derive(Clone, Debug)]
pub struct StopHandle(watch::Sender<Option<String>>);

/// What a run listens to for a stop request (in [`super::RunOptions`]).
#[derive(Clone, Debug)]
pub struct StopRequest(watch::Receiver<Option<String>>);

impl StopRequest {
    /// A connected handle and request.
    pub fn channel() -> (StopHandle, StopRequest) {
        let (tx, rx) = watch::channel(None);
        (StopHandle(tx), StopRequest(rx))
    }
}

impl StopHandle {
    /// Asks the run to stop; `why` names the cause ("SIGTERM"). Only the first request counts.
    pub fn stop(&self, why: &str) {
        self.0.send_if_modified(|v| {
            if v.is_none() {
                *v = Some(why.to_string());
                true
            } else {
                false
            }
        });
    }
}

/// Why a run ended before its last case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopCause {
    /// A stop request (the signal's name).
    Signal(String),
    /// The run deadline passed.
    Deadline(Duration),
}

impl StopCause {
    /// "signal" or "deadline", for the report's machine-readable field.
    pub fn kind(&self) -> &'static str {
        match self {
            StopCause::Signal(_) => "signal",
            StopCause::Deadline(_) => "deadline",
        }
    }

    /// A sentence for the report.
    pub fn text(&self) -> String {
        match self {
            StopCause::Signal(s) => format!("{s} received"),
            StopCause::Deadline(d) => {
                format!(
                    "the run deadline of {} s passed (--deadline-secs)",
                    d.as_secs()
                )
            }
        }
    }
}

/// The run's end conditions.
pub(super) struct Ender {
    deadline: Option<(Instant, Duration)>,
    stop: Option<StopRequest>,
}

impl Ender {
    pub fn new(started: Instant, deadline: Option<Duration>, stop: Option<StopRequest>) -> Self {
        Self {
            deadline: deadline.map(|d| (started + d, d)),
            stop,
        }
    }

    /// Whether the run must end now.
    pub fn ended(&self) -> Option<StopCause> {
        if let Some(why) = self.stop.as_ref().and_then(|s| s.0.borrow().clone()) {
            return Some(StopCause::Signal(why));
        }
        match self.deadline {
            Some((at, d)) if Instant::now() >= at => Some(StopCause::Deadline(d)),
            _ => None,
        }
    }

    /// Runs `work` unless the run must end first (then `work` is dropped where it stands).
    pub async fn race<F: Future>(&mut self, work: F) -> Result<F::Output, StopCause> {
        if let Some(cause) = self.ended() {
            return Err(cause);
        }
        let deadline = self.deadline;
        let stop = self.stop.clone();
        let stopped = async move {
            match stop {
                Some(mut s) => match s.0.wait_for(Option::is_some).await {
                    Ok(v) => StopCause::Signal(v.clone().unwrap_or_default()),
                    // The handle is gone: no stop can come any more.
                    Err(_) => std::future::pending().await,
                },
                None => std::future::pending().await,
            }
        };
        let expired = async move {
            match deadline {
                Some((at, d)) => {
                    tokio::time::sleep_until(at.into()).await;
                    StopCause::Deadline(d)
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            out = work => Ok(out),
            cause = stopped => Err(cause),
            cause = expired => Err(cause),
        }
    }
}

/// Counts requests in a row that got no answer at all: after [`SILENCE_LIMIT`], the backend is
/// taken as not answering since the case of the first of them.
#[derive(Clone, Debug, Default)]
pub struct Silence {
    streak: usize,
    since: Option<String>,
}

impl Silence {
    /// Notes one exchange of `case_id`.
    pub fn observe(&mut self, case_id: &str, x: &Exchange) {
        match (&x.response, x.failure) {
            (Some(_), _) => *self = Silence::default(),
            (None, Some(f)) if f.is_silence() => self.missed(case_id),
            _ => {}
        }
    }

    /// Notes a request of `case_id` that got no answer outside the case's own exchanges (the
    /// readiness probe before a case, while the backend is known to be silent).
    pub fn missed(&mut self, case_id: &str) {
        if self.streak == 0 {
            self.since = Some(case_id.to_string());
        }
        self.streak += 1;
    }

    /// The case since which the backend has not answered, once [`SILENCE_LIMIT`] requests in a
    /// row got no answer.
    pub fn down_since(&self) -> Option<&str> {
        (self.streak >= SILENCE_LIMIT)
            .then_some(self.since.as_deref())
            .flatten()
    }

    /// The skip reason of the cases after it.
    pub fn skip_reason(&self) -> Option<String> {
        self.down_since()
            .map(|case| format!("backend not answering since {case}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Failure;

    fn failed(f: Failure) -> Exchange {
        Exchange {
            label: "login".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:1/api/login".into(),
            request_headers: vec![],
            request_body: None,
            response: None,
            error: Some("no".into()),
            failure: Some(f),
            body_cut: None,
            duration_ms: 1,
        }
    }

    #[test]
    fn three_silent_requests_in_a_row_name_the_case_of_the_first() {
        let mut s = Silence::default();
        s.observe("login.happy", &failed(Failure::TimedOut));
        s.observe("token.accepted", &failed(Failure::Refused));
        assert_eq!(s.down_since(), None);
        s.observe("token.missing", &failed(Failure::TimedOut));
        assert_eq!(
            s.skip_reason().as_deref(),
            Some("backend not answering since login.happy")
        );
    }

    #[test]
    fn an_answer_or_a_malformed_answer_does_not_count_as_silence() {
        let mut s = Silence::default();
        s.observe("a", &failed(Failure::TimedOut));
        s.observe("a", &failed(Failure::TimedOut));
        let mut answered = failed(Failure::TimedOut);
        answered.response = Some(crate::exchange::Response {
            status: 200,
            headers: vec![],
            body: String::new(),
            json: None,
        });
        answered.failure = None;
        s.observe("b", &answered);
        s.observe("c", &failed(Failure::Other));
        s.observe("c", &failed(Failure::TimedOut));
        assert_eq!(s.down_since(), None);
    }

    #[tokio::test]
    async fn a_stop_request_ends_the_work_in_progress() {
        let (handle, request) = StopRequest::channel();
        let mut ender = Ender::new(Instant::now(), None, Some(request));
        let work = async {
            handle.stop("SIGTERM");
            std::future::pending::<()>().await
        };
        assert_eq!(
            ender.race(work).await,
            Err(StopCause::Signal("SIGTERM".into()))
        );
        assert!(ender.ended().is_some(), "and stays ended");
    }

    #[tokio::test]
    async fn the_deadline_ends_the_work_in_progress_and_what_comes_after() {
        let short = Duration::from_millis(20);
        let mut ender = Ender::new(Instant::now(), Some(short), None);
        let out = ender.race(std::future::pending::<()>()).await;
        assert_eq!(out, Err(StopCause::Deadline(short)));
        assert_eq!(ender.race(async {}).await, Err(StopCause::Deadline(short)));
    }

    #[tokio::test]
    async fn without_a_stop_or_a_deadline_the_work_finishes() {
        let (_handle, request) = StopRequest::channel();
        let mut ender = Ender::new(Instant::now(), None, Some(request));
        assert_eq!(ender.race(async { 7 }).await, Ok(7));
    }
}
