//! token.expired-rejected: tokens past their exp (beyond the leeway) are refused, unexpired ones
//! accepted — minted with the profile's key when it has one, otherwise waited out.

use std::time::Duration;

use rand::Rng;
use serde_json::{json, Map, Value};

use super::shared::{describe, jwt_session, summary, unix_now};
use crate::case::{CaseFuture, Outcome};
use crate::context::{Ctx, Session};
use crate::error::CaseError;
use crate::jwt::{self, Jws};

/// Samples per run for the minted-token property (each one is a request to the backend).
const EXPIRY_SAMPLES: usize = 8;

/// Tokens living at most this long are waited out when the profile gives no secret.
const WAIT_OUT_MAX_SECS: i64 = 10;

pub(super) fn expired_rejected(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let (session, jws) = match jwt_session(ctx).await? {
            Ok(x) => x,
            Err(skip) => return Ok(skip),
        };
        let leeway = ctx.profile.jwt.leeway_secs as i64;
        match ctx.profile.jwt.secret.clone() {
            Some(secret) => expiry_property(ctx, &session, &jws, secret.as_bytes(), leeway).await,
            None => wait_out(ctx, &session, &jws, leeway).await,
        }
    })
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
