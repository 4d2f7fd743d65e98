//! Tokens computed from identifiers: the openid itself, its base64, or an md5/sha1/sha256 digest.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// An identifier a token must not be derived from.
#[derive(Clone, Debug)]
pub struct Identifier<'a> {
    pub label: &'a str,
    pub value: &'a str,
}

/// If `token` is the identifier itself, or an md5/sha1/sha256 digest (hex, either case, or base64 in
/// any alphabet) of an identifier, or base64 of it, says which; `None` when no derivation matches.
/// Callers pass openid, unionid, session_key, userId and combinations such as openid+appid.
pub fn predictable_derivation(token: &str, identifiers: &[Identifier<'_>]) -> Option<String> {
    let token = token.trim();
    for id in identifiers.iter().filter(|id| !id.value.is_empty()) {
        let bytes = id.value.as_bytes();
        let mut candidates: Vec<(String, String)> =
            vec![("the value itself".into(), id.value.to_owned())];
        candidates.extend(
            base64_forms(bytes)
                .into_iter()
                .map(|b| ("base64".to_owned(), b)),
        );
        let digests = [
            ("md5", Md5::digest(bytes).to_vec()),
            ("sha1", Sha1::digest(bytes).to_vec()),
            ("sha256", Sha256::digest(bytes).to_vec()),
        ];
        for (name, digest) in digests {
            candidates.push((format!("{name} hex"), hex::encode(&digest)));
            candidates.extend(
                base64_forms(&digest)
                    .into_iter()
                    .map(|b| (format!("{name} base64"), b)),
            );
        }
        for (how, candidate) in candidates {
            if token == candidate
                || (how.ends_with("hex") && token.eq_ignore_ascii_case(&candidate))
            {
                return Some(format!("token is {how} of {}", id.label));
            }
        }
    }
    None
}

fn base64_forms(bytes: &[u8]) -> [String; 4] {
    [
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::attack::tamper;
    use super::super::parse::tests::{obj, JWT_IO};
    use super::super::parse::{decode, mint, HmacAlg};
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_derived_from_identifiers_are_recognised() {
        let openid = "oGZUI0egBJY1zhBYw2KhdUfwVJJE";
        let ids = [Identifier {
            label: "openid",
            value: openid,
        }];
        let md5_hex = hex::encode(Md5::digest(openid.as_bytes()));
        assert_eq!(
            predictable_derivation(&md5_hex, &ids).as_deref(),
            Some("token is md5 hex of openid")
        );
        assert!(predictable_derivation(&md5_hex.to_uppercase(), &ids).is_some());
        let sha_b64 = URL_SAFE_NO_PAD.encode(Sha256::digest(openid.as_bytes()));
        assert_eq!(
            predictable_derivation(&sha_b64, &ids).as_deref(),
            Some("token is sha256 base64 of openid")
        );
        let sha1_hex = hex::encode(Sha1::digest(openid.as_bytes()));
        assert!(predictable_derivation(&sha1_hex, &ids).is_some());
        assert!(predictable_derivation(&STANDARD.encode(openid), &ids).is_some());
        assert!(predictable_derivation(openid, &ids).is_some());
        assert_eq!(
            predictable_derivation("f3a1c0d2e4b5a6978877665544332211", &ids),
            None
        );
        assert_eq!(predictable_derivation(JWT_IO, &ids), None);
    }

    proptest::proptest! {
        #[test]
        fn any_claims_round_trip_and_any_tampering_breaks_the_signature(
            sub in "[a-zA-Z0-9_\\-\\p{Han}]{1,40}",
            exp in 0i64..4_000_000_000,
            key in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
        ) {
            let claims = obj(json!({"sub": sub, "exp": exp}));
            let token = mint(HmacAlg::Hs256, &claims, &key);
            let jws = decode(&token).unwrap();
            proptest::prop_assert_eq!(&jws.claims, &claims);
            proptest::prop_assert!(jws.verifies_with(&key));
            let forged = decode(&tamper(&jws).token).unwrap();
            proptest::prop_assert_ne!(&forged.claims["sub"], &claims["sub"]);
            proptest::prop_assert!(!forged.verifies_with(&key));
        }
    }
}
