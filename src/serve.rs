//! `wxmock serve`: flags into a [`Config`], bind, print how to use the fake, serve until
//! Ctrl-C or SIGTERM. Precedence: defaults < config file < environment < flags (clap reads
//! `WXMOCK_*` as the fallback of each flag).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use wxmock_server::admin::guard::{Access, SecretsView};
use wxmock_server::engine::persona;
use wxmock_server::{AppState, Clock, Config, Secret};

use crate::exit_code;

/// How long in-flight requests (e.g. a held `timeout` fault) may delay the exit after a
/// shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the URL is printed).
    #[arg(long, env = "WXMOCK_LISTEN", default_value = "127.0.0.1:7070")]
    listen: SocketAddr,
    /// TOML file with apps, users and rules (see wxmock.example.toml). Without it, or with no
    /// [[apps]] in it: the built-in demo app and personas.
    #[arg(long, env = "WXMOCK_CONFIG")]
    config: Option<PathBuf>,
    /// Seed for generated ids, codes, keys and tokens (overrides the file's `seed`).
    #[arg(long, env = "WXMOCK_SEED")]
    seed: Option<u64>,
    /// How many requests the journal keeps (overrides the file's `journal_capacity`).
    #[arg(long, env = "WXMOCK_JOURNAL_CAPACITY")]
    journal_capacity: Option<usize>,
    /// Also listen here as a proxy that impersonates api.weixin.qq.com (CONNECT with TLS from
    /// wxmock's CA, absolute-form requests, TLS spoken to the port); any other host is refused,
    /// nothing is forwarded. Prints the environment lines to paste into the backend's shell.
    #[arg(long, env = "WXMOCK_PROXY", value_name = "ADDR")]
    proxy: Option<SocketAddr>,
    /// Also answer as https://api.weixin.qq.com here (hosts-file mode, e.g. 127.0.0.1:443 with
    /// `127.0.0.1 api.weixin.qq.com` in /etc/hosts).
    #[arg(long, env = "WXMOCK_TLS_LISTEN", value_name = "ADDR")]
    tls_listen: Option<SocketAddr>,
    /// Keep the impersonation CA in this directory (created on first use, key mode 0600) so a
    /// trust store that holds it keeps working; without it, a fresh CA for each run.
    #[arg(long, env = "WXMOCK_CA_DIR", value_name = "DIR")]
    ca_dir: Option<PathBuf>,
    /// A browser origin allowed to call the control API (repeatable; replaces the file's
    /// `cors_origins`). `loopback` stands for every localhost origin, the default.
    #[arg(
        long = "cors-origin",
        env = "WXMOCK_CORS_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    cors_origins: Vec<String>,
    /// Bytes of each request and response body the journal keeps; longer bodies are kept
    /// truncated, with a marker [default: 8192].
    #[arg(long, env = "WXMOCK_JOURNAL_BODY_LIMIT")]
    journal_body_limit: Option<usize>,
    /// Bytes the whole journal may hold; the oldest entries go first [default: 8388608].
    #[arg(long, env = "WXMOCK_JOURNAL_MAX_BYTES")]
    journal_max_bytes: Option<usize>,
    /// How the journal API shows credentials (appsecret, tokens, session keys, codes) unless a
    /// request asks with ?secrets=: masked as *** or in clear [default: masked].
    #[arg(long, env = "WXMOCK_JOURNAL_SECRETS", value_parser = ["masked", "clear"])]
    journal_secrets: Option<String>,
    /// Token the control API requires (Authorization: Bearer <token>). Required on a
    /// non-loopback --listen address unless --admin-open.
    #[arg(long, env = "WXMOCK_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Leave the control API open on a non-loopback --listen address, without a token: anyone
    /// who reaches the port can mint logins and read session keys.
    #[arg(long, env = "WXMOCK_ADMIN_OPEN")]
    admin_open: bool,
    /// A host name the control API answers to besides localhost and IP addresses (repeatable;
    /// comma-separated in the environment). Other Host headers are refused (DNS rebinding).
    #[arg(long = "admin-host", env = "WXMOCK_ADMIN_HOSTS", value_delimiter = ',')]
    admin_hosts: Vec<String>,
    /// Milliseconds a request head may take to arrive once it has started [default: 10000].
    #[arg(long, env = "WXMOCK_HEADER_READ_TIMEOUT_MS")]
    header_read_timeout_ms: Option<u64>,
    /// Milliseconds a keep-alive connection may stay without a request [default: 60000].
    #[arg(long, env = "WXMOCK_IDLE_TIMEOUT_MS")]
    idle_timeout_ms: Option<u64>,
    /// Most client connections open at once; past it the quietest idle one is closed
    /// [default: 1024, kept below the open-file limit].
    #[arg(long, env = "WXMOCK_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
}

