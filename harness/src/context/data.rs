//! Encrypted user data the way the profile takes it: through the user-info endpoint (with a
//! session), or through the login itself when the login request carries it (Wafer headers, a
//! one-call login + getUserInfo body). The data.* cases send their variants through here and
//! read back what the backend shows of the decrypted fields (an echoing answer, a read-back
//! request, the login answer or the protected answer), or judge acceptance alone when the
//! backend shows nothing.

use serde_json::Value;

use super::render::Values;
use super::{Credential, Ctx, Session};
use crate::error::CaseError;
use crate::exchange::Response;
use crate::fake::{Encrypted, User};
use crate::profile::UserInfoMode;

/// Where the data of one user goes.
pub struct DataSink {
    pub user: User,
    /// The session the user-info endpoint is called with (None: the data goes with the login).
    pub session: Option<Session>,
}

/// What one submission gave.
pub struct DataAnswer {
    pub data: Encrypted,
    pub response: Response,
    /// Accepted the way a success is (for a login: a credential with a success answer).
    pub accepted: bool,
    /// Refused the way a correct backend refuses (for a login: no credential, no 5xx).
    pub refused: bool,
    /// What the backend shows of the decrypted fields; None when the profile shows nothing
    /// (an acknowledge-only endpoint without read-back).
    pub shown: Option<Option<Value>>,
    /// The credential the account is reached with afterwards: the session's for the user-info
    /// endpoint, the one the login gave when the data went with the login (None: it gave none).
    pub credential: Option<Credential>,
}

impl Ctx {
    /// Whether the profile takes encrypted user data at all.
    pub fn takes_data(&self) -> bool {
        self.has_user_info() || self.login_carries_data()
    }

    /// Prepares to send data for `user` (logs in when the data goes to the user-info endpoint).
    pub async fn data_sink(&mut self, user: User) -> Result<DataSink, CaseError> {
        let session = if self.has_user_info() {
            Some(self.session_for(user.clone()).await?)
        } else {
            // Through the login: a first wx.login gives the user a session_key to encrypt under
            // (each submission then mints its own code).
            self.fake.login_code(&user.openid).await?;
            None
        };
        Ok(DataSink { user, session })
    }

    /// Logs the sink's user in again (the session_key rotates), for staleness checks.
    pub async fn renew(&mut self, sink: &mut DataSink) -> Result<(), CaseError> {
        if sink.session.is_some() {
            sink.session = Some(self.session_for(sink.user.clone()).await?);
        }
        Ok(())
    }

    /// Encrypts `variant` (with field overrides) under the key the backend will hold, and
    /// sends it. Through the login, the code is minted first: minting rotates the key.
    pub async fn send_data(
        &mut self,
        sink: &mut DataSink,
        variant: &str,
        fields: Option<Value>,
    ) -> Result<DataAnswer, CaseError> {
        let openid = sink.user.openid.clone();
        if sink.session.is_some() {
            let data = self.encrypt_user_info(&openid, variant, fields).await?;
            return self.resend_data(sink, &data).await;
        }
        let code = self.login_code(&openid).await?;
        let data = self.encrypt_user_info(&openid, variant, fields).await?;
        self.data_through_login(code, data).await
    }

    /// Sends data already encrypted (data from before a re-login, say).
    pub async fn resend_data(
        &mut self,
        sink: &mut DataSink,
        data: &Encrypted,
    ) -> Result<DataAnswer, CaseError> {
        match &sink.session {
            Some(session) => {
                let credential = session.credential.clone();
                let response = self
                    .user_info(&credential, data)
                    .await?
                    .ok_or_else(|| CaseError::Other("the profile has no [user_info]".into()))?;
                let accepted = self.is_accepted(&response);
                let shown = if accepted {
                    self.shown_by_endpoint(&response, &credential).await?
                } else {
                    Some(None)
                };
                Ok(DataAnswer {
                    data: data.clone(),
                    refused: self.is_refusal(&response),
                    accepted,
                    response,
                    shown,
                    credential: Some(credential),
                })
            }
            None => {
                let code = self.login_code(&sink.user.openid).await?;
                self.data_through_login(code, data.clone()).await
            }
        }
    }

    async fn data_through_login(
        &mut self,
        code: String,
        data: Encrypted,
    ) -> Result<DataAnswer, CaseError> {
        let values = Values {
            code: Some(code),
            data: Some(data.clone()),
            ..Values::default()
        };
        let login = self.login_with(values).await?;
        let accepted = login.succeeded(self);
        let refused = login.credential.is_none() && self.is_refusal(&login.response);
        let l = &self.profile.login;
        let shown = match (&login.credential, &l.data_pointer, &l.data_read_back) {
            (_, Some(ptr), _) => Some(login.response.pointer(ptr).cloned()),
            (Some(c), None, Some(ptr)) if accepted => {
                let ptr = ptr.clone();
                let r = self.protected(Some(&c.clone())).await?;
                Some(r.pointer(&ptr).cloned())
            }
            (_, None, Some(_)) => Some(None),
            (_, None, None) => None,
        };
        Ok(DataAnswer {
            data,
            response: login.response,
            accepted,
            refused,
            shown,
            credential: login.credential,
        })
    }

    /// What an accepted user-info answer shows: the echo, or the read-back.
    async fn shown_by_endpoint(
        &mut self,
        r: &Response,
        credential: &Credential,
    ) -> Result<Option<Option<Value>>, CaseError> {
        let Some(u) = self.profile.compiled.user_info.as_ref() else {
            return Ok(None);
        };
        if u.mode == UserInfoMode::Echo {
            return Ok(Some(r.pointer(&u.result_pointer).cloned()));
        }
        Ok(self.read_back(credential).await?.map(Some))
    }
}
