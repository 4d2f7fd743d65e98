//! The probes: every login shape with a fresh code, every auth style against the protected
//! candidates, and the answer without a credential. What is found is plain data; `render`
//! writes it as a profile.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};

use crate::error::HarnessError;
use crate::fake::Fake;
use crate::runner::{FakeInfo, Launcher};

use super::styles::{rejection, styles};

/// The code field names tried, in order.
pub const CODE_NAMES: [&str; 4] = ["code", "js_code", "jsCode", "wxcode"];
/// Where a login answer usually keeps the token.
pub const TOKEN_POINTERS: [&str; 7] = [
    "/token",
    "/data/token",
    "/access_token",
    "/data/access_token",
    "/jwt",
    "/skey",
    "/data/skey",
];
/// Protected paths tried when none is given.
pub const PROTECTED_PATHS: [&str; 5] =
    ["/api/me", "/api/user", "/user/info", "/me", "/api/profile"];
/// Where a protected answer usually names the user.
const IDENTITY_POINTERS: [&str; 7] = [
    "/userId",
    "/id",
    "/openid",
    "/user/id",
    "/data/id",
    "/data/userId",
    "/data/openid",
];

/// What to probe.
#[derive(Clone, Debug)]
pub struct DiscoverOptions {
    /// The login path (`/api/login`).
    pub login_path: String,
    /// Protected paths to try (empty: [`PROTECTED_PATHS`]).
    pub protected: Vec<String>,
    /// Where the in-process fake listens (`127.0.0.1:0` for a started command).
    pub fake_listen: SocketAddr,
    /// A fixed app (a backend already running was configured with it); default a fresh one.
    pub appid: Option<String>,
    pub secret: Option<String>,
}

/// How the login wants its code and where its answer has the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginFound {
    /// `json`, `query`, `form` or `header`.
    pub code_in: String,
    pub code_field: String,
    /// A JSON pointer, or `cookie:NAME`.
    pub token_source: String,
}

/// How the protected endpoint wants the credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthFound {
    pub path: String,
    /// The profile's `[auth]` body, as TOML lines.
    pub toml: String,
    /// A short description for the comment.
    pub label: String,
}

/// How the backend says "rejected".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RejectionFound {
    Status(u16),
    /// HTTP 200 with this field holding this value (as JSON text).
    Field {
        status: u16,
        pointer: String,
        value: String,
    },
}

/// Everything found, and what could not be.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    pub base_url: String,
    pub login_path: String,
    pub login: Option<LoginFound>,
    pub auth: Option<AuthFound>,
    pub rejection: Option<RejectionFound>,
    pub identity: Option<String>,
    /// Plain sentences for the profile's comments.
    pub unknown: Vec<String>,
    /// How many login probes were sent (each with its own code).
    pub login_probes: usize,
    /// The fixed fake address and app a backend already running was configured with
    /// (listen, appid, secret), written as `[fake]` so `wxmock check` uses the same.
    pub fixed_fake: Option<(String, String, String)>,
}

pub(super) struct Answer {
    pub status: u16,
    pub json: Option<Value>,
    pub cookies: Vec<(String, String)>,
    pub headers: reqwest::header::HeaderMap,
}

async fn answer(req: reqwest::RequestBuilder) -> Option<Answer> {
    let resp = req.send().await.ok()?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let cookies = headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| {
            let pair = c.split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            Some((name.trim().to_string(), value.trim().to_string()))
        })
        .collect();
    let body = resp.bytes().await.ok()?;
    let json = serde_json::from_slice(&body).ok();
    Some(Answer {
        status,
        json,
        cookies,
        headers,
    })
}

