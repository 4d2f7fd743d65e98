//! The backend's requests in the profile's dialect: where the code goes, how the token travels,
//! and where answers keep the token, the identity, the decrypted data and the phone number.

use serde_json::{json, Value};

use super::{form_pairs, Ctx, LoginResult, Session};
use crate::error::CaseError;
use crate::exchange::{Body, Request, Response};
use crate::fake::{Encrypted, User};
use crate::profile::{Placement, RequestSection, TokenPlacement, Vars};

impl Ctx {
    // ---- the profile's requests ---------------------------------------------------------

    /// The login request for `code` (None: the same request without any code).
    pub fn login_request(&self, code: Option<&str>) -> Request {
        let l = &self.profile.login;
        let vars = Vars {
            code: code.map(str::to_string),
            ..self.vars.clone()
        };
        let mut req = Request::new(&l.method, &vars.render(&l.path));
        for (k, v) in &l.query {
            req = req.query(k, &vars.render(v));
        }
        for (k, v) in &l.headers {
            req = req.header(k, &vars.render(v));
        }
        let mut fields = vars.render_map(&l.fields);
        if let (Some(field), Some(code)) = (self.profile.login_code_field(), code) {
            match l.code_in {
                Placement::Query => req = req.query(&field, code),
                Placement::Header => req = req.header(&field, code),
                Placement::Json | Placement::Form => {
                    fields.insert(field, json!(code));
                }
            }
        }
        let body_in_form = l.code_in == Placement::Form;
        let method_has_body = !l.method.eq_ignore_ascii_case("GET");
        if method_has_body || !fields.is_empty() {
            req.body = Some(if body_in_form {
                Body::Form(form_pairs(&fields))
            } else {
                Body::Json(Value::Object(fields))
            });
        }
        req
    }

    /// Logs in with `code` (None: without a code).
    pub async fn login(&mut self, code: Option<&str>) -> Result<LoginResult, CaseError> {
        let req = self.login_request(code);
        let response = self.send("login", req).await?;
        let mut token = self.token_of(&response);
        if let Some(cookie) = token.as_deref() {
            // A session middleware may set a cookie on a failed login too; it is a token only if
            // it opens the protected endpoint.
            if self.profile.login.token_cookie.is_some() && !self.is_accepted(&response) {
                let cookie = cookie.to_owned();
                let answer = self.protected(Some(&cookie)).await?;
                if !self.is_accepted(&answer) {
                    token = None;
                }
            }
        }
        Ok(LoginResult {
            code: code.map(str::to_string),
            response,
            token,
        })
    }

