//! token.expired-rejected on the backend's own clock, with no key: the token the backend issued
//! is tried with the backend's clock set to seeded points either side of its deadline — its `exp`,
//! or for a token without one (opaque, or a JWT with no `exp`) login + the profile's
//! `max_lifetime_secs`, the boundary `token.lifetime` judges too — then the boundary the backend
//! really enforces is bisected down to a second and stated: "refused from exp + 0 s", "still
//! accepted at exp + 30 days". The sampling and the bisection are the pure [`super::boundary`].

use super::boundary::{self, Boundary, Point, Shrink, Side, Window};
use super::shared::describe;
use crate::case::Outcome;
use crate::clock::real_now;
use crate::context::{Ctx, Session};
use crate::error::CaseError;
use crate::exchange::Response;

/// The instant the backend must stop accepting the token at.
#[derive(Clone, Copy, Debug)]
enum Deadline {
    /// The token's own `exp`.
    Exp(i64),
    /// No `exp`: the backend's clock at login plus the declared maximum lifetime.
    Lifetime { login: i64, max: i64 },
}

impl Deadline {
    fn instant(self) -> i64 {
        match self {
            Deadline::Exp(exp) => exp,
            Deadline::Lifetime { login, max } => login + max,
        }
    }

    /// A point in words: `exp + 6 s`, or `login + 2 h` for a declared lifetime.
    fn at(self, at: i64) -> String {
        match self {
            Deadline::Exp(_) => boundary::relative("exp", at),
            Deadline::Lifetime { max, .. } => boundary::relative("login", at + max),
        }
    }

    /// What the token must be refused after, in words.
    fn limit(self, leeway: i64) -> String {
        match self {
            Deadline::Exp(_) => format!("exp plus the {leeway} s leeway"),
            Deadline::Lifetime { max, .. } => format!(
                "max_lifetime_secs = {} after login plus the {leeway} s leeway",
                boundary::span(max)
            ),
        }
    }

    /// Whether a refusal before the deadline (minus the leeway) is wrong: an `exp` says when the
    /// token is valid, a declared lifetime is only a maximum.
    fn judges_before(self) -> bool {
        matches!(self, Deadline::Exp(_))
    }
}

/// How the backend answered at one point.
enum Answer {
    Accepted,
    Refused,
    /// Neither accepted nor refused the way a correct backend refuses (a 5xx, a 2xx the
    /// profile's rules do not accept…), described.
    Other(String),
}

impl Answer {
    fn of(ctx: &Ctx, r: &Response) -> Self {
        if ctx.is_accepted(r) {
            Answer::Accepted
        } else if ctx.is_refusal(r) {
            Answer::Refused
        } else {
            Answer::Other(describe(r))
        }
    }
}

/// Sets the backend's clock to `at` seconds from `instant` (never before real time: a token
/// used before its `iat` may rightly be refused) and calls the protected endpoint.
async fn probe(
    ctx: &mut Ctx,
    session: &Session,
    instant: i64,
    at: i64,
) -> Result<Answer, CaseError> {
    ctx.clock
        .set_offset((instant + at - real_now()).max(0))
        .await?;
    let r = ctx.protected(Some(&session.credential)).await?;
    Ok(Answer::of(ctx, &r))
}

/// What the property concluded; on a pass, the boundary found, for the report to state.
pub(super) struct Verdict {
    pub outcome: Outcome,
    pub found: Option<String>,
}

/// The property on the backend's clock for a session just logged in; `exp` is the token's own
/// when it has one. Puts the clock back to real time before returning.
pub(super) async fn on_backend_clock(
    ctx: &mut Ctx,
    session: &Session,
    exp: Option<i64>,
) -> Result<Verdict, CaseError> {
    let leeway = ctx.profile.jwt.leeway_secs as i64;
    let max = ctx.profile.jwt.max_lifetime_secs as i64;
    let now = ctx.clock.backend_now();
    let deadline = match exp {
        Some(exp) => Deadline::Exp(exp),
        None => Deadline::Lifetime { login: now, max },
    };
    let instant = deadline.instant();
    let fresh = ctx.protected(Some(&session.credential)).await?;
    if !ctx.is_accepted(&fresh) {
        return Err(CaseError::TokenRefused(format!(
            "the fresh token is not accepted ({}), so its expiry cannot be judged",
            describe(&fresh)
        )));
    }
    let window = Window {
        earliest: now - instant,
        leeway,
    };
    let points = boundary::sample(&window, &mut ctx.rng);
    let mut answers = Vec::with_capacity(points.len());
    for p in &points {
        answers.push((*p, probe(ctx, session, instant, p.at).await?));
    }
    let accepted: Vec<(i64, bool)> = answers
        .iter()
        .map(|(p, a)| (p.at, matches!(a, Answer::Accepted)))
        .collect();
    let mut shrink = Shrink::start(window.earliest, &accepted);
    while let Some(at) = shrink.next() {
        let answer = probe(ctx, session, instant, at).await?;
        shrink.record(at, matches!(answer, Answer::Accepted));
    }
    ctx.clock.reset().await?;
    Ok(verdict(ctx, deadline, leeway, &answers, &shrink))
}

fn verdict(
    ctx: &Ctx,
    deadline: Deadline,
    leeway: i64,
    answers: &[(Point, Answer)],
    shrink: &Shrink,
) -> Verdict {
    let mut late = Vec::new();
    let mut odd = Vec::new();
    let mut early = Vec::new();
    for (p, answer) in answers {
        match (p.side, answer) {
            (Side::After, Answer::Accepted) => late.push(deadline.at(p.at)),
            (Side::After, Answer::Other(what)) => {
                odd.push(format!("{} at {}", what, deadline.at(p.at)))
            }
            (Side::Before, Answer::Refused | Answer::Other(_)) if deadline.judges_before() => {
                early.push(deadline.at(p.at))
            }
            _ => {}
        }
    }
    let found = match shrink.boundary() {
        Boundary::RefusedFrom { refused, accepted } if refused - accepted > 1 => format!(
            "refused from {} (accepted at {})",
            deadline.at(refused),
            deadline.at(accepted)
        ),
        Boundary::RefusedFrom { refused, .. } => format!("refused from {}", deadline.at(refused)),
        Boundary::AcceptedThrough { at } => format!("still accepted at {}", deadline.at(at)),
    };
    let around = match deadline {
        Deadline::Exp(_) => "exp",
        Deadline::Lifetime { .. } => "the declared lifetime (the token has no exp)",
    };
    let how = format!(
        "{} points around {around} and {} bisection steps on the backend's clock via {}",
        answers.len(),
        shrink.steps(),
        ctx.clock.how(),
    );
    let mut wrong = Vec::new();
    if !late.is_empty() {
        wrong.push(format!(
            "accepted past {} at {}",
            deadline.limit(leeway),
            late.join(", ")
        ));
    }
    if !odd.is_empty() {
        wrong.push(format!(
            "answered instead of a refusal (4xx or the profile's rejection): {}",
            odd.join("; ")
        ));
    }
    if !early.is_empty() {
        wrong.push(format!(
            "valid tokens refused before exp minus the {leeway} s leeway: at {}",
            early.join(", ")
        ));
    }
    if wrong.is_empty() {
        Verdict {
            outcome: Outcome::Passed,
            found: Some(format!("{found} ({how}, seed {})", ctx.seed)),
        }
    } else {
        Verdict {
            outcome: Outcome::failed(format!(
                "{found}: {} ({how}; replay with --seed {})",
                wrong.join("; "),
                ctx.seed
            )),
            found: None,
        }
    }
}
