//! The expiry boundary a backend really enforces, found on its own clock: points are sampled
//! either side of a reference instant (the token's `exp`, or login + the declared lifetime for a
//! token without one), then a bisection between the latest accepted and the earliest refused
//! point narrows the boundary down to a second. Pure functions of the seeded generator and of the
//! answers, so one seed gives the same points and, against the same backend, the same boundary.
//!
//! Points are seconds relative to the reference instant: `-30` is 30 s before `exp`, `86400` a
//! day after it.

use rand::Rng;

/// The furthest point past the reference: a backend still accepting there has no working expiry.
pub const HORIZON_SECS: i64 = 30 * 86_400;

/// Requests the bisection may spend: 30 days need 22 at a resolution of one second.
pub const MAX_SHRINK_STEPS: usize = 32;

/// Random points drawn on each side, besides the fixed edges.
const RANDOM_PER_SIDE: usize = 3;

/// The scales random distances are drawn at, so one run mixes seconds, minutes, hours and days.
const SCALES: [i64; 4] = [60, 3_600, 86_400, HORIZON_SECS];

/// Which side of the reference a point lies on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Before the reference minus the leeway: the token must still be accepted (for a token
    /// with an `exp`; a declared lifetime is a maximum, so nothing is required before it).
    Before,
    /// After the reference plus the leeway: the token must be refused.
    After,
}

/// One instant of the backend's clock, `at` seconds from the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    pub at: i64,
    pub side: Side,
}

/// Where points may lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The backend's "now" when sampling starts (the clock never goes back before it: a token
    /// used before its `iat` may rightly be refused).
    pub earliest: i64,
    /// The leeway the backend may allow either side of the reference.
    pub leeway: i64,
}

impl Window {
    /// The latest point that must still be accepted: two seconds inside the leeway, so a probe
    /// sent as the second ticks over still lands before it.
    pub fn last_valid(&self) -> i64 {
        -self.leeway - 2
    }

    /// The earliest point that must be refused: one second past the leeway (a probe delayed by
    /// a tick lands later, which is further past it).
    pub fn first_expired(&self) -> i64 {
        self.leeway + 1
    }
}

/// A distance in `0..=max`, drawn at a random scale.
fn distance(rng: &mut impl Rng, max: i64) -> i64 {
    let scale = SCALES[rng.gen_range(0..SCALES.len())];
    rng.gen_range(0..=scale.min(max).max(0))
}

/// The points to try, in increasing order: after the reference, its edge (just past the leeway),
/// a minute later, the horizon (30 days) and random points between; before it (when the backend's
/// clock is not already inside the leeway), its edge and random points back to `earliest`.
pub fn sample(window: &Window, rng: &mut impl Rng) -> Vec<Point> {
    let mut points = Vec::new();
    let first = window.first_expired();
    let after = |at| Point {
        at,
        side: Side::After,
    };
    points.push(after(first));
    points.push(after(first + 60));
    points.push(after(HORIZON_SECS.max(first)));
    for _ in 0..RANDOM_PER_SIDE {
        points.push(after(first + distance(rng, HORIZON_SECS - first)));
    }
    let last = window.last_valid();
    if window.earliest <= last {
        let before = |at| Point {
            at,
            side: Side::Before,
        };
        points.push(before(last));
        for _ in 0..RANDOM_PER_SIDE {
            points.push(before(last - distance(rng, last - window.earliest)));
        }
    }
    points.sort_by_key(|p| p.at);
    points.dedup_by_key(|p| p.at);
    points
}

/// The boundary found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boundary {
    /// Refused at `refused` and accepted at `accepted`, the closest such pair found (one second
    /// apart unless the bisection ran out of steps).
    RefusedFrom { refused: i64, accepted: i64 },
    /// Accepted at every point tried; `at` is the latest.
    AcceptedThrough { at: i64 },
}

/// A bisection between the latest accepted and the earliest refused point.
#[derive(Clone, Debug)]
pub struct Shrink {
    accepted: i64,
    refused: Option<i64>,
    steps: usize,
}

impl Shrink {
    /// Starts from the sampled answers (`true`: accepted). `earliest` counts as accepted: the
    /// fresh token was, at the backend's clock before any move. The bracket is the earliest
    /// point not accepted and the latest accepted point below it.
    pub fn start(earliest: i64, answers: &[(i64, bool)]) -> Self {
        let refused = answers
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(at, _)| *at)
            .min();
        let accepted = answers
            .iter()
            .filter(|(at, ok)| *ok && refused.is_none_or(|r| *at < r))
            .map(|(at, _)| *at)
            .chain(std::iter::once(earliest))
            .max()
            .unwrap_or(earliest);
        Self {
            accepted,
            refused,
            steps: 0,
        }
    }

    /// The next point to try, or `None` once the bracket is a second wide, there is nothing to
    /// bracket (no point was refused), or the steps are spent.
    pub fn next(&self) -> Option<i64> {
        let refused = self.refused?;
        if refused - self.accepted <= 1 || self.steps >= MAX_SHRINK_STEPS {
            return None;
        }
        Some(self.accepted + (refused - self.accepted) / 2)
    }

    /// The answer at a point [`Shrink::next`] gave.
    pub fn record(&mut self, at: i64, accepted: bool) {
        self.steps += 1;
        if accepted {
            self.accepted = self.accepted.max(at);
        } else {
            self.refused = Some(self.refused.map_or(at, |r| r.min(at)));
        }
    }

    /// Requests the bisection spent.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The boundary as far as it is known.
    pub fn boundary(&self) -> Boundary {
        match self.refused {
            Some(refused) => Boundary::RefusedFrom {
                refused,
                accepted: self.accepted,
            },
            None => Boundary::AcceptedThrough { at: self.accepted },
        }
    }
}

