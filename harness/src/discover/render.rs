//! The starter profile `discover` writes: the sections of docs/harness.md, each with a comment
//! saying what was probed and found, and a closing list of what could not be determined.

use std::fmt::Write as _;

use super::probe::{Discovery, RejectionFound};

/// How the profile starts the backend: `None` for one already running at the probed URL.
pub struct CommandLine<'a> {
    pub command: &'a str,
    pub env: &'a [(String, String)],
}

fn quoted(s: &str) -> String {
    // A JSON string is a valid TOML basic string for the text a profile holds.
    serde_json::Value::String(s.to_string()).to_string()
}

fn place(code_in: &str) -> &'static str {
    match code_in {
        "json" => "JSON body",
        "query" => "query",
        "form" => "form body",
        _ => "request header",
    }
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
        let _ = writeln!(t, "name = \"discovered\"\n\n[backend]");
        match &command {
            Some(c) => {
                let _ = writeln!(t, "base_url = \"http://127.0.0.1:{{{{port}}}}\"");
                let _ = writeln!(t, "command = {}", quoted(c.command));
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
        let _ = writeln!(
            t,
            "\n[login]\nmethod = \"POST\"\npath = {}",
            quoted(&self.login_path)
        );
        match &self.login {
            Some(l) => {
                let _ = writeln!(
                    t,
                    "# Found: the code goes in the {} as `{}` ({} login probe(s), each with a fresh code).",
                    place(&l.code_in), l.code_field, self.login_probes
                );
                let _ = writeln!(
                    t,
                    "code_in = {}\ncode_field = {}",
                    quoted(&l.code_in),
                    quoted(&l.code_field)
                );
                match l.token_source.strip_prefix("cookie:") {
                    Some(name) => {
                        let _ = writeln!(
                            t,
                            "# Found: the login answer sets the session cookie `{name}`."
                        );
                        let _ = writeln!(t, "token_cookie = {}", quoted(name));
                    }
                    None => {
                        let _ = writeln!(
                            t,
                            "# Found: the token is at the JSON pointer {}.",
                            l.token_source
                        );
                        let _ = writeln!(t, "token_pointer = {}", quoted(&l.token_source));
                    }
                }
            }
            None => {
                let _ = writeln!(
                    t,
                    "# NOT DETERMINED: no probed shape gave a token; these are the defaults."
                );
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
                let _ = writeln!(
                    t,
                    "# NOT DETERMINED: no style was accepted; Bearer is the default."
                );
                let _ = writeln!(t, "style = \"bearer\"");
            }
        }
        let _ = writeln!(t, "\n[protected]\nmethod = \"GET\"");
        match &self.auth {
            Some(a) => {
                let _ = writeln!(t, "path = {}", quoted(&a.path));
            }
            None => {
                let _ = writeln!(
                    t,
                    "# NOT DETERMINED: replace with a path that needs a valid credential."
                );
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
            None => {
                let _ = writeln!(
                    t,
                    "# NOT DETERMINED: how the backend says no; 401 and 403 are the defaults."
                );
                let _ = writeln!(t, "statuses = [401, 403]");
            }
        }
        if !self.unknown.is_empty() {
            let _ = writeln!(t, "\n# NOT DETERMINED by the probes:");
            for u in &self.unknown {
                let _ = writeln!(t, "# - {u}");
            }
        }
        t
    }
}
