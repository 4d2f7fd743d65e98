//! The encrypted-data probes, after a credential was accepted: where a login that carries
//! userInfo shows it back (its own answer or the protected one), and, when a user-info path is
//! given, which body it takes, whether it echoes the decrypted fields or only acknowledges, and
//! where they can be read back. The data is minted by the fake under the session_key the
//! backend holds for this user's last login.

use serde_json::Value;

use super::answer::child;
use super::found::{DiscoverOptions, Discovery, UserInfoFound};
use super::login::LoginHit;
use super::probe::{control, Accepted, Prober, MAX_OTHER_PROBES};
use crate::error::HarnessError;
use crate::fake::{Encrypted, User};

/// The nickName the encrypted userInfo carries (what a backend shows back).
fn nick_name(data: &Encrypted) -> Option<String> {
    let plain: Value = serde_json::from_str(&data.plaintext).ok()?;
    plain
        .get("nickName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The pointer (depth first) of the object whose `nickName` is `nick`.
fn object_with(v: &Value, nick: &str, at: &str) -> Option<String> {
    match v {
        Value::Object(m) => {
            if m.get("nickName").and_then(Value::as_str) == Some(nick) {
                return Some(at.to_string());
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

fn shown(json: &Option<Value>, nick: &Option<String>) -> Option<String> {
    object_with(json.as_ref()?, nick.as_deref()?, "")
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
            let nick = nick_name(data);
            login.data_pointer = shown(&hit.response.json, &nick);
            if login.data_pointer.is_none() {
                login.data_read_back = shown(&accepted.with.json, &nick);
            }
            if login.data_pointer.is_none() && login.data_read_back.is_none() {
                d.unknown.push(
                    "where the backend shows the userInfo the login carried (neither the login \
                     answer nor the protected answer showed its nickName): the data.* cases \
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
            let nick = nick_name(&data);
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
                result_pointer: shown(&answer.json, &nick),
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
                    if let Some(p) = shown(&Some(whole), &nick) {
                        found.read_back = Some((read, p));
                        break;
                    }
                }
                if found.read_back.is_none() {
                    d.unknown.push(format!(
                        "where the data sent to {path} can be read back (neither GET {path} nor \
                         the protected answer showed its nickName): the data.* cases judge \
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
