//! token.*: what the backend does with the token it issued — accepts it, refuses it when it is
//! missing, garbage, tampered, unsigned or expired, and does not make it guessable, forgeable
//! (weak HMAC key) or a carrier of secrets. JWT-only cases skip opaque tokens with the reason.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde_json::{json, Map, Value};

use super::{Case, CaseFuture, Outcome, Severity};
use crate::context::{Ctx, Session};
use crate::error::CaseError;
use crate::exchange::{truncate, Response};
use crate::jwt::{self, Identifier, Jws, KnownSecret};

/// The cases of this family, in catalogue order.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new("token.accepted", Severity::Must, "a token from a valid login is accepted by the protected endpoint", accepted),
        Case::new("token.missing", Severity::Must, "a protected request without a token is rejected (4xx, not 5xx)", missing),
        Case::new("token.garbage", Severity::Must, "malformed tokens are rejected (4xx, never 5xx)", garbage),
        Case::new("token.tampered", Severity::Must, "a JWT whose payload was changed (signature kept) is rejected", tampered),
        Case::new("token.alg-none", Severity::Must, "an unsigned alg:none copy of the JWT is rejected, whatever the spelling", alg_none),
        Case::new("token.weak-secret", Severity::Must, "the JWT's HMAC key is not a weak/published secret, the appid or the appsecret", weak_secret),
        Case::new("token.no-sensitive-claims", Severity::Must, "the JWT carries no session_key, appsecret or access_token", no_sensitive_claims),
        Case::new("token.has-expiry", Severity::Must, "the JWT has an exp and lives no longer than the profile's max_lifetime_secs", has_expiry),
        Case::new("token.expired-rejected", Severity::Must, "tokens whose exp lies beyond the leeway in the past are rejected; unexpired ones are accepted", expired_rejected),
        Case::new("token.unpredictable", Severity::Must, "the token is not derived from openid/unionid/session_key/userId, and two logins never give the same token", unpredictable),
    ]
}

/// Seconds since the Unix epoch on the harness's clock (the backend checks `exp` on its own clock,
/// not the fake's, so the fake's movable clock is of no use here).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A fresh session whose token must be a JWT; `Err(outcome)` is the skip to return otherwise.
pub(crate) async fn jwt_session(
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
fn summary(what: &str, misses: &[(String, String)], total: usize) -> String {
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

fn describe(r: &Response) -> String {
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

fn accepted(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let session = ctx.fresh_session().await?;
        let r = ctx.protected(Some(&session.credential)).await?;
        if ctx.is_accepted(&r) {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "the token from a valid login was not accepted: {}",
                describe(&r)
            )))
        }
    })
}

fn missing(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let r = ctx.protected(None).await?;
        if ctx.is_refusal(&r) {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "a protected request without any token was answered {}",
                describe(&r)
            )))
        }
    })
}

/// Malformed tokens a careless parser chokes on. All are safe as header values.
const GARBAGE_TOKENS: &[(&str, &str)] = &[
    ("a random word", "garbage"),
    ("three dots of nothing", ".."),
    ("three parts that are not base64 JSON", "not.a.jwt"),
    (
        "a JWT header followed by junk",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.%%%.###",
    ),
    (
        "a JWT with a truncated payload",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIx.c2ln",
    ),
    ("a header that is base64 of a JSON array", "WzFd.WzFd.WzFd"),
    ("a four-part token", "a.b.c.d"),
    ("null", "null"),
];

fn garbage(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let mut wrong = Vec::new();
        for (what, token) in GARBAGE_TOKENS {
            let forged = ctx.forged(token);
            let r = ctx.protected(Some(&forged)).await?;
            if !ctx.is_refusal(&r) {
                wrong.push((format!("{what} ({token:?})"), describe(&r)));
            }
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(summary(
                "malformed tokens were not rejected with a 4xx",
                &wrong,
                GARBAGE_TOKENS.len(),
            )))
        }
    })
}

