//! The backend's requests in the profile's dialect — login, protected call, user-info, phone,
//! access-token operations — each rendered by the one renderer from the compiled profile, and
//! where their answers keep the credential, the identity, the decrypted data and the phone.

use serde_json::{json, Value};

use super::credential::Credential;
use super::render::{render, Values};
use super::{Ctx, LoginResult, Session};
use crate::error::CaseError;
use crate::exchange::{Request, Response};
use crate::fake::{EncryptRequest, Encrypted, User};
use crate::profile::{RequestTemplate, Source, UserInfoMode};

impl Ctx {
    /// Renders a profile request with this run's values and `values`.
    pub fn render(&self, t: &RequestTemplate, values: &Values) -> Request {
        render(t, &self.vars, values)
    }

    // ---- login ---------------------------------------------------------------------------

    /// Whether the login request itself carries encrypted user data (Wafer headers, or a
    /// one-call login + getUserInfo body).
    pub fn login_carries_data(&self) -> bool {
        self.profile.compiled.login.carries_data()
    }

    /// A fresh login code for `openid` (what wx.login gives), remembered so that data sent with
    /// it is encrypted under the session_key its jscode2session hands the backend.
    pub async fn login_code(&mut self, openid: &str) -> Result<String, CaseError> {
        let code = self.fake.login_code(openid).await?;
        self.code_owners.insert(code.clone(), openid.to_owned());
        Ok(code)
    }

    /// Encrypted userInfo for `openid` under its current session_key (`variant` as the forge
    /// names it: `valid`, `tampered`, `iv-15`, …).
    pub async fn encrypt_user_info(
        &mut self,
        openid: &str,
        variant: &str,
        data: Option<Value>,
    ) -> Result<Encrypted, CaseError> {
        let req = EncryptRequest {
            openid: openid.into(),
            kind: "userInfo".into(),
            data,
            variant: variant.into(),
        };
        Ok(self.fake.encrypt(&req).await?)
    }

    /// The values of a login with `code`: the code, and when the login carries data, valid
    /// userInfo under the code owner's key (a decoy user's for a code of no known user).
    pub async fn login_values(&mut self, code: Option<&str>) -> Result<Values, CaseError> {
        let mut values = Values::code(code);
        if self.login_carries_data() {
            let owner = code.and_then(|c| self.code_owners.get(c).cloned());
            let openid = match owner {
                Some(o) => o,
                None => self.decoy_openid().await?,
            };
            values.data = Some(self.encrypt_user_info(&openid, "valid", None).await?);
        }
        Ok(values)
    }

    async fn decoy_openid(&mut self) -> Result<String, CaseError> {
        if let Some(d) = &self.decoy {
            return Ok(d.clone());
        }
        let user = self.fake.create_user(json!({})).await?;
        // A code gives it a session_key to encrypt under.
        self.fake.login_code(&user.openid).await?;
        self.decoy = Some(user.openid.clone());
        Ok(user.openid)
    }

    /// The login request for `code` alone (None: the same request without any code). A login
    /// that carries data needs [`Ctx::login_request_for`].
    pub fn login_request(&self, code: Option<&str>) -> Request {
        self.render(&self.profile.compiled.login, &Values::code(code))
    }

    /// The complete login request for `code`, with data when the login carries it.
    pub async fn login_request_for(&mut self, code: Option<&str>) -> Result<Request, CaseError> {
        let values = self.login_values(code).await?;
        Ok(self.render(&self.profile.compiled.login, &values))
    }

    /// Logs in with `code` (None: without a code).
    pub async fn login(&mut self, code: Option<&str>) -> Result<LoginResult, CaseError> {
        let values = self.login_values(code).await?;
        self.login_with(values).await
    }

    /// Logs in with these values (the data.* cases send their variants this way when the
    /// login carries data).
    pub async fn login_with(&mut self, values: Values) -> Result<LoginResult, CaseError> {
        let req = self.render(&self.profile.compiled.login, &values);
        let response = self.send("login", req).await?;
        self.login_result(values.code.clone(), response).await
    }

