//! data.*: encrypted open data (WXBizDataCrypt). The fake's forge encrypts under the user's
//! current session_key, or breaks the data on purpose (variants); a correct backend returns the
//! decrypted fields exactly and refuses every broken variant with a 4xx, never a 5xx.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Map, Value};

use super::{Case, CaseFuture, Outcome, Severity};
use crate::context::{Credential, Ctx, DataAnswer, Session};
use crate::error::CaseError;
use crate::exchange::{truncate, Response};
use crate::fake::User;

/// The cases of this family, in catalogue order.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new("data.user-info", Severity::Must, "valid encrypted userInfo is decrypted and every field comes back exactly", user_info),
        Case::new("data.roundtrip-property", Severity::Must, "random profiles (CJK, emoji, long names, block-boundary lengths) decrypt to exactly what was encrypted", roundtrip_property),
        Case::new("data.watermark-mismatch", Severity::Must, "data whose watermark.appid is another mini-program's is rejected (4xx)", watermark_mismatch),
        Case::new("data.tampered", Severity::Must, "tampered, badly padded, truncated or mis-encoded data is rejected with a 4xx, never a 5xx", tampered),
        Case::new("data.bad-iv", Severity::Must, "an iv of 15 or 17 bytes is rejected with a 4xx, never a 5xx", bad_iv),
        Case::new("data.stale-session-key", Severity::Must, "data encrypted under the session_key from before a re-login is rejected", stale_session_key),
        Case::new("data.openid-mismatch", Severity::Must, "userInfo whose openId is another user of the app (right key, right watermark) is refused, or at least never becomes or changes the account", openid_mismatch),
        Case::new("data.phone-number", Severity::Must, "a getPhoneNumber code resolves to the user's phone number", phone_number),
    ]
}

const NO_USER_INFO: &str = "the profile has no [user_info] endpoint that takes encryptedData/iv, and its login carries no encrypted data";

fn describe(r: &Response) -> String {
    format!("HTTP {} {}", r.status, truncate(&r.body, 200))
}

/// What the backend showed of the decrypted fields, compared with what was encrypted; an
/// answer that shows nothing (acknowledge-only, no read-back) is judged on acceptance alone.
fn shown_differences(answer: &DataAnswer) -> Vec<String> {
    match &answer.shown {
        None => vec![],
        Some(shown) => differences(&answer.data.plaintext, shown.as_ref()),
    }
}

/// What differs between the plaintext that was encrypted and what the backend returned. Every
/// field must come back exactly; the watermark may be left out (it is WeChat's, not the user's),
/// but when it is returned it must be intact.
fn differences(plaintext: &str, answer: Option<&Value>) -> Vec<String> {
    let expected: Map<String, Value> = match serde_json::from_str(plaintext) {
        Ok(Value::Object(m)) => m,
        _ => return vec!["the forge's plaintext is not a JSON object (fake bug)".into()],
    };
    let Some(Value::Object(got)) = answer else {
        return vec![format!(
            "no decrypted object at the result pointer (found {})",
            answer.map_or("nothing".into(), |v| truncate(&v.to_string(), 80))
        )];
    };
    let mut out = Vec::new();
    for (key, want) in &expected {
        match got.get(key) {
            Some(have) if have == want => {}
            None if key == "watermark" => {}
            Some(have) => out.push(format!(
                "{key}: expected {}, got {}",
                truncate(&want.to_string(), 80),
                truncate(&have.to_string(), 80)
            )),
            None => out.push(format!(
                "{key}: missing (expected {})",
                truncate(&want.to_string(), 80)
            )),
        }
    }
    out
}

fn user_info(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if !ctx.takes_data() {
            return Ok(Outcome::skipped(NO_USER_INFO));
        }
        let user = ctx.new_user(json!({})).await?;
        let mut sink = ctx.data_sink(user).await?;
        let answer = ctx.send_data(&mut sink, "valid", None).await?;
        if !answer.accepted {
            return Ok(Outcome::failed(format!(
                "valid encrypted userInfo was refused: {}",
                describe(&answer.response)
            ))
            .with_note(format!(
                "plaintext that was encrypted: {}",
                answer.data.plaintext
            )));
        }
        let diff = shown_differences(&answer);
        if diff.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "decrypted userInfo differs from what was encrypted: {}",
                diff.join("; ")
            ))
            .with_note(format!(
                "plaintext that was encrypted: {}",
                answer.data.plaintext
            )))
        }
    })
}

/// Nickname lengths (in characters) of the samples: short, around the 16-byte block size, and
/// past the 20-character columns some backends truncate to.
const NICKNAME_LENGTHS: &[usize] = &[1, 4, 15, 16, 17, 20, 21, 24, 31, 32, 33, 64];

