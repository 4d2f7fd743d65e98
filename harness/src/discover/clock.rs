//! Whether libfaketime moves the backend's clock, for a backend `discover` starts itself: the
//! command is started again under libfaketime (the monotonic clock real for Node-family
//! programs, faked for the rest, as `faketime_monotonic = "auto"` does), its clock already two
//! days ahead; a login with the shape found (and the protected request, when one was found)
//! must work, and the answers must be dated two days ahead (the `Date` header, or the token's
//! `iat`); then the clock is put back to real time, as the runner does after every case, and
//! the login must still work. When the first monotonic setting fails, the other is tried: the
//! profile names it only when `auto` would guess wrong.

use std::path::Path;

use serde_json::json;

use super::found::{ClockFound, Discovery};
use super::launch::{start_command, Faketime};
use super::probe::Prober;
use crate::clock::{real_now, shell_runs_node, DEBIAN_FAKETIME_LIB};
use crate::exchange::{truncate, Response};
use crate::profile::MonotonicMode;

/// How far ahead the backend's clock starts: far beyond any timezone mistake.
const OFFSET_SECS: i64 = 2 * 86_400;
/// How far a date read back may be from the one expected (the answer's own latency, rounding).
const TOLERANCE_SECS: i64 = 3_600;

/// What one start under libfaketime showed.
enum Tried {
    /// Logged in, dated ahead, and still logged in after the clock went back.
    Moves(String),
    /// Logged in, but dated on real time: the preload does not reach its clock.
    Still(String),
    /// Logged in, but no answer showed the backend's time.
    Unseen,
    /// Did not start, or a login failed.
    Broken(String),
}

/// `MonotonicMode` as the profile spells it.
fn mode_word(real_monotonic: bool) -> &'static str {
    if real_monotonic {
        "real"
    } else {
        "faked"
    }
}

/// ` (it exited with status N)` when the process has ended.
fn exited(process: &mut crate::backend::BackendProcess) -> String {
    process
        .exited()
        .map(|status| format!(" (it exited with {})", crate::backend::exit_text(status)))
        .unwrap_or_default()
}

/// The backend's "now" an answer shows: its `Date` header, else the token's `iat`.
fn dated(answers: &[&Response], token: &str) -> Option<(i64, &'static str)> {
    for r in answers {
        let Some(date) = r.header("date") else {
            continue;
        };
        if let Ok(t) = httpdate::parse_http_date(date.trim()) {
            let secs = t
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            return Some((secs, "its Date header"));
        }
    }
    let iat = crate::jwt::decode(token).ok()?.numeric_claim("iat")?;
    Some((iat, "the token's iat"))
}

impl Prober {
    /// Probes `command` under libfaketime at `lib`; `d` holds the login (and auth) found.
    pub(super) async fn probe_clock(
        &self,
        command: &str,
        env: &[(String, String)],
        d: &Discovery,
        lib: &Path,
    ) -> ClockFound {
        if d.login.is_none() {
            return ClockFound::Not(
                "not probed: without a login shape there is nothing to try under libfaketime"
                    .into(),
            );
        }
        if !lib.is_file() {
            return ClockFound::Not(format!(
                "libfaketime is not installed (no {}; on Debian or Ubuntu: apt-get install \
                 faketime), so whether it moves this backend's clock was not probed",
                lib.display()
            ));
        }
        let auto_real = shell_runs_node(command);
        let mut broken = Vec::new();
        for real_monotonic in [auto_real, !auto_real] {
            self.progress.stage(format!(
                "whether the backend runs under libfaketime (monotonic clock {})",
                mode_word(real_monotonic)
            ));
            match self
                .under_faketime(command, env, d, lib, real_monotonic)
                .await
            {
                Tried::Moves(seen) => {
                    let mode = if real_monotonic {
                        MonotonicMode::Real
                    } else {
                        MonotonicMode::Faked
                    };
                    let monotonic = (real_monotonic != auto_real)
                        .then(|| (mode, broken.first().cloned().unwrap_or_default()));
                    let lib = (lib != Path::new(DEBIAN_FAKETIME_LIB)).then(|| lib.to_path_buf());
                    return ClockFound::Faketime {
                        monotonic,
                        lib,
                        seen,
                    };
                }
                Tried::Still(seen) => {
                    return ClockFound::Not(format!(
                        "under libfaketime, with its clock two days ahead, {seen}: its clock does \
                         not follow (a statically linked binary, or time kept outside the \
                         process); give it a `clock_command` instead"
                    ))
                }
                Tried::Unseen => {
                    return ClockFound::Not(
                        "a login worked under libfaketime with the clock two days ahead, but no \
                         answer showed the backend's time (no Date header, no token iat), so \
                         whether its clock follows is not known: uncomment to try"
                            .into(),
                    )
                }
                Tried::Broken(why) => broken.push(why),
            }
        }
        ClockFound::Not(format!(
            "under libfaketime with the monotonic clock {}, {}; with it {}, {}",
            mode_word(auto_real),
            broken.first().map_or("", String::as_str),
            mode_word(!auto_real),
            broken.get(1).map_or("", String::as_str)
        ))
    }

