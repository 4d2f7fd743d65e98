//! token.accepted, token.missing, token.garbage: the issued token opens the protected endpoint;
//! no token, or a malformed one, is refused with a 4xx (never a 5xx) — and with a multi-part
//! credential, so is each part left out or malformed on its own.

use super::parts::{accepted_session, is_multi_part, part_names};
use super::shared::{describe, summary};
use crate::case::{CaseFuture, Needs, Outcome};
use crate::context::Ctx;
use crate::error::CaseError;

pub(super) fn accepted(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let session = match ctx.fresh_session().await {
            Ok(session) => session,
            // No credential at all (run without login.happy, `--only token.*`, or a login that
            // worked once only): this case is the root for the cases after it.
            Err(CaseError::NoLogin(reason)) => {
                ctx.blocks_cases_needing(Needs::Login);
                return Ok(Outcome::failed(reason));
            }
            Err(e) => return Err(e),
        };
        let r = ctx.protected(Some(&session.credential)).await?;
        if ctx.is_accepted(&r) {
            Ok(Outcome::Passed)
        } else {
            ctx.blocks_cases_needing(Needs::AcceptedToken);
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
        if !is_multi_part(ctx) {
            return Ok(if ctx.is_refusal(&r) {
                Outcome::Passed
            } else {
                Outcome::failed(format!(
                    "a protected request without any token was answered {}",
                    describe(&r)
                ))
            });
        }
        // Several parts: none at all, then each one left out with every other part kept (a
        // backend that checks only the session id, or crashes on a missing key, shows here).
        let mut wrong = Vec::new();
        if !ctx.is_refusal(&r) {
            wrong.push(("no credential at all".to_owned(), describe(&r)));
        }
        let session = accepted_session(ctx, "leaving out one part").await?;
        let names = part_names(ctx);
        for name in &names {
            let r = ctx
                .protected(Some(&session.credential.without(name)))
                .await?;
            if !ctx.is_refusal(&r) {
                wrong.push((
                    format!("part {name} left out, the others sent"),
                    describe(&r),
                ));
            }
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(summary(
                "requests without the whole credential were not rejected with a 4xx",
                &wrong,
                names.len() + 1,
            )))
        }
    })
}

/// Malformed tokens a careless parser chokes on. All are safe as header values.
pub(crate) const GARBAGE_TOKENS: &[(&str, &str)] = &[
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
        let mut total = GARBAGE_TOKENS.len();
        if is_multi_part(ctx) {
            // Each part malformed on its own, the others valid: the valid ones get the request
            // past a first lookup, so the malformed one reaches the code that parses it.
            let session = accepted_session(ctx, "one malformed part").await?;
            for name in part_names(ctx) {
                for (what, token) in GARBAGE_TOKENS {
                    let r = ctx
                        .protected(Some(&session.credential.with_part(&name, token)))
                        .await?;
                    if !ctx.is_refusal(&r) {
                        wrong.push((format!("part {name} as {what} ({token:?})"), describe(&r)));
                    }
                    total += 1;
                }
            }
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(summary(
                "malformed tokens were not rejected with a 4xx",
                &wrong,
                total,
            )))
        }
    })
}
