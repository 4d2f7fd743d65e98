//! login.*: the code exchange. A fresh code gives a token after exactly one correct
//! jscode2session call; every WeChat error and upstream failure gives no token and the right kind
//! of error answer; no secret ever reaches the client.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{Case, CaseFuture, Needs, Outcome, Severity};
use crate::context::{Credential, Ctx, LoginResult};
use crate::error::CaseError;
use crate::exchange::{truncate, Evidence, Exchange, Request};
use crate::transport::Failure;

const JSCODE2SESSION: &str = "/sns/jscode2session";

const NO_IDENTITY: &str =
    "the profile does not say where the user's identity is (protected.identity)";

const NO_IDENTITY_IN_ANSWER: &str =
    "no identity where the profile's protected.identity says (the answer or the token has none)";

/// The cases of this family, in catalogue order.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new("login.happy", Severity::Must, "a fresh code gives a token after exactly one jscode2session call with the right appid, secret, js_code and grant_type", happy).needs(Needs::Nothing),
        Case::new("login.returning-user", Severity::Must, "the same WeChat user logging in again is the same user", returning_user),
        Case::new("login.distinct-users", Severity::Must, "two WeChat users get two identities, and each token keeps its own", distinct_users),
        Case::new("login.invalid-code", Severity::Must, "an invalid code (40029) gives no token and a 4xx", invalid_code).needs(Needs::Nothing),
        Case::new("login.code-reused", Severity::Must, "a reused code (40163) gives no token and a 4xx", code_reused).needs(Needs::Login),
        Case::new("login.wechat-busy", Severity::Must, "WeChat busy (-1) gives no token and an error answer", wechat_busy).needs(Needs::Nothing),
        Case::new("login.rate-limited", Severity::Should, "WeChat rate limiting (45011) gives no token and an error answer", rate_limited).needs(Needs::Nothing),
        Case::new("login.high-risk", Severity::Must, "a high-risk user (40226) gives no token and a 4xx, never a 5xx", high_risk).needs(Needs::Nothing),
        Case::new("login.upstream-timeout", Severity::Should, "when WeChat hangs, the backend answers an error within the profile's bound", upstream_timeout).needs(Needs::Nothing),
        Case::new("login.upstream-garbage", Severity::Must, "an HTML 502, a garbage body or an empty body from WeChat gives an error and no token", upstream_garbage).needs(Needs::Nothing),
        Case::new("login.missing-code", Severity::Must, "a login without a code gives a 4xx and no call to WeChat", missing_code).needs(Needs::Nothing),
        Case::new("login.no-secret-leak", Severity::Must, "no appsecret or session_key in any client-visible answer (bodies, headers, JWT payloads)", no_secret_leak).needs(Needs::Nothing),
    ]
}

fn happy(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let user = ctx.new_user(json!({})).await?;
        let code = ctx.login_code(&user.openid).await?;
        let login = ctx.login(Some(&code)).await?;
        let calls = ctx.journal_since_case(Some(JSCODE2SESSION)).await?;
        let unreached = if calls.is_empty() {
            format!(" ({})", not_reached(ctx).await?)
        } else {
            String::new()
        };
        if !login.succeeded(ctx) {
            ctx.blocks_cases_needing(Needs::Login);
            return Ok(Outcome::failed(format!(
                "a fresh code gave no token: {}{unreached}",
                answer(&login)
            )));
        }
        if calls.len() != 1 {
            return Ok(Outcome::failed(format!(
                "expected exactly one jscode2session call, WeChat saw {}{unreached}",
                calls.len()
            )));
        }
        let call = &calls[0];
        let mut wrong = vec![];
        let expect = [
            ("appid", ctx.fake.appid().to_string()),
            ("secret", ctx.fake.secret().to_string()),
            ("js_code", code.clone()),
            ("grant_type", "authorization_code".to_string()),
        ];
        for (name, want) in &expect {
            match call.query_param(name) {
                Some(got) if got == *want => {}
                Some(_) => wrong.push(format!("{name} has the wrong value")),
                None => wrong.push(format!("{name} is missing")),
            }
        }
        if !call.method.is_empty() && !call.method.eq_ignore_ascii_case("GET") {
            wrong.push(format!("method is {} (WeChat expects GET)", call.method));
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "the jscode2session call was wrong: {}",
                wrong.join(", ")
            )))
        }
    })
}

