//! login.* about one login not touching another: a stale credential sent along with a login must
//! not lock the user out, and no answer to one user may carry another user's live token or
//! identity (a module-level response object reused across requests does exactly that).

use serde_json::json;

use super::{Case, CaseFuture, Needs, Outcome, Severity};
use crate::context::{Credential, Ctx};
use crate::exchange::{truncate, Response};
use crate::fake::User;

/// The cases of this family, in catalogue order.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new("login.stale-credential", Severity::Must, "a login that also carries an old or garbage token where the profile sends tokens still logs the user in", stale_credential).needs(Needs::Login),
        Case::new("login.no-cross-user-leak", Severity::Must, "no answer to one user carries another user's live token or identity", no_cross_user_leak),
    ]
}

fn describe(r: &Response) -> String {
    format!("HTTP {} {}", r.status, truncate(&r.body, 160))
}

fn stale_credential(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let user = ctx.new_user(json!({})).await?;
        let first = ctx.session_for(user.clone()).await?;
        // Where the profile sends credentials: the protected request's credential entries.
        let protected = ctx.profile.compiled.protected.clone();
        let bare = protected.without_credential();
        let carried: Vec<(String, String)> = protected
            .headers
            .iter()
            .filter(|h| !bare.headers.contains(h))
            .cloned()
            .collect();
        let cookies: Vec<(String, String)> = protected
            .cookies
            .iter()
            .filter(|c| !bare.cookies.contains(c))
            .cloned()
            .collect();
        if carried.is_empty() && cookies.is_empty() {
            return Ok(Outcome::skipped(
                "the profile sends the credential in the query or the body, where a login request does not carry it",
            ));
        }
        let stale = [
            ("the user's previous token", first.credential.clone()),
            ("a garbage token", ctx.forged("stale.garbage.token")),
        ];
        let mut wrong = Vec::new();
        for (what, credential) in stale {
            let mut t = ctx.profile.compiled.login.clone();
            t.headers.extend(carried.iter().cloned());
            t.cookies.extend(cookies.iter().cloned());
            let code = ctx.login_code(&user.openid).await?;
            let mut values = ctx.login_values(Some(&code)).await?;
            values.token = Some(credential);
            let req = ctx.render(&t, &values);
            let r = ctx.send("login carrying a stale credential", req).await?;
            let login = ctx.login_result(Some(code), r).await?;
            if !login.succeeded(ctx) {
                wrong.push(format!("{what}: {}", describe(&login.response)));
            }
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "a login carrying a stale credential (the app still holds the old one) did not log the user in, locking them out until they clear storage: {}",
                wrong.join("; ")
            )))
        }
    })
}

/// What the harness knows of one user: who, and every value that identifies their session.
struct Known {
    user: User,
    /// (what, value): tokens, credential parts, the openid, the identity answered.
    values: Vec<(String, String)>,
}

fn remember(known: &mut Known, what: &str, value: &str) {
    // Short values (numeric ids, "1") would match by accident; tokens and openids are long.
    if value.chars().count() >= 8 && !known.values.iter().any(|(_, v)| v == value) {
        known.values.push((what.to_owned(), value.to_owned()));
    }
}

fn remember_credential(known: &mut Known, c: &Credential) {
    for (name, value) in c.parts() {
        remember(known, &format!("token part {name}"), value);
    }
}

fn no_cross_user_leak(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let mut known: Vec<Known> = Vec::new();
        for _ in 0..2 {
            let user = ctx.new_user(json!({})).await?;
            let mut k = Known {
                values: Vec::new(),
                user: user.clone(),
            };
            remember(&mut k, "openid", &user.openid);
            if let Some(u) = &user.unionid {
                remember(&mut k, "unionid", u);
            }
            known.push(k);
        }
        // Each answer and whose it is: A, B, then A and B again (returning users), each login
        // followed by a protected call.
        let mut answers: Vec<(usize, &'static str, Response)> = Vec::new();
        // Login answers that name an identity at the profile's identity place: (user, login
        // answer's identity, credential) — compared with the user's own once it is known.
        let mut named: Vec<(usize, String)> = Vec::new();
        for round in 0..2 {
            #[allow(clippy::needless_range_loop)]
            // `known[i]` is updated while `ctx` is borrowed mutably
            for i in 0..known.len() {
                let session = ctx.session_for(known[i].user.clone()).await?;
                remember_credential(&mut known[i], &session.credential);
                answers.push((
                    i,
                    if round == 0 { "login" } else { "second login" },
                    session.login.response.clone(),
                ));
                let me = ctx.protected(Some(&session.credential)).await?;
                let own = ctx.identity_of(&me, &session.credential);
                if let Some(id) = &own {
                    remember(&mut known[i], "identity", id);
                    if !ctx.identity_from_token() {
                        if let Some(said) =
                            ctx.identity_of(&session.login.response, &session.credential)
                        {
                            if said != *id {
                                named.push((i, said));
                            }
                        }
                    }
                }
                answers.push((i, "protected call", me));
            }
        }
        let mut leaks = Vec::new();
        for (owner, what, r) in &answers {
            let text = format!(
                "{}\n{}",
                r.body,
                r.headers
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            for (other, k) in known.iter().enumerate().filter(|(o, _)| o != owner) {
                for (label, value) in &k.values {
                    if text.contains(value.as_str())
                        && !known[*owner].values.iter().any(|(_, v)| v == value)
                    {
                        leaks.push(format!(
                            "the {what} answer to user {} carries the {label} of user {} ({}…)",
                            known[*owner].user.openid,
                            known[other].user.openid,
                            value.chars().take(6).collect::<String>()
                        ));
                    }
                }
            }
        }
        for (owner, said) in named {
            let whose = known
                .iter()
                .find(|k| k.values.iter().any(|(l, v)| l == "identity" && *v == said))
                .map(|k| format!("user {}", k.user.openid))
                .unwrap_or_else(|| "another user".to_owned());
            leaks.push(format!(
                "the login answer to user {} names the identity {said:?}, which is {whose}'s, not theirs",
                known[owner].user.openid
            ));
        }
        leaks.dedup();
        if leaks.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "answers to one user carry another user's session (a response object shared across requests?): {}",
                leaks.join("; ")
            )))
        }
    })
}
