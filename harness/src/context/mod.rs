//! What a case gets: a backend client that speaks the profile's dialect (login, protected call,
//! user-info, phone, access-token operations) and records every exchange as evidence, the fake's
//! control-API client, the profile, a seeded RNG, and everything client-visible seen so far in
//! the run (for the run-level checks: no secret leak, no stack trace, no exposed access token).
//! Split by noun: the requests in the profile's dialect (`requests`), the one renderer and the
//! values of the moment (`render`), and the credential's parts (`credential`).

mod credential;
mod data;
mod render;
mod requests;

pub use credential::Credential;
pub use data::{DataAnswer, DataSink};
pub use render::{render, Values};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::error::CaseError;
use crate::exchange::{Body, Exchange, Request, Response, Stopwatch};
use crate::fake::{Fake, JournalEntry, User};
use crate::profile::{Profile, Vars};
use crate::transport;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// The answer to a login request.
#[derive(Clone, Debug)]
pub struct LoginResult {
    /// The code sent (None for the missing-code request).
    pub code: Option<String>,
    pub response: Response,
    /// The main token, when the answer carries every credential part (whatever the status).
    pub token: Option<String>,
    /// The whole credential (every part the profile names), when the answer carries it.
    pub credential: Option<Credential>,
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
    /// The main token (`credential.main()`).
    pub token: String,
    pub credential: Credential,
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
    /// How long `token.weak-secret` may brute-force short HMAC keys (zero: not at all).
    pub crack_budget: Duration,
    /// Which user each code minted through [`Ctx::login_code`] belongs to (to encrypt data under
    /// the session_key that code's jscode2session hands the backend).
    pub(crate) code_owners: HashMap<String, String>,
    /// A user whose data goes with codes of no known user (invalid-code requests).
    pub(crate) decoy: Option<String>,
    /// Every exit of the started backend so far in the run ("the backend exited (status N)
    /// during <case>"), set by the runner before each case.
    pub(crate) backend_exits: Vec<String>,
    /// Requests in a row that got no answer (fail fast, see `runner::Silence`).
    pub(crate) silence: crate::runner::Silence,
    /// The backend's clock (fixed unless the profile or the launcher can move it).
    pub clock: crate::clock::BackendClock,
    /// The backend's own output, scanned for the run's secrets (not attached when the harness
    /// neither started the backend nor was handed its log by the launcher).
    pub(crate) output: crate::output::OutputScan,
    /// The running case's INFO findings (see [`Ctx::info`]).
    pub(crate) info: Vec<crate::case::Finding>,
    /// The root cause blocking cases so far in the run, set by the runner before each case.
    pub(crate) root: Option<crate::case::Root>,
    /// Set by a root case whose failure leaves this need unmet for the cases after it.
    pub(crate) unmet: Option<crate::case::Needs>,
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
            crack_budget: Duration::ZERO,
            code_owners: HashMap::new(),
            decoy: None,
            backend_exits: vec![],
            silence: Default::default(),
            clock: crate::clock::BackendClock::fixed(),
            output: crate::output::OutputScan::new(),
            info: vec![],
            root: None,
            unmet: None,
        }
    }

    /// Prepares the context for the next case.
    pub(crate) fn begin_case(&mut self, case_id: &str, journal_mark: u64) {
        self.case_id = case_id.into();
        self.exchanges.clear();
        self.info.clear();
        self.unmet = None;
        self.journal_mark = journal_mark;
        self.rng = StdRng::seed_from_u64(self.seed ^ fnv1a(case_id));
    }

    /// Reports an INFO finding for the running case: an observation that does not change its
    /// verdict (the report shows it whatever the case concludes; it never fails the run).
    pub fn info(&mut self, text: impl Into<String>) {
        self.info.push(crate::case::Finding::new(text));
    }

    /// Why a case needing `needs` cannot be judged in this run ("blocked by login.happy: …"),
    /// if an earlier root case showed it missing. The runner already skips the cases whose
    /// declared need is blocked; a case that runs on less (robust.survives) asks for the rest.
    pub fn blocked(&self, needs: crate::case::Needs) -> Option<String> {
        self.root.as_ref()?.blocking(needs)
    }

    /// Says that the running case's failure is the root cause for every later case needing
    /// `needs` or more (`login.happy` when a valid code gives no credential, `token.accepted`
    /// when the protected endpoint refuses a fresh one). Only its failure counts.
    pub fn blocks_cases_needing(&mut self, needs: crate::case::Needs) {
        self.unmet = Some(needs);
    }

    /// The running case's INFO findings so far.
    pub fn findings(&self) -> &[crate::case::Finding] {
        &self.info
    }

    /// Every exit of the started backend seen so far in the run.
    pub fn backend_exits(&self) -> &[String] {
        &self.backend_exits
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

    /// Whether any of the profile's rejection rules matches the answer.
    pub fn is_rejected(&self, r: &Response) -> bool {
        self.profile.compiled.rejection.is_rejected(r)
    }

    /// Whether the answer is a success: 2xx, no rejection rule, and the success rule if any.
    pub fn is_accepted(&self, r: &Response) -> bool {
        self.profile.compiled.rejection.is_accepted(r)
    }

    /// Refused the way a correct backend refuses: not accepted, never a 5xx, and a 4xx or a
    /// rejection rule.
    pub fn is_refusal(&self, r: &Response) -> bool {
        self.profile.compiled.rejection.is_refusal(r)
    }

    /// Whether the answer is a client error: a 4xx, or a rejection rule without a 5xx.
    pub fn is_client_error(&self, r: &Response) -> bool {
        r.is_client_error() || (!r.is_server_error() && self.is_rejected(r))
    }

    // ---- raw requests -------------------------------------------------------------------

    /// Sends a request and records the exchange; a transport error is recorded too and returned
    /// inside the exchange (for cases that judge timeouts and resets).
    pub async fn exchange(&mut self, label: &str, req: Request) -> Exchange {
        if let Some(why) = self.silence.skip_reason() {
            // Fail fast: a backend that answered none of the last requests is not asked again.
            return Exchange {
                label: label.into(),
                method: req.method.clone(),
                url: req.path.clone(),
                request_headers: req.headers.clone(),
                request_body: None,
                response: None,
                error: Some(format!("not sent: {why}")),
                failure: None,
                body_cut: None,
                duration_ms: 0,
            };
        }
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
        let (response, failure, body_cut) = match builder.send().await {
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
                match transport::read_capped(resp, transport::BODY_READ_LIMIT).await {
                    Ok(capped) => {
                        let body = String::from_utf8_lossy(&capped.bytes).into_owned();
                        let json = serde_json::from_str(&body).ok();
                        let response = Response {
                            status,
                            headers,
                            body,
                            json,
                        };
                        (Some(response), None, capped.cut)
                    }
                    Err(e) => (None, Some(transport::describe(&e, timeout)), None),
                }
            }
            Err(e) => (None, Some(transport::describe(&e, timeout)), None),
        };
        let x = Exchange {
            label: label.into(),
            method: req.method.clone(),
            url: shown_url,
            request_headers: req.headers.clone(),
            request_body,
            response,
            failure: failure.as_ref().map(|f| f.0),
            error: failure.map(|f| f.1),
            body_cut,
            duration_ms: watch.ms(),
        };
        // The case judges the whole answer it read; what is kept for evidence and the run-level
        // checks is bounded (see `limits`).
        self.silence.observe(&self.case_id, &x);
        self.exchanges.push(crate::limits::for_seen(x.clone()));
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
}

/// FNV-1a: a stable hash for deriving per-case seeds (std's hasher may change between releases).
pub(crate) fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn form_text(pairs: &[(String, String)]) -> String {
    use crate::profile::urlencode;
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}
