//! access-token.*: the backend's server-to-server credential. It must be cached (WeChat allows
//! 2000 fetches a day), refreshed when WeChat says it expired or was superseded, and never shown
//! to a client. The profile names the requests that make the backend use it.

use std::time::Duration;

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
        Case::new("access-token.refresh-bounded", Severity::Must, "when WeChat refuses every access token (40001 on each use), one operation fetches at most 3 new tokens and answers an error", refresh_bounded),
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

/// The most access-token fetches one operation may make while WeChat refuses every token: the
/// first fetch plus a refresh-and-retry or two (SDKs retry once; three leaves room for a
/// stable_token fallback). A backend that retries without a bound makes hundreds.
pub const MAX_FETCHES_PER_OPERATION: usize = 3;

/// The scenario of the fake that makes every token of the app, new ones included, answer 40001.
const REJECT_EVERY_TOKEN: &str = "access-token-rejected";

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

fn refresh_bounded(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if ctx.access_token_operation_count() == 0 {
            return Ok(Outcome::skipped(NO_OPERATIONS));
        }
        let session = ctx.fresh_session().await?;
        // The backend holds a token first, as in production when the refusals start. Its answer
        // is not judged here (a backend that cannot refresh at all fails refresh-on-expiry).
        ctx.access_token_operation(0, &session.credential).await?;
        // Lifted by the runner's clearing of the app's faults after the case, so a backend
        // still looping then gets a working token and stops.
        ctx.fake.scenario(REJECT_EVERY_TOKEN, json!({})).await?;
        let mark = ctx.fake.journal_mark().await?;
        // The harness's own bound on the wait: a backend that loops forever is judged when it
        // runs out, on the fetches it made until then.
        let bound = Duration::from_secs(ctx.profile.limits.request_timeout_secs);
        let Some(req) = ctx.access_token_operation_request(0, &session.credential) else {
            return Ok(Outcome::skipped(NO_OPERATIONS));
        };
        let req = req.timeout(bound);
        let x = ctx.exchange("access-token operation", req).await;
        let (token, stable) = fetches_by_path(ctx, mark).await?;
        let fetches = token + stable;
        let counted = format!(
            "{fetches} access-token fetch(es) ({token} on /cgi-bin/token, {stable} on /cgi-bin/stable_token) while WeChat answered 40001 to every token"
        );
        let Some(r) = &x.response else {
            return Ok(Outcome::failed(format!(
                "the access-token operation got no answer ({}; the harness waits {} s): meanwhile {counted}. A backend that retries on 40001 without a bound never answers",
                x.error.clone().unwrap_or_else(|| "no answer".into()),
                bound.as_secs()
            ))
            .with_note(counted));
        };
        if fetches > MAX_FETCHES_PER_OPERATION {
            return Ok(Outcome::failed(format!(
                "one access-token operation caused {counted} (at most {MAX_FETCHES_PER_OPERATION} allowed): the backend refreshes and retries without a bound, burning WeChat's daily quota (real SDKs loop until the stack overflows); answered {}",
                describe(r)
            ))
            .with_note(counted));
        }
        if ctx.is_accepted(r) {
            return Ok(Outcome::failed(format!(
                "the access-token operation answered success although WeChat refused every access token ({counted}): {}",
                describe(r)
            )));
        }
        Ok(Outcome::Passed)
    })
}

/// Access-token fetches since journal id `after`: (/cgi-bin/token, /cgi-bin/stable_token).
async fn fetches_by_path(ctx: &Ctx, after: u64) -> Result<(usize, usize), CaseError> {
    let token = ctx.fake.journal(Some(TOKEN_PATHS[0]), after).await?.len();
    let stable = ctx.fake.journal(Some(TOKEN_PATHS[1]), after).await?.len();
    Ok((token, stable))
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
