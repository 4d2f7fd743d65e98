//! token.lifetime: how long a credential lives, judged on the backend's own clock. Any token,
//! JWT or opaque, is moved past the profile's maximum lifetime by time travel (libfaketime, a
//! clock command, or an in-process hook) instead of waiting a week.

use std::time::Duration;

use super::{Case, CaseFuture, Outcome, Severity};
use crate::clock::BackendClock;
use crate::context::Ctx;
use crate::error::CaseError;
use crate::exchange::{truncate, Response};

/// The cases of this family, in catalogue order.
pub fn cases() -> Vec<Case> {
    vec![Case::new(
        "token.lifetime",
        Severity::Must,
        "any token, JWT or opaque, is refused once the backend's own clock has passed the profile's max_lifetime_secs",
        lifetime,
    )]
}

fn describe(r: &Response) -> String {
    format!("HTTP {} {}", r.status, truncate(&r.body, 160))
}

fn lifetime(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if !ctx.clock.can_move() {
            return Ok(Outcome::skipped(BackendClock::why_fixed()));
        }
        let session = ctx.fresh_session().await?;
        let fresh = ctx.protected(Some(&session.credential)).await?;
        if !ctx.is_accepted(&fresh) {
            return Err(CaseError::Other(format!(
                "the fresh token is not accepted ({}), so its lifetime cannot be judged",
                describe(&fresh)
            )));
        }
        let max = ctx.profile.jwt.max_lifetime_secs as i64;
        let leeway = ctx.profile.jwt.leeway_secs as i64;
        let step = max + leeway + 1;
        ctx.clock.advance(step).await?;
        let later = ctx.protected(Some(&session.credential)).await?;
        if ctx.is_refusal(&later) {
            return Ok(Outcome::Passed);
        }
        let age = humantime::format_duration(Duration::from_secs(step as u64));
        Ok(Outcome::failed(if ctx.is_accepted(&later) {
            format!(
                "the token was still accepted {age} after login on the backend's clock ({} via {}), past max_lifetime_secs = {max} plus the {leeway} s leeway: a stolen token keeps working (a token row or Redis key with no expiry, or a JWT verified with expiry off)",
                describe(&later),
                ctx.clock.how()
            )
        } else {
            format!(
                "an expired token ({age} old) was answered {} instead of a refusal (4xx or the profile's rejection)",
                describe(&later)
            )
        }))
    })
}
