//! wxmock's local certificate authority: what lets a backend's unmodified TLS client accept the
//! fake as `api.weixin.qq.com`. The CA is X.509 name-constrained to `api.weixin.qq.com` and the
//! loopback addresses, so a trust store that holds it cannot be made to accept any other host.
//! A CA is either fresh (in memory, gone with the process) or kept in a directory
//! ([`LocalCa::load_or_create`]) so a developer adds it to a trust store once. The private key is
//! written with mode 0600 and never printed or logged.

use std::net::{IpAddr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use crate::error::CaError;

/// The one host wxmock answers for.
pub const WECHAT_HOST: &str = "api.weixin.qq.com";

/// File names inside a CA directory.
pub const CERT_FILE: &str = "wxmock-ca.pem";
/// The CA's private key, PEM.
pub const KEY_FILE: &str = "wxmock-ca-key.pem";

const CA_NAME: &str = "wxmock local CA (api.weixin.qq.com only)";
/// A kept CA lasts ten years; a fresh one only needs to outlive its process, but the same
/// parameters keep both paths one.
const CA_DAYS: i64 = 3650;
/// Leaves are minted at every start; 90 days stays under every client's maximum lifetime.
const LEAF_DAYS: i64 = 90;

/// The CA: its certificate (PEM), where that certificate is on disk (when it is), and the
/// signing key, which never leaves this type except into the key file.
pub struct LocalCa {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    cert_path: Option<PathBuf>,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa")
            .field("cert_path", &self.cert_path)
            .field("key", &"***")
            .finish_non_exhaustive()
    }
}

/// A server certificate for `api.weixin.qq.com` (and the loopback addresses) with its key.
pub struct Leaf {
    /// The leaf then the CA.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf alone, PEM (for an outside verifier).
    pub cert_pem: String,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
}

impl LocalCa {
    /// A fresh CA that lives in memory only (the key is never written anywhere).
    pub fn generate() -> Result<Self, CaError> {
        let key = KeyPair::generate().map_err(CaError::generate)?;
        let params = ca_params(OffsetDateTime::now_utc());
        let cert = params.self_signed(&key).map_err(CaError::generate)?;
        Ok(Self {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            cert_path: None,
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA kept in `dir` (created with its key on first use, then reused), so a trust store
    /// that holds it keeps working across runs.
    pub fn load_or_create(dir: &Path) -> Result<Self, CaError> {
        let cert_path = dir.join(CERT_FILE);
        let key_path = dir.join(KEY_FILE);
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => Self::load(&cert_path, &key_path),
            (false, false) => {
                let mut ca = Self::generate()?;
                ca.save(dir)?;
                Ok(ca)
            }
            (cert, _) => Err(CaError::Incomplete {
                dir: dir.to_owned(),
                missing: if cert { KEY_FILE } else { CERT_FILE },
            }),
        }
    }

    fn load(cert_path: &Path, key_path: &Path) -> Result<Self, CaError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| CaError::Io {
                path: path.to_owned(),
                source,
            })
        };
        let cert_pem = read(cert_path)?;
        let key_pem = read(key_path)?;
        let key = KeyPair::from_pem(&key_pem).map_err(|source| CaError::Parse {
            path: key_path.to_owned(),
            source,
        })?;
        let parse = |source| CaError::Parse {
            path: cert_path.to_owned(),
            source,
        };
        let der = rustls::pki_types::pem::PemObject::from_pem_slice(cert_pem.as_bytes())
            .map_err(|_| parse(rcgen::Error::CouldNotParseCertificate))?;
        let cert_der: CertificateDer<'static> = der;
        let issuer = Issuer::from_ca_cert_der(&cert_der, key).map_err(parse)?;
        Ok(Self {
            cert_pem,
            cert_der,
            cert_path: Some(cert_path.to_owned()),
            issuer,
        })
    }

    /// Writes the certificate and the key (mode 0600) into `dir`, creating it (mode 0700).
    fn save(&mut self, dir: &Path) -> Result<(), CaError> {
        create_private_dir(dir)?;
        let cert_path = dir.join(CERT_FILE);
        write_file(
            &dir.join(KEY_FILE),
            &self.issuer.key().serialize_pem(),
            0o600,
        )?;
        write_file(&cert_path, &self.cert_pem, 0o644)?;
        self.cert_path = Some(cert_path);
        Ok(())
    }

    /// Writes only the certificate (a fresh CA's key stays in memory) as `dir/wxmock-ca.pem`.
    pub fn write_cert(&mut self, dir: &Path) -> Result<PathBuf, CaError> {
        if let Some(path) = &self.cert_path {
            return Ok(path.clone());
        }
        create_private_dir(dir)?;
        let path = dir.join(CERT_FILE);
        write_file(&path, &self.cert_pem, 0o644)?;
        self.cert_path = Some(path.clone());
        Ok(path)
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Where the certificate is on disk, once it has been written or was loaded.
    pub fn cert_path(&self) -> Option<&Path> {
        self.cert_path.as_deref()
    }

    /// A fresh leaf for `api.weixin.qq.com`, `127.0.0.1` and `::1` (the last two for clients
    /// that speak TLS to the proxy itself and check its address).
    pub fn leaf(&self) -> Result<Leaf, CaError> {
        self.leaf_for(&[WECHAT_HOST, "127.0.0.1", "::1"])
    }

    /// A leaf for other names, signed by this CA: what proves the name constraint, since every
    /// verifier that enforces it rejects such a leaf (the front never serves one).
    pub fn leaf_for(&self, names: &[&str]) -> Result<Leaf, CaError> {
        let key = KeyPair::generate().map_err(CaError::generate)?;
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.subject_alt_names = names
            .iter()
            .map(|name| match name.parse::<IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => Ok(SanType::DnsName(
                    (*name).try_into().map_err(CaError::generate)?,
                )),
            })
            .collect::<Result<_, CaError>>()?;
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(LEAF_DAYS);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial());
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(CaError::generate)?;
        Ok(Leaf {
            chain: vec![cert.der().clone(), self.cert_der.clone()],
            cert_pem: cert.pem(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        })
    }

    /// A rustls server configuration presenting a fresh leaf, HTTP/1.1 only (WeChat's API is
    /// HTTP/1.1, and the fake serves nothing else).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, CaError> {
        let leaf = self.leaf()?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(CaError::Tls)?
            .with_no_client_auth()
            .with_single_cert(leaf.chain, leaf.key)
            .map_err(CaError::Tls)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The CA's parameters: a CA for leaves only (path length 0), constrained to the one host and