fn tampered(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
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
        // Several edits: a backend that skips verification but looks the user up by `sub` might
        // refuse a changed `sub` for the wrong reason; a longer `exp` or an extra claim keeps the
        // token otherwise usable, so only a signature check refuses it.
        let mut forged = vec![jwt::tamper(&jws)];
        if !jws.has_claims_object() {
            // A bare string/number payload has one thing to change, and `tamper` changed it.
        } else if let Some(exp) = jws.numeric_claim("exp") {
            let mut claims = jws.claims.clone();
            claims.insert("exp".into(), json!(exp + 86_400));
            forged.push(jwt::ForgedToken {
                label: "exp extended by one day".into(),
                token: jwt::with_claims(&jws, &claims),
            });
        }
        if jws.has_claims_object() {
            let mut claims = jws.claims.clone();
            claims.insert("role".into(), json!("admin"));
            forged.push(jwt::ForgedToken {
                label: "claim role=admin added".into(),
                token: jwt::with_claims(&jws, &claims),
            });
        }

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

fn alg_none(ctx: &mut Ctx) -> CaseFuture<'_> {
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

fn weak_secret(ctx: &mut Ctx) -> CaseFuture<'_> {
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

fn no_sensitive_claims(ctx: &mut Ctx) -> CaseFuture<'_> {
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

fn has_expiry(ctx: &mut Ctx) -> CaseFuture<'_> {
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

/// Samples per run for the minted-token property (each one is a request to the backend).
const EXPIRY_SAMPLES: usize = 8;

/// Tokens living at most this long are waited out when the profile gives no secret.
const WAIT_OUT_MAX_SECS: i64 = 10;

fn expired_rejected(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let (session, jws) = match jwt_session(ctx).await? {
            Ok(x) => x,
            Err(skip) => return Ok(skip),
        };
        let leeway = ctx.profile.jwt.leeway_secs as i64;
        match ctx.profile.jwt.secret.clone() {
            Some(secret) => expiry_property(ctx, &session, &jws, secret.as_bytes(), leeway).await,
            None => wait_out(ctx, &session, &jws, leeway).await,
        }
    })
}

/// With the signing key: expired tokens (exp beyond the leeway in the past) are rejected and
/// unexpired ones accepted, for random offsets drawn from the run's seed.
async fn expiry_property(
    ctx: &mut Ctx,
    session: &Session,
    jws: &Jws,
    secret: &[u8],
    leeway: i64,
) -> Result<Outcome, CaseError> {
    if jwt::HmacAlg::from_name(jws.alg().unwrap_or_default()).is_none() {
        return Ok(Outcome::skipped(format!(
            "the JWT is signed with {:?}; the harness can only mint HMAC tokens",
            jws.alg()
        )));
    }
    if !jws.has_claims_object() {
        return Ok(Outcome::skipped(format!(
            "the JWT's payload is {}: there is no exp to move (token.has-expiry fails it)",
            jws.payload_kind()
        )));
    }
    if !jws.verifies_with(secret) {
        return Ok(Outcome::errored("the profile's [jwt] secret does not verify the backend's token: fix the secret to run this case"));
    }
    let seed = ctx.seed;
    let lifetime = match (jws.numeric_claim("exp"), jws.numeric_claim("iat")) {
        (Some(exp), Some(iat)) if exp > iat => exp - iat,
        _ => 3600,
    };
    let mut wrong = Vec::new();
    for i in 0..EXPIRY_SAMPLES {
        let now = unix_now();
        // Expired: just past the leeway (the boundary), then anywhere up to 30 days ago.
        let ago = match i {
            0 => leeway + 2,
            1 => leeway + 60,
            _ => ctx.rng.gen_range(leeway + 2..=leeway + 30 * 86_400),
        };
        let exp = now - ago;
        let expired = claims_with_exp(&jws.claims, exp, exp - lifetime);
        let token = jwt::mint_with_header(&jws.header, &expired, secret)
            .map_err(|e| CaseError::Other(e.to_string()))?;
        let r = ctx
            .protected(Some(&session.credential.with_main(&token)))
            .await?;
        if !ctx.is_refusal(&r) {
            wrong.push((
                format!("expired {ago} s ago (leeway {leeway} s) accepted"),
                describe(&r),
            ));
        }
        // Valid: expires between 2 minutes and the original lifetime from now.
        let ahead = ctx.rng.gen_range(120..=lifetime.max(121));
        let valid = claims_with_exp(&jws.claims, now + ahead, now);
        let token = jwt::mint_with_header(&jws.header, &valid, secret)
            .map_err(|e| CaseError::Other(e.to_string()))?;
        let r = ctx
            .protected(Some(&session.credential.with_main(&token)))
            .await?;
        if !ctx.is_accepted(&r) {
            wrong.push((format!("valid for {ahead} s more, refused"), describe(&r)));
        }
    }
    if wrong.is_empty() {
        Ok(Outcome::Passed)
    } else {
        Ok(Outcome::failed(summary(
            &format!("tokens minted with the [jwt] secret were judged wrongly (replay with --seed {seed})"),
            &wrong,
            EXPIRY_SAMPLES * 2,
        )))
    }
}

