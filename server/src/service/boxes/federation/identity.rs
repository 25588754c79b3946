//! The box's own key pair for talking to paired boxes: a self-signed certificate kept apart
//! from the HTTPS certificate authority. Pupils' devices trust that CA; a paired box trusts only
//! this one certificate, by its fingerprint, because a person paired the two boxes.

use std::fmt;
use std::path::Path;

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::FederationError;
use crate::datadir::write_private_file;
use crate::ids::BoxId;

const CERT_FILE: &str = "box.crt";
const KEY_FILE: &str = "box.key";
/// The name every box's certificate carries; boxes pin certificates, they never check names.
pub const SERVER_NAME: &str = "tavla-box";

/// A certificate's SHA-256, 64 lowercase hex digits: how boxes know each other.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn of(cert: &CertificateDer<'_>) -> Self {
        Self(hex::encode(Sha256::digest(cert.as_ref())))
    }

    /// Reads a fingerprint as a person may type or paste it: any case, with spaces or colons.
    pub fn parse(raw: &str) -> Option<Self> {
        let digits: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | ':' | '-'))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        (digits.len() == 64 && digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(Self(digits))
    }

    /// The box id this certificate stands for.
    pub fn box_id(&self) -> BoxId {
        // 16 lowercase hex digits are always a valid id.
        BoxId::parse(&self.0[..16]).unwrap_or_else(|_| BoxId::random())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Grouped in fours for reading aloud and comparing on two screens.
    pub fn grouped(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).to_uppercase())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw).ok_or_else(|| "not a certificate fingerprint".to_string())
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> String {
        f.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub struct BoxIdentity {
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    fingerprint: Fingerprint,
}

impl BoxIdentity {
    /// The identity kept in `dir` (the data dir's `tls/`, so backups carry it), made on first
    /// start.
    pub fn load_or_create(dir: &Path, host: &str) -> Result<Self, FederationError> {
        let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
        if !cert_path.exists() || !key_path.exists() {
            Self::create(dir, host)?;
        }
        let cert = CertificateDer::from_pem_file(&cert_path)
            .map_err(|e| FederationError::Identity(format!("{}: {e}", cert_path.display())))?;
        let key = PrivateKeyDer::from_pem_file(&key_path)
            .map_err(|e| FederationError::Identity(format!("{}: {e}", key_path.display())))?;
        Ok(Self {
            fingerprint: Fingerprint::of(&cert),
            cert,
            key,
        })
    }

    fn create(dir: &Path, host: &str) -> Result<(), FederationError> {
        let err = |e: rcgen::Error| FederationError::Identity(e.to_string());
        let key = KeyPair::generate().map_err(err)?;
        let mut params = CertificateParams::new(vec![SERVER_NAME.to_string()]).map_err(err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Tavla");
        dn.push(DnType::CommonName, format!("Tavla box {host}"));
        params.distinguished_name = dn;
        // Pinned by fingerprint, never checked against a clock: a Pi that boots with a wrong
        // time must still reach its paired boxes.
        params.not_before = time::OffsetDateTime::UNIX_EPOCH;
        params.not_after = rcgen::date_time_ymd(9999, 12, 31);
        let cert = params.self_signed(&key).map_err(err)?;
        write_private_file(&dir.join(KEY_FILE), key.serialize_pem().as_bytes())?;
        write_private_file(&dir.join(CERT_FILE), cert.pem().as_bytes())?;
        tracing::info!("made this box's key pair for paired boxes");
        Ok(())
    }

    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    pub fn box_id(&self) -> BoxId {
        self.fingerprint.box_id()
    }

    pub fn cert(&self) -> CertificateDer<'static> {
        self.cert.clone()
    }

    pub fn key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_is_made_once_and_read_back_the_same() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = BoxIdentity::load_or_create(dir.path(), "rom-204").expect("made");
        let again = BoxIdentity::load_or_create(dir.path(), "rom-204").expect("read");
        assert_eq!(first.fingerprint(), again.fingerprint());
        assert_eq!(first.box_id().len(), 16);
    }

    #[test]
    fn fingerprints_are_read_as_people_type_them() {
        let hex = "AB".repeat(32);
        let grouped = Fingerprint::parse(&hex).expect("plain").grouped();
        assert_eq!(Fingerprint::parse(&grouped), Fingerprint::parse(&hex));
        assert!(Fingerprint::parse("ab:cd").is_none());
        assert!(Fingerprint::parse(&"zz".repeat(32)).is_none());
    }
}
