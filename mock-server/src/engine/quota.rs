//! Fixed-window counters for WeChat's per-minute and per-day limits. Windows are aligned to
//! the fake's clock (calendar minute / UTC day); WeChat's alignment is UNCONFIRMED.

pub const MINUTE: i64 = 60;
pub const DAY: i64 = 86_400;

/// Calls counted in the current window of some length.
#[derive(Clone, Copy, Debug, Default)]
pub struct Window {
    start: i64,
    count: u64,
}

impl Window {
    /// Counts one call in the `len`-second window holding `now`. Returns false, without
    /// counting, when the window already holds `limit` calls.
    pub fn admit(&mut self, now: i64, len: i64, limit: u64) -> bool {
        let start = now.div_euclid(len) * len;
        if start != self.start {
            self.start = start;
            self.count = 0;
        }
        if self.count >= limit {
            return false;
        }
        self.count += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_refuses_past_its_limit_and_reopens_in_the_next_window() {
        let mut window = Window::default();
        assert!(window.admit(120, MINUTE, 2));
        assert!(window.admit(150, MINUTE, 2));
        assert!(!window.admit(179, MINUTE, 2));
        assert!(window.admit(180, MINUTE, 2));
    }
}
