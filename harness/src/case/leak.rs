//! robust.* about what leaks out of a backend besides stack traces: internal detail in its error
//! answers (an exception's message, a crypto library's or database driver's error, what WeChat
//! sent), and secrets in its own output (its logs). Run-level like `robustness.rs`: each case
//! drives the failures it judges itself, then looks back over everything the run produced.

use rand::Rng;
use serde_json::{json, Value};

use super::login::broken_login_requests;
use super::token::{known_secret_values, redacted, GARBAGE_TOKENS};
use super::{Case, CaseFuture, Needs, Outcome, Severity};
use crate::context::Ctx;
use crate::detail::{internal_detail, Detail, Echoes};
use crate::exchange::{Evidence, Exchange, Response};

const JSCODE2SESSION: &str = "/sns/jscode2session";

/// How many findings a failure names (every exchange of the case is evidence anyway).
const SHOWN_FINDINGS: usize = 8;

/// The cases of this family, in catalogue order.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new("robust.no-internal-detail", Severity::Should, "no error answer carries an exception message, a library's error text (crypto, database, HTTP client) or what WeChat sent", no_internal_detail)
            // It provokes and reads error answers, which need no session (data only when a login works).
            .needs(Needs::Nothing),
        Case::new("robust.no-secret-in-logs", Severity::Should, "the backend's own output (stdout, stderr) never shows the appsecret, a session_key or an access token in clear", no_secret_in_logs)
            // It judges the output of the whole run; its own login is a bonus, not a need.
            .needs(Needs::Nothing),
    ]
}

/// "Error answer" by the profile's own rules: a 4xx/5xx, a rejection rule, or (for a backend
/// whose errors are HTTP 200 bodies) an answer its success rule does not accept.
pub(crate) fn is_error_answer(ctx: &Ctx, r: &Response) -> bool {
    r.status >= 400 || ctx.is_rejected(r) || !ctx.is_accepted(r)
}

/// Every text of an answer a client reads: the body, its JSON strings unescaped, the headers.
fn answer_texts(r: &Response) -> Vec<String> {
    let mut texts = vec![];
    // The unescaped strings first: they read better in the evidence.
    if let Some(j) = &r.json {
        let mut strings = vec![];
        json_strings(j, &mut strings);
        texts.push(strings.join("\n"));
    }
    texts.push(r.body.clone());
    // A security policy names the hosts a page may call (api.weixin.qq.com among them): that is
    // configuration, not an error's detail.
    texts.extend(
        r.headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("content-security-policy"))
            .map(|(k, v)| format!("{k}: {v}")),
    );
    texts
}

fn json_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| json_strings(x, out)),
        _ => {}
    }
}

/// What the client itself sent: a backend repeating the client's input ("invalid code
/// TypeError") passes nothing internal on.
fn sent_by_client(x: &Exchange, marker: &str) -> bool {
    x.url.contains(marker)
        || x.request_body
            .as_deref()
            .is_some_and(|b| b.contains(marker))
        || x.request_headers.iter().any(|(_, v)| v.contains(marker))
}

/// The internal detail in an exchange's error answer, if any. An answer with a stack trace is
/// left to `robust.no-stack-trace` (one defect, one failure).
fn finding(ctx: &Ctx, x: &Exchange, echoes: &Echoes) -> Option<Detail> {
    let r = x.response.as_ref()?;
    if !is_error_answer(ctx, r) {
        return None;
    }
    let texts = answer_texts(r);
    if texts
        .iter()
        .any(|t| crate::inspect::stack_trace_marker(t).is_some())
    {
        return None;
    }
    texts
        .iter()
        .filter_map(|t| internal_detail(t, echoes))
        .find(|d| !sent_by_client(x, &d.marker))
}

