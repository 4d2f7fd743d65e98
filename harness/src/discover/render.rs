//! The starter profile `discover` writes: the sections of docs/harness.md, each with a comment
//! saying what was probed and found, and a closing list of what could not be determined.

use std::fmt::Write as _;

use super::found::{ClockFound, Discovery, LoginFound, RejectionFound, Section};
use crate::profile::MonotonicMode;

/// How the profile starts the backend: `None` for one already running at the probed URL.
pub struct CommandLine<'a> {
    pub command: &'a str,
    pub env: &'a [(String, String)],
}

fn quoted(s: &str) -> String {
    // A JSON string is a valid TOML basic string for the text a profile holds.
    serde_json::Value::String(s.to_string()).to_string()
}

impl Discovery {
    /// The profile as TOML text, with comments.
    pub fn to_toml(&self, command: Option<CommandLine<'_>>) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "# A starter profile written by `wxmock profile discover` (see docs/harness.md)."
        );
        let _ = writeln!(
            t,
            "# Run it with `wxmock check --profile FILE`; review every line marked NOT DETERMINED."
        );
        if let Some(hit) = &self.time_limit {
            let _ = writeln!(
                t,
                "# Incomplete: {}; what was not finished is marked NOT DETERMINED.",
                hit.sentence()
            );
        }
        let _ = writeln!(t, "name = \"discovered\"\n\n[backend]");
        match &command {
            Some(c) => {
                let _ = writeln!(t, "base_url = \"http://127.0.0.1:{{{{port}}}}\"");
                let _ = writeln!(t, "command = {}", quoted(c.command));
                self.write_clock(&mut t, true);
                let _ = writeln!(t, "\n[backend.env]");
                for (k, v) in [
                    ("WX_API_BASE", "{{wechat_base_url}}"),
                    ("WX_APPID", "{{appid}}"),
                    ("WX_SECRET", "{{secret}}"),
                    ("PORT", "{{port}}"),
                    ("LISTEN", "127.0.0.1:{{port}}"),
                ] {
                    let _ = writeln!(t, "{k} = {}", quoted(v));
                }
                for (k, v) in c.env {
                    let bare = k
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
                    let key = if bare { k.clone() } else { quoted(k) };
                    let _ = writeln!(t, "{key} = {}", quoted(v));
                }
            }
            None => {
                let _ = writeln!(t, "# The backend was already running here, pointed at the fake by hand; a `command`");
                let _ = writeln!(t, "# with `{{{{wechat_base_url}}}}`, `{{{{appid}}}}` and `{{{{secret}}}}` in its env lets the harness start it.");
                let _ = writeln!(t, "base_url = {}", quoted(&self.base_url));
                self.write_clock(&mut t, false);
            }
        }
        if let Some((listen, appid, secret)) = &self.fixed_fake {
            let _ = writeln!(
                t,
                "\n# The fake's address and app the running backend is configured with."
            );
            let _ = writeln!(
                t,
                "[fake]\nlisten = {}\nappid = {}\nsecret = {}",
                quoted(listen),
                quoted(appid),
                quoted(secret)
            );
        }
        let method = self.login.as_ref().map_or("POST", |l| l.method.as_str());
        let _ = writeln!(
            t,
            "\n[login]\nmethod = {}\npath = {}",
            quoted(method),
            quoted(&self.login_path)
        );
        match &self.login {
            Some(l) => self.write_login(&mut t, l),
            None => {
                let why = self.why_not(Section::Login, "no probed shape gave a token");
                let _ = writeln!(t, "# NOT DETERMINED: {why}; these are the defaults.");
                let _ = writeln!(
                    t,
                    "code_in = \"json\"\ncode_field = \"code\"\ntoken_pointer = \"/token\""
                );
            }
        }
        let _ = writeln!(t, "\n[auth]");
        match &self.auth {
            Some(a) => {
                let _ = writeln!(
                    t,
                    "# Found: GET {} accepted {} and refused the request without it.",
                    a.path, a.label
                );
                let _ = writeln!(t, "{}", a.toml);
            }
            None => {
                let why = self.why_not(Section::Auth, "no style was accepted");
                let _ = writeln!(t, "# NOT DETERMINED: {why}; Bearer is the default.");
                let _ = writeln!(t, "style = \"bearer\"");
            }
        }
        let _ = writeln!(t, "\n[protected]\nmethod = \"GET\"");
        match &self.auth {
            Some(a) => {
                let _ = writeln!(t, "path = {}", quoted(&a.path));
            }
            None => {
                let why = self.why_not(
                    Section::Auth,
                    "replace with a path that needs a valid credential",
                );
                let _ = writeln!(t, "# NOT DETERMINED: {why}.");
                let _ = writeln!(t, "path = \"/api/me\"");
            }
        }
        match &self.identity {
            Some(i) => {
                let _ = writeln!(
                    t,
                    "# Found in the accepted answer (check it names the user, stably): {i}"
                );
                let _ = writeln!(t, "identity = {}", quoted(i));
            }
            None => {
                let _ = writeln!(
                    t,
                    "# NOT DETERMINED: `identity` (where the answer names the user)."
                );
            }
        }
        let _ = writeln!(t, "\n[rejected]");
        match &self.rejection {
            Some(RejectionFound::Status(s)) => {
                let _ = writeln!(
                    t,
                    "# Found: without a credential the protected path answered HTTP {s}."
                );
                let mut statuses = vec![401, 403];
                if !statuses.contains(s) {
                    statuses.push(*s);
                }
                let list: Vec<String> = statuses.iter().map(u16::to_string).collect();
                let _ = writeln!(t, "statuses = [{}]", list.join(", "));
            }
            Some(RejectionFound::Field {
                status,
                pointer,
                value,
            }) => {
                let _ = writeln!(t, "# Found: without a credential the answer was HTTP {status} with {pointer} = {value}.");
                let _ = writeln!(
                    t,
                    "statuses = [401, 403]\n[[rejected.rules]]\nstatuses = [{status}]"
                );
                let _ = writeln!(t, "pointer = {}\nequals = [{value}]", quoted(pointer));
            }
            Some(RejectionFound::Present { status, pointer }) => {
                let _ = writeln!(t, "# Found: without a credential the answer was HTTP {status} with {pointer}, which the accepted answer lacks.");
                let _ = writeln!(
                    t,
                    "statuses = [401, 403]\n[[rejected.rules]]\nstatuses = [{status}]"
                );
                let _ = writeln!(t, "pointer = {}\nnot_equals = [\"\"]", quoted(pointer));
            }
            None => {
                let why = self.why_not(Section::Auth, "how the backend says no");
                let _ = writeln!(t, "# NOT DETERMINED: {why}; 401 and 403 are the defaults.");
                let _ = writeln!(t, "statuses = [401, 403]");
            }
        }
        self.write_user_info(&mut t);
        if let Some(p) = &self.phone {
            let _ = writeln!(t, "\n[phone]\npath = {}", quoted(&p.path));
            let _ = writeln!(t, "# Found: it took the getPhoneNumber code as `{}` and answered WeChat's phoneNumber here.", p.code_field);
            let _ = writeln!(
                t,
                "code_field = {}\nphone_number_pointer = {}",
                quoted(&p.code_field),
                quoted(&p.phone_number_pointer)
            );
        }
        for op in &self.operations {
            let seen = if op.calls_wechat {
                "the backend called WeChat while answering it"
            } else {
                "the fake saw no call to WeChat meanwhile: check that it uses the access token"
            };
            let _ = writeln!(
                t,
                "\n# Found: GET {} was accepted with the credential; {seen}.",
                op.path
            );
            let _ = writeln!(
                t,
                "[[access_token.operations]]\nmethod = \"GET\"\npath = {}",
                quoted(&op.path)
            );
        }
        if let Some((name, value)) = &self.jwt_secret {
            let _ = writeln!(
                t,
                "\n# Found: the token is a JWT that the value of {name} (in [backend.env]) signs."
            );
            let _ = writeln!(t, "[jwt]\nsecret = {}", quoted(value));
        }
        if !self.unknown.is_empty() {
            let _ = writeln!(t, "\n# NOT DETERMINED by the probes:");
            for u in &self.unknown {
                let _ = writeln!(t, "# - {u}");
            }
        }
        t
    }

    /// Why `section` holds defaults: the time limit, when it left the section unfinished.
    fn why_not(&self, section: Section, otherwise: &str) -> String {
        match &self.time_limit {
            Some(hit) if hit.left(section) => format!(
                "not finished within the overall time limit of {} s (see the top)",
                hit.secs
            ),
            _ => otherwise.to_string(),
        }
    }

    /// `[backend] clock`: set when libfaketime was seen to move the backend's clock, written
    /// commented out with the reason otherwise.
    fn write_clock(&self, t: &mut String, started: bool) {
        match &self.clock {
            Some(ClockFound::Faketime {
                monotonic,
                lib,
                seen,
            }) => {
                let _ = writeln!(t, "# Found: under libfaketime, {seen}.");
                let _ = writeln!(t, "# The harness moves this clock for the expiry cases (token.lifetime, token.expired-rejected).");
                let _ = writeln!(t, "clock = \"faketime\"");
                if let Some(lib) = lib {
                    let _ = writeln!(t, "faketime_lib = {}", quoted(&lib.display().to_string()));
                }
                if let Some((mode, why)) = monotonic {
                    let (word, auto) = match mode {
                        MonotonicMode::Faked => ("faked", "real"),
                        _ => ("real", "faked"),
                    };
                    let _ = writeln!(t, "# `auto` would leave the monotonic clock {auto} for this command, and then {why}:");
                    let _ = writeln!(t, "# it must be {word}.");
                    let _ = writeln!(t, "faketime_monotonic = \"{word}\"");
                }
            }
            Some(ClockFound::Not(why)) => {
                let _ = writeln!(t, "# NOT DETERMINED: {why}.");
                let _ = writeln!(t, "# clock = \"faketime\"");
            }
            None if started => {
                let why = self.why_not(Section::Clock, "not probed");
                let _ = writeln!(t, "# NOT DETERMINED: whether libfaketime moves the backend's clock: {why}; if it does,");
                let _ = writeln!(t, "# `clock = \"faketime\"` lets token.lifetime run.");
                let _ = writeln!(t, "# clock = \"faketime\"");
            }
            None => {
                let _ = writeln!(t, "# NOT DETERMINED: the backend's clock (not probed: discover did not start it); a");
                let _ = writeln!(t, "# `clock_command` that moves it by {{{{advance_secs}}}} lets token.lifetime run.");
                let _ = writeln!(t, "# clock_command = \"…\"");
            }
        }
    }

    fn write_login(&self, t: &mut String, l: &LoginFound) {
        let _ = writeln!(
            t,
            "# Found: {} ({} login probe(s), each with a fresh code).",
            l.label, self.login_probes
        );
        if l.carries_data {
            let _ = writeln!(t, "# Every login sends valid encrypted userInfo minted for its code; the data.* cases send their variants through it.");
        }
        let _ = writeln!(t, "{}", l.request);
        match l.single_source() {
            Some(source) => {
                if let Some(name) = source.strip_prefix("cookie:") {
                    let _ = writeln!(
                        t,
                        "# Found: the login answer sets the session cookie `{name}`."
                    );
                    let _ = writeln!(t, "token_cookie = {}", quoted(name));
                } else if let Some(name) = source.strip_prefix("header:") {
                    let _ = writeln!(
                        t,
                        "# Found: the login answer carries the token in its `{name}` header."
                    );
                    let _ = writeln!(t, "token_header = {}", quoted(name));
                } else {
                    let _ = writeln!(t, "# Found: the token is at the JSON pointer {source}.");
                    let _ = writeln!(t, "token_pointer = {}", quoted(source));
                }
            }
            None => {
                let parts: Vec<String> = l
                    .parts
                    .iter()
                    .map(|(n, s)| format!("{n} = {}", quoted(s)))
                    .collect();
                let _ = writeln!(
                    t,
                    "# Found: the credential has {} parts, each sent back.",
                    l.parts.len()
                );
                let _ = writeln!(t, "token_parts = {{ {} }}", parts.join(", "));
            }
        }
        if let Some(p) = &l.data_pointer {
            let _ = writeln!(
                t,
                "# Found: the login answer shows the decrypted userInfo here."
            );
            let _ = writeln!(t, "data_pointer = {}", quoted(p));
        }
        if let Some(p) = &l.data_read_back {
            let _ = writeln!(
                t,
                "# Found: the protected answer shows the stored userInfo here."
            );
            let _ = writeln!(t, "data_read_back = {}", quoted(p));
        }
    }

    fn write_user_info(&self, t: &mut String) {
        let Some(u) = &self.user_info else {
            return;
        };
        let _ = writeln!(t, "\n[user_info]\npath = {}", quoted(&u.path));
        let body = if u.body_in == "form" {
            "a form"
        } else {
            "a JSON body"
        };
        let _ = writeln!(
            t,
            "# Found: it accepted valid encryptedData, iv, rawData and signature in {body}."
        );
        if u.body_in == "form" {
            let _ = writeln!(t, "body_in = \"form\"");
        }
        match (&u.result_pointer, &u.read_back) {
            (Some(p), _) => {
                let _ = writeln!(t, "# Found: its answer shows the decrypted fields here.");
                let _ = writeln!(t, "result_pointer = {}", quoted(p));
            }
            (None, read_back) => {
                let _ = writeln!(
                    t,
                    "# Found: its answer only acknowledges (it shows no decrypted field)."
                );
                let _ = writeln!(t, "mode = \"ack\"");
                if let Some((path, p)) = read_back {
                    let _ = writeln!(t, "# Found: GET {path} shows the stored fields.");
                    let _ = writeln!(
                        t,
                        "[user_info.read_back]\nmethod = \"GET\"\npath = {}\nresult_pointer = {}",
                        quoted(path),
                        quoted(p)
                    );
                }
            }
        }
    }
}
