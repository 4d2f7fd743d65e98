//! What a case gets: a backend client that speaks the profile's dialect (login, protected call,
//! user-info, phone, access-token operations) and records every exchange as evidence, the fake's
//! control-API client, the profile, a seeded RNG, and everything client-visible seen so far in
//! the run (for the run-level checks: no secret leak, no stack trace, no exposed access token).

use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};

use crate::error::CaseError;
use crate::exchange::{Body, Exchange, Request, Response, Stopwatch};
use crate::fake::{Encrypted, Fake, JournalEntry, User};
use crate::profile::{Placement, Profile, RequestSection, TokenPlacement, Vars};

/// The answer to a login request.
#[derive(Clone, Debug)]
pub struct LoginResult {
    /// The code sent (None for the missing-code request).
    pub code: Option<String>,
    pub response: Response,
    /// The non-empty string at the profile's token pointer, if any (whatever the status).
    pub token: Option<String>,
}

impl LoginResult {
    /// A token was issued with a 2xx answer that is not a rejection.
    pub fn succeeded(&self, ctx: &Ctx) -> bool {
        self.token.is_some() && ctx.is_accepted(&self.response)
    }
}

/// A logged-in user: who, and the token the backend gave.
#[derive(Clone, Debug)]
pub struct Session {
    pub user: User,
    pub login: LoginResult,
    pub token: String,
}

/// The per-case context.
pub struct Ctx {
    /// The profile, validated.
    pub profile: Arc<Profile>,
    /// The fake's control API, scoped to the run's app.
    pub fake: Fake,
    /// The run's seed (print it in failure reasons of randomised cases, to replay with `--seed`).
    pub seed: u64,
    /// A generator seeded from the run's seed and the case id (stable under `--only`).
    pub rng: StdRng,
    pub(crate) backend_base_url: String,
    pub(crate) http: reqwest::Client,
    pub(crate) vars: Vars,
    pub(crate) case_id: String,
    pub(crate) exchanges: Vec<Exchange>,
    pub(crate) seen: Vec<Exchange>,
    pub(crate) journal_mark: u64,
}

