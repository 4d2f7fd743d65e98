//! login.* about what WeChat answers beyond the documented errors: a success in the shape WeChat's
//! docs show (`"errcode":0`), failures the backend must answer on purpose (a 4xx, 502, 503,
//! 504 or the profile's rejection) rather than with the bare 500 of an unhandled exception, and
//! a failing access-token endpoint, which a login must not depend on.

use serde_json::{json, Value};

use super::{Case, CaseFuture, Needs, Outcome, Severity};
use crate::context::Ctx;
use crate::exchange::truncate;

const JSCODE2SESSION: &str = "/sns/jscode2session";

/// Where WeChat hands out access tokens.
const TOKEN_PATHS: &[&str] = &["/cgi-bin/token", "/cgi-bin/stable_token"];

/// How far `login.no-access-token-dependency` moves a movable backend clock: past the 7200 s
/// life of any access token the backend cached, so a cache cannot hide a fetch.
const PAST_TOKEN_LIFE_SECS: i64 = 7200 + 600;

/// The cases of this family, in catalogue order. (login.no-access-token-dependency needs a
/// working login but runs before login.happy, so nothing can block it: its own control login
/// tells a broken login apart.)
pub fn cases() -> Vec<Case> {
    vec![
        Case::new("login.errcode-zero", Severity::Must, "a successful jscode2session answer that carries \"errcode\":0,\"errmsg\":\"ok\" logs the user in", errcode_zero).needs(Needs::Login),
        Case::new("login.no-access-token-dependency", Severity::Should, "login keeps working while /cgi-bin/token and stable_token fail (-1, 45009, HTTP 503): jscode2session needs only the appid and secret", no_access_token_dependency).needs(Needs::Nothing),
        Case::new("login.upstream-error-status", Severity::Should, "when WeChat fails (busy, garbage, HTML 502, reset, timeout) the backend answers on purpose: a 4xx, 502, 503, 504 or the profile's rejection, not a bare 500", upstream_error_status).needs(Needs::Nothing),
    ]
}

fn errcode_zero(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let user = ctx.new_user(json!({})).await?;
        let code = ctx.login_code(&user.openid).await?;
        ctx.fake
            .add_fault(json!({"path": JSCODE2SESSION, "js_code": code, "times": 1, "fault": "errcode_zero"}))
            .await?;
        let login = ctx.login(Some(&code)).await?;
        if login.succeeded(ctx) {
            return Ok(Outcome::Passed);
        }
        Ok(Outcome::failed(format!(
            "WeChat answered a success with \"errcode\":0,\"errmsg\":\"ok\" (the shape its docs show) and the login failed: HTTP {} {}. Success is a session_key and openid; errcode 0 is not an error",
            login.response.status,
            truncate(&login.response.body, 200)
        )))
    })
}

/// Whether a status is a deliberate answer to an upstream failure.
fn on_purpose(ctx: &Ctx, r: &crate::exchange::Response) -> bool {
    matches!(r.status, 400..=499 | 502..=504) || (r.status != 500 && ctx.is_rejected(r))
}