/// Flags (and their `WXMOCK_*` fallbacks) over the config file's values.
fn apply_flags(args: &ServeArgs, config: &mut Config) {
    if args.journal_capacity.is_some() {
        config.journal_capacity = args.journal_capacity;
    }
    if !args.cors_origins.is_empty() {
        config.cors_origins = Some(args.cors_origins.clone());
    }
    if args.journal_body_limit.is_some() {
        config.journal_body_limit = args.journal_body_limit;
    }
    if args.journal_max_bytes.is_some() {
        config.journal_max_bytes = args.journal_max_bytes;
    }
    match args.journal_secrets.as_deref() {
        Some("clear") => config.admin.journal_secrets = Some(SecretsView::Clear),
        Some(_) => config.admin.journal_secrets = Some(SecretsView::Masked),
        None => {}
    }
    if let Some(token) = &args.admin_token {
        config.admin.token = Some(Secret::new(token.clone()));
    }
    if args.admin_open {
        config.admin.open = true;
    }
    config
        .admin
        .allowed_hosts
        .extend(args.admin_hosts.iter().map(|h| h.trim().to_owned()));
    let connections = &mut config.connections;
    if let Some(ms) = args.header_read_timeout_ms {
        connections.header_read_timeout_ms = ms;
    }
    if let Some(ms) = args.idle_timeout_ms {
        connections.idle_timeout_ms = ms;
    }
    if let Some(max) = args.max_connections {
        connections.max_connections = max;
    }
}

pub fn run(args: ServeArgs) -> u8 {
    let mut config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(config) => config,
            Err(err) => {
                eprintln!("wxmock: {}", err.one_line());
                return exit_code::PROFILE_INVALID;
            }
        },
        None => Config::default(),
    };
    if args.seed.is_some() {
        config.seed = args.seed;
    }
    apply_flags(&args, &mut config);
    if let Err(err) = config.validate() {
        eprintln!("wxmock: {}", err.one_line());
        return exit_code::PROFILE_INVALID;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("wxmock: cannot start the async runtime: {err}");
            return exit_code::INTERNAL;
        }
    };
    let impersonation = crate::ca::Impersonation {
        proxy: args.proxy,
        tls_listen: args.tls_listen,
        ca_dir: args.ca_dir.clone(),
    };
    runtime.block_on(serve(args.listen, config, impersonation))
}

