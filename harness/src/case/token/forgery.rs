//! token.tampered, token.alg-none, token.weak-secret: a JWT cannot be edited, unsigned or
//! re-signed by someone who does not hold the backend's key, and no part of a multi-part
//! credential can be altered.

use serde_json::json;

use super::parts::{accepted_session, altered, is_multi_part};
use super::shared::{describe, jwt_session, summary};
use crate::case::{CaseFuture, Outcome};
use crate::context::{Credential, Ctx};
use crate::error::CaseError;
use crate::jwt::{self, Jws};

pub(super) fn tampered(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if is_multi_part(ctx) {
            return tampered_parts(ctx).await;
        }
        let (session, jws) = match jwt_session(ctx).await? {
            Ok(x) => x,
            Err(skip) => return Ok(skip),
        };
        let baseline = ctx.protected(Some(&session.credential)).await?;
        if !ctx.is_accepted(&baseline) {
            return Err(CaseError::TokenRefused(format!(
                "the untouched token is not accepted ({}), so tampering cannot be judged",
                describe(&baseline)
            )));
        }
        let forged = payload_edits(&jws);
        let mut wrong = Vec::new();
        for f in &forged {
            let r = ctx
                .protected(Some(&session.credential.with_main(&f.token)))
                .await?;
            if !ctx.is_refusal(&r) {
                wrong.push((f.label.clone(), describe(&r)));
            }
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(summary(
                "tokens with a changed payload and the original signature were not rejected (signature not verified?)",
                &wrong,
                forged.len(),
            )))
        }
    })
}

/// Copies of the JWT with the payload changed and the signature kept.
fn payload_edits(jws: &Jws) -> Vec<jwt::ForgedToken> {
    // Several edits: a backend that skips verification but looks the user up by `sub` might
    // refuse a changed `sub` for the wrong reason; a longer `exp` or an extra claim keeps the
    // token otherwise usable, so only a signature check refuses it.
    let mut forged = vec![jwt::tamper(jws)];
    if !jws.has_claims_object() {
        // A bare string/number payload has one thing to change, and `tamper` changed it.
    } else if let Some(exp) = jws.numeric_claim("exp") {
        let mut claims = jws.claims.clone();
        claims.insert("exp".into(), json!(exp + 86_400));
        forged.push(jwt::ForgedToken {
            label: "exp extended by one day".into(),
            token: jwt::with_claims(jws, &claims),
        });
    }
    if jws.has_claims_object() {
        let mut claims = jws.claims.clone();
        claims.insert("role".into(), json!("admin"));
        forged.push(jwt::ForgedToken {
            label: "claim role=admin added".into(),
            token: jwt::with_claims(jws, &claims),
        });
    }
    forged
}

/// A multi-part credential: each part altered on its own, the others kept — a JWT part gets
/// the payload edits above, any other part a changed or cut-off last character.
async fn tampered_parts(ctx: &mut Ctx) -> Result<Outcome, CaseError> {
    let session = accepted_session(ctx, "tampering").await?;
    let mut forged: Vec<(String, Credential)> = Vec::new();
    for (name, value) in session.credential.parts() {
        match jwt::decode(value) {
            Ok(jws) => forged.extend(payload_edits(&jws).into_iter().map(|f| {
                (
                    format!("part {name} (a JWT): {}", f.label),
                    session.credential.with_part(name, &f.token),
                )
            })),
            Err(_) => forged.extend(altered(value).into_iter().map(|(what, v)| {
                (
                    format!("part {name}: {what}"),
                    session.credential.with_part(name, &v),
                )
            })),
        }
    }
    let mut wrong = Vec::new();
    for (label, credential) in &forged {
        let r = ctx.protected(Some(credential)).await?;
        if !ctx.is_refusal(&r) {
            wrong.push((label.clone(), describe(&r)));
        }
    }
    if wrong.is_empty() {
        Ok(Outcome::Passed)
    } else {
        Ok(Outcome::failed(summary(
            "credentials with one part altered were not rejected (is every part checked, and a JWT part's signature verified?)",
            &wrong,
            forged.len(),
        )))
    }
}

