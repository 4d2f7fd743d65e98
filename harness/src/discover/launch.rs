//! The two ways `discover` reaches a backend: one already running at a URL (pointed at the fake
//! by its operator), or a command started with the fake's address, appid and secret in its
//! environment, as the harness's worked examples do.

use std::time::Duration;

use crate::error::HarnessError;
use crate::runner::{FakeInfo, LaunchedBackend, Launcher};

/// A backend already running at `base_url`.
pub fn url_launcher(base_url: String) -> Launcher {
    Box::new(move |_fake: FakeInfo| {
        Box::pin(async move {
            Ok(LaunchedBackend {
                base_url: base_url.trim_end_matches('/').to_string(),
                jwt_secret: None,
                clock: None,
                guard: Box::new(()),
            })
        })
    })
}

/// A backend started with `sh -c COMMAND` on a free port, its environment carrying
/// `WX_API_BASE`, `WX_APPID`, `WX_SECRET`, `PORT` and `LISTEN` plus `extra_env`; ready when
/// `http://127.0.0.1:PORT/` answers anything.
pub fn command_launcher(command: String, extra_env: Vec<(String, String)>) -> Launcher {
    Box::new(move |fake: FakeInfo| {
        Box::pin(async move {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| HarnessError::BackendStart(format!("no free port: {e}")))?
                .port();
            let mut cmd = tokio::process::Command::new("sh");
            cmd.arg("-c")
                .arg(&command)
                .env("WX_API_BASE", &fake.base_url)
                .env("WX_APPID", &fake.appid)
                .env("WX_SECRET", &fake.secret)
                .env("PORT", port.to_string())
                .env("LISTEN", format!("127.0.0.1:{port}"))
                .envs(extra_env)
                .kill_on_drop(true);
            let mut child = cmd.spawn().map_err(|e| {
                HarnessError::BackendStart(format!("could not start `{command}`: {e}"))
            })?;
            let base_url = format!("http://127.0.0.1:{port}");
            let http = reqwest::Client::new();
            for _ in 0..200 {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(HarnessError::BackendStart(format!(
                        "`{command}` exited ({status}) before answering on {base_url}"
                    )));
                }
                if http.get(format!("{base_url}/")).send().await.is_ok() {
                    return Ok(LaunchedBackend {
                        base_url,
                        jwt_secret: None,
                        clock: None,
                        guard: Box::new(child),
                    });
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(HarnessError::BackendStart(format!(
                "`{command}` did not answer on {base_url} within 20 s"
            )))
        })
    })
}