async fn serve(listen: SocketAddr, config: Config, impersonation: crate::ca::Impersonation) -> u8 {
    let listener = match wxmock_server::server::bind(listen).await {
        Ok(listener) => listener,
        Err(err) => {
            let cause = std::error::Error::source(&err)
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            eprintln!("wxmock: {err}{cause}");
            return exit_code::INTERNAL;
        }
    };
    let address = match listener.local_addr() {
        Ok(address) => address,
        Err(err) => {
            eprintln!("wxmock: cannot read the listening address: {err}");
            return exit_code::INTERNAL;
        }
    };
    let state = AppState::new(&config, Clock::system());
    // Listen for SIGTERM before printing the URL: a script that reads it and stops the server
    // at once must get a clean exit, not the default kill.
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(not(unix))]
    let terminate = None::<()>;
    // Kept until the server stops: dropping it stops the fronts.
    let mut _impersonating = None;
    let mut extra = String::new();
    if impersonation.wanted() {
        match impersonation.start(&state, address).await {
            Ok(mut running) => {
                extra = std::mem::take(&mut running.banner);
                _impersonating = Some(running);
            }
            Err(err) => {
                eprintln!("wxmock: cannot impersonate api.weixin.qq.com: {err}");
                return exit_code::INTERNAL;
            }
        }
    }
    let access = state.admin.access(address.ip().is_loopback());
    print_banner(address, &config, &state, access, &extra);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(wxmock_server::server::serve(listener, state, async {
        // A send or a dropped sender both mean stop.
        let _ = stopped.await;
    }));
    shutdown_signal(terminate).await;
    tracing::info!("shutting down");
    let _ = stop.send(());
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(Ok(Ok(()))) => exit_code::OK,
        Ok(Ok(Err(err))) => {
            eprintln!("wxmock: server failed: {err}");
            exit_code::INTERNAL
        }
        Ok(Err(err)) => {
            eprintln!("wxmock: server task failed: {err}");
            exit_code::INTERNAL
        }
        // In-flight requests outlived the grace period: stop anyway, it was asked for.
        Err(_) => exit_code::OK,
    }
}