/// Makes the backend fail in every way a careless error handler passes on: bad codes, WeChat
/// resetting, sending garbage, an HTML or plain-text error page, saying busy; garbage tokens;
/// broken encrypted data; malformed login requests. Only the answers are judged, afterwards.
async fn provoke(ctx: &mut Ctx, page_marker: &str) -> Result<(), crate::error::CaseError> {
    let bogus = format!("{:032x}", ctx.rng.gen::<u128>());
    let req = ctx.login_request_for(Some(&bogus)).await?;
    if !answered(ctx, "login with a code WeChat never issued", req).await {
        return Ok(());
    }
    let faults: [(&str, Value); 5] = [
        ("a reset connection", json!({"fault": "reset"})),
        ("a garbage body", json!({"fault": "garbage"})),
        (
            "an HTML 502 page",
            json!({"fault": "http_status", "status": 502}),
        ),
        (
            "a plain-text 500",
            json!({"fault": "http_status", "status": 500, "body": page_marker}),
        ),
        ("WeChat busy (-1)", json!({"errcode": -1})),
    ];
    for (what, fault) in faults {
        let user = ctx.new_user(json!({})).await?;
        let code = ctx.login_code(&user.openid).await?;
        let mut rule = json!({"path": JSCODE2SESSION, "js_code": code, "times": 1});
        if let (Some(r), Value::Object(f)) = (rule.as_object_mut(), fault) {
            r.extend(f);
        }
        ctx.fake.add_fault(rule).await?;
        let req = ctx.login_request_for(Some(&code)).await?;
        if !answered(ctx, &format!("login while WeChat answers {what}"), req).await {
            return Ok(());
        }
    }
    for (what, token) in GARBAGE_TOKENS {
        let req = ctx.protected_request(Some(&ctx.forged(token)));
        if !answered(ctx, &format!("protected call with {what}"), req).await {
            return Ok(());
        }
    }
    if ctx.takes_data() {
        let user = ctx.new_user(json!({})).await?;
        // Without a working login there is no session to send data for: login.happy says why.
        if let Ok(mut sink) = ctx.data_sink(user).await {
            for variant in [
                "bad-padding",
                "truncated",
                "length-not-block-multiple",
                "invalid-base64",
                "iv-15",
            ] {
                if ctx.send_data(&mut sink, variant, None).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
    for (what, req) in broken_login_requests(ctx).await? {
        if !answered(ctx, &format!("malformed login ({what})"), req).await {
            return Ok(());
        }
    }
    Ok(())
}

/// Sends a request; false when the backend gave no answer at all. Provoking then stops: a
/// backend that went down is robust.survives' business (and the runner's, if it exited), and
/// asking it again would only make the run give up on it.
async fn answered(ctx: &mut Ctx, label: &str, req: crate::exchange::Request) -> bool {
    ctx.exchange(label, req).await.response.is_some()
}

fn no_internal_detail(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let page_marker = format!("wxmock upstream page {:016x}", ctx.rng.gen::<u64>());
        provoke(ctx, &page_marker).await?;
        let echoes = Echoes {
            fake_address: Some(
                ctx.vars
                    .wechat_base_url
                    .trim_start_matches("http://")
                    .trim_start_matches("https://")
                    .trim_end_matches('/')
                    .to_string(),
            )
            .filter(|a| !a.is_empty()),
            upstream_texts: vec![
                page_marker,
                // The fake's HTML 502 page, inside a JSON string.
                "<center>nginx</center>\\r\\n".into(),
            ],
        };
        let secret = ctx.fake.secret().to_string();
        let mut scanned = 0usize;
        // Exchanges of earlier cases come first; this case's own are attached by the runner.
        let earlier = ctx.seen.len();
        let mut found: Vec<(Exchange, Detail, bool)> = vec![];
        for (i, x) in ctx.seen().enumerate() {
            if !x.response.as_ref().is_some_and(|r| is_error_answer(ctx, r)) {
                continue;
            }
            scanned += 1;
            if let Some(mut d) = finding(ctx, x, &echoes) {
                if secret.len() >= 6 {
                    d.text = d.text.replace(&secret, &redacted(&secret));
                }
                found.push((x.clone(), d, i < earlier));
            }
        }
        if scanned == 0 {
            return Ok(Outcome::errored(
                "no error answer was seen during the run, so nothing could be checked",
            ));
        }
        if found.is_empty() {
            return Ok(Outcome::Passed);
        }
        // One finding per distinct text first: a backend answering `e.message` everywhere shows
        // a different library's text on each path.
        let mut markers = std::collections::BTreeSet::new();
        let (first, repeated): (Vec<_>, Vec<_>) = found
            .into_iter()
            .partition(|(_, d, _)| markers.insert(d.marker.clone()));
        let found: Vec<_> = first.into_iter().chain(repeated).collect();
        let shown: Vec<String> = found
            .iter()
            .take(SHOWN_FINDINGS)
            .map(|(x, d, _)| {
                format!(
                    "{} {} {} (HTTP {}): {} `{}`",
                    x.label,
                    x.method,
                    x.url,
                    x.response.as_ref().map_or(0, |r| r.status),
                    d.family,
                    d.text
                )
            })
            .collect();
        let more = found.len().saturating_sub(SHOWN_FINDINGS);
        let mut outcome = Outcome::failed(format!(
            "{} of {scanned} error answers carry internal detail a client should not see: {}{}",
            found.len(),
            shown.join("; "),
            if more > 0 {
                format!(" (and {more} more)")
            } else {
                String::new()
            }
        ));
        for (x, _, from_earlier) in found.into_iter().take(SHOWN_FINDINGS) {
            if from_earlier {
                outcome = outcome.with_evidence(Evidence::Exchange(x));
            }
        }
        Ok(outcome)
    })
}

const NOT_STARTED: &str = "the harness did not start this backend (no [backend] command), so it cannot read its output: give the profile the command that starts it to have its stdout and stderr checked";

/// Waits until the backend's output stops growing (at most a second): a log line written just
/// before an answer may still be in the pipe. Polling a foreign process, not waiting for expiry.
async fn settle(ctx: &Ctx) {
    let mut last = ctx.output.bytes();
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let now = ctx.output.bytes();
        if now == last {
            return;
        }
        last = now;
    }
}