/// Plaintext length modulo 16 each sample is steered to: 0 (a whole padding block), 15 (one pad
/// byte) and 1 (fifteen pad bytes).
const BLOCK_RESIDUES: &[usize] = &[0, 15, 1];

const EMOJI: &[&str] = &["😀", "🎉", "👍", "🐼", "🍜", "❤️", "👨‍👩‍👧", "🇨🇳", "🧧", "✨"];
const CJK_NAMES: &[&str] = &[
    "广州", "深圳", "北京", "上海", "成都", "杭州", "重庆", "西安",
];
const PUNCTUATION: &[char] = &[' ', '"', '\\', '/', '<', '>', '&', '\'', '_', '-', '.', '~'];

/// One random character from a mix of scripts: CJK, kana, hangul, accented Latin, emoji, ASCII.
fn random_char(rng: &mut StdRng) -> String {
    match rng.gen_range(0..7) {
        0 | 1 => char::from_u32(rng.gen_range(0x4E00..=0x9FA5))
            .map(String::from)
            .unwrap_or_default(),
        2 => EMOJI
            .choose(rng)
            .map(|e| (*e).to_owned())
            .unwrap_or_default(),
        3 => char::from_u32(rng.gen_range(0x3041..=0x3096))
            .map(String::from)
            .unwrap_or_default(),
        4 => ["é", "ñ", "ü", "ø", "ß", "한", "글"]
            .choose(rng)
            .map(|c| (*c).to_owned())
            .unwrap_or_default(),
        5 => PUNCTUATION
            .choose(rng)
            .map(|c| c.to_string())
            .unwrap_or_default(),
        _ => char::from(rng.gen_range(b'a'..=b'z')).to_string(),
    }
}

/// A nickname of exactly `chars` extended grapheme-ish units (each pick is one visible symbol).
fn random_nickname(rng: &mut StdRng, chars: usize) -> String {
    (0..chars).map(|_| random_char(rng)).collect()
}

fn random_profile(rng: &mut StdRng, nickname_chars: usize) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "nickName".into(),
        json!(random_nickname(rng, nickname_chars)),
    );
    m.insert("gender".into(), json!(rng.gen_range(0..=2)));
    m.insert(
        "language".into(),
        json!(["zh_CN", "zh_TW", "en", ""]
            .choose(rng)
            .copied()
            .unwrap_or("zh_CN")),
    );
    m.insert(
        "city".into(),
        json!(CJK_NAMES.choose(rng).copied().unwrap_or("广州")),
    );
    m.insert(
        "province".into(),
        json!(CJK_NAMES.choose(rng).copied().unwrap_or("广东")),
    );
    m.insert(
        "country".into(),
        json!(["中国", "CN", ""].choose(rng).copied().unwrap_or("CN")),
    );
    m
}

fn roundtrip_property(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if !ctx.takes_data() {
            return Ok(Outcome::skipped(NO_USER_INFO));
        }
        let seed = ctx.seed;
        let user = ctx.new_user(json!({})).await?;
        let openid = user.openid.clone();
        let mut sink = ctx.data_sink(user).await?;
        let mut failures = Vec::new();
        let mut lengths = NICKNAME_LENGTHS.to_vec();
        lengths.shuffle(&mut ctx.rng);
        for (i, chars) in lengths.iter().copied().enumerate() {
            let mut fields = random_profile(&mut ctx.rng, chars);
            // Measure, then pad `city` with ASCII so the plaintext ends on the chosen residue.
            let probe = ctx
                .encrypt_user_info(&openid, "valid", Some(Value::Object(fields.clone())))
                .await?;
            let target = BLOCK_RESIDUES[i % BLOCK_RESIDUES.len()];
            let pad = (16 + target - probe.plaintext.len() % 16) % 16;
            let city = format!(
                "{}{}",
                fields["city"].as_str().unwrap_or_default(),
                "x".repeat(pad)
            );
            fields.insert("city".into(), json!(city));
            let answer = ctx
                .send_data(&mut sink, "valid", Some(Value::Object(fields.clone())))
                .await?;
            let data = &answer.data;
            let sample = format!(
                "sample {i} (nickName of {chars} symbols, {} bytes of plaintext, {} mod 16)",
                data.plaintext.len(),
                data.plaintext.len() % 16
            );
            if !answer.accepted {
                failures.push(format!(
                    "{sample} was refused: {}; plaintext {}",
                    describe(&answer.response),
                    truncate(&data.plaintext, 300)
                ));
            } else {
                let diff = shown_differences(&answer);
                if !diff.is_empty() {
                    failures.push(format!("{sample}: {}", diff.join("; ")));
                }
            }
            if failures.len() >= 3 {
                break;
            }
        }
        if failures.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "random profiles did not decrypt exactly (replay with --seed {seed}): {}",
                failures.join(" | ")
            )))
        }
    })
}

