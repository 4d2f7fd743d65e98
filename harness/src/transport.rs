//! Reading the backend's answers safely: what went wrong when no answer came (refused, reset,
//! closed, timed out), said in plain words, and a body read that stops at a documented size so a
//! backend answering gigabytes cannot take the harness's memory with it.

use std::time::Duration;

use serde::Serialize;

/// The most of one answer's body the harness reads (1 MiB). The rest is not read: the
/// connection is dropped, the exchange records the cut, and the case judges what it has.
pub const BODY_READ_LIMIT: usize = 1024 * 1024;

/// Why a request got no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// Nothing accepted the connection (nothing listens on the port).
    Refused,
    /// The backend reset the connection.
    Reset,
    /// The backend closed the connection before a whole answer.
    Closed,
    /// No (whole) answer within the client's timeout.
    TimedOut,
    /// Anything else (a malformed answer, a DNS failure, …).
    Other,
}

impl Failure {
    /// Connection failures and timeouts: the kinds that say the backend is not answering at all
    /// (a malformed answer is still an answer).
    pub fn is_silence(self) -> bool {
        !matches!(self, Failure::Other)
    }

    /// What happened, as the end of "the backend …" sentences.
    pub fn what(self) -> &'static str {
        match self {
            Failure::Refused => "refused the connection",
            Failure::Reset => "reset the connection",
            Failure::Closed => "closed the connection without a whole answer",
            Failure::TimedOut => "did not answer in time",
            Failure::Other => "gave no usable answer",
        }
    }
}

/// Classifies a reqwest error and describes it: `timeout` is the client timeout that applied.
pub fn describe(e: &reqwest::Error, timeout: Duration) -> (Failure, String) {
    let chain = chain_text(e);
    let failure = classify(e, &chain);
    let text = match failure {
        Failure::TimedOut => format!(
            "no answer within the client timeout of {} s",
            seconds(timeout)
        ),
        Failure::Refused => format!("connection refused ({chain})"),
        Failure::Reset => format!("connection reset by the backend ({chain})"),
        Failure::Closed => format!("the backend closed the connection before answering ({chain})"),
        Failure::Other => chain,
    };
    (failure, text)
}

fn classify(e: &reqwest::Error, chain: &str) -> Failure {
    if e.is_timeout() {
        return Failure::TimedOut;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => return Failure::Refused,
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => return Failure::Reset,
                K::UnexpectedEof => return Failure::Closed,
                K::TimedOut => return Failure::TimedOut,
                _ => {}
            }
        }
        source = s.source();
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("connection refused") {
        Failure::Refused
    } else if lower.contains("reset") {
        Failure::Reset
    } else if lower.contains("closed") || lower.contains("incomplete") {
        Failure::Closed
    } else {
        Failure::Other
    }
}

/// reqwest's Display hides the cause ("error sending request"); the chain says what happened.
fn chain_text(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    }
}

/// A body read up to [`BODY_READ_LIMIT`] bytes (or `limit`).
pub struct Capped {
    pub bytes: Vec<u8>,
    /// Set when the body was longer than the limit: what the answer said its length was, if it
    /// said (`Content-Length`).
    pub cut: Option<Cut>,
}

/// A body cut at the read limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Cut {
    /// Bytes kept (the limit).
    pub kept: usize,
    /// The length the answer announced, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub announced: Option<u64>,
}

impl Cut {
    /// "the body was cut at 1 MiB (the answer announced 52428800 bytes)".
    pub fn note(&self) -> String {
        let announced = match self.announced {
            Some(n) => format!(" (the answer announced {n} bytes)"),
            None => String::new(),
        };
        format!(
            "the body was longer than the {} the harness reads: it was cut there and judged as cut{announced}",
            size_text(self.kept)
        )
    }
}

/// Reads a response's body chunk by chunk, stopping at `limit` bytes.
pub async fn read_capped(
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<Capped, reqwest::Error> {
    let announced = resp.content_length();
    let mut bytes = Vec::with_capacity(
        announced.map_or(8 * 1024, |n| usize::try_from(n).unwrap_or(limit).min(limit)),
    );
    while let Some(chunk) = resp.chunk().await? {
        let room = limit - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            // The rest is never read: dropping the response closes the connection.
            return Ok(Capped {
                bytes,
                cut: Some(Cut {
                    kept: limit,
                    announced,
                }),
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Capped { bytes, cut: None })
}

/// "1 MiB", "64 KiB", "300 bytes".
pub fn size_text(n: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_text(BODY_READ_LIMIT), "1 MiB");
        assert_eq!(size_text(64 * 1024), "64 KiB");
        assert_eq!(size_text(300), "300 bytes");
    }

    #[test]
    fn connection_failures_and_timeouts_count_as_silence_a_bad_answer_does_not() {
        assert!(Failure::Refused.is_silence() && Failure::TimedOut.is_silence());
        assert!(Failure::Reset.is_silence() && Failure::Closed.is_silence());
        assert!(!Failure::Other.is_silence());
    }
}