pub(super) fn alg_none(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let (session, jws) = match jwt_session(ctx).await? {
            Ok(x) => x,
            Err(skip) => return Ok(skip),
        };
        let copies = jwt::alg_none_copies(&jws);
        let mut wrong = Vec::new();
        for copy in &copies {
            let r = ctx
                .protected(Some(&session.credential.with_main(&copy.token)))
                .await?;
            if !ctx.is_refusal(&r) {
                wrong.push((copy.label.clone(), describe(&r)));
            }
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(summary(
                "unsigned alg:none copies were not rejected",
                &wrong,
                copies.len(),
            )))
        }
    })
}

pub(super) fn weak_secret(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let (_session, jws) = match jwt_session(ctx).await? {
            Ok(x) => x,
            Err(skip) => return Ok(skip),
        };
        let alg_name = jws.alg().unwrap_or_default().to_owned();
        let Some(alg) = jws.hmac_alg() else {
            return Ok(Outcome::skipped(format!(
                "the JWT is signed with {alg_name:?}, not HMAC: there is no shared key to guess"
            )));
        };
        let appid = ctx.fake.appid().to_owned();
        let appsecret = ctx.fake.secret().to_owned();
        match jwt::find_weak_secret(&jws, &[&appid, &appsecret]) {
            Some(k) if k == appsecret => {
                return Ok(Outcome::failed(format!("the {alg_name} key is the mini-program's appsecret: anyone who has it can mint tokens")))
            }
            Some(k) if k == appid => {
                return Ok(Outcome::failed(format!("the {alg_name} key is the appid {appid:?}, which is public")))
            }
            Some(k) => {
                return Ok(Outcome::failed(format!(
                    // Worded without the word "secret": the runner redacts the profile's JWT key
                    // from reports, and under this failure that key is often the word itself.
                    "the {alg_name} key is {k:?}, one of {} weak and published keys and their variants (tutorial defaults, README samples, common passwords): anyone can mint tokens",
                    jwt::dictionary_size()
                )))
            }
            None => {}
        }
        // A key the profile declares can be measured (RFC 7518 §3.2: at least the hash size).
        if let Some(key) = ctx.profile.jwt.secret.clone() {
            if jws.verifies_with(key.as_bytes()) {
                if let Some(why) = jwt::key_too_short(alg, key.as_bytes()) {
                    return Ok(Outcome::failed(format!(
                        "{why}: a short key can be found by brute force from one token"
                    )));
                }
            }
        }
        if ctx.crack_budget.is_zero() {
            return Ok(Outcome::Passed);
        }
        let spec = jwt::CrackSpec::short_keys(ctx.crack_budget);
        let (charset, max_len) = (
            String::from_utf8_lossy(&spec.charset).into_owned(),
            spec.max_len,
        );
        let searched = jws.clone();
        let out = tokio::task::spawn_blocking(move || jwt::crack(&searched, &spec))
            .await
            .map_err(|e| CaseError::Other(format!("the brute-force search stopped: {e}")))?;
        match &out.found {
            Some(k) => Ok(Outcome::failed(format!(
                "the {alg_name} key {k:?} was found by brute force in {:.1} s ({} keys, {:.0} keys/s): anyone with one token can mint more",
                out.elapsed.as_secs_f64(),
                out.tried,
                out.keys_per_sec()
            ))),
            None => {
                tracing::info!(
                    tried = out.tried,
                    complete_len = out.complete_len,
                    keys_per_sec = out.keys_per_sec() as u64,
                    "token.weak-secret: brute force over {charset:?} up to {max_len} characters found no key"
                );
                Ok(Outcome::Passed)
            }
        }
    })
}