fn returning_user(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if !ctx.has_identity() {
            return Ok(Outcome::skipped(NO_IDENTITY));
        }
        let user = ctx.new_user(json!({})).await?;
        // Each login's identity is read with that login's own, newest token: a backend that
        // revokes the previous session on re-login is right, not a different user.
        let first = ctx.session_for(user.clone()).await?;
        let a = identity(ctx, &first.credential).await?;
        let second = ctx.session_for(user).await?;
        let b = identity(ctx, &second.credential).await?;
        let old = ctx.protected(Some(&first.credential)).await?;
        if !ctx.is_accepted(&old) {
            // Right, and worth knowing: one device (or tab) at a time for each user.
            ctx.info(format!(
                "the backend revoked the previous session on re-login: the first login's credential was refused after the second login (HTTP {}), so a user is signed in on one device at a time",
                old.status
            ));
        }
        match (a, b) {
            (Some(a), Some(b)) if a == b => Ok(Outcome::Passed),
            (Some(_), Some(_)) => Ok(Outcome::failed(
                "the same WeChat user logged in twice and got two different identities",
            )),
            _ => Ok(Outcome::failed(NO_IDENTITY_IN_ANSWER)),
        }
    })
}

fn distinct_users(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if !ctx.has_identity() {
            return Ok(Outcome::skipped(NO_IDENTITY));
        }
        let first = ctx.fresh_session().await?;
        let second = ctx.fresh_session().await?;
        // Ask for the first user after the second logged in: a "current user" kept globally shows here.
        let a = identity(ctx, &first.credential).await?;
        let b = identity(ctx, &second.credential).await?;
        match (a, b) {
            (Some(a), Some(b)) if a != b => Ok(Outcome::Passed),
            (Some(_), Some(_)) => Ok(Outcome::failed(
                "two different WeChat users got the same identity (the first user's token answered as the second user)",
            )),
            _ => Ok(Outcome::failed(NO_IDENTITY_IN_ANSWER)),
        }
    })
}

/// Why the fake saw no jscode2session call for the run's appid during this case, and the fix:
/// the backend called the fake with another appid, or never reached the fake at all.
async fn not_reached(ctx: &Ctx) -> Result<String, CaseError> {
    let appid = ctx.fake.appid();
    let others: Vec<String> = ctx
        .fake
        .journal_all_apps(Some(JSCODE2SESSION), ctx.journal_mark())
        .await?
        .iter()
        .filter_map(|e| e.query_param("appid"))
        .filter(|a| a != appid)
        .collect();
    Ok(match others.first() {
        Some(other) => format!(
            "the fake received no jscode2session call for appid {appid} during this case, but {} for appid {other}: \
             the backend uses another appid; give it the appid and secret the harness hands it \
             ({{{{appid}}}} and {{{{secret}}}} in [backend.env]) instead of its own",
            others.len()
        ),
        None => format!(
            "the fake received no jscode2session call for appid {appid} during this case: the backend \
             probably still calls the real WeChat (api.weixin.qq.com) or uses another appid; point its \
             WeChat base URL at the fake ({{{{wechat_base_url}}}} in [backend.env]) or set \
             [fake] impersonate = true"
        ),
    })
}