/// Submits each variant for one user (through the user-info endpoint or the login); every one
/// must be refused with a 4xx (or a rejection rule), never a 5xx.
async fn all_refused(ctx: &mut Ctx, variants: &[&str], what: &str) -> Result<Outcome, CaseError> {
    if !ctx.takes_data() {
        return Ok(Outcome::skipped(NO_USER_INFO));
    }
    let user = ctx.new_user(json!({})).await?;
    let mut sink = ctx.data_sink(user).await?;
    let mut wrong = Vec::new();
    for variant in variants {
        let answer = ctx.send_data(&mut sink, variant, None).await?;
        if !answer.refused {
            let how = if answer.accepted {
                "accepted"
            } else {
                "not refused with a 4xx"
            };
            wrong.push(format!(
                "variant {variant} {how}: {}",
                describe(&answer.response)
            ));
        }
    }
    if wrong.is_empty() {
        Ok(Outcome::Passed)
    } else {
        Ok(Outcome::failed(format!("{what}: {}", wrong.join("; "))))
    }
}

fn openid_mismatch(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if !ctx.takes_data() {
            return Ok(Outcome::skipped(NO_USER_INFO));
        }
        let other = ctx.new_user(json!({})).await?;
        let user = ctx.new_user(json!({})).await?;
        // The accounts by the profile's identity rule, so a backend whose answers show no
        // openid (an internal id, a username) is judged too: the other user's, from their own
        // ordinary login, and this user's before the data is sent.
        let theirs = identity_of_login(ctx, &other).await?;
        let mut sink = ctx.data_sink(user.clone()).await?;
        let through_login = sink.session.is_none();
        let own = match &sink.session {
            Some(session) => {
                let credential = session.credential.clone();
                identity_behind(ctx, &credential).await?
            }
            None => identity_of_login(ctx, &user).await?,
        };
        let answer = ctx
            .send_data(
                &mut sink,
                "openid-mismatch",
                Some(json!({"openId": other.openid})),
            )
            .await?;
        if answer.refused || !answer.accepted {
            return Ok(Outcome::Passed);
        }
        let shown = answer
            .shown
            .clone()
            .flatten()
            .map(|v| v.to_string())
            .unwrap_or_default();
        let mut wrong = Vec::new();
        if answer.response.body.contains(&other.openid) || shown.contains(&other.openid) {
            wrong.push(format!(
                "the answer shows user {}'s openId as this user's data",
                other.openid
            ));
        }
        // The account the data reached (the session's, or the one the login just signed in):
        // a backend that picks or creates the account from the decrypted openId answers as the
        // other user, or under another identity, even when its data answers show no openid.
        if let Some(credential) = answer.credential.clone() {
            let after = ctx.protected(Some(&credential)).await?;
            let now = if ctx.is_accepted(&after) {
                ctx.identity_of(&after, &credential)
            } else {
                None
            };
            if after.body.contains(&other.openid) {
                wrong.push(format!("the account now answers as user {}", other.openid));
            } else if let (Some(own), Some(now)) = (own, now) {
                // Through the login, this user's ordinary login must give its identity again
                // (a backend that gives a new identity on every login is login.returning-user's
                // to report, not this case's).
                let stable = !through_login
                    || identity_of_login(ctx, &user).await?.as_deref() == Some(own.as_str());
                if own != now && stable {
                    let whose = if theirs.as_deref() == Some(now.as_str()) {
                        format!(", user {}'s", other.openid)
                    } else {
                        String::new()
                    };
                    let what = if through_login {
                        "the login signed in to the account"
                    } else {
                        "the session's account changed to"
                    };
                    wrong.push(format!(
                        "{what} {now:?}{whose}, not user {}'s own {own:?} (the profile's protected.identity)",
                        user.openid
                    ));
                }
            }
        }
        if wrong.is_empty() {
            return Ok(Outcome::Passed);
        }
        Ok(Outcome::failed(format!(
            "userInfo of user {} sent for user {} (valid ciphertext under this user's session_key, right watermark) was accepted ({}): {}",
            other.openid,
            user.openid,
            describe(&answer.response),
            wrong.join("; ")
        )))
    })
}

/// The identity the profile's rule reads behind `credential` (None: the profile has no
/// identity rule, the protected call was refused, or it shows none).
async fn identity_behind(
    ctx: &mut Ctx,
    credential: &Credential,
) -> Result<Option<String>, CaseError> {
    if !ctx.has_identity() {
        return Ok(None);
    }
    let r = ctx.protected(Some(credential)).await?;
    Ok(if ctx.is_accepted(&r) {
        ctx.identity_of(&r, credential)
    } else {
        None
    })
}

