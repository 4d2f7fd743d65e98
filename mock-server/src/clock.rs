//! The fake's clock. Every expiry (codes, session keys, access tokens, quotas) reads it, and the
//! control API moves it forward; nothing in wxmock sleeps to make something expire.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A shareable clock: wall time (or a fixed start, for deterministic tests) plus an offset that
/// only ever grows through [`Clock::advance`]. Cloning shares the same offset.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// `None`: follow the system clock. `Some(t)`: time stands still at `t` (plus the offset).
    fixed_start: Option<i64>,
    /// Seconds added by `advance`. Atomic rather than a lock: it is read on every request.
    offset: AtomicI64,
}

impl Clock {
    /// A clock that follows the system time.
    pub fn system() -> Self {
        Self::new(None)
    }

    /// A clock frozen at `unix_secs`; only [`Clock::advance`] moves it. For deterministic tests.
    pub fn fixed(unix_secs: i64) -> Self {
        Self::new(Some(unix_secs))
    }

    fn new(fixed_start: Option<i64>) -> Self {
        Self {
            inner: Arc::new(Inner {
                fixed_start,
                offset: AtomicI64::new(0),
            }),
        }
    }

    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        let base = match self.inner.fixed_start {
            Some(t) => t,
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        };
        base + self.inner.offset.load(Ordering::Relaxed)
    }

    /// Moves the clock forward by `secs` and returns the new now.
    pub fn advance(&self, secs: u64) -> i64 {
        let secs = i64::try_from(secs).unwrap_or(i64::MAX / 4);
        self.inner.offset.fetch_add(secs, Ordering::Relaxed);
        self.now()
    }

    /// Seconds added so far by [`Clock::advance`].
    pub fn offset(&self) -> i64 {
        self.inner.offset.load(Ordering::Relaxed)
    }

    /// Undoes every advance (used by a full reset).
    pub fn reset(&self) {
        self.inner.offset.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_advanced() {
        let clock = Clock::fixed(1_700_000_000);
        assert_eq!(clock.now(), 1_700_000_000);
        assert_eq!(clock.advance(301), 1_700_000_301);
        let shared = clock.clone();
        shared.advance(9);
        assert_eq!(clock.now(), 1_700_000_310);
        clock.reset();
        assert_eq!(clock.now(), 1_700_000_000);
    }
}