fn no_secret_in_logs(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if !ctx.output.attached() {
            return Ok(Outcome::skipped(NOT_STARTED));
        }
        // The secrets of a login flow, handed out once more whatever ran before: a session_key
        // (a login), WeChat's refusal (what a backend logs on an error), an access token (the
        // profile's access-token operations).
        let user = ctx.new_user(json!({})).await?;
        let code = ctx.login_code(&user.openid).await?;
        let req = ctx.login_request_for(Some(&code)).await?;
        let login = ctx.exchange("login", req).await;
        let bogus = format!("{:032x}", ctx.rng.gen::<u128>());
        let req = ctx.login_request_for(Some(&bogus)).await?;
        let _ = ctx
            .exchange("login with a code WeChat never issued", req)
            .await;
        if let Some(credential) = login
            .response
            .as_ref()
            .filter(|r| ctx.is_accepted(r))
            .and_then(|r| ctx.credential_of(r))
        {
            for i in 0..ctx.access_token_operation_count() {
                let _ = ctx.access_token_operation(i, &credential).await;
            }
        }
        settle(ctx).await;
        let secrets = known_secret_values(ctx).await?;
        ctx.output
            .learn(secrets.iter().map(|(l, v)| (l.as_str(), v.as_str())));
        let seen = ctx.output.findings();
        let mut notes = vec![];
        if seen.searched_early > 0 {
            notes.push(format!(
                "{} bytes of output were searched only for the secrets known when they arrived (more than {} MiB came within one case)",
                seen.searched_early,
                crate::output::PENDING_LIMIT / (1024 * 1024)
            ));
        }
        if seen.counts.is_empty() {
            return Ok(Outcome::Passed);
        }
        let counts: Vec<String> = seen
            .counts
            .iter()
            .map(|(label, n)| format!("the {label} {n} time(s)"))
            .collect();
        let first = seen
            .found
            .first()
            .map(|f| format!(": `{}`", crate::exchange::truncate(&f.line, 240)))
            .unwrap_or_default();
        let mut outcome = Outcome::failed(format!(
            "the backend's own output ({} bytes over the run) shows {} in clear{first}",
            seen.bytes,
            counts.join(", ")
        ));
        for f in &seen.found {
            outcome = outcome.with_note(format!(
                "{} {} at byte {} of the output: {}",
                f.label, f.secret, f.offset, f.line
            ));
        }
        for n in notes {
            outcome = outcome.with_note(n);
        }
        Ok(outcome)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_read_unescaped_and_a_security_policy_is_not_read() {
        let body = r#"{"error":"Unexpected token '<', \"<html>\" is not valid JSON"}"#;
        let r = Response {
            status: 500,
            headers: vec![
                (
                    "content-security-policy".into(),
                    "connect-src https://api.weixin.qq.com".into(),
                ),
                ("x-powered-by".into(), "Express".into()),
            ],
            body: body.into(),
            json: serde_json::from_str(body).ok(),
        };
        let texts = answer_texts(&r);
        assert_eq!(
            texts[0],
            "Unexpected token '<', \"<html>\" is not valid JSON"
        );
        assert!(texts.iter().all(|t| !t.contains("api.weixin.qq.com")));
        assert!(texts.iter().any(|t| t == "x-powered-by: Express"));
    }
}