fn upstream_error_status(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let bound = ctx.upstream_timeout();
        let hold_ms = u64::try_from(bound.as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(2000);
        let faults: [(&str, Value); 5] = [
            ("WeChat busy (-1)", json!({"errcode": -1})),
            ("a garbage body", json!({"fault": "garbage"})),
            (
                "an HTML 502 page",
                json!({"fault": "http_status", "status": 502}),
            ),
            ("a reset connection", json!({"fault": "reset"})),
            (
                "a hung call",
                json!({"fault": "timeout", "delay_ms": hold_ms}),
            ),
        ];
        let mut wrong = Vec::new();
        for (what, fault) in faults {
            let user = ctx.new_user(json!({})).await?;
            let code = ctx.login_code(&user.openid).await?;
            let mut rule = json!({"path": JSCODE2SESSION, "js_code": code, "times": 1});
            if let (Some(r), Value::Object(f)) = (rule.as_object_mut(), fault) {
                r.extend(f);
            }
            let id = ctx.fake.add_fault(rule).await?;
            let req = ctx
                .login_request_for(Some(&code))
                .await?
                .timeout(bound + std::time::Duration::from_millis(500));
            let x = ctx.exchange("login", req).await;
            // Let go of a held call now, so the next fault starts clean (a used-up rule is gone
            // already, which is fine).
            let _ = ctx.fake.remove_fault(&id).await;
            match &x.response {
                None => wrong.push(format!(
                    "{what}: no answer ({})",
                    x.error.clone().unwrap_or_default()
                )),
                Some(r) if !on_purpose(ctx, r) => wrong.push(format!(
                    "{what}: HTTP {} {}",
                    r.status,
                    truncate(&r.body, 120)
                )),
                Some(_) => {}
            }
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "WeChat's failures were answered like crashes, not on purpose (a 4xx, 502, 503, 504 or the profile's rejection): {}",
                wrong.join("; ")
            )))
        }
    })
}

fn no_access_token_dependency(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        // A backend that fetches a token before each login but caches it would not fetch now:
        // where the backend's clock moves, any cached token is made stale by its own clock.
        let moved = ctx.clock.can_move();
        if moved {
            ctx.clock.advance(PAST_TOKEN_LIFE_SECS).await?;
        }
        let faults: [(&str, Value); 3] = [
            ("system error (-1)", json!({"errcode": -1})),
            ("daily quota used up (45009)", json!({"errcode": 45009})),
            (
                "an HTML 503 page",
                json!({"fault": "http_status", "status": 503}),
            ),
        ];
        let mut wrong = Vec::new();
        for (what, fault) in faults {
            let mut ids = Vec::new();
            for path in TOKEN_PATHS {
                let mut rule = json!({ "path": path });
                if let (Some(r), Value::Object(f)) = (rule.as_object_mut(), fault.clone()) {
                    r.extend(f);
                }
                ids.push(ctx.fake.add_fault(rule).await?);
            }
            let user = ctx.new_user(json!({})).await?;
            let code = ctx.login_code(&user.openid).await?;
            let mark = ctx.fake.journal_mark().await?;
            let login = ctx.login(Some(&code)).await?;
            let fetched = {
                let mut n = 0;
                for path in TOKEN_PATHS {
                    n += ctx.fake.journal(Some(path), mark).await?.len();
                }
                n
            };
            for id in ids {
                let _ = ctx.fake.remove_fault(&id).await;
            }
            if !login.succeeded(ctx) {
                let called = if fetched > 0 {
                    format!(", after {fetched} access-token fetch(es) during the login")
                } else {
                    String::new()
                };
                wrong.push(format!(
                    "{what}: HTTP {} {}{called}",
                    login.response.status,
                    truncate(&login.response.body, 120)
                ));
            }
        }
        if wrong.is_empty() {
            return Ok(Outcome::Passed);
        }
        // A control login with the token endpoints working: a login that fails anyway is
        // login.happy's to report (this case runs before it), not a dependency.
        let user = ctx.new_user(json!({})).await?;
        let control = ctx.login_as(&user.openid).await?;
        if !control.succeeded(ctx) {
            return Ok(Outcome::skipped(format!(
                "the login fails with the access-token endpoints working too (HTTP {}), so a dependency on them cannot be told apart: see login.happy",
                control.response.status
            )));
        }
        let clock = if moved {
            format!(
                " (the backend's clock was moved {PAST_TOKEN_LIFE_SECS} s on first, so no cached token hid the fetch)"
            )
        } else {
            String::new()
        };
        Ok(Outcome::failed(format!(
            "the login failed while WeChat's access-token endpoints failed{clock}, though jscode2session needs no access token: {}",
            wrong.join("; ")
        )))
    })
}
