//! Multi-part credentials (a session id and its key; a header and a cookie): what the token.*
//! cases do to each part on its own, and token.parts-bound, which recombines the parts of two
//! sessions. A one-part credential has nothing to take apart: these helpers leave it alone.

use super::shared::{describe, summary};
use crate::case::{CaseFuture, Outcome};
use crate::context::{Credential, Ctx, Session};
use crate::error::CaseError;

/// Whether the profile's credential has more than one part.
pub(super) fn is_multi_part(ctx: &Ctx) -> bool {
    ctx.profile.compiled.token_parts.len() > 1
}

/// The names of the credential's parts, in the profile's order.
pub(super) fn part_names(ctx: &Ctx) -> Vec<String> {
    ctx.profile
        .compiled
        .token_parts
        .iter()
        .map(|(name, _)| name.clone())
        .collect()
}

/// A fresh session whose untouched credential opens the protected endpoint: what every
/// per-part check compares against (a refusal of a changed part proves nothing otherwise).
pub(super) async fn accepted_session(ctx: &mut Ctx, what: &str) -> Result<Session, CaseError> {
    let session = ctx.fresh_session().await?;
    let baseline = ctx.protected(Some(&session.credential)).await?;
    if !ctx.is_accepted(&baseline) {
        return Err(CaseError::TokenRefused(format!(
            "the untouched credential is not accepted ({}), so {what} cannot be judged",
            describe(&baseline)
        )));
    }
    Ok(session)
}

/// Copies of an opaque value with one small edit each, keeping its alphabet where it can: the
/// last letter or digit changed, and the last character cut off. A backend that checks the
/// part refuses both; one that ignores it (or compares a prefix) lets them in.
pub(super) fn altered(value: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let chars: Vec<char> = value.chars().collect();
    if let Some(i) = chars.iter().rposition(|c| c.is_ascii_alphanumeric()) {
        let mut changed = chars.clone();
        changed[i] = next_in_alphabet(chars[i]);
        out.push((
            "the last letter or digit changed",
            changed.into_iter().collect(),
        ));
    } else {
        out.push(("one character appended", format!("{value}A")));
    }
    if chars.len() > 1 {
        out.push((
            "the last character cut off",
            chars[..chars.len() - 1].iter().collect(),
        ));
    }
    out
}

/// The next character of the same kind: a hex digit stays a hex digit (`9` → `0`, `f` → `a`),
/// another letter stays a letter of the same case.
fn next_in_alphabet(c: char) -> char {
    let within = |c: char, first: char, last: char| {
        if c == last {
            first
        } else {
            char::from(c as u8 + 1)
        }
    };
    match c {
        '0'..='9' => within(c, '0', '9'),
        'a'..='f' => within(c, 'a', 'f'),
        'A'..='F' => within(c, 'A', 'F'),
        'g'..='z' => within(c, 'g', 'z'),
        'G'..='Z' => within(c, 'G', 'Z'),
        _ => 'A',
    }
}

/// "user A's id with user B's skey" (or "… B's other parts (skey, ts)" for three and more).
fn swap_label(name: &str, others: &[&str]) -> String {
    match others {
        [one] => format!("user A's {name} with user B's {one}"),
        _ => format!(
            "user A's {name} with user B's other parts ({})",
            others.join(", ")
        ),
    }
}

pub(super) fn parts_bound(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let names = part_names(ctx);
        if names.len() < 2 {
            return Ok(Outcome::skipped(format!(
                "the credential has one part ({}): there are no parts to recombine",
                names.join(", ")
            )));
        }
        let a = accepted_session(ctx, "recombining parts").await?;
        let b = accepted_session(ctx, "recombining parts").await?;
        let mut tried = 0;
        let mut same = Vec::new();
        let mut wrong = Vec::new();
        for name in &names {
            let (Some(mine), Some(theirs)) = (a.credential.get(name), b.credential.get(name))
            else {
                continue;
            };
            if mine == theirs {
                // The same in every session (a constant part): swapping it changes nothing.
                same.push(name.as_str());
                continue;
            }
            let others: Vec<&str> = names
                .iter()
                .filter(|n| *n != name)
                .map(String::as_str)
                .collect();
            let mixed: Credential = b.credential.with_part(name, mine);
            tried += 1;
            let r = ctx.protected(Some(&mixed)).await?;
            if !ctx.is_refusal(&r) {
                wrong.push((swap_label(name, &others), describe(&r)));
            }
        }
        if tried == 0 {
            return Ok(Outcome::skipped(format!(
                "every part ({}) is the same in two users' sessions: there is nothing to recombine",
                same.join(", ")
            )));
        }
        if wrong.is_empty() {
            Ok(Outcome::Passed)
        } else {
            Ok(Outcome::failed(summary(
                "credentials made of two sessions' parts were not rejected (each part must be checked against the session the others name, not on its own)",
                &wrong,
                tried,
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_altered_part_differs_from_the_original_and_keeps_a_hex_alphabet() {
        let skey = "9f00c3e1a7b2d4c6e8f0a1b2c3d4e5f6a7b8c9d0";
        let edits = altered(skey);
        assert_eq!(edits.len(), 2);
        for (_, v) in &edits {
            assert_ne!(v, skey);
            assert!(v.chars().all(|c| c.is_ascii_hexdigit()), "{v}");
        }
        assert_eq!(edits[0].1.len(), skey.len());
        assert!(edits[0].1.ends_with("d1"), "{}", edits[0].1);
        assert_eq!(edits[1].1, &skey[..skey.len() - 1]);
    }

    #[test]
    fn a_uuid_keeps_its_dashes_when_altered() {
        let id = "0c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4ef";
        let (_, changed) = &altered(id)[0];
        assert_eq!(changed, "0c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4ea");
    }

    #[test]
    fn wrapping_stays_in_each_alphabet() {
        assert_eq!(next_in_alphabet('9'), '0');
        assert_eq!(next_in_alphabet('f'), 'a');
        assert_eq!(next_in_alphabet('F'), 'A');
        assert_eq!(next_in_alphabet('z'), 'g');
        assert_eq!(next_in_alphabet('Z'), 'G');
        assert_eq!(next_in_alphabet('-'), 'A');
    }

    #[test]
    fn a_value_without_letters_or_digits_still_changes() {
        for v in ["-", "--", "", "é"] {
            for (_, edited) in altered(v) {
                assert_ne!(edited, v);
            }
        }
    }

    #[test]
    fn swap_labels_name_the_parts() {
        assert_eq!(
            swap_label("id", &["skey"]),
            "user A's id with user B's skey"
        );
        assert_eq!(
            swap_label("id", &["skey", "ts"]),
            "user A's id with user B's other parts (skey, ts)"
        );
    }
}