/// The identity behind a token (None: accepted but no identity; an error if not accepted).
async fn identity(ctx: &mut Ctx, token: &Credential) -> Result<Option<String>, CaseError> {
    let r = ctx.protected(Some(token)).await?;
    if !ctx.is_accepted(&r) {
        return Err(CaseError::TokenRefused(format!(
            "the protected call with a fresh valid token was refused (HTTP {}), so identities cannot be compared",
            r.status
        )));
    }
    Ok(ctx.identity_of(&r, token))
}

/// A fresh user's fresh code, with `fault` installed on jscode2session for that code only.
async fn login_under_fault(ctx: &mut Ctx, fault: Value) -> Result<LoginResult, CaseError> {
    let user = ctx.new_user(json!({})).await?;
    let code = ctx.login_code(&user.openid).await?;
    let mut rule = json!({"path": JSCODE2SESSION, "js_code": code, "times": 1});
    if let (Some(r), Value::Object(f)) = (rule.as_object_mut(), fault) {
        r.extend(f);
    }
    ctx.fake.add_fault(rule).await?;
    ctx.login(Some(&code)).await
}

fn answer(login: &LoginResult) -> String {
    format!(
        "HTTP {} {}",
        login.response.status,
        truncate(&login.response.body, 200)
    )
}

/// No token and a client error (4xx or the profile's rejected signal); a 5xx fails.
fn judge_client_error(ctx: &Ctx, login: &LoginResult, what: &str) -> Outcome {
    if login.token.is_some() {
        return Outcome::failed(format!("{what} still gave a token ({})", answer(login)));
    }
    if login.response.is_server_error() {
        return Outcome::failed(format!(
            "{what} gave a server error instead of a 4xx ({})",
            answer(login)
        ));
    }
    if !ctx.is_client_error(&login.response) {
        return Outcome::failed(format!(
            "{what} did not give a 4xx or the profile's rejected signal ({})",
            answer(login)
        ));
    }
    Outcome::Passed
}

/// No token and an answer that is not a success (5xx, 429 or any rejection is fine).
fn judge_error(ctx: &Ctx, login: &LoginResult, what: &str) -> Outcome {
    if login.token.is_some() {
        return Outcome::failed(format!("{what} still gave a token ({})", answer(login)));
    }
    if ctx.is_accepted(&login.response) {
        return Outcome::failed(format!(
            "{what} was answered as a success ({})",
            answer(login)
        ));
    }
    Outcome::Passed
}

fn invalid_code(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        // A code WeChat never issued: the fake answers 40029 by itself, as WeChat does.
        let bogus = format!("{:032x}", rand::Rng::gen::<u128>(&mut ctx.rng));
        let login = ctx.login(Some(&bogus)).await?;
        Ok(judge_client_error(ctx, &login, "an invalid code (40029)"))
    })
}

fn code_reused(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let user = ctx.new_user(json!({})).await?;
        let code = ctx.login_code(&user.openid).await?;
        let first = ctx.login(Some(&code)).await?;
        if !first.succeeded(ctx) {
            return Err(CaseError::NoLogin(format!(
                "the first use of a fresh code gave no token ({})",
                answer(&first)
            )));
        }
        let again = ctx.login(Some(&code)).await?;
        Ok(judge_client_error(ctx, &again, "a reused code (40163)"))
    })
}

fn wechat_busy(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let login = login_under_fault(ctx, json!({"errcode": -1})).await?;
        Ok(judge_error(
            ctx,
            &login,
            "WeChat answering -1 (system busy)",
        ))
    })
}

fn rate_limited(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let login = login_under_fault(ctx, json!({"errcode": 45011})).await?;
        Ok(judge_error(
            ctx,
            &login,
            "WeChat answering 45011 (rate limited)",
        ))
    })
}

fn high_risk(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let login = login_under_fault(ctx, json!({"errcode": 40226})).await?;
        Ok(judge_client_error(ctx, &login, "a high-risk user (40226)"))
    })
}