    /// One start of `command` under libfaketime, two days ahead, then back to real time.
    async fn under_faketime(
        &self,
        command: &str,
        env: &[(String, String)],
        d: &Discovery,
        lib: &Path,
        real_monotonic: bool,
    ) -> Tried {
        let info = self.fake_info();
        // The control file is written before the start: the backend's first reading of the
        // clock is already two days ahead (a jump while it runs is tried after).
        let faketime = Faketime {
            lib,
            real_monotonic,
            offset_secs: OFFSET_SECS,
        };
        let started = match start_command(command, env, &info, Some(faketime)).await {
            Ok(s) => s,
            Err(e) => return Tried::Broken(format!("it did not start: {e}")),
        };
        let Some(mut clock) = started.clock else {
            return Tried::Broken("no libfaketime control file was made".into());
        };
        let mut process = started.process;
        let under = Prober {
            base: started.base_url.clone(),
            ..self.clone()
        };
        let ahead = match under.login_under(d).await {
            Ok(a) => a,
            Err(why) => {
                let exit = exited(&mut process);
                return Tried::Broken(format!("with its clock two days ahead, {why}{exit}"));
            }
        };
        if let Err(e) = clock.set_offset(0).await {
            return Tried::Broken(e.to_string());
        }
        if let Err(why) = under.login_under(d).await {
            let exit = exited(&mut process);
            return Tried::Broken(format!(
                "after its clock was put back from two days ahead to real time, {why}{exit}"
            ));
        }
        let answers: Vec<&Response> = std::iter::once(&ahead.0).chain(&ahead.1).collect();
        let _ = process.stop().await;
        let Some((t, source)) = dated(&answers, &ahead.2) else {
            return Tried::Unseen;
        };
        let now = real_now();
        let when = httpdate::fmt_http_date(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.max(0) as u64),
        );
        if (t - (now + OFFSET_SECS)).abs() <= TOLERANCE_SECS {
            Tried::Moves(format!(
                "with its clock two days ahead, it logged in and {source} read {when}; put \
                 back to real time, it logged in again"
            ))
        } else if (t - now).abs() <= TOLERANCE_SECS {
            Tried::Still(format!("{source} still read real time ({when})"))
        } else {
            Tried::Broken(format!(
                "{source} read {when}: neither real time nor two days ahead"
            ))
        }
    }

    /// A login with the shape `d` names and, when `d` has one, the protected request with its
    /// credential: (the login answer, the protected answer, the credential's main value).
    async fn login_under(
        &self,
        d: &Discovery,
    ) -> Result<(Response, Option<Response>, String), String> {
        let user = self
            .fake
            .create_user(json!({}))
            .await
            .map_err(|e| e.to_string())?;
        let mut ctx = self.ctx(d).map_err(|e| e.to_string())?;
        let code = ctx
            .login_code(&user.openid)
            .await
            .map_err(|e| e.to_string())?;
        let values = ctx
            .login_values(Some(&code))
            .await
            .map_err(|e| e.to_string())?;
        let req = ctx.render(&ctx.profile.compiled.login.clone(), &values);
        let login = ctx.send("login", req).await.map_err(|e| {
            format!(
                "the login got no answer ({})",
                truncate(&e.to_string(), 160)
            )
        })?;
        if !login.is_success() {
            return Err(format!(
                "the login was answered HTTP {} {}",
                login.status,
                truncate(&login.body, 160)
            ));
        }
        let Some(credential) = ctx.credential_of(&login) else {
            return Err("the login answer had no credential".into());
        };
        let mut protected = None;
        if d.auth.is_some() {
            let p = ctx.protected(Some(&credential)).await.map_err(|e| {
                format!(
                    "the protected request got no answer ({})",
                    truncate(&e.to_string(), 160)
                )
            })?;
            if !ctx.is_accepted(&p) {
                return Err(format!(
                    "the protected request with the new credential was answered HTTP {} {}",
                    p.status,
                    truncate(&p.body, 160)
                ));
            }
            protected = Some(p);
        }
        Ok((login, protected, credential.main().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(headers: &[(&str, &str)]) -> Response {
        Response {
            status: 200,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: String::new(),
            json: None,
        }
    }

    #[test]
    fn the_backend_time_is_read_from_the_date_header_first_then_the_token_iat() {
        let dated_answer = answer(&[("Date", "Thu, 03 Dec 2026 23:12:33 GMT")]);
        assert_eq!(
            dated(&[&answer(&[]), &dated_answer], "opaque"),
            Some((1_796_339_553, "its Date header"))
        );
        // header {"alg":"HS256"}, payload {"iat":1796339553}
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJpYXQiOjE3OTYzMzk1NTN9.c2ln";
        assert_eq!(
            dated(&[&answer(&[("Date", "not a date")])], jwt),
            Some((1_796_339_553, "the token's iat"))
        );
        assert_eq!(dated(&[&answer(&[])], "opaque"), None);
    }
}
