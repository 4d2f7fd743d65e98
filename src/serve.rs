//! `wxmock serve`: flags into a [`Config`], bind, print how to use the fake, serve until
//! Ctrl-C or SIGTERM. Precedence: defaults < config file < environment < flags (clap reads
//! `WXMOCK_*` as the fallback of each flag).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use wxmock_server::engine::persona;
use wxmock_server::{AppState, Clock, Config};

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
    if args.journal_capacity.is_some() {
        config.journal_capacity = args.journal_capacity;
    }
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
    print_banner(address, &config, &extra);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(wxmock_server::server::serve(listener, state, async {
        // A send or a dropped sender both mean stop.
        let _ = stopped.await;
    }));
    shutdown_signal().await;
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

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// What a newcomer needs: the URL, the app, the personas and a copy-paste example. The first
/// line is stable (`… listening on http://ADDR`): scripts and tests read the URL from it.
fn print_banner(address: SocketAddr, config: &Config, impersonation: &str) {
    let base = format!("http://{address}");
    let mut out = String::new();
    out.push_str(&format!("wxmock: fake WeChat API listening on {base}\n"));
    out.push_str(&format!(
        "  control API: {base}/__admin (health: {base}/__admin/health)\n"
    ));
    let apps = config.seed_apps();
    let demo = config.apps.is_empty();
    if demo {
        out.push_str(&format!(
            "  demo app: appid={} secret={}\n  personas:\n",
            persona::DEMO_APPID,
            persona::DEMO_SECRET
        ));
        for (name, openid, what) in persona::PERSONAS {
            out.push_str(&format!("    {name:<8} {openid}  {what}\n"));
        }
    } else {
        for app in &apps {
            out.push_str(&format!(
                "  app: appid={} ({} users; secret from your config)\n",
                app.appid,
                app.users.len()
            ));
        }
    }
    if let Some(app) = apps.first() {
        let openid = app
            .users
            .first()
            .and_then(|u| u.openid.clone())
            .unwrap_or_else(|| "<openid>".to_owned());
        let secret = if demo {
            persona::DEMO_SECRET.to_owned()
        } else {
            "<secret>".to_owned()
        };
        out.push_str("  try it:\n");
        out.push_str(&format!(
            "    CODE=$(curl -s -X POST {base}/__admin/login -H 'content-type: application/json' \\\n      -d '{{\"appid\":\"{}\",\"openid\":\"{openid}\"}}' | sed 's/.*\"code\":\"\\([^\"]*\\)\".*/\\1/')\n",
            app.appid
        ));
        out.push_str(&format!(
            "    curl -s \"{base}/sns/jscode2session?appid={}&secret={secret}&js_code=$CODE&grant_type=authorization_code\"\n",
            app.appid
        ));
        out.push_str(
            "  from a mini-program: send js_code=wxmock-as-alice (or wxmock-as-<openid>) instead of the wx.login code;\n    \
             js_code=wxmock-err-40029 answers that errcode; [rules] unknown_code_user adopts real wx.login codes\n",
        );
    }
    out.push_str(impersonation);
    print!("{out}");
    use std::io::Write as _;
    // A closed stdout must not stop the server.
    let _ = std::io::stdout().flush();
}