fn claims_with_exp(claims: &Map<String, Value>, exp: i64, iat: i64) -> Map<String, Value> {
    let mut c = claims.clone();
    c.insert("exp".into(), json!(exp));
    if c.contains_key("iat") {
        c.insert("iat".into(), json!(iat));
    }
    if c.contains_key("nbf") {
        c.insert("nbf".into(), json!(iat));
    }
    c
}

/// Without the key: a short-lived token is simply waited out. The backend checks `exp` against
/// its own wall clock, which the harness cannot move, so this one sleep is unavoidable.
async fn wait_out(
    ctx: &mut Ctx,
    session: &Session,
    jws: &Jws,
    leeway: i64,
) -> Result<Outcome, CaseError> {
    let Some(exp) = jws.numeric_claim("exp") else {
        return Ok(Outcome::skipped("no [jwt] secret in the profile and the token has no exp: nothing to expire (see token.has-expiry)"));
    };
    let remaining = exp - unix_now();
    if remaining > WAIT_OUT_MAX_SECS {
        return Ok(Outcome::skipped(format!(
            "no [jwt] secret in the profile to mint expired tokens, and the token lives {remaining} s (more than {WAIT_OUT_MAX_SECS} s to wait out)"
        )));
    }
    let fresh = ctx.protected(Some(&session.credential)).await?;
    if !ctx.is_accepted(&fresh) {
        return Err(CaseError::TokenRefused(format!(
            "the fresh token is not accepted ({}), so expiry cannot be judged",
            describe(&fresh)
        )));
    }
    let wait = (exp + leeway + 2 - unix_now()).max(0) as u64;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let r = ctx.protected(Some(&session.credential)).await?;
    if ctx.is_refusal(&r) {
        Ok(Outcome::Passed)
    } else {
        Ok(Outcome::failed(format!(
            "the token was still accepted {} s after its exp (leeway {leeway} s): {}",
            unix_now() - exp,
            describe(&r)
        )))
    }
}

fn unpredictable(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let first = ctx.fresh_session().await?;
        let user = first.user.clone();
        // Two JWTs minted in the same second from the same claims are the same bytes, and that is
        // no defect: space the logins by a backend clock step, or else wait for the next second.
        if ctx.clock.can_move() {
            ctx.clock.advance(2).await?;
        } else {
            let into_second = std::time::SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_millis())
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(u64::from(1000 - into_second) + 20)).await;
        }
        let second = ctx.session_for(user.clone()).await?;
        let mut user_ids = Vec::new();
        if ctx.has_identity() {
            let r = ctx.protected(Some(&second.credential)).await?;
            user_ids.extend(ctx.identity_of(&r, &second.credential));
        }
        for login in [&first.login, &second.login] {
            for key in [
                "/userId",
                "/user_id",
                "/uid",
                "/data/userId",
                "/data/user_id",
            ] {
                if let Some(v) = login.response.pointer(key) {
                    user_ids.push(crate::profile::value_text(v));
                }
            }
        }
        let mut session_keys = Vec::new();
        for e in ctx.journal_since_case(Some("/sns/jscode2session")).await? {
            if let Some(Value::String(k)) = e
                .response_json()
                .and_then(|j| j.get("session_key").cloned())
            {
                session_keys.push(k);
            }
        }
        let appid = ctx.fake.appid().to_owned();
        let openid_appid = format!("{}{appid}", user.openid);
        let appid_openid = format!("{appid}{}", user.openid);
        let mut ids = vec![
            Identifier {
                label: "openid",
                value: &user.openid,
            },
            Identifier {
                label: "openid+appid",
                value: &openid_appid,
            },
            Identifier {
                label: "appid+openid",
                value: &appid_openid,
            },
        ];
        if let Some(u) = &user.unionid {
            ids.push(Identifier {
                label: "unionid",
                value: u,
            });
        }
        ids.extend(session_keys.iter().map(|k| Identifier {
            label: "session_key",
            value: k,
        }));
        ids.extend(user_ids.iter().map(|u| Identifier {
            label: "userId",
            value: u,
        }));
        for token in [&first.token, &second.token] {
            if let Some(how) = jwt::predictable_derivation(token, &ids) {
                return Ok(Outcome::failed(format!(
                    "{how}: anyone who knows it can compute the token"
                )));
            }
        }
        if first.token == second.token {
            return Ok(Outcome::failed(format!(
                "two logins of the same user gave the same token {}: a token must name a session, not a user",
                redacted(&first.token)
            )));
        }
        Ok(Outcome::Passed)
    })
}
