//! What a client needs to follow the impersonation without a code change: a trust bundle (the
//! system's CAs, the ones the environment already pointed at, and wxmock's, so the client's
//! other TLS still verifies), the Node preload, and the environment variables that point the
//! common stacks at them. Written into a directory the caller owns; nothing here reads the
//! process environment (the caller passes what it found).

use std::path::{Path, PathBuf};

use crate::error::CaError;

/// The Node preload (CommonJS), loaded with `--require` through `NODE_OPTIONS`.
pub const PRELOAD_JS: &str = include_str!("preload.cjs");
/// The name the preload is written under in the client directory.
pub const PRELOAD_FILE: &str = "wxmock-preload.cjs";
/// The name of the CA bundle (the system's CAs plus wxmock's) in the client directory.
pub const BUNDLE_FILE: &str = "wxmock-ca-bundle.pem";

/// Where Linux distributions, the BSDs and macOS keep the system's CA bundle; the first that
/// exists is used.
pub const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// A bundle file bigger than this is not a CA bundle: it is skipped.
const BUNDLE_LIMIT: u64 = 16 * 1024 * 1024;

/// The files a client is pointed at.
#[derive(Clone, Debug)]
pub struct ClientFiles {
    /// wxmock's CA alone.
    pub ca: PathBuf,
    /// System CAs + inherited ones + wxmock's.
    pub bundle: PathBuf,
    /// The Node preload.
    pub preload: PathBuf,
}