    /// The token in a login answer: the profile's cookie or header, else a non-empty string
    /// (or number) at the token pointer.
    pub fn token_of(&self, r: &Response) -> Option<String> {
        let login = &self.profile.login;
        if let Some(name) = &login.token_cookie {
            return r.cookie(name).filter(|v| !v.is_empty()).map(str::to_owned);
        }
        if let Some(name) = &login.token_header {
            let value = r.header(name)?.trim();
            let value = value.strip_prefix("Bearer ").unwrap_or(value).trim();
            return (!value.is_empty()).then(|| value.to_owned());
        }
        match r.pointer(&login.token_pointer) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Creates a fresh user on the fake (fields: openid, unionid, nickName, phoneNumber, …).
    pub async fn new_user(&mut self, fields: Value) -> Result<User, CaseError> {
        Ok(self.fake.create_user(fields).await?)
    }

    /// Mints a login code for the user and logs in with it.
    pub async fn login_as(&mut self, openid: &str) -> Result<LoginResult, CaseError> {
        let code = self.fake.login_code(openid).await?;
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
        match &login.token {
            Some(t) if login.succeeded(self) => Ok(Session {
                token: t.clone(),
                user,
                login,
            }),
            _ => Err(CaseError::Other(format!(
                "a valid login gave no token (HTTP {}: {}), so this case cannot be judged",
                login.response.status,
                crate::exchange::truncate(&login.response.body, 200)
            ))),
        }
    }

    /// Puts the token into a request the profile's way.
    pub fn apply_token(&self, mut req: Request, token: &str) -> Request {
        match self.profile.auth.placement() {
            TokenPlacement::Header { name, prefix } => {
                let value = match prefix {
                    Some(p) => format!("{p} {token}"),
                    None => token.to_string(),
                };
                req.headers.push((name, value));
            }
            TokenPlacement::Basic => {
                use base64::Engine as _;
                let cred = base64::engine::general_purpose::STANDARD.encode(format!("{token}:"));
                req.headers
                    .push(("Authorization".into(), format!("Basic {cred}")));
            }
            TokenPlacement::Query { field } => req.query.push((field, token.to_string())),
            TokenPlacement::Cookie { name } => req
                .headers
                .push(("Cookie".into(), format!("{name}={token}"))),
            TokenPlacement::Json { field } => {
                let mut obj = match req.body.take() {
                    Some(Body::Json(Value::Object(m))) => m,
                    _ => serde_json::Map::new(),
                };
                obj.insert(field, json!(token));
                req.body = Some(Body::Json(Value::Object(obj)));
            }
        }
        req
    }

    fn section_request(&self, s: &RequestSection, token: Option<&str>) -> Request {
        let mut req = Request::new(&s.method, &self.vars.render(&s.path));
        for (k, v) in &s.query {
            req = req.query(k, &self.vars.render(v));
        }
        for (k, v) in &s.headers {
            req = req.header(k, &self.vars.render(v));
        }
        if !s.fields.is_empty() {
            req.body = Some(Body::Json(Value::Object(self.vars.render_map(&s.fields))));
        }
        match token {
            Some(t) if s.with_token => self.apply_token(req, t),
            _ => req,
        }
    }

    /// The protected request (None: without any token).
    pub fn protected_request(&self, token: Option<&str>) -> Request {
        let p = &self.profile.protected;
        let s = RequestSection {
            method: p.method.clone(),
            path: p.path.clone(),
            fields: p.fields.clone(),
            query: p.query.clone(),
            headers: p.headers.clone(),
            with_token: true,
        };
        let mut req = self.section_request(&s, token);
        // A JSON-body token style needs a body even when the token is missing.
        if req.body.is_none() && !p.method.eq_ignore_ascii_case("GET") {
            req.body = Some(Body::Json(json!({})));
        }
        req
    }

    /// Calls the protected endpoint with `token` (None: without a token).
    pub async fn protected(&mut self, token: Option<&str>) -> Result<Response, CaseError> {
        let req = self.protected_request(token);
        self.send("protected call", req).await
    }

    /// The identity at the profile's identity pointer (None when the profile has none).
    pub fn identity_of(&self, r: &Response) -> Option<String> {
        let p = self.profile.protected.identity_pointer.as_deref()?;
        r.pointer(p).map(crate::profile::value_text)
    }

    /// Submits encrypted data to the user-info endpoint (None when the profile has none).
    pub fn user_info_request(&self, token: &str, data: &Encrypted) -> Option<Request> {
        let u = self.profile.user_info.as_ref()?;
        let mut fields = self.vars.render_map(&u.fields);
        fields.insert(u.encrypted_data_field.clone(), json!(data.encrypted_data));
        fields.insert(u.iv_field.clone(), json!(data.iv));
        if let (false, Some(raw)) = (u.raw_data_field.is_empty(), &data.raw_data) {
            fields.insert(u.raw_data_field.clone(), json!(raw));
        }
        if let (false, Some(sig)) = (u.signature_field.is_empty(), &data.signature) {
            fields.insert(u.signature_field.clone(), json!(sig));
        }
        let mut req = Request::new(&u.method, &self.vars.render(&u.path));
        req.body = Some(if u.body_in == Placement::Form {
            Body::Form(form_pairs(&fields))
        } else {
            Body::Json(Value::Object(fields))
        });
        Some(if u.with_token {
            self.apply_token(req, token)
        } else {
            req
        })
    }

    /// Calls the user-info endpoint; None when the profile has none.
    pub async fn user_info(
        &mut self,
        token: &str,
        data: &Encrypted,
    ) -> Result<Option<Response>, CaseError> {
        let Some(req) = self.user_info_request(token, data) else {
            return Ok(None);
        };
        self.send("user-info", req).await.map(Some)
    }

    /// The decrypted object in a user-info answer (at the profile's result pointer).
    pub fn user_info_result<'r>(&self, r: &'r Response) -> Option<&'r Value> {
        let u = self.profile.user_info.as_ref()?;
        r.pointer(&u.result_pointer)
    }

    /// Calls the phone endpoint with a phone code; None when the profile has none.
    pub async fn phone(&mut self, token: &str, code: &str) -> Result<Option<Response>, CaseError> {
        let Some(p) = self.profile.phone.clone() else {
            return Ok(None);
        };
        let mut req = Request::new(&p.method, &self.vars.render(&p.path));
        let mut fields = self.vars.render_map(&p.fields);
        match p.code_in {
            Placement::Query => req = req.query(&p.code_field, code),
            Placement::Header => req = req.header(&p.code_field, code),
            Placement::Json | Placement::Form => {
                fields.insert(p.code_field.clone(), json!(code));
            }
        }
        if !fields.is_empty() || !p.method.eq_ignore_ascii_case("GET") {
            req.body = Some(if p.code_in == Placement::Form {
                Body::Form(form_pairs(&fields))
            } else {
                Body::Json(Value::Object(fields))
            });
        }
        if p.with_token {
            req = self.apply_token(req, token);
        }
        self.send("phone", req).await.map(Some)
    }

    /// The phone number in a phone answer.
    pub fn phone_number_of(&self, r: &Response) -> Option<String> {
        let p = self.profile.phone.as_ref()?;
        r.pointer(&p.phone_number_pointer)
            .map(crate::profile::value_text)
    }

    /// How many access-token operations the profile declares.
    pub fn access_token_operation_count(&self) -> usize {
        self.profile.access_token.operations.len()
    }

    /// Runs access-token operation `index` (modulo the count); None when the profile has none.
    pub async fn access_token_operation(
        &mut self,
        index: usize,
        token: &str,
    ) -> Result<Option<Response>, CaseError> {
        let ops = &self.profile.access_token.operations;
        if ops.is_empty() {
            return Ok(None);
        }
        let s = ops[index % ops.len()].clone();
        let req = self.section_request(&s, Some(token));
        self.send("access-token operation", req).await.map(Some)
    }
}
