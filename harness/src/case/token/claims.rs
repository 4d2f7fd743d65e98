//! token.no-sensitive-claims, token.has-expiry: what the JWT's readable payload carries — no
//! secrets (the user's openid or unionid is an INFO finding), and an exp within the profile's
//! maximum lifetime.

use std::time::Duration;

use serde_json::{Map, Value};

use super::shared::{jwt_session, known_secret_values, unix_now};
use crate::case::{CaseFuture, Outcome};
use crate::context::Ctx;
use crate::fake::User;
use crate::jwt::{self, Jws, KnownSecret};

pub(super) fn no_sensitive_claims(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let (session, jws) = match jwt_session(ctx).await? {
            Ok(x) => x,
            Err(skip) => return Ok(skip),
        };
        if let Some(info) = identity_info(&session.user, &jws) {
            ctx.info(info);
        }
        let secrets = known_secret_values(ctx).await?;
        let known: Vec<KnownSecret<'_>> = secrets
            .iter()
            .map(|(label, value)| KnownSecret { label, value })
            .collect();
        let mut found = jwt::sensitive_claims(&jws.claims, &known);
        found.extend(
            jwt::sensitive_claims(&jws.header, &known)
                .into_iter()
                .map(|mut f| {
                    f.pointer = format!("header{}", f.pointer);
                    f
                }),
        );
        if found.is_empty() {
            Ok(Outcome::Passed)
        } else {
            let list: Vec<String> = found
                .iter()
                .map(|f| format!("{}: {}", f.pointer, f.why))
                .collect();
            Ok(Outcome::failed(format!(
                "the JWT payload is readable by anyone (base64, not encrypted) and carries secrets: {}",
                list.join("; ")
            )))
        }
    })
}

/// The user's openid or unionid in the readable payload: not a secret (a failure is kept for
/// session_key, appsecret and access tokens), but anyone holding the token can read it, and an
/// openid or unionid follows the user across apps and logs. Reported as INFO.
fn identity_info(user: &User, jws: &Jws) -> Option<String> {
    let mut ids = vec![KnownSecret {
        label: "openid",
        value: &user.openid,
    }];
    if let Some(unionid) = user.unionid.as_deref() {
        ids.push(KnownSecret {
            label: "unionid",
            value: unionid,
        });
    }
    let ids: Vec<KnownSecret<'_>> = ids.into_iter().filter(|i| !i.value.is_empty()).collect();
    let found: Vec<String> = if jws.has_claims_object() {
        jwt::identity_claims(&jws.claims, &ids)
            .iter()
            .map(|f| format!("{}: {}", f.pointer, f.why))
            .collect()
    } else {
        // A bare payload (`jwt.sign(openid, key)`) is the identity itself.
        let payload = String::from_utf8_lossy(&jws.payload_bytes);
        ids.iter()
            .filter(|i| payload.contains(i.value))
            .map(|i| {
                format!(
                    "the payload ({}) contains the {}",
                    jws.payload_kind(),
                    i.label
                )
            })
            .collect()
    };
    (!found.is_empty()).then(|| {
        format!(
            "the JWT payload carries the user's WeChat identity, readable by anyone who holds the token (base64, not encrypted): {}; an openid or unionid is not a secret, but an opaque user id (sub) keeps it out of the token",
            found.join("; ")
        )
    })
}

pub(super) fn has_expiry(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let (_session, jws) = match jwt_session(ctx).await? {
            Ok(x) => x,
            Err(skip) => return Ok(skip),
        };
        let max = ctx.profile.jwt.max_lifetime_secs as i64;
        if !jws.has_claims_object() {
            return Ok(Outcome::failed(format!(
                "the JWT's payload is {}, not a claims object, so it has no exp: a stolen token works forever",
                jws.payload_kind()
            )));
        }
        let Some(exp) = jws.numeric_claim("exp") else {
            return Ok(Outcome::failed(format!(
                "the JWT has no numeric exp claim (claims: {}): a stolen token works forever",
                claim_names(&jws.claims)
            )));
        };
        // Lifetime from iat when present; otherwise from now, which is what the client sees.
        let issued = jws.numeric_claim("iat").unwrap_or_else(unix_now);
        let lifetime = exp - issued;
        if lifetime <= 0 {
            return Ok(Outcome::failed(format!(
                "the JWT expires at {exp}, not after it was issued ({issued})"
            )));
        }
        if lifetime > max {
            return Ok(Outcome::failed(format!(
                "the JWT lives {lifetime} s ({}), more than the profile's max_lifetime_secs = {max}",
                humantime::format_duration(Duration::from_secs(lifetime as u64))
            )));
        }
        Ok(Outcome::Passed)
    })
}

fn claim_names(claims: &Map<String, Value>) -> String {
    claims.keys().cloned().collect::<Vec<_>>().join(", ")
}