fn text_at(json: &Option<Value>, pointer: &str) -> Option<String> {
    match json.as_ref()?.pointer(pointer)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Starts the fake and the backend, probes, and stops both.
pub async fn discover(
    launcher: Launcher,
    options: &DiscoverOptions,
) -> Result<Discovery, HarnessError> {
    let wechat = wxmock_server::MockWeChat::builder()
        .listen(options.fake_listen)
        .try_start()
        .await
        .map_err(|e| HarnessError::FakeStart {
            listen: options.fake_listen.to_string(),
            message: e.to_string(),
        })?;
    let appid = options
        .appid
        .clone()
        .unwrap_or_else(|| format!("wx{:016x}", rand::random::<u64>()));
    let secret = options.secret.clone().unwrap_or_else(|| {
        format!(
            "{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        )
    });
    let fake = Fake::new(&wechat.base_url(), &appid, &secret);
    fake.create_app().await?;
    let info = FakeInfo {
        base_url: wechat.base_url(),
        appid,
        secret,
    };
    let backend = launcher(info).await?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| HarnessError::Internal(e.to_string()))?;
    let prober = Prober {
        fake,
        http,
        base: backend.base_url.clone(),
    };
    let mut found = prober.run(options).await;
    drop(backend);
    let address = wechat.address();
    drop(wechat);
    if options.fake_listen.port() != 0 {
        // A fixed address is reused next (by `wxmock check`): wait (2 s at most) for it to close.
        for _ in 0..40 {
            if tokio::net::TcpStream::connect(address).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    if let (Ok(d), Some(appid), Some(secret)) = (&mut found, &options.appid, &options.secret) {
        if options.fake_listen.port() != 0 {
            d.fixed_fake = Some((
                options.fake_listen.to_string(),
                appid.clone(),
                secret.clone(),
            ));
        }
    }
    found
}

struct Prober {
    fake: Fake,
    http: reqwest::Client,
    base: String,
}

impl Prober {
    async fn run(&self, options: &DiscoverOptions) -> Result<Discovery, HarnessError> {
        let persona = self.fake.create_user(json!({})).await?;
        let mut d = Discovery {
            base_url: self.base.clone(),
            login_path: options.login_path.clone(),
            ..Discovery::default()
        };
        let Some((login, token)) = self
            .find_login(&options.login_path, &persona.openid, &mut d)
            .await?
        else {
            d.unknown.push(format!(
                "no login shape worked: POST {} with a valid code in a JSON body, the query, a form \
                 or a header under {} gave no token at {} nor in a Set-Cookie",
                options.login_path,
                CODE_NAMES.join("/"),
                TOKEN_POINTERS.join(", ")
            ));
            d.unknown
                .push("the auth style and the protected path (not probed without a token)".into());
            return Ok(d);
        };
        d.login = Some(login.clone());
        let paths: Vec<String> = if options.protected.is_empty() {
            PROTECTED_PATHS.iter().map(|p| p.to_string()).collect()
        } else {
            options.protected.clone()
        };
        let cookie_name = login
            .token_source
            .strip_prefix("cookie:")
            .map(str::to_string);
        'paths: for path in &paths {
            for (label, toml, apply) in styles(cookie_name.as_deref()) {
                let req = apply(self.http.get(format!("{}{path}", self.base)), &token);
                let Some(with) = answer(req).await else {
                    continue;
                };
                if !(200..300).contains(&with.status) {
                    continue;
                }
                let Some(without) = answer(self.http.get(format!("{}{path}", self.base))).await
                else {
                    continue;
                };
                let Some(rejection) = rejection(&with, &without) else {
                    continue;
                };
                d.auth = Some(AuthFound {
                    path: path.clone(),
                    toml,
                    label,
                });
                d.rejection = Some(rejection);
                d.identity = IDENTITY_POINTERS
                    .iter()
                    .find(|p| {
                        with.json
                            .as_ref()
                            .and_then(|j| j.pointer(p))
                            .is_some_and(|v| !v.is_null())
                    })
                    .map(|p| p.to_string())
                    .or_else(|| {
                        with.headers
                            .contains_key("x-user-id")
                            .then(|| "header:X-User-Id".into())
                    });
                break 'paths;
            }
        }
        if d.auth.is_none() {
            d.unknown.push(format!(
                "no protected path accepted the token and refused its absence: tried GET {} with \
                 Bearer, a raw Authorization header, Token, JWT, X-Token, X-Access-Token, Basic, \
                 a cookie and a query parameter",
                paths.join(", ")
            ));
        }
        if d.identity.is_none() {
            d.unknown.push(
                "where the protected answer names the user (`identity`): without it \
                 login.returning-user and login.distinct-users are skipped"
                    .into(),
            );
        }
        d.unknown.push(
            "the optional [user_info], [phone], [access_token] and [jwt] sections (not probed)"
                .into(),
        );
        Ok(d)
    }

    /// Tries each code placement and name with its own fresh code until one gives a token.
    async fn find_login(
        &self,
        path: &str,
        openid: &str,
        d: &mut Discovery,
    ) -> Result<Option<(LoginFound, String)>, HarnessError> {
        let url = format!("{}{path}", self.base);
        for code_in in ["json", "query", "form", "header"] {
            let names: Vec<&str> = if code_in == "header" {
                vec!["X-WX-Code", "X-Code", "code"]
            } else {
                CODE_NAMES.to_vec()
            };
            for name in names {
                let code = self.fake.login_code(openid).await?;
                d.login_probes += 1;
                let req = self.http.post(&url);
                let req = match code_in {
                    "json" => req.json(&json!({ name: code })),
                    "query" => req.query(&[(name, &code)]).json(&json!({})),
                    "form" => req.form(&[(name, &code)]),
                    _ => req.header(name, &code).json(&json!({})),
                };
                let Some(a) = answer(req).await else { continue };
                if !(200..300).contains(&a.status) {
                    continue;
                }
                let source = TOKEN_POINTERS
                    .iter()
                    .find_map(|p| text_at(&a.json, p).map(|t| (p.to_string(), t)))
                    .or_else(|| {
                        a.cookies
                            .first()
                            .map(|(n, v)| (format!("cookie:{n}"), v.clone()))
                    });
                if let Some((token_source, token)) = source {
                    let found = LoginFound {
                        code_in: code_in.into(),
                        code_field: name.into(),
                        token_source,
                    };
                    return Ok(Some((found, token)));
                }
            }
        }
        Ok(None)
    }
}
