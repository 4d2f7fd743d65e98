//! `[fake] impersonate = true`: the run's fake also answers as `https://api.weixin.qq.com`, so a
//! backend that hard-codes WeChat's URL is tested without a patch. A fresh CA and a proxy front
//! start beside the fake (same state: journal, faults and rules see every request); the backend
//! the harness starts gets the proxy variables, trust for the CA (a bundle of the system's CAs,
//! those the environment already named, and wxmock's) and the Node preload. Everything but a
//! kept CA (`[fake] ca_dir`) is removed at the end of the run.

use std::net::SocketAddr;
use std::path::PathBuf;

use wxmock_server::ca::LocalCa;
use wxmock_server::proxy::{self, ClientFiles, FrontHandle, Mode};
use wxmock_server::AppState;

use crate::error::HarnessError;
use crate::profile::Profile;

/// Trust variables a machine may already set; the bundles they name are kept in ours.
const TRUST_VARS: &[&str] = &[
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "CURL_CA_BUNDLE",
];

/// The impersonation of one run: the proxy front and the files handed to the backend.
pub struct Impersonation {
    front: FrontHandle,
    files: ClientFiles,
    wechat_url: String,
    dir: PathBuf,
}

impl Impersonation {
    /// Starts impersonating when the profile asks for it (and only for a backend the harness
    /// starts: one already running never sees the environment). `wechat_url` is the fake's
    /// plain URL, where the Node preload sends requests.
    pub async fn start_if_asked(
        profile: &Profile,
        state: &AppState,
        wechat_url: &str,
    ) -> Result<Option<Self>, HarnessError> {
        if !profile.fake.impersonate {
            return Ok(None);
        }
        if profile.backend.command.is_none() {
            return Err(HarnessError::ProfileInvalid {
                origin: "profile".into(),
                field: "fake.impersonate".into(),
                message: "needs [backend] command: the harness hands the proxy and trust \
                          variables to a backend it starts (for one already running, use \
                          `wxmock serve --proxy` and its printed environment)"
                    .into(),
            });
        }
        let failed = |message: String| HarnessError::FakeStart {
            listen: "an impersonation proxy on 127.0.0.1:0".into(),
            message,
        };
        let dir = std::env::temp_dir().join(format!(
            "wxmock-impersonate-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
        let ca = match &profile.fake.ca_dir {
            Some(kept) => LocalCa::load_or_create(kept),
            None => LocalCa::generate(),
        };
        let mut ca = ca.map_err(|e| failed(e.one_line()))?;
        let ca_path = ca.write_cert(&dir).map_err(|e| failed(e.one_line()))?;
        let inherited: Vec<PathBuf> = TRUST_VARS
            .iter()
            .filter_map(std::env::var_os)
            .map(PathBuf::from)
            .collect();
        let files = ClientFiles {
            bundle: proxy::write_trust_bundle(&dir, ca.cert_pem(), &inherited)
                .map_err(|e| failed(e.one_line()))?,
            preload: proxy::write_preload(&dir).map_err(|e| failed(e.one_line()))?,
            ca: ca_path,
        };
        let tls = ca.server_config().map_err(|e| failed(e.one_line()))?;
        let front = FrontHandle::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            state.clone(),
            tls,
            Mode::Proxy,
        )
        .await
        .map_err(|e| failed(e.to_string()))?;
        Ok(Some(Self {
            front,
            files,
            wechat_url: wechat_url.to_owned(),
            dir,
        }))
    }

    /// The proxy's URL (`http://127.0.0.1:PORT`).
    pub fn proxy_url(&self) -> String {
        self.front.url()
    }

    /// Sets the impersonation variables in a backend's environment, overriding the profile's
    /// and the machine's values for them; the preload is added after the `NODE_OPTIONS` the
    /// profile (or else the machine) already gives.
    pub fn apply(&self, env: &mut Vec<(String, String)>) {
        let node_options = env
            .iter()
            .rev()
            .find(|(k, _)| k == "NODE_OPTIONS")
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var("NODE_OPTIONS").ok());
        let ours = proxy::client_env(
            &self.proxy_url(),
            &self.wechat_url,
            &self.files,
            node_options.as_deref(),
        );
        env.retain(|(k, _)| !ours.iter().any(|(name, _)| name == k));
        env.extend(ours);
    }
}

impl Drop for Impersonation {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl std::fmt::Debug for Impersonation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Impersonation")
            .field("proxy", &self.front.address())
            .finish_non_exhaustive()
    }
}
