//! The probes' run: start the fake and the backend, find the login (`login`), then every auth
//! style on every protected candidate, the rejection signal, the identity and the optional
//! sections (`data`). Each probe is a candidate profile — the very text `render` writes, partly
//! filled — compiled and sent through the harness's own context, so what was probed is what the
//! profile says, codes are minted on the fake and encrypted data is minted for that very code.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::answer::{identity, jwt_key};
use super::found::{AuthFound, ClockFound, DiscoverOptions, Discovery, Section};
use super::launch::{reach, Target};
use super::login::{CODE_NAMES, TOKEN_POINTERS};
use super::progress::Progress;
use super::styles::{part_styles, rejection, styles};
use crate::context::Ctx;
use crate::error::HarnessError;
use crate::exchange::Response;
use crate::fake::Fake;
use crate::profile::{Profile, Vars};
use crate::runner::FakeInfo;

/// Protected paths tried when none is given (then also the same names beside the login path).
pub const PROTECTED_PATHS: [&str; 11] = [
    "/api/me",
    "/api/user",
    "/api/user/me",
    "/api/user/info",
    "/user/info",
    "/me",
    "/api/profile",
    "/user",
    "/userinfo",
    "/api/userinfo",
    "/profile",
];
/// Names tried beside the login path and one level up (`/weapp/login` → `/weapp/user`,
/// `/api/wx/login` → `/api/wx/me`, `/api/user/me`, …).
const SIBLING_NAMES: [&str; 6] = [
    "/me",
    "/user",
    "/user/me",
    "/userinfo",
    "/user/info",
    "/profile",
];
/// At most this many protected paths are tried.
const MAX_PATHS: usize = 24;
/// At most this many protected and user-info requests are sent in all.
pub(super) const MAX_OTHER_PROBES: usize = 400;
/// Each probe request's timeout.
const PROBE_TIMEOUT_SECS: u64 = 5;
/// The paths tried for the protected request.
pub fn protected_paths(options: &DiscoverOptions) -> Vec<String> {
    if !options.protected.is_empty() {
        return options.protected.clone();
    }
    let mut out: Vec<String> = PROTECTED_PATHS.iter().map(|p| p.to_string()).collect();
    let mut dir = options.login_path.as_str();
    for _ in 0..2 {
        let Some((up, _)) = dir.rsplit_once('/') else {
            break;
        };
        if up.is_empty() {
            break;
        }
        out.extend(SIBLING_NAMES.iter().map(|n| format!("{up}{n}")));
        dir = up;
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    out.truncate(MAX_PATHS);
    out
}

/// Starts the fake and the backend, probes (within `options.time_limit`: when it runs out, the
/// findings so far, with the rest listed as not determined), and stops both.
pub async fn discover(
    target: Target,
    options: &DiscoverOptions,
) -> Result<Discovery, HarnessError> {
    let listen = options
        .fake_listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .unwrap_or(options.fake_listen);
    let fake_start = |e: &dyn std::fmt::Display| HarnessError::FakeStart {
        listen: listen.to_string(),
        message: e.to_string(),
    };
    let mut builder = wxmock_server::MockWeChat::builder().listen(listen);
    if let Some(listener) = &options.fake_listener {
        builder = builder.listener(listener.try_clone().map_err(|e| fake_start(&e))?);
    }
    let wechat = builder.try_start().await.map_err(|e| fake_start(&e))?;
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
    let vars = Vars {
        wechat_base_url: wechat.base_url(),
        appid: appid.clone(),
        secret: secret.clone(),
        port: None,
    };
    let info = FakeInfo {
        base_url: wechat.base_url(),
        appid,
        secret,
        // Discovery reads no output.
        output: crate::output::OutputScan::new(),
    };
    let command = match &target {
        Target::Command { command, env } => Some((command.clone(), env.clone())),
        _ => None,
    };
    let (base, guard) = reach(target, info).await?;
    let prober = Prober {
        fake,
        vars,
        base,
        progress: Arc::new(Progress::new(command.is_some())),
    };
    let probing = async {
        let mut d = prober.run(options).await?;
        // The clock is probed on a second start of the command: the first one goes first.
        guard.stop().await;
        match &command {
            Some((command, env)) => {
                let found = prober
                    .probe_clock(command, env, &d, &options.faketime_lib)
                    .await;
                if let ClockFound::Not(why) = &found {
                    d.unknown.push(format!(
                        "{}: {why}; without it token.lifetime is skipped",
                        Section::Clock.what()
                    ));
                }
                d.clock = Some(found);
            }
            None => d.unknown.push(format!(
                "{}: not probed, since discover did not start the backend from a command \
                 (libfaketime is preloaded only into a backend the harness starts); a \
                 `clock_command` lets token.lifetime run",
                Section::Clock.what()
            )),
        }
        prober.progress.finish(&d, &[Section::Clock]);
        Ok(d)
    };
    let mut found = match tokio::time::timeout(options.time_limit, probing).await {
        Ok(found) => found,
        Err(_) => Ok(prober.progress.ran_out(options, options.time_limit)),
    };
    let address = wechat.address();
    drop(wechat);
    if listen.port() != 0 && options.fake_listener.is_none() {
        // A fixed address is reused next (by `wxmock check`): wait (2 s at most) for it to close.
        // (A caller that handed over its listener holds the port itself.)
        for _ in 0..40 {
            if tokio::net::TcpStream::connect(address).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    if let (Ok(d), Some(appid), Some(secret)) = (&mut found, &options.appid, &options.secret) {
        if listen.port() != 0 {
            d.fixed_fake = Some((listen.to_string(), appid.clone(), secret.clone()));
        }
    }
    found
}

#[derive(Clone)]
pub(super) struct Prober {
    pub fake: Fake,
    pub vars: Vars,
    pub base: String,
    /// The findings so far, kept for the time limit.
    pub progress: Arc<Progress>,
}

/// What the accepted protected call showed (for the identity and the data read-back).
pub(super) struct Accepted {
    pub with: Response,
    pub credential: crate::context::Credential,
}

impl Prober {
    /// The fake, as a started command is given it.
    pub(super) fn fake_info(&self) -> FakeInfo {
        FakeInfo {
            base_url: self.vars.wechat_base_url.clone(),
            appid: self.vars.appid.clone(),
            secret: self.vars.secret.clone(),
            // Discovery reads no output.
            output: crate::output::OutputScan::new(),
        }
    }

    /// A context for the candidate profile `d` (the text `render` writes for it).
    pub(super) fn ctx(&self, d: &Discovery) -> Result<Ctx, HarnessError> {
        let text = d.to_toml(None);
        let mut profile = Profile::from_toml_str(&text, "the candidate profile")?;
        profile.limits.request_timeout_secs = PROBE_TIMEOUT_SECS;
        Ok(Ctx::new(
            Arc::new(profile),
            self.fake.clone(),
            &self.base,
            self.vars.clone(),
            0,
        ))
    }

    async fn run(&self, options: &DiscoverOptions) -> Result<Discovery, HarnessError> {
        let mut d = Discovery {
            base_url: self.base.clone(),
            login_path: options.login_path.clone(),
            ..Discovery::default()
        };
        // What is not asked for is known at once (and kept if the time limit runs out).
        if options.phone.is_none() {
            d.unknown.push(
                "the [phone] endpoint (give its path with --phone): without it \
                 data.phone-number is skipped"
                    .into(),
            );
        }
        if options.access_token.is_empty() {
            d.unknown.push(
                "requests that make the backend use its access token (give their paths with \
                 --access-token): without them the access-token.* cases are skipped"
                    .into(),
            );
        }
        self.progress.save(&d);
        self.progress.stage("the fake's test user");
        // A phone number for the phone probe (the fake's default users have none).
        let persona = self
            .fake
            .create_user(json!({"phoneNumber": "13800138000", "countryCode": "86"}))
            .await?;
        let Some(hit) = self.find_login(&persona.openid, &mut d).await? else {
            d.unknown.push(format!(
                "no login shape worked: POST (and GET where POST was refused with 404/405) {} \
                 with a valid code in a JSON body, the query, a form or a header under {}, or \
                 with encrypted user data in Wafer's X-WX-* headers or a one-call JSON body, \
                 gave no token at {}, no session at /session or /data/session, no Set-Cookie \
                 and no token header",
                options.login_path,
                CODE_NAMES.join("/"),
                TOKEN_POINTERS.join(", ")
            ));
            d.unknown
                .push("the auth style and the protected path (not probed without a token)".into());
            let all_but_clock: Vec<Section> = Section::ALL
                .into_iter()
                .filter(|s| *s != Section::Clock)
                .collect();
            self.progress.finish(&d, &all_but_clock);
            return Ok(d);
        };
        let mut first = hit.found.clone();
        first.parts = hit.credentials[0].clone();
        d.login = Some(first);
        self.progress.finish(&d, &[Section::Login]);
        let paths = protected_paths(options);
        let mut accepted = None;
        for parts in &hit.credentials {
            let mut login = hit.found.clone();
            login.parts = parts.clone();
            d.login = Some(login);
            if let Some(a) = self.find_auth(&mut d, &hit.response, &paths).await? {
                accepted = Some(a);
                break;
            }
        }
        if accepted.is_none() {
            let mut login = hit.found.clone();
            login.parts = hit.credentials[0].clone();
            d.login = Some(login);
            d.unknown.push(format!(
                "no protected path accepted the credential and refused its absence: tried GET {} \
                 with Bearer, a raw Authorization header, Token, JWT, X-Token, X-Access-Token, \
                 Basic, a cookie and a query parameter (several parts: in X-WX-*, X-* or bare \
                 headers, cookies or query parameters); give the right one with --protected",
                paths.join(", ")
            ));
        }
        if let Some(a) = &accepted {
            d.identity = identity(&a.with, &persona.openid, a.credential.main());
        }
        if d.identity.is_none() {
            d.unknown.push(
                "where the protected answer names the user (`identity`): without it \
                 login.returning-user and login.distinct-users are skipped"
                    .into(),
            );
        }
        self.progress
            .finish(&d, &[Section::Auth, Section::Identity]);
        if let Some(a) = &accepted {
            self.probe_data(&mut d, &hit, a, &persona, options).await?;
            self.progress
                .finish(&d, &[Section::LoginData, Section::UserInfo]);
            if let Some(path) = &options.phone {
                self.find_phone(&mut d, path, a, &persona).await?;
            }
            self.progress.finish(&d, &[Section::Phone]);
            self.find_operations(&mut d, &options.access_token, a)
                .await?;
        }
        let main = accepted
            .as_ref()
            .map(|a| a.credential.main().to_string())
            .unwrap_or_default();
        d.jwt_secret = jwt_key(&main, &options.env);
        if d.jwt_secret.is_none() && crate::jwt::decode(&main).is_ok() {
            d.unknown.push(
                "the JWT signing key (`[jwt] secret`): none of the --env values verifies the \
                 token; with it token.expired-rejected can mint expired tokens"
                    .into(),
            );
        }
        self.progress.finish(
            &d,
            &[
                Section::LoginData,
                Section::UserInfo,
                Section::Phone,
                Section::AccessToken,
                Section::JwtKey,
            ],
        );
        Ok(d)
    }

    /// Every auth style of the credential `d.login` names, on every path, until one is
    /// accepted and its absence refused; fills `d.auth` and `d.rejection`.
    async fn find_auth(
        &self,
        d: &mut Discovery,
        login_answer: &Response,
        paths: &[String],
    ) -> Result<Option<Accepted>, HarnessError> {
        let Some(login) = d.login.clone() else {
            return Ok(None);
        };
        let Some(credential) = self.ctx(d)?.credential_of(login_answer) else {
            return Ok(None);
        };
        let list = match login.single_source() {
            Some(source) => styles(source.strip_prefix("cookie:")),
            None => {
                let names: Vec<String> = login.parts.iter().map(|(n, _)| n.clone()).collect();
                part_styles(&names)
            }
        };
        for path in paths {
            let mut without = None;
            for (label, toml) in &list {
                if d.other_probes >= MAX_OTHER_PROBES {
                    return Ok(None);
                }
                self.progress
                    .stage(format!("the auth style (GET {path} with {label})"));
                self.progress.save(d);
                let mut candidate = d.clone();
                candidate.auth = Some(AuthFound {
                    path: path.clone(),
                    toml: toml.clone(),
                    label: label.clone(),
                });
                candidate.rejection = None;
                let mut ctx = self.ctx(&candidate)?;
                if without.is_none() {
                    d.other_probes += 1;
                    let Ok(w) = ctx.protected(None).await else {
                        break;
                    };
                    if matches!(w.status, 404 | 405) {
                        break;
                    }
                    without = Some(w);
                }
                let Some(without) = without.as_ref() else {
                    break;
                };
                d.other_probes += 1;
                let Ok(with) = ctx.protected(Some(&credential)).await else {
                    continue;
                };
                if !with.is_success() {
                    continue;
                }
                let Some(r) = rejection(&with, without) else {
                    continue;
                };
                candidate.rejection = Some(r);
                let judge = self.ctx(&candidate)?;
                if judge.is_accepted(&with) && judge.is_refusal(without) {
                    *d = candidate;
                    return Ok(Some(Accepted { with, credential }));
                }
            }
        }
        Ok(None)
    }
}

/// A failure of the fake's control API inside a context call, as the harness error it is.
pub(super) fn control(e: crate::error::CaseError) -> HarnessError {
    match e {
        crate::error::CaseError::Control { what, message } => {
            HarnessError::Control { what, message }
        }
        other => HarnessError::Internal(other.to_string()),
    }
}
