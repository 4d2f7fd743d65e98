//! auth.*: what the backend takes as a credential. The user's openid is an identifier that
//! travels in many places (logs, URLs, other apps' databases), never a password; and a credential
//! the backend reads from a header or a cookie is not also accepted from the query string, where
//! proxies, browsers and access logs keep it.

use super::{Case, CaseFuture, Outcome, Severity};
use crate::context::{Credential, Ctx, Values};
use crate::error::CaseError;
use crate::exchange::{truncate, Response};
use crate::profile::RequestTemplate;
use base64::Engine as _;

/// The cases of this family, in catalogue order.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new("auth.openid-credential", Severity::Must, "the user's openid is not a credential: HTTP Basic openid:openid or openid:, or the openid as the token, are refused", openid_credential),
        Case::new("auth.token-in-query", Severity::Should, "a header or cookie credential moved into the query string (?token=, ?access_token=, ?skey=, ?<header>=) is refused", token_in_query),
    ]
}

/// Whether `r` let the request in *as the user*: accepted, and (when the profile says where the
/// identity is and it is not read from the token itself) naming the user's own identity; an
/// anonymous answer is token.missing's business.
fn let_in_as(ctx: &Ctx, r: &Response, own: Option<&str>, cred: &Credential) -> bool {
    if !ctx.is_accepted(r) {
        return false;
    }
    match own {
        Some(own) if !ctx.identity_from_token() => ctx.identity_of(r, cred).as_deref() == Some(own),
        _ => true,
    }
}

fn describe(r: &Response) -> String {
    format!("HTTP {} {}", r.status, truncate(&r.body, 160))
}

/// The protected request with the credential removed and HTTP Basic `user:password` added.
fn basic(t: &RequestTemplate, user: &str, password: &str) -> RequestTemplate {
    let mut t = t.without_credential();
    t.headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
    let cred = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    t.headers
        .push(("Authorization".into(), format!("Basic {cred}")));
    t
}

fn openid_credential(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        // A user the backend knows: a Django-style backend creates the account at first login.
        let session = ctx.fresh_session().await?;
        let openid = session.user.openid.clone();
        let own_answer = ctx.protected(Some(&session.credential)).await?;
        let own = ctx.identity_of(&own_answer, &session.credential);
        let protected = ctx.profile.compiled.protected.clone();
        let mut attempts: Vec<(String, RequestTemplate, Values)> = vec![
            (
                "HTTP Basic openid:openid".into(),
                basic(&protected, &openid, &openid),
                Values::default(),
            ),
            (
                "HTTP Basic openid: (empty password)".into(),
                basic(&protected, &openid, ""),
                Values::default(),
            ),
            (
                "the openid as the token, where the profile puts the token".into(),
                protected.clone(),
                Values::token(Some(&ctx.forged(&openid))),
            ),
        ];
        if let Some(unionid) = session.user.unionid.clone() {
            attempts.push((
                "HTTP Basic unionid:unionid".into(),
                basic(&protected, &unionid, &unionid),
                Values::default(),
            ));
        }
        let mut wrong = Vec::new();
        for (label, template, values) in &attempts {
            let req = ctx.render(template, values);
            let r = ctx
                .send("protected call with the openid as credential", req)
                .await?;
            if let_in_as(ctx, &r, own.as_deref(), &session.credential) {
                wrong.push(format!("{label}: {}", describe(&r)));
            }
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "{} of {} requests carrying only the user's openid were let in (anyone who learns an openid becomes that user): {}",
                wrong.len(),
                attempts.len(),
                wrong.join("; ")
            )))
        }
    })
}

fn token_in_query(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let protected = ctx.profile.compiled.protected.clone();
        let places = protected.credential_places();
        if places.is_empty() || places.contains(&"query") || places.contains(&"path") {
            return Ok(Outcome::skipped(format!(
                "the profile already sends the credential in the URL ({}): nothing to move",
                places.join(", ")
            )));
        }
        let session = ctx.fresh_session().await?;
        let baseline = ctx.protected(Some(&session.credential)).await?;
        if !ctx.is_accepted(&baseline) {
            return Err(CaseError::Other(format!(
                "the credential is not accepted where the profile puts it ({}), so moving it cannot be judged",
                describe(&baseline)
            )));
        }
        let mut names = vec![
            "token".to_owned(),
            "access_token".to_owned(),
            "skey".to_owned(),
        ];
        for (k, _) in protected.headers.iter().chain(&protected.cookies) {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(k)) && k != "Cookie" {
                names.push(k.clone());
            }
        }
        let own = ctx.identity_of(&baseline, &session.credential);
        let base = protected.without_credential();
        let mut wrong = Vec::new();
        for name in &names {
            let mut t = base.clone();
            t.query.push((name.clone(), "{{token}}".into()));
            let req = ctx.render(&t, &Values::token(Some(&session.credential)));
            let r = ctx
                .send("protected call with the token in the query", req)
                .await?;
            if let_in_as(ctx, &r, own.as_deref(), &session.credential) {
                wrong.push(format!("?{name}=<token>: {}", describe(&r)));
            }
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "the credential is also accepted from the query string, where access logs, proxies and the Referer header keep it: {}",
                wrong.join("; ")
            )))
        }
    })
}