/// Writes the Node preload into `dir`.
pub fn write_preload(dir: &Path) -> Result<PathBuf, CaError> {
    let path = dir.join(PRELOAD_FILE);
    std::fs::write(&path, PRELOAD_JS).map_err(|source| CaError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Writes `dir/wxmock-ca-bundle.pem`: the first existing [`SYSTEM_BUNDLES`] file, then each of
/// `inherited` (bundles the environment already named, e.g. a corporate CA in `SSL_CERT_FILE`),
/// then `ca_pem`. Files that cannot be read are skipped: the bundle is still good for wxmock.
pub fn write_trust_bundle(
    dir: &Path,
    ca_pem: &str,
    inherited: &[PathBuf],
) -> Result<PathBuf, CaError> {
    let mut sources: Vec<PathBuf> = SYSTEM_BUNDLES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .into_iter()
        .collect();
    for path in inherited {
        let known = sources.iter().any(|s| same_file(s, path));
        if !known {
            sources.push(path.clone());
        }
    }
    let mut text = String::new();
    for source in &sources {
        let small = std::fs::metadata(source).is_ok_and(|m| m.is_file() && m.len() <= BUNDLE_LIMIT);
        if !small {
            continue;
        }
        if let Ok(pem) = std::fs::read_to_string(source) {
            // A bundle of ours from an earlier run would repeat the CA: harmless but noisy.
            if pem.contains("BEGIN CERTIFICATE") {
                text.push_str(pem.trim_end());
                text.push('\n');
            }
        }
    }
    text.push_str("# wxmock local CA (name-constrained to api.weixin.qq.com and loopback)\n");
    text.push_str(ca_pem.trim_end());
    text.push('\n');
    let path = dir.join(BUNDLE_FILE);
    std::fs::write(&path, text).map_err(|source| CaError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The environment that points a client at the impersonation: the proxy in both cases (most
/// tools read the lowercase form, some only the uppercase), loopback exempted (so calls to the
/// fake itself and to the backend stay direct), every trust variable at the bundle, and the
/// Node preload added after whatever `NODE_OPTIONS` already holds.
///
/// `proxy_url` is the proxy front (`http://127.0.0.1:PORT`); `wechat_url` the fake's plain
/// URL, where the preload sends Node's requests for `api.weixin.qq.com`.
pub fn client_env(
    proxy_url: &str,
    wechat_url: &str,
    files: &ClientFiles,
    node_options: Option<&str>,
) -> Vec<(String, String)> {
    let bundle = files.bundle.display().to_string();
    let mut env = Vec::new();
    for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        env.push((name.to_owned(), proxy_url.to_owned()));
    }
    for name in ["NO_PROXY", "no_proxy"] {
        env.push((name.to_owned(), "localhost,127.0.0.1,::1".to_owned()));
    }
    for name in [
        "NODE_EXTRA_CA_CERTS",
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "CURL_CA_BUNDLE",
    ] {
        env.push((name.to_owned(), bundle.clone()));
    }
    let require = format!(
        "--require {}",
        node_quote(&files.preload.display().to_string())
    );
    let node_options = match node_options.map(str::trim).filter(|o| !o.is_empty()) {
        // Already there (a re-run with the same environment): not twice.
        Some(existing) if existing.contains(&require) => existing.to_owned(),
        Some(existing) => format!("{existing} {require}"),
        None => require,
    };
    env.push(("NODE_OPTIONS".to_owned(), node_options));
    env.push(("WXMOCK_WECHAT_URL".to_owned(), wechat_url.to_owned()));
    env
}

/// `NODE_OPTIONS` splits on spaces unless a value is double-quoted.
fn node_quote(path: &str) -> String {
    if path.contains([' ', '"', '\\']) {
        format!("\"{}\"", path.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(preload: &str) -> ClientFiles {
        ClientFiles {
            ca: "/tmp/w/wxmock-ca.pem".into(),
            bundle: "/tmp/w/wxmock-ca-bundle.pem".into(),
            preload: preload.into(),
        }
    }

    fn get<'a>(env: &'a [(String, String)], name: &str) -> &'a str {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{name} missing from {env:?}"))
    }

    #[test]
    fn the_preload_goes_after_the_users_own_requires_and_only_once() {
        let f = files("/tmp/w/wxmock-preload.cjs");
        let env = client_env(
            "http://127.0.0.1:1",
            "http://127.0.0.1:2",
            &f,
            Some("--require ./apm.js"),
        );
        let options = get(&env, "NODE_OPTIONS").to_owned();
        assert_eq!(
            options,
            "--require ./apm.js --require /tmp/w/wxmock-preload.cjs"
        );
        let again = client_env(
            "http://127.0.0.1:1",
            "http://127.0.0.1:2",
            &f,
            Some(&options),
        );
        assert_eq!(get(&again, "NODE_OPTIONS"), options);
        let spaced = client_env("p", "w", &files("/tmp/my dir/wxmock-preload.cjs"), None);
        assert_eq!(
            get(&spaced, "NODE_OPTIONS"),
            "--require \"/tmp/my dir/wxmock-preload.cjs\""
        );
    }

    #[test]
    fn both_cases_of_the_proxy_variables_and_every_trust_variable_are_set() {
        let env = client_env(
            "http://127.0.0.1:9",
            "http://127.0.0.1:8",
            &files("/p.cjs"),
            None,
        );
        for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
            assert_eq!(get(&env, name), "http://127.0.0.1:9");
        }
        assert!(get(&env, "no_proxy").contains("127.0.0.1"));
        for name in [
            "NODE_EXTRA_CA_CERTS",
            "REQUESTS_CA_BUNDLE",
            "SSL_CERT_FILE",
            "CURL_CA_BUNDLE",
        ] {
            assert_eq!(get(&env, name), "/tmp/w/wxmock-ca-bundle.pem");
        }
        assert_eq!(get(&env, "WXMOCK_WECHAT_URL"), "http://127.0.0.1:8");
    }

    #[test]
    fn the_bundle_keeps_inherited_cas_and_ends_with_wxmocks() {
        let dir =
            std::env::temp_dir().join(format!("wxmock-bundle-test-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).expect("dir");
        let corporate = dir.join("corporate.pem");
        std::fs::write(
            &corporate,
            "-----BEGIN CERTIFICATE-----\nCORP\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let ours = "-----BEGIN CERTIFICATE-----\nOURS\n-----END CERTIFICATE-----\n";
        let missing = dir.join("missing.pem");
        let path = write_trust_bundle(&dir, ours, &[corporate, missing]).expect("bundle");
        let text = std::fs::read_to_string(path).expect("read");
        assert!(text.contains("CORP"), "{text}");
        assert!(
            text.trim_end().ends_with("OURS\n-----END CERTIFICATE-----"),
            "{text}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