fn upstream_timeout(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let bound = ctx.upstream_timeout();
        // The fake holds the call longer than the bound (and lets go soon after, so nothing hangs).
        let hold_ms = u64::try_from(bound.as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(2000);
        // Scheduling slack on a loaded machine; the backend's own timeout must be within the bound.
        let slack = Duration::from_millis(250);
        let user = ctx.new_user(json!({})).await?;
        let code = ctx.login_code(&user.openid).await?;
        ctx.fake
            .add_fault(json!({"path": JSCODE2SESSION, "js_code": code, "times": 1, "fault": "timeout", "delay_ms": hold_ms}))
            .await?;
        let req = ctx
            .login_request_for(Some(&code))
            .await?
            .timeout(bound + slack);
        let started = Instant::now();
        let x = ctx.exchange("login", req).await;
        let elapsed = started.elapsed();
        let Some(response) = x.response else {
            return Ok(Outcome::failed(no_answer_while_hung(&x, bound, elapsed)));
        };
        let login = ctx.login_result(Some(code), response).await?;
        if elapsed > bound + slack {
            return Ok(Outcome::failed(format!(
                "answered after {:.1} s, beyond the bound of {} s",
                elapsed.as_secs_f64(),
                bound.as_secs()
            )));
        }
        Ok(judge_error(ctx, &login, "a WeChat call that hangs"))
    })
}

/// What happened to a login that got no answer while WeChat hung: a timeout is the rule broken,
/// but a refused or reset connection is said as such (it is not "no answer within 5 s").
fn no_answer_while_hung(x: &Exchange, bound: Duration, elapsed: Duration) -> String {
    let detail = x.error.clone().unwrap_or_default();
    let after = format!("after {:.1} s", elapsed.as_secs_f64());
    match x.failure {
        Some(Failure::TimedOut) | None => format!(
            "no answer within {} s while WeChat hung ({detail})",
            bound.as_secs_f64()
        ),
        Some(f) => format!(
            "the backend {} {after} while WeChat hung ({detail})",
            f.what()
        ),
    }
}

fn upstream_garbage(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let faults = [
            (
                "an HTML 502 gateway page",
                json!({"fault": "http_status", "status": 502}),
            ),
            ("a non-JSON garbage body", json!({"fault": "garbage"})),
            ("an empty body", json!({"fault": "empty"})),
        ];
        let mut failures = vec![];
        for (what, fault) in faults {
            let login = login_under_fault(ctx, fault).await?;
            if let Outcome::Failed { reason, .. } =
                judge_error(ctx, &login, &format!("WeChat answering {what}"))
            {
                failures.push(reason);
            }
        }
        if failures.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(failures.join("; ")))
        }
    })
}

/// `t` with every JSON string leaf that is exactly `{{code}}` replaced by `value`.
fn with_code_value(v: &Value, value: &Value) -> Value {
    match v {
        Value::String(s) if s.replace(' ', "") == "{{code}}" => value.clone(),
        Value::Array(a) => Value::Array(a.iter().map(|x| with_code_value(x, value)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), with_code_value(x, value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn missing_code(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        use crate::profile::BodyTemplate;
        let login = ctx.profile.compiled.login.clone();
        // (what, request): no code at all, then codes that are there but are not codes.
        let mut attempts: Vec<(String, Request)> = vec![
            (
                "a login without a code".into(),
                ctx.login_request_for(None).await?,
            ),
            (
                "an empty-string code".into(),
                ctx.login_request_for(Some("")).await?,
            ),
            (
                "a whitespace code".into(),
                ctx.login_request_for(Some("   ")).await?,
            ),
        ];
        if let Some(BodyTemplate::Json(body)) = &login.body {
            if body.to_string().contains("{{code}}") || body.to_string().contains("{{ code }}") {
                for (what, value) in [
                    ("a null code", Value::Null),
                    ("a number as the code", json!(123456)),
                    ("an array as the code", json!(["0a1b2c"])),
                ] {
                    let mut t = login.clone();
                    t.body = Some(BodyTemplate::Json(with_code_value(body, &value)));
                    attempts.push((
                        what.into(),
                        ctx.render(&t, &crate::context::Values::default()),
                    ));
                }
            }
            for (what, value) in [
                ("a JSON body that is an array", json!([])),
                ("a JSON body that is a string", json!("x")),
            ] {
                let mut t = login.clone();
                t.body = Some(BodyTemplate::Json(value));
                attempts.push((
                    what.into(),
                    ctx.render(&t, &crate::context::Values::default()),
                ));
            }
        }
        let mut failures = Vec::new();
        for (what, req) in attempts {
            let response = ctx.send("login", req).await?;
            let result = ctx.login_result(None, response).await?;
            if let Outcome::Failed { reason, .. } = judge_client_error(ctx, &result, &what) {
                failures.push(reason);
            }
        }
        let calls = ctx.journal_since_case(Some(JSCODE2SESSION)).await?;
        if !calls.is_empty() {
            failures.push(format!(
                "logins without a usable code still called jscode2session {} time(s)",
                calls.len()
            ));
        }
        if failures.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(failures.join("; ")))
        }
    })
}

