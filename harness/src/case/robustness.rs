//! robust.*: run-level checks, last in the catalogue because they look back over every answer
//! of the run: no stack trace or internal path in any error answer, and a backend that still
//! logs users in after WeChat reset a connection, sent garbage and said "busy".

use serde_json::json;

use super::login::broken_login_requests;
use super::{Case, CaseFuture, Needs, Outcome, Severity};
use crate::context::Ctx;
use crate::exchange::{truncate, Evidence};

/// The cases of this family, in catalogue order.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new("robust.no-stack-trace", Severity::Must, "no stack trace or internal path in any error answer", no_stack_trace).needs(Needs::Nothing),
        Case::new("robust.survives", Severity::Must, "after a connection reset, garbage and -1 from WeChat, a normal login and protected call still work", survives).needs(Needs::Nothing),
    ]
}

fn no_stack_trace(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        for (what, req) in broken_login_requests(ctx).await? {
            // A transport error here is judged by robust.survives, not as a trace.
            let _ = ctx
                .exchange(&format!("malformed login ({what})"), req)
                .await;
        }
        ctx.exchange(
            "protected call with a garbage token",
            ctx.protected_request(Some(&ctx.forged("not-a-token"))),
        )
        .await;
        let mut scanned = 0usize;
        let mut found = None;
        for x in ctx.seen() {
            let Some(r) = &x.response else { continue };
            // "Error answer" by the profile's own rules: a 4xx/5xx, a rejection rule, or (for a
            // backend whose errors are HTTP 200 bodies) an answer its success rule does not accept.
            let is_error = r.status >= 400 || ctx.is_rejected(r) || !ctx.is_accepted(r);
            if !is_error {
                continue;
            }
            scanned += 1;
            let texts =
                std::iter::once(r.body.clone()).chain(r.headers.iter().map(|(_, v)| v.clone()));
            if let Some(marker) = texts
                .filter_map(|t| crate::inspect::stack_trace_marker(&t))
                .next()
            {
                found = Some((marker, x.clone()));
                break;
            }
        }
        match found {
            None if scanned == 0 => Ok(Outcome::errored(
                "no error answer was seen during the run, so nothing could be checked",
            )),
            None => Ok(Outcome::Passed),
            Some((marker, x)) => Ok(Outcome::failed(format!(
                "an error answer to {} {} {} shows `{}`",
                x.label,
                x.method,
                x.url,
                truncate(&marker, 80)
            ))
            .with_evidence(Evidence::Exchange(x))),
        }
    })
}

fn survives(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        // A backend that died during the run (and was started again by the harness) did not
        // survive, whatever it does now.
        if let Some(exit) = ctx.backend_exits().first() {
            return Ok(Outcome::failed(format!(
                "{exit} ({} exit(s) in the run; the harness started it again each time)",
                ctx.backend_exits().len()
            )));
        }
        for fault in [
            json!({"fault": "reset"}),
            json!({"fault": "garbage"}),
            json!({"errcode": -1}),
        ] {
            let user = ctx.new_user(json!({})).await?;
            let code = ctx.login_code(&user.openid).await?;
            let mut rule = json!({"path": "/sns/jscode2session", "js_code": code, "times": 1});
            if let (Some(r), Some(f)) = (rule.as_object_mut(), fault.as_object()) {
                r.extend(f.clone());
            }
            ctx.fake.add_fault(rule).await?;
            // Only the aftermath is judged: these answers may be any error.
            let req = ctx.login_request_for(Some(&code)).await?;
            let _ = ctx.exchange("login while WeChat misbehaves", req).await;
        }
        // What is left to judge is a working login and session after the trouble. When an
        // earlier root case showed the login (or the credential) broken from the start, that
        // part says nothing about surviving: only an exit (above) or a crash fails then.
        let user = ctx.new_user(json!({})).await?;
        let login = ctx.login_as(&user.openid).await?;
        if let Some(blocked) = ctx.blocked(Needs::Login) {
            return Ok(Outcome::skipped(format!(
                "{blocked} (the backend did not exit and still answered after WeChat's trouble; whether a login works after it cannot be judged)"
            )));
        }
        let Some(token) = login.credential.clone().filter(|_| login.succeeded(ctx)) else {
            return Ok(Outcome::failed(format!(
                "a normal login failed after WeChat's trouble: HTTP {} {}",
                login.response.status,
                truncate(&login.response.body, 200)
            )));
        };
        if let Some(blocked) = ctx.blocked(Needs::AcceptedToken) {
            return Ok(Outcome::skipped(format!(
                "{blocked} (the backend did not exit and a normal login still worked after WeChat's trouble; whether its credential does cannot be judged)"
            )));
        }
        let r = ctx.protected(Some(&token)).await?;
        if ctx.is_accepted(&r) {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "a protected call with a fresh token failed after WeChat's trouble: HTTP {} {}",
                r.status,
                truncate(&r.body, 200)
            )))
        }
    })
}
