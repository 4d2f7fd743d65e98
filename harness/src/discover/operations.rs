//! The endpoints that make the backend call WeChat with its access token, probed when their
//! paths are given: the phone endpoint (a getPhoneNumber code from the fake, in the usual body
//! fields; where the answer shows the number WeChat gave) and the access-token operations
//! (accepted with the credential; whether the fake saw the backend call WeChat meanwhile).

use serde_json::Value;

use super::answer::pointer_of;
use super::found::{Discovery, OperationFound, PhoneFound};
use super::probe::{Accepted, Prober, MAX_OTHER_PROBES};
use crate::error::HarnessError;
use crate::fake::User;

/// The body fields tried for the phone code.
const PHONE_CODE_FIELDS: [&str; 3] = ["code", "phoneCode", "phone_code"];

impl Prober {
    /// Finds the field the phone endpoint at `path` takes the code in, and where it answers.
    pub(super) async fn find_phone(
        &self,
        d: &mut Discovery,
        path: &str,
        accepted: &Accepted,
        persona: &User,
    ) -> Result<(), HarnessError> {
        for field in PHONE_CODE_FIELDS {
            if d.other_probes >= MAX_OTHER_PROBES {
                break;
            }
            self.progress.stage(format!(
                "the phone endpoint (POST {path} with the code as `{field}`)"
            ));
            self.progress.save(d);
            let mut candidate = d.clone();
            candidate.phone = Some(PhoneFound {
                path: path.into(),
                code_field: field.into(),
                phone_number_pointer: "/phoneNumber".into(),
            });
            let mut ctx = self.ctx(&candidate)?;
            let mark = self.fake.journal_mark().await?;
            let code = self.fake.phone_code(&persona.openid).await?;
            d.other_probes += 1;
            let Ok(Some(answer)) = ctx.phone(&accepted.credential, &code).await else {
                continue;
            };
            if !ctx.is_accepted(&answer) {
                continue;
            }
            let said = self
                .fake
                .journal(Some("/wxa/business/getuserphonenumber"), mark)
                .await?
                .iter()
                .rev()
                .find_map(|e| {
                    let v = e.response_json()?;
                    v.pointer("/phone_info/phoneNumber")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            let Some(number) = said else {
                d.unknown.push(format!(
                    "the [phone] endpoint: POST {path} with `{field}` was accepted, but the \
                     backend did not resolve the code with WeChat"
                ));
                return Ok(());
            };
            match answer
                .json
                .as_ref()
                .and_then(|j| pointer_of(j, &number, ""))
            {
                Some(p) => {
                    candidate.phone = Some(PhoneFound {
                        path: path.into(),
                        code_field: field.into(),
                        phone_number_pointer: p,
                    });
                    *d = candidate;
                }
                None => d.unknown.push(format!(
                    "where the answer of POST {path} shows the phone number (WeChat's \
                     `phoneNumber` was not in it)"
                )),
            }
            return Ok(());
        }
        d.unknown.push(format!(
            "the [phone] endpoint: POST {path} with a getPhoneNumber code as {} and the \
             credential was not accepted",
            PHONE_CODE_FIELDS.join("/")
        ));
        Ok(())
    }

    /// Keeps each of `paths` that answers a GET with the credential as a success.
    pub(super) async fn find_operations(
        &self,
        d: &mut Discovery,
        paths: &[String],
        accepted: &Accepted,
    ) -> Result<(), HarnessError> {
        for path in paths {
            if d.other_probes >= MAX_OTHER_PROBES {
                break;
            }
            self.progress
                .stage(format!("the access-token operation GET {path}"));
            self.progress.save(d);
            let mut candidate = d.clone();
            candidate.operations.push(OperationFound {
                path: path.clone(),
                calls_wechat: false,
            });
            let mut ctx = self.ctx(&candidate)?;
            let mark = self.fake.journal_mark().await?;
            d.other_probes += 1;
            let index = candidate.operations.len() - 1;
            let answer = ctx
                .access_token_operation(index, &accepted.credential)
                .await;
            match answer {
                Ok(Some(r)) if ctx.is_accepted(&r) => {
                    let calls_wechat = !self.fake.journal(None, mark).await?.is_empty();
                    d.operations.push(OperationFound {
                        path: path.clone(),
                        calls_wechat,
                    });
                }
                Ok(Some(r)) => d.unknown.push(format!(
                    "the access-token operation GET {path}: refused with the credential \
                     (HTTP {})",
                    r.status
                )),
                _ => d
                    .unknown
                    .push(format!("the access-token operation GET {path}: no answer")),
            }
        }
        Ok(())
    }
}