fn no_secret_leak(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        // Make sure the run has at least one full login and protected call to look at. With
        // the login or the credential broken (a root case failed), the answers the run has are
        // still scanned: a leak in them fails, but their absence passes nothing.
        let blocked = ctx.blocked(Needs::AcceptedToken);
        match ctx.fresh_session().await {
            Ok(session) => {
                ctx.protected(Some(&session.credential)).await?;
            }
            Err(CaseError::NoLogin(_)) if blocked.is_some() => {}
            Err(e) => return Err(e),
        }
        let mut secrets = vec![(ctx.fake.secret().to_string(), "appsecret".to_string())];
        for e in ctx.journal_whole_run(Some(JSCODE2SESSION)).await? {
            if let Some(Value::String(k)) = e
                .response_json()
                .as_ref()
                .and_then(|j| j.get("session_key"))
            {
                secrets.push((k.clone(), "session_key".to_string()));
            }
        }
        let seen: Vec<_> = ctx.seen().cloned().collect();
        match crate::inspect::find_leak(&seen, &secrets) {
            None => Ok(match blocked {
                Some(blocked) => Outcome::skipped(format!(
                    "{blocked} (no appsecret or session_key in the {} answers seen; those of a working session could not be looked at)",
                    seen.len()
                )),
                None => Outcome::Passed,
            }),
            Some(leak) => {
                let outcome = Outcome::failed(format!(
                    "a {} is visible to the client in the {}",
                    leak.label, leak.place
                ));
                Ok(outcome.with_evidence(Evidence::note(format!(
                    "scanned {} answers for the appsecret and {} session_key(s)",
                    seen.len(),
                    secrets.len() - 1
                ))))
            }
        }
    })
}

/// Login requests with a body the backend cannot parse, for robustness checks: the profile's
/// login request (headers, query and data included) with its body broken.
pub(crate) async fn broken_login_requests(
    ctx: &mut Ctx,
) -> Result<Vec<(String, Request)>, CaseError> {
    let field = ctx
        .profile
        .login_code_field()
        .unwrap_or_else(|| "code".into());
    let bogus = format!("{:032x}", rand::Rng::gen::<u128>(&mut ctx.rng));
    let base = ctx.login_request_for(Some(&bogus)).await?;
    let huge = "x".repeat(8 * 1024);
    Ok(vec![
        (
            "bad JSON".into(),
            base.clone().raw("application/json", "{\"code\": "),
        ),
        (
            "wrong type".into(),
            base.clone()
                .json(json!({ field.clone(): {"nested": [1, 2]} })),
        ),
        (
            "huge code".into(),
            ctx.login_request_for(Some(&huge)).await?,
        ),
        ("array body".into(), base.json(json!([1, 2, 3]))),
    ])
}
