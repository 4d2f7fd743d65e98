//! Helpers the token.* cases share: a JWT session or the skip, the harness clock, the summary
//! of misses, and the secrets of the run a token must never carry.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::case::Outcome;
use crate::context::{Ctx, Session};
use crate::error::CaseError;
use crate::exchange::{truncate, Response};
use crate::jwt::{self, Jws};

/// Seconds since the Unix epoch on the harness's clock (the backend checks `exp` on its own clock,
/// not the fake's, so the fake's movable clock is of no use here).
pub(super) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A fresh session whose token must be a JWT; `Err(outcome)` is the skip to return otherwise.
pub(super) async fn jwt_session(
    ctx: &mut Ctx,
) -> Result<Result<(Session, Jws), Outcome>, CaseError> {
    let session = ctx.fresh_session().await?;
    Ok(match jwt::decode(&session.token) {
        Ok(jws) => Ok((session, jws)),
        Err(e) => Err(Outcome::skipped(format!(
            "the backend's token is not a JWT ({e}): this check only applies to JWTs"
        ))),
    })
}

/// "n of total <what>: label; label (first answer: …)": every miss named, one answer in full
/// (the runner attaches every exchange as evidence anyway).
pub(super) fn summary(what: &str, misses: &[(String, String)], total: usize) -> String {
    let labels: Vec<&str> = misses.iter().map(|(label, _)| label.as_str()).collect();
    let first = misses
        .first()
        .map(|(_, answer)| answer.as_str())
        .unwrap_or_default();
    format!(
        "{} of {total} {what}: {} (first answer: {first})",
        misses.len(),
        labels.join("; ")
    )
}

pub(super) fn describe(r: &Response) -> String {
    format!("HTTP {} {}", r.status, truncate(&r.body, 200))
}

/// Secrets the harness knows and must never see in a token or a client-visible answer: the
/// appsecret, every session_key WeChat handed out and every access token it issued this run.
pub(crate) async fn known_secret_values(ctx: &Ctx) -> Result<Vec<(String, String)>, CaseError> {
    let mut out = vec![("appsecret".to_owned(), ctx.fake.secret().to_owned())];
    for e in ctx.journal_whole_run(Some("/sns/jscode2session")).await? {
        if let Some(Value::String(k)) = e
            .response_json()
            .and_then(|j| j.get("session_key").cloned())
        {
            out.push(("session_key".into(), k));
        }
    }
    for token in access_tokens_of_run(ctx).await? {
        out.push(("access_token".into(), token));
    }
    out.retain(|(_, v)| !v.is_empty());
    out.sort();
    out.dedup();
    Ok(out)
}

/// Every access token the fake issued during the run (from its journal).
pub(crate) async fn access_tokens_of_run(ctx: &Ctx) -> Result<Vec<String>, CaseError> {
    let mut out = Vec::new();
    for path in ["/cgi-bin/token", "/cgi-bin/stable_token"] {
        for e in ctx.journal_whole_run(Some(path)).await? {
            if let Some(Value::String(t)) = e
                .response_json()
                .and_then(|j| j.get("access_token").cloned())
            {
                out.push(t);
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The first characters of a secret, enough to recognise it in evidence, never the whole value.
pub(crate) fn redacted(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}…({} chars)", secret.chars().count())
}