/// Ctrl-C, or SIGTERM on Unix (its handler installed by the caller, `None` if that failed).
#[cfg(unix)]
async fn shutdown_signal(terminate: Option<tokio::signal::unix::Signal>) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match terminate {
            Some(mut signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// Ctrl-C.
#[cfg(not(unix))]
async fn shutdown_signal(_terminate: Option<()>) {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// What a newcomer needs: the URL, the console, the apps with their secrets and users, and
/// copy-paste examples, all for the apps actually served (read from the running engine, so
/// generated openids are the real ones). The first line is stable (`… listening on
/// http://ADDR`): scripts and tests read the URL from it.
fn print_banner(
    address: SocketAddr,
    config: &Config,
    state: &AppState,
    access: Access,
    impersonation: &str,
) {
    print!("{}{impersonation}", banner(address, config, state, access));
    use std::io::Write as _;
    // A closed stdout must not stop the server.
    let _ = std::io::stdout().flush();
}

fn banner(address: SocketAddr, config: &Config, state: &AppState, access: Access) -> String {
    use std::fmt::Write as _;
    let base = format!("http://{address}");
    let mut out = String::new();
    // `write!` into a String cannot fail.
    let _ = writeln!(out, "wxmock: fake WeChat API listening on {base}");
    let console_note = match access {
        Access::Token => " (it asks for the admin token)",
        Access::Closed => " (unusable until the control API is opened, see below)",
        Access::Local | Access::Open => "",
    };
    let _ = writeln!(out, "  console:     {base}/__admin/console{console_note}");
    let _ = writeln!(
        out,
        "  control API: {base}/__admin (health: {base}/__admin/health)"
    );
    let _ = writeln!(out, "  control API access: {}", access.describe());
    let demo = config.apps.is_empty();
    let apps: Vec<(String, String, Vec<String>)> = config
        .seed_apps()
        .iter()
        .map(|app| {
            let openids = state
                .engine
                .users(&app.appid)
                .map(|users| users.into_iter().map(|u| u.openid).collect())
                .unwrap_or_default();
            (app.appid.clone(), app.secret.expose().to_owned(), openids)
        })
        .collect();
    let has_personas = |openids: &[String]| openids.iter().any(|id| persona::name_of(id).is_some());
    for (appid, secret, openids) in &apps {
        let label = if demo { "demo app" } else { "app" };
        let who = if has_personas(openids) {
            "personas alice, bob, mallory".to_owned()
        } else {
            match openids.as_slice() {
                [] => "no users".to_owned(),
                [one] => format!("1 user: {one}"),
                [first, rest @ ..] => format!("{} users: {first}, …", rest.len() + 1),
            }
        };
        let _ = writeln!(out, "  {label}: appid={appid} secret={secret} ({who})");
    }
    if apps.iter().any(|(_, _, openids)| has_personas(openids)) {
        let _ = writeln!(out, "  personas:");
        for (name, openid, what) in persona::PERSONAS {
            let _ = writeln!(out, "    {name:<8} {openid}  {what}");
        }
    }
    let Some((appid, secret, openids)) = apps.first() else {
        return out;
    };
    let single = apps.len() == 1;
    if let Some(openid) = openids.first() {
        // With one app the control API needs no appid.
        let body = if single {
            format!("{{\"openid\":\"{openid}\"}}")
        } else {
            format!("{{\"appid\":\"{appid}\",\"openid\":\"{openid}\"}}")
        };
        let auth = if access == Access::Token {
            " -H \"authorization: Bearer $WXMOCK_ADMIN_TOKEN\""
        } else {
            ""
        };
        let magic = persona::name_of(openid).unwrap_or(openid);
        let _ = writeln!(out, "  try it:");
        // A closed control API cannot mint the code: the magic code needs no control API.
        let code = if access == Access::Closed {
            format!("wxmock-as-{magic}")
        } else {
            let _ = writeln!(
                out,
                "    CODE=$(curl -s -X POST {base}/__admin/login -H 'content-type: application/json'{auth} \\\n      -d '{body}' | sed 's/.*\"code\":\"\\([^\"]*\\)\".*/\\1/')"
            );
            "$CODE".to_owned()
        };
        let _ = writeln!(
            out,
            "    curl -s \"{base}/sns/jscode2session?appid={appid}&secret={secret}&js_code={code}&grant_type=authorization_code\""
        );
        let _ = writeln!(
            out,
            "  from a mini-program: send js_code=wxmock-as-{magic} (or wxmock-as-<openid>) instead of the wx.login code,\n    \
             or js_code=wxmock-err-40029 for that errcode; the wx.login shim: {base}/__admin/console/wxmock-login.js"
        );
    }
    match &config.rules.unknown_code_user {
        Some(who) => {
            let openid = persona::openid_of(who);
            let adopting: Vec<&str> = apps
                .iter()
                .filter(|(_, _, openids)| openids.iter().any(|id| id == openid))
                .map(|(appid, _, _)| appid.as_str())
                .collect();
            let scope = if adopting.len() == apps.len() {
                String::new()
            } else {
                format!(" (in {}; other apps answer 40029)", adopting.join(", "))
            };
            let _ = writeln!(
                out,
                "  real wx.login codes (from WeChat DevTools) log in as {who}{scope}"
            );
        }
        None => {
            // Suggest someone who exists in the first app.
            let example = openids
                .first()
                .map(|id| persona::name_of(id).unwrap_or(id))
                .unwrap_or("<openid>");
            let _ = writeln!(
                out,
                "  real wx.login codes answer 40029, as WeChat would ([rules] unknown_code_user = \"{example}\" adopts them)"
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn banner_for(access: Access) -> String {
        let config = Config::default();
        let state = AppState::new(&config, Clock::fixed(1_700_000_000));
        let address: SocketAddr = "192.0.2.10:7070".parse().unwrap();
        banner(address, &config, &state, access)
    }

    #[test]
    fn a_closed_control_api_gets_a_try_it_that_needs_no_control_api() {
        let text = banner_for(Access::Closed);
        assert!(!text.contains("/__admin/login"), "{text}");
        assert!(
            text.contains("js_code=wxmock-as-alice&grant_type=authorization_code"),
            "{text}"
        );
        assert!(text.contains("/__admin/console (unusable until"), "{text}");
    }

    #[test]
    fn an_open_control_api_gets_the_mint_and_redeem_pair() {
        let text = banner_for(Access::Local);
        assert!(
            text.contains("CODE=$(curl -s -X POST http://192.0.2.10:7070/__admin/login"),
            "{text}"
        );
        assert!(text.contains("js_code=$CODE&grant_type"), "{text}");
        assert!(
            text.contains("console:     http://192.0.2.10:7070/__admin/console\n"),
            "{text}"
        );
        let token = banner_for(Access::Token);
        assert!(token.contains("Bearer $WXMOCK_ADMIN_TOKEN"), "{token}");
        assert!(token.contains("(it asks for the admin token)"), "{token}");
    }
}
