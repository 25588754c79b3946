//! HTTPS certificates: a local certificate authority Tavla makes itself, or the school owner's.
//!
//! Pupils' devices install the CA once (see `/install`); from then on every certificate the box
//! issues for itself — for each of its addresses, its host name and `<name>.local` — is trusted.
//! [`Tls::refresh`] renews the server certificate before it expires or when the box's addresses
//! change, and swaps it in without a restart.

mod ca;
mod names;

pub use names::ServerNames;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::datadir::{write_private_file, DataDirError};
use ca::LocalCa;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
    #[error("making a certificate failed: {0}")]
    Generate(String),
    #[error(transparent)]
    DataDir(#[from] DataDirError),
}

/// Where the server certificate comes from.
enum Source {
    Local {
        ca: Box<LocalCa>,
        dir: PathBuf,
        names: ServerNames,
    },
    Provided {
        cert: PathBuf,
        key: PathBuf,
        loaded_at: Option<SystemTime>,
    },
}

pub struct Tls {
    resolver: Arc<CertResolver>,
    source: RwLock<Source>,
}

impl Tls {
    /// Uses the local CA in `dir` (made on first start).
    pub fn local(dir: &Path, names: ServerNames, now_ms: u64) -> Result<Self, TlsError> {
        let ca = LocalCa::load_or_create(dir, &names, now_ms)?;
        let certified = match load_current_server_cert(dir, &ca, &names, now_ms)? {
            Some(certified) => certified,
            None => issue_and_save(dir, &ca, &names, now_ms)?,
        };
        Ok(Self {
            resolver: Arc::new(CertResolver(RwLock::new(Arc::new(certified)))),
            source: RwLock::new(Source::Local {
                ca: Box::new(ca),
                dir: dir.to_path_buf(),
                names,
            }),
        })
    }

