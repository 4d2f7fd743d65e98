//! access-token.*: the backend's server-to-server credential. It must be cached (WeChat allows
//! 2000 fetches a day), refreshed when WeChat says it expired or was superseded, and never shown
//! to a client. The profile names the requests that make the backend use it.

use serde_json::json;

use super::crypto::phone_session;
use super::token::{access_tokens_of_run, redacted};
use super::{Case, CaseFuture, Outcome, Severity};
use crate::context::{Ctx, Session};
use crate::error::CaseError;
use crate::exchange::{truncate, Response};
use crate::inspect;

/// The cases of this family, in catalogue order.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new("access-token.cached", Severity::Must, "many access-token operations cause at most one token fetch", cached),
        Case::new("access-token.refresh-on-expiry", Severity::Must, "after the access token expires (clock past 7200 s) or is refused with 40001, the next operation fetches a new one and succeeds", refresh_on_expiry),
        Case::new("access-token.not-exposed", Severity::Must, "no access_token appears in any client-visible response", not_exposed),
    ]
}

const NO_OPERATIONS: &str = "the profile declares no [[access_token.operations]] (requests that make the backend use its access token)";

/// Operations per run of the caching check (the catalogue asks for at least 5).
const CACHED_OPERATIONS: usize = 6;

/// Where WeChat hands out access tokens.
const TOKEN_PATHS: &[&str] = &["/cgi-bin/token", "/cgi-bin/stable_token"];

/// Seconds to move the fake's clock: past the 7200 s lifetime of any token issued so far.
const PAST_EXPIRY_SECS: u64 = 7200 + 60;

fn describe(r: &Response) -> String {
    format!("HTTP {} {}", r.status, truncate(&r.body, 200))
}

/// Runs operation `index` and requires a success; `Err` carries the failed outcome to return.
async fn operation(
    ctx: &mut Ctx,
    session: &Session,
    index: usize,
    why: &str,
) -> Result<Result<Response, Outcome>, CaseError> {
    let r = ctx
        .access_token_operation(index, &session.credential)
        .await?
        .ok_or_else(|| CaseError::Other(NO_OPERATIONS.into()))?;
    if ctx.is_accepted(&r) {
        Ok(Ok(r))
    } else {
        Ok(Err(Outcome::failed(format!(
            "{why}: the access-token operation failed: {}",
            describe(&r)
        ))))
    }
}

/// How many access-token fetches the fake saw since journal id `after`.
async fn token_fetches_since(ctx: &Ctx, after: u64) -> Result<usize, CaseError> {
    let mut n = 0;
    for path in TOKEN_PATHS {
        n += ctx.fake.journal(Some(path), after).await?.len();
    }
    Ok(n)
}

fn cached(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if ctx.access_token_operation_count() == 0 {
            return Ok(Outcome::skipped(NO_OPERATIONS));
        }
        let session = ctx.fresh_session().await?;
        for i in 0..CACHED_OPERATIONS {
            if let Err(failed) =
                operation(ctx, &session, i, &format!("operation {}", i + 1)).await?
            {
                return Ok(failed);
            }
        }
        let fetches = token_fetches_since(ctx, ctx.journal_mark()).await?;
        if fetches <= 1 {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "{CACHED_OPERATIONS} access-token operations caused {fetches} token fetches (at most 1 allowed): the token is not cached, and WeChat's daily quota runs out"
            )))
        }
    })
}