/// The identity `user`'s ordinary login signs in to (None as for [`identity_behind`]).
async fn identity_of_login(ctx: &mut Ctx, user: &User) -> Result<Option<String>, CaseError> {
    if !ctx.has_identity() {
        return Ok(None);
    }
    let session = ctx.session_for(user.clone()).await?;
    identity_behind(ctx, &session.credential).await
}

fn watermark_mismatch(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        all_refused(
            ctx,
            &["watermark-appid"],
            "data carrying another mini-program's watermark.appid was not rejected",
        )
        .await
    })
}

fn tampered(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        all_refused(
            ctx,
            &[
                "tampered",
                "bad-padding",
                "truncated",
                "length-not-block-multiple",
                "invalid-base64",
            ],
            "broken encrypted data was not refused with a 4xx",
        )
        .await
    })
}

fn bad_iv(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        all_refused(
            ctx,
            &["iv-15", "iv-17"],
            "an iv that is not exactly 16 bytes was not refused with a 4xx",
        )
        .await
    })
}

fn stale_session_key(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if !ctx.takes_data() {
            return Ok(Outcome::skipped(NO_USER_INFO));
        }
        let user = ctx.new_user(json!({})).await?;
        let openid = user.openid.clone();
        let mut sink = ctx.data_sink(user).await?;
        let old = ctx.encrypt_user_info(&openid, "valid", None).await?;
        // A re-login rotates the key (through the login, the next code does).
        ctx.renew(&mut sink).await?;
        let keys: Vec<String> = ctx
            .journal_since_case(Some("/sns/jscode2session"))
            .await?
            .iter()
            .filter_map(|e| {
                e.response_json()?
                    .get("session_key")?
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        if keys.len() >= 2 && keys[keys.len() - 1] == keys[keys.len() - 2] {
            return Ok(Outcome::errored("the fake did not rotate the session_key on the second login, so staleness cannot be judged"));
        }
        let mut wrong = Vec::new();
        // The data as the client really holds it (valid under the old key). Under the new key it
        // almost always fails the padding check; in the rare case it does not, the backend sees
        // garbage, so only acceptance is judged here (5xx handling is data.tampered's business).
        let answer = ctx.resend_data(&mut sink, &old).await?;
        if answer.accepted {
            wrong.push(format!(
                "data encrypted before the re-login was accepted with the new token: {}",
                describe(&answer.response)
            ));
        }
        // The forge's version: under the previous key, guaranteed to fail the current key's padding.
        let answer = ctx.send_data(&mut sink, "stale-session-key", None).await?;
        if !answer.refused {
            wrong.push(format!(
                "data under the previous session_key was not refused with a 4xx: {}",
                describe(&answer.response)
            ));
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(format!(
                "{} (the backend must decrypt with the session's current key only, never retry older ones)",
                wrong.join("; ")
            )))
        }
    })
}

/// A logged-in user with a random mainland phone number (the fake's default users have none).
pub(crate) async fn phone_session(ctx: &mut Ctx) -> Result<(Session, String), CaseError> {
    let number = format!(
        "1{}{:09}",
        ctx.rng.gen_range(3..=9),
        ctx.rng.gen_range(0..1_000_000_000u32)
    );
    let user = ctx
        .new_user(json!({"phoneNumber": number, "countryCode": "86"}))
        .await?;
    Ok((ctx.session_for(user).await?, number))
}

fn phone_number(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        if ctx.profile.compiled.phone.is_none() {
            return Ok(Outcome::skipped(
                "the profile has no [phone] endpoint that resolves a getPhoneNumber code",
            ));
        }
        let (session, number) = phone_session(ctx).await?;
        let code = ctx.fake.phone_code(&session.user.openid).await?;
        let r = ctx
            .phone(&session.credential, &code)
            .await?
            .ok_or_else(|| CaseError::Other("the profile has no [phone] endpoint".into()))?;
        // What WeChat answered the backend, when it asked: the number it must pass on.
        let wechat_number = ctx
            .journal_since_case(Some("/wxa/business/getuserphonenumber"))
            .await?
            .iter()
            .rev()
            .find_map(|e| {
                e.response_json()?
                    .pointer("/phone_info/phoneNumber")?
                    .as_str()
                    .map(str::to_owned)
            });
        let expected = wechat_number.unwrap_or(number);
        if !ctx.is_accepted(&r) {
            return Ok(Outcome::failed(format!(
                "a valid phone code was refused: {}",
                describe(&r)
            )));
        }
        match ctx.phone_number_of(&r) {
            Some(got) if got == expected => Ok(Outcome::Passed),
            Some(got) => Ok(Outcome::failed(format!(
                "the backend answered phone number {got:?}, WeChat said {expected:?}"
            ))),
            None => Ok(Outcome::failed(format!(
                "no phone number at the profile's phone_number_pointer in {}",
                describe(&r)
            ))),
        }
    })
}
