//! The encrypted-data probes, after a credential was accepted: where a login that carries
//! userInfo shows it back (its own answer or the protected one), and, when a user-info path is
//! given, which body it takes, whether it echoes the decrypted fields or only acknowledges, and
//! where they can be read back. The data is minted by the fake under the session_key the
//! backend holds for this user's last login.

use serde_json::{Map, Value};

use super::answer::child;
use super::found::{DiscoverOptions, Discovery, UserInfoFound};
use super::login::LoginHit;
use super::probe::{control, Accepted, Prober, MAX_OTHER_PROBES};
use crate::error::HarnessError;
use crate::fake::{Encrypted, User};

/// The decrypted userInfo fields a backend should show back (the watermark aside).
fn fields(data: &Encrypted) -> Option<Map<String, Value>> {
    let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&data.plaintext) else {
        return None;
    };
    m.remove("watermark");
    m.get("nickName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty())
        .then_some(m)
}

/// Where an answer shows the userInfo that was sent.
enum Shown {
    /// Every field, exactly: the data.* cases can compare here.
    Whole(String),
    /// The object with the same nickName, missing or changing these fields.
    Part(String, Vec<String>),
    Nowhere,
}

/// The pointer (depth first) of the object whose `nickName` is the one sent.
fn object_with(v: &Value, nick: &str, at: &str) -> Option<(String, Map<String, Value>)> {
    match v {
        Value::Object(m) => {
            if m.get("nickName").and_then(Value::as_str) == Some(nick) {
                return Some((at.to_string(), m.clone()));
            }
            m.iter()
                .find_map(|(k, x)| object_with(x, nick, &child(at, k)))
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| object_with(x, nick, &child(at, &i.to_string()))),
        _ => None,
    }
}

fn shown(json: &Option<Value>, sent: &Option<Map<String, Value>>) -> Shown {
    let (Some(json), Some(sent)) = (json, sent) else {
        return Shown::Nowhere;
    };
    let nick = sent
        .get("nickName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some((at, got)) = object_with(json, nick, "") else {
        return Shown::Nowhere;
    };
    let missing: Vec<String> = sent
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect();
    if missing.is_empty() {
        Shown::Whole(at)
    } else {
        Shown::Part(at, missing)
    }
}

impl Shown {
    /// The pointer where every field shows; a partial view is noted as not determined.
    fn pointer(self, unknown: &mut Vec<String>, whose: &str) -> Option<String> {
        match self {
            Shown::Whole(p) => Some(p),
            Shown::Part(p, missing) => {
                let at = if p.is_empty() { "the whole body" } else { &p };
                unknown.push(format!(
                    "{whose} shows the userInfo at {at} but not all of it (missing or changed: \
                     {}): a pointer there would fail data.user-info for fields the backend \
                     never meant to show, so none is written",
                    missing.join(", ")
                ));
                None
            }
            Shown::Nowhere => None,
        }
    }
}

impl Prober {
    /// Fills the data pointers of a login that carries data, and `[user_info]` when asked.
    pub(super) async fn probe_data(
        &self,
        d: &mut Discovery,
        hit: &LoginHit,
        accepted: &Accepted,
        persona: &User,
        options: &DiscoverOptions,
    ) -> Result<(), HarnessError> {
        let carries = d.login.as_ref().is_some_and(|l| l.carries_data);
        if let (Some(login), Some(data)) = (d.login.as_mut(), &hit.data) {
            let sent = fields(data);
            login.data_pointer =
                shown(&hit.response.json, &sent).pointer(&mut d.unknown, "the login answer");
            if login.data_pointer.is_none() {
                login.data_read_back = shown(&accepted.with.json, &sent)
                    .pointer(&mut d.unknown, "the protected answer");
            }
            if login.data_pointer.is_none() && login.data_read_back.is_none() {
                d.unknown.push(
                    "where the backend shows the userInfo the login carried (neither the login \
                     answer nor the protected answer showed all of it): the data.* cases \
                     judge acceptance and refusal only"
                        .into(),
                );
            }
        }
        match &options.user_info {
            Some(path) => self.find_user_info(d, path, accepted, persona).await,
            None => {
                if !carries {
                    d.unknown.push(
                        "the [user_info] endpoint that takes encryptedData/iv (give its path \
                         with --user-info): without it the data.* cases are skipped"
                            .into(),
                    );
                }
                Ok(())
            }
        }
    }

    /// Sends valid userInfo to `path` as JSON, then as a form, until one is accepted; then
    /// finds where the fields show: the answer (echo), or a read-back GET of `path` or of the
    /// protected path (acknowledge-only).
    async fn find_user_info(
        &self,
        d: &mut Discovery,
        path: &str,
        accepted: &Accepted,
        persona: &User,
    ) -> Result<(), HarnessError> {
        let protected = d.auth.as_ref().map(|a| a.path.clone());
        for body_in in ["json", "form"] {
            if d.other_probes >= MAX_OTHER_PROBES {
                break;
            }
            self.progress.stage(format!(
                "the user-info endpoint (POST {path} with a {body_in} body)"
            ));
            self.progress.save(d);
            let mut candidate = d.clone();
            candidate.user_info = Some(UserInfoFound {
                path: path.into(),
                body_in: body_in.into(),
                result_pointer: None,
                read_back: None,
            });
            let mut ctx = self.ctx(&candidate)?;
            let data = ctx
                .encrypt_user_info(&persona.openid, "valid", None)
                .await
                .map_err(control)?;
            let sent = fields(&data);
            d.other_probes += 1;
            let Ok(Some(answer)) = ctx.user_info(&accepted.credential, &data).await else {
                continue;
            };
            if !ctx.is_accepted(&answer) {
                continue;
            }
            let mut found = UserInfoFound {
                path: path.into(),
                body_in: body_in.into(),
                result_pointer: shown(&answer.json, &sent)
                    .pointer(&mut d.unknown, &format!("the answer of {path}")),
                read_back: None,
            };
            if found.result_pointer.is_none() {
                let reads = [Some(path.to_string()), protected.clone()];
                for read in reads.into_iter().flatten() {
                    let mut c = candidate.clone();
                    c.user_info = Some(UserInfoFound {
                        read_back: Some((read.clone(), String::new())),
                        ..found.clone()
                    });
                    let mut ctx = self.ctx(&c)?;
                    d.other_probes += 1;
                    let Ok(Some(whole)) = ctx.read_back(&accepted.credential).await else {
                        continue;
                    };
                    let whose = format!("GET {read}");
                    if let Some(p) = shown(&Some(whole), &sent).pointer(&mut d.unknown, &whose) {
                        found.read_back = Some((read, p));
                        break;
                    }
                }
                if found.read_back.is_none() {
                    d.unknown.push(format!(
                        "where the data sent to {path} can be read back (neither GET {path} nor \
                         the protected answer showed all of it): the data.* cases judge \
                         acceptance and refusal only"
                    ));
                }
            }
            d.user_info = Some(found);
            return Ok(());
        }
        d.unknown.push(format!(
            "the [user_info] endpoint: POST {path} with valid encryptedData, iv, rawData and \
             signature (a JSON body, then a form) and the credential was not accepted"
        ));
        Ok(())
    }
}