fn refresh_on_expiry(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if ctx.access_token_operation_count() == 0 {
            return Ok(Outcome::skipped(NO_OPERATIONS));
        }
        let session = ctx.fresh_session().await?;
        let before_first = ctx.fake.journal_mark().await?;
        if let Err(failed) = operation(ctx, &session, 0, "before any expiry").await? {
            return Ok(failed);
        }
        // (a) The token's lifetime runs out on WeChat's clock; the backend's own clock says it is
        // still fresh, so only WeChat's 42001 can tell it.
        ctx.fake.advance_clock(PAST_EXPIRY_SECS).await?;
        let mark = ctx.fake.journal_mark().await?;
        if let Err(failed) = operation(
            ctx,
            &session,
            0,
            &format!("after WeChat's clock moved {PAST_EXPIRY_SECS} s (token expired)"),
        )
        .await?
        {
            return Ok(failed);
        }
        if token_fetches_since(ctx, mark).await? == 0 {
            return Ok(Outcome::failed(format!(
                "the operation succeeded after the access token expired ({PAST_EXPIRY_SECS} s later on WeChat's clock) without fetching a new token"
            )));
        }
        // (b) WeChat refuses the current token once with 40001 (superseded elsewhere).
        let Some(path) = operation_path(ctx, before_first).await? else {
            return Ok(Outcome::errored(
                "the access-token operation made no WeChat call carrying access_token, so 40001 cannot be injected on its path",
            ));
        };
        let rule = json!({"path": path, "errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest", "times": 1});
        let fault = ctx.fake.add_fault(rule).await?;
        let mark = ctx.fake.journal_mark().await?;
        let outcome = operation(
            ctx,
            &session,
            0,
            &format!("after WeChat answered 40001 once on {path}"),
        )
        .await?;
        let fetched = token_fetches_since(ctx, mark).await?;
        // Best effort: the runner clears faults after each case anyway.
        let _ = ctx.fake.remove_fault(&fault).await;
        if let Err(failed) = outcome {
            return Ok(failed);
        }
        if fetched == 0 {
            return Ok(Outcome::failed(format!(
                "after 40001 on {path} the operation succeeded without fetching a new access token"
            )));
        }
        Ok(Outcome::Passed)
    })
}

/// The WeChat path the access-token operation calls (the first journal entry after `after` that
/// carries an access_token, other than the token endpoints themselves).
async fn operation_path(ctx: &Ctx, after: u64) -> Result<Option<String>, CaseError> {
    Ok(ctx
        .fake
        .journal(None, after)
        .await?
        .into_iter()
        .find(|e| {
            !TOKEN_PATHS.contains(&e.path.as_str()) && e.query_param("access_token").is_some()
        })
        .map(|e| e.path))
}

fn not_exposed(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let has_ops = ctx.access_token_operation_count() > 0;
        if !has_ops && ctx.profile.compiled.phone.is_none() {
            return Ok(Outcome::skipped(format!(
                "{NO_OPERATIONS}, and no [phone] endpoint"
            )));
        }
        // Make the backend use its access token now, so the check does not depend on which
        // cases ran before (the run-level scan below covers those too).
        let session = if ctx.profile.compiled.phone.is_some() {
            phone_session(ctx).await?.0
        } else {
            ctx.fresh_session().await?
        };
        for i in 0..ctx.access_token_operation_count() {
            ctx.access_token_operation(i, &session.credential).await?;
        }
        if ctx.profile.compiled.phone.is_some() {
            let code = ctx.fake.phone_code(&session.user.openid).await?;
            ctx.phone(&session.credential, &code).await?;
        }
        let tokens = access_tokens_of_run(ctx).await?;
        if tokens.is_empty() {
            return Ok(Outcome::errored(
                "the backend fetched no access token during the run, so exposure cannot be judged",
            ));
        }
        // Bodies, headers, unescaped JSON strings and decoded JWTs anywhere in them, with `\/`
        // and URL-encoded spellings (the same scan as login.no-secret-leak).
        let secrets: Vec<(String, String)> = tokens
            .iter()
            .map(|t| (t.clone(), format!("access_token {}", redacted(t))))
            .collect();
        match inspect::find_leak(ctx.seen(), &secrets) {
            None => Ok(Outcome::Passed),
            Some(leak) => Ok(Outcome::failed(format!(
                "the {} reached a client in the {} (it grants the whole mini-program's server API)",
                leak.label, leak.place
            ))),
        }
    })
}
