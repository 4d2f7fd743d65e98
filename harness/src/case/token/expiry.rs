//! token.expired-rejected: a token is refused once its deadline (its `exp`, or for a token
//! without one login + the declared `max_lifetime_secs`) lies beyond the leeway in the past, and
//! accepted before it. Two properties, each run when the profile allows it:
//!
//! - **on the backend's clock** (it can move: libfaketime, a `clock_command`, an in-process hook):
//!   the issued token itself is tried at seeded points either side of its deadline, then the
//!   boundary the backend really enforces is bisected to the second and stated ([`deadline`]);
//! - **minted with the profile's key** (`[jwt] secret`): tokens whose `exp` is moved into the past
//!   or the future test the verifier directly, on the harness's clock.
//!
//! Both run when both are possible (they catch different bugs: a verifier with expiry off, and a
//! deadline kept somewhere else or stretched by a tolerance); the verdict is the worse of the two.
//! With neither, a token living at most 10 s is waited out, else the case is skipped.

use std::time::Duration;

use rand::Rng;
use serde_json::{json, Map, Value};

use super::deadline;
use super::shared::{describe, summary, unix_now};
use crate::case::{CaseFuture, Outcome};
use crate::clock::BackendClock;
use crate::context::{Ctx, Session};
use crate::error::CaseError;
use crate::jwt::{self, Jws};

/// Samples per run for the minted-token property (each one is a request to the backend).
const EXPIRY_SAMPLES: usize = 8;

/// Tokens living at most this long are waited out when the profile gives no secret.
const WAIT_OUT_MAX_SECS: i64 = 10;

pub(super) fn expired_rejected(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let session = ctx.fresh_session().await?;
        let decoded = jwt::decode(&session.token);
        let leeway = ctx.profile.jwt.leeway_secs as i64;
        let mut parts = Vec::new();
        let mut found = None;
        if ctx.clock.can_move() {
            let exp = decoded.as_ref().ok().and_then(|j| j.numeric_claim("exp"));
            // It puts the clock back: the minted tokens below are judged on real time.
            let verdict = deadline::on_backend_clock(ctx, &session, exp).await?;
            parts.push(verdict.outcome);
            found = verdict.found;
        }
        match (&decoded, ctx.profile.jwt.secret.clone()) {
            (Ok(jws), Some(secret)) => {
                parts.push(expiry_property(ctx, &session, jws, secret.as_bytes(), leeway).await?)
            }
            (Ok(jws), None) if parts.is_empty() => {
                return wait_out(ctx, &session, jws, leeway).await
            }
            (Err(e), _) if parts.is_empty() => {
                return Ok(Outcome::skipped(format!(
                    "the backend's token is not a JWT ({e}), so there is no exp to mint, and its declared lifetime needs a movable clock: {}",
                    BackendClock::why_fixed()
                )))
            }
            _ => {}
        }
        let outcome = worst(parts, found.as_deref());
        if let (Outcome::Passed, Some(found)) = (&outcome, found) {
            ctx.info(found);
        }
        Ok(outcome)
    })
}

/// The verdict of both properties: a failure (each one's reason) over an error over a pass over
/// a skip. A failure of the minted property still states the boundary the clock property found.
fn worst(parts: Vec<Outcome>, boundary: Option<&str>) -> Outcome {
    let failures: Vec<&str> = parts
        .iter()
        .filter(|o| matches!(o, Outcome::Failed { .. }))
        .filter_map(Outcome::reason)
        .collect();
    if !failures.is_empty() {
        let mut reason = failures.join("; and ");
        if let Some(found) = boundary {
            reason.push_str(&format!(" (on the backend's own clock: {found})"));
        }
        return Outcome::failed(reason);
    }
    if let Some(error) = parts.iter().find(|o| matches!(o, Outcome::Errored { .. })) {
        return error.clone();
    }
    if parts.iter().any(|o| matches!(o, Outcome::Passed)) {
        return Outcome::Passed;
    }
    let skips: Vec<&str> = parts.iter().filter_map(Outcome::reason).collect();
    Outcome::skipped(skips.join("; "))
}

