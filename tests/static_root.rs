//! The container image's premise, proven without a container engine: the static release binary,
//! alone in an otherwise empty root (a chroot holding nothing else: no libc, no loader, no
//! /etc, no /tmp), starts `wxmock serve` with the Dockerfile's environment and answers a login.
//!
//! `.ci/static-build` builds the binary; `.ci/run` hands its path in as `WXMOCK_STATIC_BINARY`.
//! The test needs root (for chroot). Without either it fails when `CI` is set and is skipped
//! with the reason otherwise.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Returns the static binary to test, or why it cannot run here.
fn static_binary() -> Result<PathBuf, String> {
    let path = std::env::var_os("WXMOCK_STATIC_BINARY")
        .map(PathBuf::from)
        .ok_or(
            "WXMOCK_STATIC_BINARY is not set (run .ci/static-build and point it at the binary)",
        )?;
    if !path.is_file() {
        return Err(format!(
            "WXMOCK_STATIC_BINARY={} is not a file",
            path.display()
        ));
    }
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("cannot run id: {e}"))?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Err("chroot needs root".to_owned());
    }
    Ok(path)
}

fn binary_or_skip() -> Option<PathBuf> {
    match static_binary() {
        Ok(path) => Some(path),
        Err(reason) if std::env::var_os("CI").is_some() => {
            panic!("the static-binary test cannot run under CI: {reason}")
        }
        Err(reason) => {
            eprintln!("skipping the static-binary chroot test: {reason}");
            None
        }
    }
}

/// An empty directory holding only `/wxmock`; removed on drop.
struct EmptyRoot(PathBuf);

impl EmptyRoot {
    fn with(binary: &Path) -> EmptyRoot {
        let dir = std::env::temp_dir().join(format!(
            "wxmock-static-root-{}-{}",
            std::process::id(),
            binary.metadata().unwrap().len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(binary, dir.join("wxmock")).unwrap();
        let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(
            entries.len(),
            1,
            "the root must hold the binary and nothing else"
        );
        EmptyRoot(dir)
    }
}

impl Drop for EmptyRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `ENV` lines of the Dockerfile's final stage, so the chroot runs as the image would.
fn dockerfile_env() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    let last_stage = text.rsplit("\nFROM ").next().unwrap();
    last_stage
        .lines()
        .filter_map(|line| line.strip_prefix("ENV "))
        .flat_map(|rest| rest.split_whitespace())
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect()
}

const ADMIN_TOKEN: &str = "static-root-test-token-5f1c";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_static_binary_alone_in_an_empty_root_serves_a_login() {
    let Some(binary) = binary_or_skip() else {
        return;
    };
    let env = dockerfile_env();
    assert!(
        env.iter().any(|(k, _)| k == "WXMOCK_LISTEN"),
        "the Dockerfile sets no WXMOCK_LISTEN: {env:?}"
    );
    let root = EmptyRoot::with(&binary);
    // The child's environment is cleared below, so find chroot on this process's PATH.
    let chroot = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("chroot"))
        .find(|path| path.is_file())
        .expect("chroot (coreutils) on PATH");
    let mut command = Command::new(chroot);
    command.arg(&root.0).arg("/wxmock").arg("serve");
    command.env_clear();
    for (key, value) in &env {
        command.env(key, value);
    }
    // What `docker run -e WXMOCK_ADMIN_TOKEN=…` adds: the control API's protection.
    command.env("WXMOCK_ADMIN_TOKEN", ADMIN_TOKEN);
    // The image listens on every interface; the test stays on loopback with a free port (a
    // flag beats the environment, so the rest of the image's settings still apply).
    command.args(["--listen", "127.0.0.1:0", "--seed", "7"]);
    let mut child = Running(
        command
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("chroot"),
    );
    let mut first = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first
        .trim()
        .split("listening on ")
        .nth(1)
        .unwrap_or_else(|| panic!("wxmock serve in the empty root printed {first:?}"))
        .to_owned();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        // The image's protection holds in the empty root too: no token, no control API.
        let refused = client
            .post(format!("{base}/__admin/login"))
            .json(&serde_json::json!({
                "appid": "wxdeadbeef00c0ffee",
                "openid": "oAlice_wxmockDemoPersona0001"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            refused.status(),
            401,
            "the control API answered without its token"
        );
        let login = client
            .post(format!("{base}/__admin/login"))
            .json(&serde_json::json!({
                "appid": "wxdeadbeef00c0ffee",
                "openid": "oAlice_wxmockDemoPersona0001"
            }));
        let login = login.bearer_auth(ADMIN_TOKEN).send().await.unwrap();
        assert_eq!(login.status(), 200);
        let code: serde_json::Value = login.json().await.unwrap();
        let code = code["code"].as_str().expect("a login code").to_owned();

        let session: serde_json::Value = client
            .get(format!("{base}/sns/jscode2session"))
            .query(&[
                ("appid", "wxdeadbeef00c0ffee"),
                ("secret", "0123456789abcdef0123456789abcdef"),
                ("js_code", code.as_str()),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            session["openid"], "oAlice_wxmockDemoPersona0001",
            "{session}"
        );
        assert!(
            session["session_key"]
                .as_str()
                .is_some_and(|k| k.len() == 24),
            "{session}"
        );
    });
}
