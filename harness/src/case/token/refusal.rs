//! token.accepted, token.missing, token.garbage: the issued token opens the protected endpoint;
//! no token, or a malformed one, is refused with a 4xx (never a 5xx).

use super::shared::{describe, summary};
use crate::case::{CaseFuture, Outcome};
use crate::context::Ctx;

pub(super) fn accepted(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let session = ctx.fresh_session().await?;
        let r = ctx.protected(Some(&session.credential)).await?;
        if ctx.is_accepted(&r) {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "the token from a valid login was not accepted: {}",
                describe(&r)
            )))
        }
    })
}

pub(super) fn missing(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let r = ctx.protected(None).await?;
        if ctx.is_refusal(&r) {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "a protected request without any token was answered {}",
                describe(&r)
            )))
        }
    })
}

/// Malformed tokens a careless parser chokes on. All are safe as header values.
const GARBAGE_TOKENS: &[(&str, &str)] = &[
    ("a random word", "garbage"),
    ("three dots of nothing", ".."),
    ("three parts that are not base64 JSON", "not.a.jwt"),
    (
        "a JWT header followed by junk",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.%%%.###",
    ),
    (
        "a JWT with a truncated payload",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIx.c2ln",
    ),
    ("a header that is base64 of a JSON array", "WzFd.WzFd.WzFd"),
    ("a four-part token", "a.b.c.d"),
    ("null", "null"),
];

pub(super) fn garbage(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let mut wrong = Vec::new();
        for (what, token) in GARBAGE_TOKENS {
            let forged = ctx.forged(token);
            let r = ctx.protected(Some(&forged)).await?;
            if !ctx.is_refusal(&r) {
                wrong.push((format!("{what} ({token:?})"), describe(&r)));
            }
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(summary(
                "malformed tokens were not rejected with a 4xx",
                &wrong,
                GARBAGE_TOKENS.len(),
            )))
        }
    })
}