impl Ctx {
    /// A context for one run (the runner makes one and resets it per case).
    pub fn new(
        profile: Arc<Profile>,
        fake: Fake,
        backend_base_url: &str,
        vars: Vars,
        seed: u64,
    ) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            // Only fails when the TLS backend cannot initialise; this client has no TLS at all.
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            profile,
            fake,
            seed,
            rng: StdRng::seed_from_u64(seed),
            backend_base_url: backend_base_url.trim_end_matches('/').into(),
            http,
            vars,
            case_id: String::new(),
            exchanges: vec![],
            seen: vec![],
            journal_mark: 0,
        }
    }

    /// Prepares the context for the next case.
    pub(crate) fn begin_case(&mut self, case_id: &str, journal_mark: u64) {
        self.case_id = case_id.into();
        self.exchanges.clear();
        self.journal_mark = journal_mark;
        self.rng = StdRng::seed_from_u64(self.seed ^ fnv1a(case_id));
    }

    /// The id of the running case.
    pub fn case_id(&self) -> &str {
        &self.case_id
    }

    /// The backend's base URL.
    pub fn backend_base_url(&self) -> &str {
        &self.backend_base_url
    }

    /// The exchanges of the running case so far.
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }

    /// Every exchange of the run so far, this case's included (client-visible responses).
    pub fn seen(&self) -> impl Iterator<Item = &Exchange> {
        self.seen.iter().chain(self.exchanges.iter())
    }

    /// The journal id at which this case started.
    pub fn journal_mark(&self) -> u64 {
        self.journal_mark
    }

    /// The fake's journal since this case started (optionally one path).
    pub async fn journal_since_case(
        &self,
        path: Option<&str>,
    ) -> Result<Vec<JournalEntry>, CaseError> {
        Ok(self.fake.journal(path, self.journal_mark).await?)
    }

    /// The fake's journal for the whole run (optionally one path).
    pub async fn journal_whole_run(
        &self,
        path: Option<&str>,
    ) -> Result<Vec<JournalEntry>, CaseError> {
        Ok(self.fake.journal(path, 0).await?)
    }

    /// The profile's bound on the backend's answer when WeChat hangs.
    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_secs(self.profile.limits.upstream_timeout_secs)
    }

    /// Whether the answer is the profile's "rejected" signal.
    pub fn is_rejected(&self, r: &Response) -> bool {
        self.profile.rejected.is_rejected(r.status, r.json.as_ref())
    }

    /// Whether the answer is a success: 2xx and not rejected by the pointer rule.
    pub fn is_accepted(&self, r: &Response) -> bool {
        r.is_success() && !self.profile.rejected.pointer_says_rejected(r.json.as_ref())
    }

    /// Whether the answer is a client error: a 4xx or the profile's rejected signal.
    pub fn is_client_error(&self, r: &Response) -> bool {
        r.is_client_error() || (!r.is_server_error() && self.is_rejected(r))
    }

    // ---- raw requests -------------------------------------------------------------------

    /// Sends a request and records the exchange; a transport error is recorded too and returned
    /// inside the exchange (for cases that judge timeouts and resets).
    pub async fn exchange(&mut self, label: &str, req: Request) -> Exchange {
        let url = if req.path.starts_with("http://") || req.path.starts_with("https://") {
            req.path.clone()
        } else {
            format!("{}{}", self.backend_base_url, req.path)
        };
        let method =
            reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let timeout = req.timeout.unwrap_or(Duration::from_secs(
            self.profile.limits.request_timeout_secs,
        ));
        let mut builder = self.http.request(method, &url).timeout(timeout);
        if !req.query.is_empty() {
            builder = builder.query(&req.query);
        }
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let request_body = match &req.body {
            None => None,
            Some(Body::Json(v)) => {
                builder = builder.json(v);
                Some(v.to_string())
            }
            Some(Body::Form(pairs)) => {
                builder = builder.form(pairs);
                Some(form_text(pairs))
            }
            Some(Body::Raw { content_type, text }) => {
                builder = builder
                    .header("content-type", content_type.as_str())
                    .body(text.clone());
                Some(text.clone())
            }
        };
        let mut shown_url = url.clone();
        if !req.query.is_empty() {
            shown_url.push(if url.contains('?') { '&' } else { '?' });
            shown_url.push_str(&form_text(&req.query));
        }
        let watch = Stopwatch::start();
        let (response, error) = match builder.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers = resp
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                match resp.bytes().await {
                    Ok(bytes) => {
                        let body = String::from_utf8_lossy(&bytes).into_owned();
                        let json = serde_json::from_str(&body).ok();
                        (
                            Some(Response {
                                status,
                                headers,
                                body,
                                json,
                            }),
                            None,
                        )
                    }
                    Err(e) => (None, Some(describe_reqwest_error(&e))),
                }
            }
            Err(e) => (None, Some(describe_reqwest_error(&e))),
        };
        let x = Exchange {
            label: label.into(),
            method: req.method.clone(),
            url: shown_url,
            request_headers: req.headers.clone(),
            request_body,
            response,
            error,
            duration_ms: watch.ms(),
        };
        self.exchanges.push(x.clone());
        x
    }

    /// Sends a request; no answer is an error (the case becomes `errored`).
    pub async fn send(&mut self, label: &str, req: Request) -> Result<Response, CaseError> {
        let x = self.exchange(label, req).await;
        match x.response {
            Some(r) => Ok(r),
            None => Err(CaseError::Backend(format!(
                "{label} {} {}: {}",
                x.method,
                x.url,
                x.error.unwrap_or_else(|| "no answer".into())
            ))),
        }
    }

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
        let token = self.token_of(&response);
        Ok(LoginResult {
            code: code.map(str::to_string),
            response,
            token,
        })
    }

    /// The token in a login answer (non-empty string at the token pointer).
    pub fn token_of(&self, r: &Response) -> Option<String> {
        match r.pointer(&self.profile.login.token_pointer) {
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

/// FNV-1a: a stable hash for deriving per-case seeds (std's hasher may change between releases).
pub(crate) fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn form_pairs(fields: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| (k.clone(), crate::profile::value_text(v)))
        .collect()
}

fn form_text(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn describe_reqwest_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "client timeout (no answer in time)".into()
    } else if e.is_connect() {
        format!("connection failed: {e}")
    } else {
        // reqwest's Display hides the cause ("error sending request"); the chain says what happened.
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    }
}