/// With the signing key: expired tokens (exp beyond the leeway in the past) are rejected and
/// unexpired ones accepted, for random offsets drawn from the run's seed.
async fn expiry_property(
    ctx: &mut Ctx,
    session: &Session,
    jws: &Jws,
    secret: &[u8],
    leeway: i64,
) -> Result<Outcome, CaseError> {
    if jwt::HmacAlg::from_name(jws.alg().unwrap_or_default()).is_none() {
        return Ok(Outcome::skipped(format!(
            "the JWT is signed with {:?}; the harness can only mint HMAC tokens",
            jws.alg()
        )));
    }
    if !jws.has_claims_object() {
        return Ok(Outcome::skipped(format!(
            "the JWT's payload is {}: there is no exp to move (token.has-expiry fails it)",
            jws.payload_kind()
        )));
    }
    if !jws.verifies_with(secret) {
        return Ok(Outcome::errored("the profile's [jwt] secret does not verify the backend's token: fix the secret to run this case"));
    }
    let seed = ctx.seed;
    let lifetime = match (jws.numeric_claim("exp"), jws.numeric_claim("iat")) {
        (Some(exp), Some(iat)) if exp > iat => exp - iat,
        _ => 3600,
    };
    let mut wrong = Vec::new();
    for i in 0..EXPIRY_SAMPLES {
        let now = unix_now();
        // Expired: just past the leeway (the boundary), then anywhere up to 30 days ago.
        let ago = match i {
            0 => leeway + 2,
            1 => leeway + 60,
            _ => ctx.rng.gen_range(leeway + 2..=leeway + 30 * 86_400),
        };
        let exp = now - ago;
        let expired = claims_with_exp(&jws.claims, exp, exp - lifetime);
        let token = jwt::mint_with_header(&jws.header, &expired, secret)
            .map_err(|e| CaseError::Other(e.to_string()))?;
        let r = ctx
            .protected(Some(&session.credential.with_main(&token)))
            .await?;
        if !ctx.is_refusal(&r) {
            wrong.push((
                format!("expired {ago} s ago (leeway {leeway} s) accepted"),
                describe(&r),
            ));
        }
        // Valid: expires between 2 minutes and the original lifetime from now.
        let ahead = ctx.rng.gen_range(120..=lifetime.max(121));
        let valid = claims_with_exp(&jws.claims, now + ahead, now);
        let token = jwt::mint_with_header(&jws.header, &valid, secret)
            .map_err(|e| CaseError::Other(e.to_string()))?;
        let r = ctx
            .protected(Some(&session.credential.with_main(&token)))
            .await?;
        if !ctx.is_accepted(&r) {
            wrong.push((format!("valid for {ahead} s more, refused"), describe(&r)));
        }
    }
    if wrong.is_empty() {
        Ok(Outcome::Passed)
    } else {
        Ok(Outcome::failed(summary(
            &format!("tokens minted with the [jwt] secret were judged wrongly (replay with --seed {seed})"),
            &wrong,
            EXPIRY_SAMPLES * 2,
        )))
    }
}

fn claims_with_exp(claims: &Map<String, Value>, exp: i64, iat: i64) -> Map<String, Value> {
    let mut c = claims.clone();
    c.insert("exp".into(), json!(exp));
    if c.contains_key("iat") {
        c.insert("iat".into(), json!(iat));
    }
    if c.contains_key("nbf") {
        c.insert("nbf".into(), json!(iat));
    }
    c
}

/// Without the key: a short-lived token is simply waited out. The backend checks `exp` against
/// its own wall clock, which the harness cannot move, so this one sleep is unavoidable.
async fn wait_out(
    ctx: &mut Ctx,
    session: &Session,
    jws: &Jws,
    leeway: i64,
) -> Result<Outcome, CaseError> {
    let Some(exp) = jws.numeric_claim("exp") else {
        return Ok(Outcome::skipped("no [jwt] secret in the profile and the token has no exp: nothing to expire (see token.has-expiry)"));
    };
    let remaining = exp - unix_now();
    if remaining > WAIT_OUT_MAX_SECS {
        return Ok(Outcome::skipped(format!(
            "no [jwt] secret in the profile to mint expired tokens, and the token lives {remaining} s (more than {WAIT_OUT_MAX_SECS} s to wait out)"
        )));
    }
    let fresh = ctx.protected(Some(&session.credential)).await?;
    if !ctx.is_accepted(&fresh) {
        return Err(CaseError::TokenRefused(format!(
            "the fresh token is not accepted ({}), so expiry cannot be judged",
            describe(&fresh)
        )));
    }
    let wait = (exp + leeway + 2 - unix_now()).max(0) as u64;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let r = ctx.protected(Some(&session.credential)).await?;
    if ctx.is_refusal(&r) {
        Ok(Outcome::Passed)
    } else {
        Ok(Outcome::failed(format!(
            "the token was still accepted {} s after its exp (leeway {leeway} s): {}",
            unix_now() - exp,
            describe(&r)
        )))
    }
}