    /// Reads the credential of a login answer. A session middleware may set a cookie on a
    /// failed login too; a cookie credential counts only if the answer is a success or it opens
    /// the protected endpoint.
    pub async fn login_result(
        &mut self,
        code: Option<String>,
        response: Response,
    ) -> Result<LoginResult, CaseError> {
        let mut credential = self.credential_of(&response);
        if let Some(c) = credential.clone() {
            if self.profile.compiled.token_from_cookie() && !self.is_accepted(&response) {
                let answer = self.protected(Some(&c)).await?;
                if !self.is_accepted(&answer) {
                    credential = None;
                }
            }
        }
        Ok(LoginResult {
            code,
            token: credential.as_ref().map(|c| c.main().to_owned()),
            credential,
            response,
        })
    }

    /// The credential in a login answer: every part the profile names (None if one is missing).
    pub fn credential_of(&self, r: &Response) -> Option<Credential> {
        let c = &self.profile.compiled;
        let mut parts = Vec::with_capacity(c.token_parts.len());
        for (name, source) in &c.token_parts {
            parts.push((name.clone(), source.read(r, None)?));
        }
        Some(Credential::from_parts(parts, c.main_part()))
    }

    /// The main token in a login answer.
    pub fn token_of(&self, r: &Response) -> Option<String> {
        self.credential_of(r).map(|c| c.main().to_owned())
    }

    /// A credential whose every part is `value` (malformed and forged tokens with no session).
    pub fn forged(&self, value: &str) -> Credential {
        let c = &self.profile.compiled;
        let parts = c
            .token_parts
            .iter()
            .map(|(n, _)| (n.clone(), value.to_owned()))
            .collect();
        Credential::from_parts(parts, c.main_part())
    }

    /// Creates a fresh user on the fake (fields: openid, unionid, nickName, phoneNumber, …).
    pub async fn new_user(&mut self, fields: Value) -> Result<User, CaseError> {
        Ok(self.fake.create_user(fields).await?)
    }

    /// Mints a login code for the user and logs in with it.
    pub async fn login_as(&mut self, openid: &str) -> Result<LoginResult, CaseError> {
        let code = self.login_code(openid).await?;
        self.login(Some(&code)).await
    }

    /// A new user logged in; an error when the backend gives no token.
    pub async fn fresh_session(&mut self) -> Result<Session, CaseError> {
        let user = self.new_user(json!({})).await?;
        self.session_for(user).await
    }

    /// Logs `user` in; an error when the backend gives no token.
    pub async fn session_for(&mut self, user: User) -> Result<Session, CaseError> {
        let login = self.login_as(&user.openid).await?;
        self.session_of(user, login)
    }

    /// The session a login gave, or the error that makes the case unjudgeable.
    pub fn session_of(&self, user: User, login: LoginResult) -> Result<Session, CaseError> {
        match login.credential.clone() {
            Some(c) if login.succeeded(self) => Ok(Session {
                token: c.main().to_owned(),
                credential: c,
                user,
                login,
            }),
            _ => Err(CaseError::NoLogin(format!(
                "a valid login gave no token (HTTP {}: {}), so this case cannot be judged",
                login.response.status,
                crate::exchange::truncate(&login.response.body, 200)
            ))),
        }
    }

    // ---- protected -----------------------------------------------------------------------

    /// The protected request (None: without any credential).
    pub fn protected_request(&self, token: Option<&Credential>) -> Request {
        self.render(&self.profile.compiled.protected, &Values::token(token))
    }

    /// Calls the protected endpoint with `token` (None: without a credential).
    pub async fn protected(&mut self, token: Option<&Credential>) -> Result<Response, CaseError> {
        let req = self.protected_request(token);
        self.send("protected call", req).await
    }

    /// Whether the profile says where the user's identity is.
    pub fn has_identity(&self) -> bool {
        self.profile.compiled.identity.is_some()
    }

    /// The identity in a protected answer made with `token` (a JWT claim, a header of the
    /// answer or a pointer into it); None when the profile has no identity or it is absent.
    pub fn identity_of(&self, r: &Response, token: &Credential) -> Option<String> {
        let source = self.profile.compiled.identity.as_ref()?;
        source.read(r, Some(token.main()))
    }