/// the loopback addresses.
fn ca_params(now: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, CA_NAME);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "wxmock");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![
            GeneralSubtree::DnsName(WECHAT_HOST.to_owned()),
            GeneralSubtree::IpAddress(CidrSubnet::from_v4_prefix([127, 0, 0, 0], 8)),
            GeneralSubtree::IpAddress(CidrSubnet::V6(Ipv6Addr::LOCALHOST.octets(), [0xff; 16])),
        ],
        excluded_subtrees: vec![],
    });
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(CA_DAYS);
    params.serial_number = Some(random_serial());
    params
}

fn random_serial() -> rcgen::SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    // Positive and without a leading zero byte: some parsers reject either.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    rcgen::SerialNumber::from_slice(&bytes)
}

fn create_private_dir(dir: &Path) -> Result<(), CaError> {
    let io = |source| CaError::Io {
        path: dir.to_owned(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(io)
}

/// Writes `text` to `path`, created with `mode` from the start (never world-readable first).
fn write_file(path: &Path, text: &str, mode: u32) -> Result<(), CaError> {
    use std::io::Write as _;
    let io = |source| CaError::Io {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_ca_is_the_same_on_the_next_load_and_its_key_is_private() {
        let dir = std::env::temp_dir().join(format!("wxmock-ca-test-{}", rand::random::<u64>()));
        let first = LocalCa::load_or_create(&dir).expect("created");
        let second = LocalCa::load_or_create(&dir).expect("loaded");
        assert_eq!(first.cert_pem(), second.cert_pem());
        assert_eq!(second.cert_path(), Some(dir.join(CERT_FILE).as_path()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A leaf from the loaded CA names the CA as its issuer (the chain's second element).
        let leaf = second.leaf().expect("leaf");
        assert_eq!(leaf.chain[1].as_ref(), first.cert_der.as_ref());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_ca_directory_missing_its_key_is_refused_not_overwritten() {
        let dir = std::env::temp_dir().join(format!("wxmock-ca-test-{}", rand::random::<u64>()));
        LocalCa::load_or_create(&dir).expect("created");
        std::fs::remove_file(dir.join(KEY_FILE)).expect("removed");
        let err = LocalCa::load_or_create(&dir).expect_err("incomplete");
        assert!(err.to_string().contains(KEY_FILE), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_debug_form_hides_the_key() {
        let ca = LocalCa::generate().expect("ca");
        let key = ca.issuer.key().serialize_pem();
        let shown = format!("{ca:?}");
        assert!(shown.contains("***"));
        assert!(!shown.contains(&key[30..60]));
    }
}
