//! `wxmock profile discover`: flags into a `discover` call; the starter profile to stdout or a
//! file; the result into an exit code.

use std::net::SocketAddr;
use std::path::PathBuf;

use std::time::Duration;

use wxmock_harness::discover::{discover, CommandLine, DiscoverOptions, Target};

use crate::exit_code;

#[derive(Debug, clap::Subcommand)]
pub enum ProfileCommand {
    /// Probe a login backend in the usual shapes and write a commented starter profile.
    ///
    /// Every probe is bounded (25 login tries, 400 other requests, 5 s each, 100 s in all by
    /// default) and talks only to the backend and the in-process fake. What could not be
    /// determined is listed in the profile under NOT DETERMINED. A backend started with
    /// --command is started once more under libfaketime, when installed, to see whether its
    /// clock can be moved (`[backend] clock = "faketime"`). Exit 0 when a login shape was
    /// found, 4 when none was, 7 when the time limit ran out before one was (the profile is
    /// written in every case), 2 on bad usage.
    Discover(DiscoverArgs),
}

#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    /// Start the backend with `sh -c COMMAND`; its environment gets WX_API_BASE (the fake),
    /// WX_APPID, WX_SECRET, PORT and LISTEN (127.0.0.1:PORT).
    #[arg(long, env = "WXMOCK_DISCOVER_COMMAND", conflicts_with = "base_url")]
    command: Option<String>,
    /// Extra environment for --command, KEY=VALUE (repeated or comma-separated); a value that
    /// verifies the token's HMAC signature is written as the profile's `[jwt] secret`.
    #[arg(long = "env", env = "WXMOCK_DISCOVER_ENV", value_delimiter = ',', value_parser = key_value)]
    env: Vec<(String, String)>,
    /// Probe a backend already running here, configured with the fake's address (--fake-listen),
    /// --appid and --secret.
    #[arg(long, env = "WXMOCK_DISCOVER_BASE_URL")]
    base_url: Option<String>,
    /// The login path: the code is sent in each usual shape (a JSON body, the query, a form, a
    /// header, Wafer's X-WX-* headers with encrypted data, a one-call body), POSTed, and as a
    /// GET when POST is answered 404 or 405.
    #[arg(long, env = "WXMOCK_DISCOVER_LOGIN_PATH", default_value = "/api/login")]
    login_path: String,
    /// A path that needs a valid credential (repeated or comma-separated; default: /api/me,
    /// /api/user, /api/user/me, /api/user/info, /user/info, /me, /api/profile, /user,
    /// /userinfo, /api/userinfo, /profile, then /me, /user, /user/me, /userinfo, /user/info,
    /// /profile beside the login path and one level up; 24 at most).
    #[arg(long, env = "WXMOCK_DISCOVER_PROTECTED", value_delimiter = ',')]
    protected: Vec<String>,
    /// A path that takes the user's encrypted data (encryptedData, iv, rawData, signature);
    /// probed for its body, whether it echoes or only acknowledges, and where the data reads
    /// back. Not probed without it.
    #[arg(long, env = "WXMOCK_DISCOVER_USER_INFO")]
    user_info: Option<String>,
    /// A path that resolves a getPhoneNumber code (POSTed as code, phoneCode or phone_code);
    /// not probed without it.
    #[arg(long, env = "WXMOCK_DISCOVER_PHONE")]
    phone: Option<String>,
    /// A path that makes the backend use its access token, sent as a GET with the credential
    /// (repeated or comma-separated); none probed without it.
    #[arg(long, env = "WXMOCK_DISCOVER_ACCESS_TOKEN", value_delimiter = ',')]
    access_token: Vec<String>,
    /// Where the fake WeChat listens (a fixed port for a backend given by --base-url).
    #[arg(
        long,
        env = "WXMOCK_DISCOVER_FAKE_LISTEN",
        default_value = "127.0.0.1:0"
    )]
    fake_listen: SocketAddr,
    /// The appid the backend uses (default: a fresh one; needed with --base-url).
    #[arg(long, env = "WXMOCK_DISCOVER_APPID")]
    appid: Option<String>,
    /// The appsecret the backend uses (default: a fresh one; needed with --base-url).
    #[arg(long, env = "WXMOCK_DISCOVER_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// The probes' overall time limit in seconds (the backend's first start aside, its start
    /// under libfaketime included): when it runs out, the profile found so far is written with
    /// every unfinished section marked NOT DETERMINED (exit 7 if the login was not found yet).
    #[arg(long, env = "WXMOCK_DISCOVER_TIME_LIMIT_SECS", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    time_limit_secs: u64,
    /// The libfaketime preload library tried on a --command backend (Debian's `faketime`
    /// package by default); a missing one is noted in the profile, not an error.
    #[arg(
        long,
        env = "WXMOCK_DISCOVER_FAKETIME_LIB",
        default_value = wxmock_harness::clock::DEBIAN_FAKETIME_LIB
    )]
    faketime_lib: PathBuf,
    /// Write the profile here instead of stdout.
    #[arg(long, env = "WXMOCK_DISCOVER_OUT")]
    out: Option<PathBuf>,
}

fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

pub fn run(command: ProfileCommand) -> u8 {
    let ProfileCommand::Discover(args) = command;
    let paths = std::iter::once(("--login-path", &args.login_path))
        .chain(args.protected.iter().map(|p| ("--protected", p)))
        .chain(args.user_info.iter().map(|p| ("--user-info", p)))
        .chain(args.phone.iter().map(|p| ("--phone", p)))
        .chain(args.access_token.iter().map(|p| ("--access-token", p)));
    for (flag, path) in paths {
        if !path.starts_with('/') {
            eprintln!("wxmock: {flag} must start with `/` (got `{path}`)");
            return exit_code::USAGE;
        }
    }
    let launcher = match (&args.command, &args.base_url) {
        (Some(c), _) => Target::command(c.clone(), args.env.clone()),
        (None, Some(url)) => {
            if args.appid.is_none() || args.secret.is_none() || args.fake_listen.port() == 0 {
                eprintln!(
                    "wxmock: with --base-url the running backend must already use the fake: give \
                     --fake-listen with a fixed port, --appid and --secret, matching its configuration"
                );
                return exit_code::USAGE;
            }
            Target::Url(url.clone())
        }
        (None, None) => {
            eprintln!("wxmock: give --command (the harness starts the backend) or --base-url (one already running)");
            return exit_code::USAGE;
        }
    };
    let options = DiscoverOptions {
        login_path: args.login_path.clone(),
        protected: args.protected.clone(),
        user_info: args.user_info.clone(),
        phone: args.phone.clone(),
        access_token: args.access_token.clone(),
        fake_listen: args.fake_listen,
        fake_listener: None,
        appid: args.appid.clone(),
        secret: args.secret.clone(),
        env: args.env.clone(),
        time_limit: Duration::from_secs(args.time_limit_secs),
        faketime_lib: args.faketime_lib.clone(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wxmock: cannot start the async runtime: {e}");
            return exit_code::INTERNAL;
        }
    };
    let found = match runtime.block_on(discover(launcher, &options)) {
        Ok(found) => found,
        Err(e) => return crate::check::fail(&e),
    };
    let text = found.to_toml(args.command.as_deref().map(|command| CommandLine {
        command,
        env: &args.env,
    }));
    // Sections the time limit cut short are named once, in the time limit's own line.
    let cut_short = found.time_limit.as_ref().map(|hit| hit.sentence());
    for line in &found.unknown {
        if cut_short
            .as_ref()
            .is_some_and(|s| line.ends_with(s.as_str()))
        {
            continue;
        }
        eprintln!("wxmock: not determined: {line}");
    }
    match &args.out {
        Some(path) => match std::fs::write(path, &text) {
            Ok(()) => eprintln!("wxmock: wrote {}", path.display()),
            Err(e) => {
                eprintln!("wxmock: cannot write {}: {e}", path.display());
                return exit_code::INTERNAL;
            }
        },
        None => print!("{text}"),
    }
    if let Some(hit) = &found.time_limit {
        eprintln!(
            "wxmock: {}; not determined: {}; the profile has what was found by then{}",
            hit.sentence(),
            hit.keys(),
            if found.login.is_none() {
                " (no login shape yet: exit 7)"
            } else {
                ""
            }
        );
    }
    match (&found.login, &found.time_limit) {
        (Some(_), _) => exit_code::OK,
        (None, Some(_)) => exit_code::DEADLINE,
        (None, None) => exit_code::BACKEND_UNREACHABLE,
    }
}
