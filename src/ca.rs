//! `wxmock ca` (print the kept CA's path and PEM) and the impersonation side of `wxmock serve`
//! (`--proxy`, `--tls-listen`, `--ca-dir`): which CA, where its files go, which fronts start,
//! and the lines a user pastes. The fronts themselves live in `wxmock_server::proxy`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use wxmock_server::ca::LocalCa;
use wxmock_server::proxy::{self, ClientFiles, FrontHandle, Mode};
use wxmock_server::AppState;

use crate::exit_code;

/// Trust variables a machine may already set; their bundles are kept in ours.
const TRUST_VARS: &[&str] = &[
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "CURL_CA_BUNDLE",
];

#[derive(Debug, clap::Args)]
pub struct CaArgs {
    /// Directory of the kept CA (created with its key, mode 0600, on first use).
    #[arg(long, env = "WXMOCK_CA_DIR")]
    ca_dir: Option<PathBuf>,
}

/// `wxmock ca`: the kept CA's certificate path, then its PEM.
pub fn run(args: CaArgs) -> u8 {
    let Some(dir) = args.ca_dir else {
        eprintln!(
            "wxmock: `wxmock ca` needs --ca-dir DIR (or WXMOCK_CA_DIR): without one, every \
             `wxmock serve` makes a fresh CA, so there is none to print"
        );
        return exit_code::USAGE;
    };
    match LocalCa::load_or_create(&dir) {
        Ok(ca) => {
            let path = ca.cert_path().map(Path::display).map(|p| p.to_string());
            println!("{}", path.unwrap_or_default());
            print!("{}", ca.cert_pem());
            exit_code::OK
        }
        Err(err) => {
            eprintln!("wxmock: {}", err.one_line());
            exit_code::INTERNAL
        }
    }
}

/// What `serve` asked of the impersonation.
#[derive(Debug, Clone)]
pub struct Impersonation {
    pub proxy: Option<SocketAddr>,
    pub tls_listen: Option<SocketAddr>,
    pub ca_dir: Option<PathBuf>,
}

/// The running fronts, and the files they handed out (a fresh CA's directory is removed on
/// drop; a kept one stays).
pub struct Running {
    _fronts: Vec<FrontHandle>,
    temporary: Option<PathBuf>,
    /// What to print under the banner.
    pub banner: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(dir) = &self.temporary {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Impersonation {
    pub fn wanted(&self) -> bool {
        self.proxy.is_some() || self.tls_listen.is_some()
    }

    /// Makes (or loads) the CA, writes the client files and starts the fronts for `state`,
    /// whose plain listener is at `wechat`. Errors are one line, ready to print.
    pub async fn start(&self, state: &AppState, wechat: SocketAddr) -> Result<Running, String> {
        let (mut ca, dir, temporary) = match &self.ca_dir {
            Some(dir) => (
                LocalCa::load_or_create(dir).map_err(|e| e.one_line())?,
                dir.clone(),
                None,
            ),
            None => {
                let dir = std::env::temp_dir().join(format!("wxmock-{}", std::process::id()));
                let ca = LocalCa::generate().map_err(|e| e.one_line())?;
                (ca, dir.clone(), Some(dir))
            }
        };
        let mut running = Running {
            _fronts: Vec::new(),
            temporary,
            banner: String::new(),
        };
        let ca_path = ca.write_cert(&dir).map_err(|e| e.one_line())?;
        let inherited: Vec<PathBuf> = TRUST_VARS
            .iter()
            .filter_map(std::env::var_os)
            .map(PathBuf::from)
            .collect();
        let files = ClientFiles {
            bundle: proxy::write_trust_bundle(&dir, ca.cert_pem(), &inherited)
                .map_err(|e| e.one_line())?,
            preload: proxy::write_preload(&dir).map_err(|e| e.one_line())?,
            ca: ca_path,
        };
        let tls = ca.server_config().map_err(|e| e.one_line())?;
        let kept = if self.ca_dir.is_some() {
            "kept"
        } else {
            "fresh for this run"
        };
        let out = &mut running.banner;
        out.push_str(&format!(
            "  impersonating api.weixin.qq.com; CA ({kept}): {}\n",
            files.ca.display()
        ));
        if let Some(addr) = self.proxy {
            let front = FrontHandle::start(addr, state.clone(), tls.clone(), Mode::Proxy)
                .await
                .map_err(|e| one_line(&e))?;
            let url = front.url();
            out.push_str(&format!(
                "  proxy on {url} (CONNECT, absolute-form, TLS; any other host is refused)\n"
            ));
            out.push_str("  paste into the backend's environment:\n");
            let wechat_url = format!("http://{wechat}");
            let node_options = std::env::var("NODE_OPTIONS").ok();
            for (name, value) in
                proxy::client_env(&url, &wechat_url, &files, node_options.as_deref())
            {
                out.push_str(&format!("    export {name}={}\n", shell_quote(&value)));
            }
            running._fronts.push(front);
        }
        if let Some(addr) = self.tls_listen {
            let front = FrontHandle::start(addr, state.clone(), tls, Mode::Tls)
                .await
                .map_err(|e| one_line(&e))?;
            let bound = front.address();
            out.push_str(&format!(
                "  answering as https://api.weixin.qq.com on {bound}; add to /etc/hosts:\n    {} api.weixin.qq.com\n",
                bound.ip()
            ));
            if bound.port() != 443 {
                out.push_str("    (clients connect to port 443: listen there, or forward 443 to this port)\n");
            }
            out.push_str(&format!(
                "  and trust {} (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE)\n",
                files.bundle.display()
            ));
            running._fronts.push(front);
        }
        Ok(running)
    }
}

fn one_line(err: &wxmock_server::ServerError) -> String {
    match std::error::Error::source(err) {
        Some(cause) => format!("{err}: {cause}"),
        None => err.to_string(),
    }
}

/// Single quotes when a value needs them (`NODE_OPTIONS` has spaces).
fn shell_quote(value: &str) -> String {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/:.,_-=+@".contains(c));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}