/// A span in words: `0 s`, `45 s`, `2 min 5 s`, `1 day`, `30 days 6 s`.
pub fn span(secs: i64) -> String {
    let secs = secs.unsigned_abs();
    if secs == 0 {
        return "0 s".into();
    }
    let days = secs / 86_400;
    let parts = [
        (days, if days == 1 { "day" } else { "days" }),
        ((secs % 86_400) / 3_600, "h"),
        ((secs % 3_600) / 60, "min"),
        (secs % 60, "s"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `at` relative to a named instant: `exp + 0 s`, `exp - 2 h`.
pub fn relative(anchor: &str, at: i64) -> String {
    let sign = if at < 0 { '-' } else { '+' };
    format!("{anchor} {sign} {}", span(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    /// The case's loop without the network: sample, ask, bisect.
    fn explore(window: Window, seed: u64, accepts: impl Fn(i64) -> bool) -> (Vec<Point>, Shrink) {
        let mut rng = StdRng::seed_from_u64(seed);
        let points = sample(&window, &mut rng);
        let answers: Vec<(i64, bool)> = points.iter().map(|p| (p.at, accepts(p.at))).collect();
        let mut shrink = Shrink::start(window.earliest, &answers);
        while let Some(at) = shrink.next() {
            shrink.record(at, accepts(at));
        }
        (points, shrink)
    }

    const TWO_HOURS: Window = Window {
        earliest: -7_200,
        leeway: 5,
    };

    #[test]
    fn the_same_seed_samples_the_same_points_and_another_seed_others() {
        let a = sample(&TWO_HOURS, &mut StdRng::seed_from_u64(42));
        let b = sample(&TWO_HOURS, &mut StdRng::seed_from_u64(42));
        let c = sample(&TWO_HOURS, &mut StdRng::seed_from_u64(43));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn points_lie_outside_the_leeway_within_the_window_and_include_the_edges() {
        for seed in 0..200 {
            let points = sample(&TWO_HOURS, &mut StdRng::seed_from_u64(seed));
            for p in &points {
                match p.side {
                    Side::Before => assert!((-7_200..=-7).contains(&p.at), "{p:?}"),
                    Side::After => assert!((6..=HORIZON_SECS).contains(&p.at), "{p:?}"),
                }
            }
            let ats: Vec<i64> = points.iter().map(|p| p.at).collect();
            for edge in [-7, 6, 66, HORIZON_SECS] {
                assert!(ats.contains(&edge), "seed {seed}: {ats:?}");
            }
            assert!(ats.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        }
    }

    #[test]
    fn a_token_already_inside_the_leeway_gets_no_points_before_it() {
        let points = sample(
            &Window {
                earliest: -3,
                leeway: 5,
            },
            &mut StdRng::seed_from_u64(1),
        );
        assert!(points.iter().all(|p| p.side == Side::After), "{points:?}");
    }

    #[test]
    fn a_backend_refusing_from_exp_shrinks_to_exp_plus_zero() {
        let (_, shrink) = explore(TWO_HOURS, 7, |at| at < 0);
        assert_eq!(
            shrink.boundary(),
            Boundary::RefusedFrom {
                refused: 0,
                accepted: -1
            }
        );
        assert!(shrink.steps() <= MAX_SHRINK_STEPS);
    }

    #[test]
    fn every_boundary_is_found_to_the_second_for_any_seed() {
        for seed in 0..50 {
            for real in [-3_600, -6, 0, 1, 5, 86_400, 1_000_003, HORIZON_SECS] {
                let (_, shrink) = explore(TWO_HOURS, seed, |at| at < real);
                assert_eq!(
                    shrink.boundary(),
                    Boundary::RefusedFrom {
                        refused: real,
                        accepted: real - 1
                    },
                    "seed {seed}, real boundary {real}"
                );
                assert!(
                    shrink.steps() <= 23,
                    "seed {seed}: {} steps",
                    shrink.steps()
                );
            }
        }
    }

    #[test]
    fn a_backend_that_never_refuses_is_accepted_through_the_horizon_without_bisecting() {
        let (_, shrink) = explore(TWO_HOURS, 3, |_| true);
        assert_eq!(
            shrink.boundary(),
            Boundary::AcceptedThrough { at: HORIZON_SECS }
        );
        assert_eq!(shrink.steps(), 0);
    }

    #[test]
    fn a_token_refused_at_once_brackets_from_the_earliest_instant() {
        let (_, shrink) = explore(TWO_HOURS, 5, |at| at < -7_000);
        assert_eq!(
            shrink.boundary(),
            Boundary::RefusedFrom {
                refused: -7_000,
                accepted: -7_001
            }
        );
    }

    #[test]
    fn the_bisection_stops_after_its_step_budget() {
        let mut shrink = Shrink::start(0, &[(1 << 40, false)]);
        let mut asked = 0;
        while let Some(at) = shrink.next() {
            shrink.record(at, true);
            asked += 1;
        }
        assert_eq!(asked, MAX_SHRINK_STEPS);
        assert!(
            matches!(shrink.boundary(), Boundary::RefusedFrom { refused, accepted } if refused - accepted > 1)
        );
    }

    #[test]
    fn spans_read_as_words() {
        assert_eq!(span(0), "0 s");
        assert_eq!(span(-45), "45 s");
        assert_eq!(span(125), "2 min 5 s");
        assert_eq!(span(86_400), "1 day");
        assert_eq!(span(HORIZON_SECS + 6), "30 days 6 s");
        assert_eq!(relative("exp", 0), "exp + 0 s");
        assert_eq!(relative("exp", -7_200), "exp - 2 h");
        assert_eq!(relative("login", 90_000), "login + 1 day 1 h");
    }
}