    /// Whether the identity is a claim of the token (judged without the protected answer).
    pub fn identity_from_token(&self) -> bool {
        matches!(self.profile.compiled.identity, Some(Source::Jwt(_)))
    }

    // ---- user info -----------------------------------------------------------------------

    /// Whether the profile has a user-info endpoint.
    pub fn has_user_info(&self) -> bool {
        self.profile.compiled.user_info.is_some()
    }

    /// Whether the user-info endpoint only acknowledges (its answer shows no fields).
    pub fn user_info_is_ack(&self) -> bool {
        self.profile
            .compiled
            .user_info
            .as_ref()
            .is_some_and(|u| u.mode == UserInfoMode::Ack)
    }

    /// The user-info request carrying `data` (None when the profile has none).
    pub fn user_info_request(&self, token: &Credential, data: &Encrypted) -> Option<Request> {
        let u = self.profile.compiled.user_info.as_ref()?;
        let values = Values {
            data: Some(data.clone()),
            token: Some(token.clone()),
            ..Values::default()
        };
        Some(self.render(&u.request, &values))
    }

    /// Calls the user-info endpoint; None when the profile has none.
    pub async fn user_info(
        &mut self,
        token: &Credential,
        data: &Encrypted,
    ) -> Result<Option<Response>, CaseError> {
        let Some(req) = self.user_info_request(token, data) else {
            return Ok(None);
        };
        self.send("user-info", req).await.map(Some)
    }

    /// The decrypted object in a user-info answer (at the profile's result pointer).
    pub fn user_info_result<'r>(&self, r: &'r Response) -> Option<&'r Value> {
        let u = self.profile.compiled.user_info.as_ref()?;
        r.pointer(&u.result_pointer)
    }

    /// With ack mode and a read-back request: the stored object as the backend shows it now
    /// (Ok(None) when there is no read-back).
    pub async fn read_back(&mut self, token: &Credential) -> Result<Option<Value>, CaseError> {
        let Some((t, ptr)) = self
            .profile
            .compiled
            .user_info
            .as_ref()
            .and_then(|u| u.read_back.clone())
        else {
            return Ok(None);
        };
        let req = self.render(&t, &Values::token(Some(token)));
        let r = self.send("user-info read-back", req).await?;
        Ok(Some(r.pointer(&ptr).cloned().unwrap_or(Value::Null)))
    }

    // ---- phone and access-token operations ------------------------------------------------

    /// Calls the phone endpoint with a phone code; None when the profile has none.
    pub async fn phone(
        &mut self,
        token: &Credential,
        code: &str,
    ) -> Result<Option<Response>, CaseError> {
        let Some(p) = self.profile.compiled.phone.clone() else {
            return Ok(None);
        };
        let values = Values {
            phone_code: Some(code.to_owned()),
            token: Some(token.clone()),
            ..Values::default()
        };
        let req = self.render(&p.request, &values);
        self.send("phone", req).await.map(Some)
    }

    /// The phone number in a phone answer.
    pub fn phone_number_of(&self, r: &Response) -> Option<String> {
        let p = self.profile.compiled.phone.as_ref()?;
        r.pointer(&p.phone_number_pointer)
            .map(crate::profile::value_text)
    }

    /// How many access-token operations the profile declares.
    pub fn access_token_operation_count(&self) -> usize {
        self.profile.compiled.operations.len()
    }

    /// The request of access-token operation `index` (modulo the count); None when the profile
    /// has none.
    pub fn access_token_operation_request(
        &self,
        index: usize,
        token: &Credential,
    ) -> Option<Request> {
        let ops = &self.profile.compiled.operations;
        if ops.is_empty() {
            return None;
        }
        Some(self.render(&ops[index % ops.len()], &Values::token(Some(token))))
    }

    /// Runs access-token operation `index` (modulo the count); None when the profile has none.
    pub async fn access_token_operation(
        &mut self,
        index: usize,
        token: &Credential,
    ) -> Result<Option<Response>, CaseError> {
        match self.access_token_operation_request(index, token) {
            None => Ok(None),
            Some(req) => self.send("access-token operation", req).await.map(Some),
        }
    }
}