    /// Uses a certificate and key given by the admin (e.g. the municipality's).
    pub fn provided(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let certified = load_pem_pair(cert, key)?;
        Ok(Self {
            resolver: Arc::new(CertResolver(RwLock::new(Arc::new(certified)))),
            source: RwLock::new(Source::Provided {
                cert: cert.to_path_buf(),
                key: key.to_path_buf(),
                loaded_at: modified(cert),
            }),
        })
    }

    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| {
                b.with_no_client_auth()
                    .with_cert_resolver(self.resolver.clone())
            })
            // The ring provider supports the default versions; this cannot fail.
            .unwrap_or_else(|_| unreachable!("ring supports TLS 1.2 and 1.3"));
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// The local CA certificate (PEM), if Tavla runs its own CA.
    pub fn ca_pem(&self) -> Option<String> {
        match &*self.source.read().unwrap_or_else(|p| p.into_inner()) {
            Source::Local { ca, .. } => Some(ca.cert_pem().to_string()),
            Source::Provided { .. } => None,
        }
    }

    /// The local CA certificate's SHA-256 (`AB:CD:…`), if Tavla runs its own CA: what a device
    /// that installs it, and a box's mDNS announcement, show to check it by.
    pub fn ca_fingerprint(&self) -> Option<String> {
        use rustls::pki_types::pem::PemObject;
        use sha2::{Digest, Sha256};
        let pem = self.ca_pem()?;
        let der = rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).ok()?;
        Some(
            Sha256::digest(der.as_ref())
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(":"),
        )
    }

    /// Renews the server certificate when it nears expiry, the box's names changed, or the
    /// provided files changed on disk. Returns whether a new certificate is now served.
    pub fn refresh(&self, names: ServerNames, now_ms: u64) -> Result<bool, TlsError> {
        let mut source = self.source.write().unwrap_or_else(|p| p.into_inner());
        let fresh = match &mut *source {
            Source::Local {
                ca,
                dir,
                names: current,
            } => {
                let merged = current.merged_with(&names);
                if load_current_server_cert(dir, ca, &merged, now_ms)?.is_some() {
                    return Ok(false);
                }
                *current = merged;
                issue_and_save(dir, ca, current, now_ms)?
            }
            Source::Provided {
                cert,
                key,
                loaded_at,
            } => {
                let now_modified = modified(cert);
                if now_modified == *loaded_at {
                    return Ok(false);
                }
                let certified = load_pem_pair(cert, key)?;
                *loaded_at = now_modified;
                certified
            }
        };
        *self.resolver.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
        Ok(true)
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Renew this long before the certificate's end.
const RENEW_BEFORE_MS: u64 = 30 * crate::clock::DAY_MS;

fn load_current_server_cert(
    dir: &Path,
    ca: &LocalCa,
    names: &ServerNames,
    now_ms: u64,
) -> Result<Option<CertifiedKey>, TlsError> {
    let (cert_path, key_path) = (dir.join("server.crt"), dir.join("server.key"));
    if !cert_path.exists() || !key_path.exists() {
        return Ok(None);
    }
    let certified = load_pem_pair(&cert_path, &key_path)?;
    let Some(leaf) = certified.cert.first() else {
        return Ok(None);
    };
    let still_good = ca::covers(leaf, names, now_ms + RENEW_BEFORE_MS)
        .map_err(|reason| bad_file(&cert_path, reason))?
        && ca.issued(leaf);
    Ok(still_good.then_some(certified))
}

fn issue_and_save(
    dir: &Path,
    ca: &LocalCa,
    names: &ServerNames,
    now_ms: u64,
) -> Result<CertifiedKey, TlsError> {
    let (cert_pem, key_pem) = ca.issue_server_cert(names, now_ms)?;
    // Key first: a crash in between leaves an old cert with a new key, which load rejects and
    // the next start reissues.
    write_private_file(&dir.join("server.key"), key_pem.as_bytes())?;
    write_private_file(&dir.join("server.crt"), cert_pem.as_bytes())?;
    tracing::info!(names = %names, "issued a new server certificate");
    load_pem_pair(&dir.join("server.crt"), &dir.join("server.key"))
}

fn bad_file(path: &Path, reason: impl Into<String>) -> TlsError {
    TlsError::BadFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn load_pem_pair(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, TlsError> {
    let cert_bytes = std::fs::read(cert_path).map_err(|e| bad_file(cert_path, e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad_file(cert_path, format!("not a PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(bad_file(cert_path, "holds no certificate"));
    }
    let key_bytes = std::fs::read(key_path).map_err(|e| bad_file(key_path, e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(&key_bytes)
        .map_err(|e| bad_file(key_path, format!("not a PEM private key: {e}")))?;
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| bad_file(key_path, format!("unsupported key: {e}")))?;
    let certified = CertifiedKey::new(certs, signing_key);
    certified
        .keys_match()
        .map_err(|_| bad_file(key_path, format!("does not match {}", cert_path.display())))?;
    Ok(certified)
}

/// Serves whatever certificate is current; `Tls::refresh` swaps it.
#[derive(Debug)]
struct CertResolver(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, SystemClock, DAY_MS};

    fn names(ips: &[&str]) -> ServerNames {
        ServerNames::new(
            "klasserom",
            ips.iter().map(|ip| ip.parse().unwrap()).collect(),
        )
    }

    #[test]
    fn makes_a_ca_once_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemClock.now_ms();
        let first = Tls::local(dir.path(), names(&["127.0.0.1"]), now).unwrap();
        let again = Tls::local(dir.path(), names(&["127.0.0.1"]), now).unwrap();
        assert_eq!(first.ca_pem(), again.ca_pem());
        let cert_before = std::fs::read(dir.path().join("server.crt")).unwrap();
        assert!(!again.refresh(names(&["127.0.0.1"]), now).unwrap());
        assert_eq!(
            cert_before,
            std::fs::read(dir.path().join("server.crt")).unwrap()
        );
    }

    #[test]
    fn renews_before_expiry_and_when_an_address_is_new() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemClock.now_ms();
        let tls = Tls::local(dir.path(), names(&["127.0.0.1"]), now).unwrap();
        assert!(
            tls.refresh(names(&["192.168.1.20"]), now).unwrap(),
            "new address"
        );
        assert!(
            !tls.refresh(names(&["127.0.0.1"]), now).unwrap(),
            "old ones are kept"
        );
        assert!(
            tls.refresh(names(&["127.0.0.1"]), now + 340 * DAY_MS)
                .unwrap(),
            "near expiry"
        );
    }

    #[test]
    fn a_corrupt_certificate_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemClock.now_ms();
        Tls::local(dir.path(), names(&["127.0.0.1"]), now).unwrap();
        std::fs::write(dir.path().join("ca.crt"), b"garbage").unwrap();
        let err = Tls::local(dir.path(), names(&["127.0.0.1"]), now)
            .err()
            .unwrap();
        assert!(err.to_string().contains("ca.crt"), "{err}");
    }
}
