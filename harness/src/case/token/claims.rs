//! token.no-sensitive-claims, token.has-expiry: what the JWT's readable payload carries — no
//! secrets, and an exp within the profile's maximum lifetime.

use std::time::Duration;

use serde_json::{Map, Value};

use super::shared::{jwt_session, known_secret_values, unix_now};
use crate::case::{CaseFuture, Outcome};
use crate::context::Ctx;
use crate::jwt::{self, KnownSecret};

pub(super) fn no_sensitive_claims(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let (_session, jws) = match jwt_session(ctx).await? {
            Ok(x) => x,
            Err(skip) => return Ok(skip),
        };
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
