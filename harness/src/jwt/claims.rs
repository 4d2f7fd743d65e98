//! What a readable payload must not carry: secrets (by claim name or by a known value) and, worth
//! an INFO line, the user's openid or unionid.

use serde_json::{Map, Value};

/// A secret value the harness knows and must never find inside a token.
#[derive(Clone, Debug)]
pub struct KnownSecret<'a> {
    /// What it is, for the report ("session_key of user o…", "appsecret").
    pub label: &'a str,
    pub value: &'a str,
}

/// Something sensitive found in a token's claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SensitiveClaim {
    /// JSON pointer of the claim inside the payload.
    pub pointer: String,
    pub why: String,
}

/// Claim names that mean a secret travels in the token, compared after lowercasing and dropping
/// `_`/`-` so `session_key`, `sessionKey` and `SESSION-KEY` all match.
const SENSITIVE_NAMES: &[&str] = &[
    "sessionkey",
    "wxsessionkey",
    "appsecret",
    "secret",
    "clientsecret",
    "accesstoken",
    "password",
    "passwd",
];

/// Finds sensitive claims: a name from the list above, or any string value that contains a known
/// secret value (session keys from the journal, the appsecret, access tokens).
pub fn sensitive_claims(
    claims: &Map<String, Value>,
    known: &[KnownSecret<'_>],
) -> Vec<SensitiveClaim> {
    let mut found = Vec::new();
    for (name, value) in claims {
        walk(
            &format!("/{}", escape_pointer(name)),
            name,
            value,
            known,
            &mut found,
        );
    }
    found
}

fn walk(
    pointer: &str,
    name: &str,
    value: &Value,
    known: &[KnownSecret<'_>],
    found: &mut Vec<SensitiveClaim>,
) {
    let normalized: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .collect::<String>()
        .to_lowercase();
    if SENSITIVE_NAMES.contains(&normalized.as_str()) {
        found.push(SensitiveClaim {
            pointer: pointer.to_owned(),
            why: format!("claim name {name:?} carries a secret"),
        });
    }
    match value {
        Value::String(s) => {
            for secret in known.iter().filter(|k| !k.value.is_empty()) {
                if s.contains(secret.value) {
                    found.push(SensitiveClaim {
                        pointer: pointer.to_owned(),
                        why: format!("value contains the {}", secret.label),
                    });
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                walk(
                    &format!("{pointer}/{}", escape_pointer(k)),
                    k,
                    v,
                    known,
                    found,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(&format!("{pointer}/{i}"), name, v, known, found);
            }
        }
        _ => {}
    }
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Claims that carry the user's WeChat identity (openid, unionid) by name or by value: not a secret,
/// but readable by anyone who holds the token, so worth an INFO line. Pointers into the payload.
pub fn identity_claims(
    claims: &Map<String, Value>,
    values: &[KnownSecret<'_>],
) -> Vec<SensitiveClaim> {
    let mut found = Vec::new();
    for (name, value) in claims {
        let normalized: String = name
            .chars()
            .filter(|c| *c != '_' && *c != '-')
            .collect::<String>()
            .to_lowercase();
        let pointer = format!("/{}", escape_pointer(name));
        if matches!(
            normalized.as_str(),
            "openid" | "unionid" | "wxopenid" | "wxunionid"
        ) {
            found.push(SensitiveClaim {
                pointer,
                why: format!("claim {name:?} names the user's WeChat identity"),
            });
            continue;
        }
        if let Value::String(s) = value {
            if let Some(v) = values
                .iter()
                .find(|v| !v.value.is_empty() && s.contains(v.value))
            {
                found.push(SensitiveClaim {
                    pointer,
                    why: format!("value contains the {}", v.label),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::parse::tests::obj;
    use super::*;
    use serde_json::json;

    #[test]
    fn sensitive_claims_are_found_by_name_and_by_value() {
        let claims = obj(json!({
            "sub": "u-1",
            "sessionKey": "whatever",
            "ctx": {"k": "prefix-tiihtNczf5v6AKRyjwEUhQ==", "list": ["APPSECRET123"]},
        }));
        let known = [
            KnownSecret {
                label: "session_key",
                value: "tiihtNczf5v6AKRyjwEUhQ==",
            },
            KnownSecret {
                label: "appsecret",
                value: "APPSECRET123",
            },
        ];
        let found = sensitive_claims(&claims, &known);
        let pointers: Vec<&str> = found.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(pointers, ["/sessionKey", "/ctx/k", "/ctx/list/0"]);
        assert!(
            sensitive_claims(&obj(json!({"sub": "u", "sid": "s", "exp": 1})), &known).is_empty()
        );
        assert_eq!(
            sensitive_claims(&obj(json!({"session_key": 1})), &[]).len(),
            1
        );
    }

    #[test]
    fn openid_and_unionid_claims_are_found_by_name_and_value() {
        let claims = obj(json!({"openId": "x", "sub": "oGZUI0egBJY1zhBYw2KhdUfwVJJE", "n": 1}));
        let ids = [KnownSecret {
            label: "openid",
            value: "oGZUI0egBJY1zhBYw2KhdUfwVJJE",
        }];
        let found = identity_claims(&claims, &ids);
        let pointers: Vec<&str> = found.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(pointers, ["/openId", "/sub"]);
        assert!(identity_claims(&obj(json!({"sub": "u-1"})), &ids).is_empty());
    }
}
