//! Whom this box talks to: the certificates of paired boxes, and the one pairing window a
//! teacher may open. The sync listener's TLS handshake asks [`Trust`] which client certificates
//! to accept; outgoing connections pin the other box's certificate by fingerprint.
//!
//! A handshake from a certificate that is not paired fails, unless a pairing code is
//! outstanding: then any box may finish the handshake, but it may only ask to pair (and must
//! prove it knows the code, see [`proof`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::Rng;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use sha2::Sha256;

use super::identity::{BoxIdentity, Fingerprint};
use super::FederationError;
use crate::auth::tokens::constant_time_eq;
use crate::ids::{BoxId, TeacherId};

/// How long a pairing code can be entered on the other box.
pub const PAIRING_VALID: Duration = Duration::from_secs(10 * 60);
/// Wrong codes one box (one certificate) may offer before it is refused for this window.
pub const PAIRING_TRIES: u32 = 5;
/// Wrong codes from all boxes together before the window closes (a new code must be made):
/// far above what one box may try, so strangers' guesses do not spend the real box's tries.
pub const PAIRING_WRONG_CEILING: u32 = 100;
/// Letters and digits nobody confuses when reading a code off another screen (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in a pairing code.
pub const CODE_LEN: usize = 10;

/// An open pairing window: the code a teacher was shown.
struct Window {
    code: String,
    teacher_id: TeacherId,
    until: Instant,
    /// Wrong codes per box that offered one.
    wrong_by: HashMap<Fingerprint, u32>,
    wrong_total: u32,
}

/// What checking a pairing proof found.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code was right: the window is closed and was the teacher's.
    Right {
        code: String,
        teacher_id: TeacherId,
    },
    Wrong,
    /// No window, it expired, or too many wrong tries closed it.
    NoWindow,
}

pub struct Trust {
    paired: RwLock<HashMap<Fingerprint, BoxId>>,
    window: Mutex<Option<Window>>,
    provider: Arc<CryptoProvider>,
    /// Handshakes refused because the certificate is not paired (for tests and /metrics).
    refused: std::sync::atomic::AtomicU64,
}

impl Trust {
    pub fn new(paired: impl IntoIterator<Item = (Fingerprint, BoxId)>) -> Arc<Self> {
        Arc::new(Self {
            paired: RwLock::new(paired.into_iter().collect()),
            window: Mutex::new(None),
            provider: Arc::new(rustls::crypto::ring::default_provider()),
            refused: Default::default(),
        })
    }

    fn paired(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Fingerprint, BoxId>> {
        self.paired.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The paired box with this certificate, if any.
    pub fn box_of(&self, fingerprint: &Fingerprint) -> Option<BoxId> {
        self.paired().get(fingerprint).cloned()
    }

    pub fn add(&self, fingerprint: Fingerprint, box_id: BoxId) {
        self.paired
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(fingerprint, box_id);
    }

    /// Forgets a box: its next handshake fails, and requests on connections it already has are
    /// refused (the sync handlers ask [`Trust::box_of`] for every request).
    pub fn remove(&self, box_id: &BoxId) {
        self.paired
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, id| id != box_id);
    }

    pub fn refused_handshakes(&self) -> u64 {
        self.refused.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn lock_window(&self) -> std::sync::MutexGuard<'_, Option<Window>> {
        self.window.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens the pairing window with a new code (closing any earlier one); returns the code.
    pub fn open_window(&self, teacher_id: &TeacherId) -> String {
        let mut rng = rand::rng();
        let code: String = (0..CODE_LEN)
            .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
            .collect();
        *self.lock_window() = Some(Window {
            code: code.clone(),
            teacher_id: teacher_id.clone(),
            until: Instant::now() + PAIRING_VALID,
            wrong_by: HashMap::new(),
            wrong_total: 0,
        });
        code
    }

    pub fn close_window(&self) {
        *self.lock_window() = None;
    }

    fn window_open(&self) -> bool {
        self.lock_window()
            .as_ref()
            .is_some_and(|w| w.until > Instant::now())
    }

    /// Checks a pairing proof from the box with certificate `prover` against the open code; a
    /// right one closes the window (a code pairs once). A box that offered [`PAIRING_TRIES`]
    /// wrong ones is refused for this window; the window closes only after
    /// [`PAIRING_WRONG_CEILING`] wrong ones from all boxes together.
    pub fn check_proof(
        &self,
        prover: &Fingerprint,
        proof_matches: impl Fn(&str) -> bool,
    ) -> CodeCheck {
        let mut window = self.lock_window();
        let Some(open) = window.as_mut().filter(|w| w.until > Instant::now()) else {
            *window = None;
            return CodeCheck::NoWindow;
        };
        if open
            .wrong_by
            .get(prover)
            .is_some_and(|n| *n >= PAIRING_TRIES)
        {
            return CodeCheck::Wrong;
        }
        if proof_matches(&open.code) {
            let Some(open) = window.take() else {
                return CodeCheck::NoWindow;
            };
            return CodeCheck::Right {
                code: open.code,
                teacher_id: open.teacher_id,
            };
        }
        *open.wrong_by.entry(prover.clone()).or_default() += 1;
        open.wrong_total += 1;
        if open.wrong_total >= PAIRING_WRONG_CEILING {
            *window = None;
        }
        CodeCheck::Wrong
    }

    /// The sync listener's TLS configuration: TLS 1.3, this box's certificate, and a client
    /// certificate required and checked by [`Trust`].
    pub fn server_config(
        self: &Arc<Self>,
        identity: &BoxIdentity,
    ) -> Result<Arc<rustls::ServerConfig>, FederationError> {
        let verifier = Arc::new(PairedClients {
            trust: self.clone(),
        });
        let config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_err)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![identity.cert()], identity.key())
            .map_err(tls_err)?;
        Ok(Arc::new(config))
    }

    /// An outgoing connection's TLS configuration: this box's certificate as the client's,
    /// and the other box's pinned (`None` only while pairing, when the code proves who it is).
    pub fn client_config(
        &self,
        identity: &BoxIdentity,
        expect: Option<Fingerprint>,
    ) -> Result<Arc<rustls::ClientConfig>, FederationError> {
        let verifier = Arc::new(PinnedServer {
            expect,
            provider: self.provider.clone(),
        });
        let config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_err)?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_auth_cert(vec![identity.cert()], identity.key())
            .map_err(tls_err)?;
        Ok(Arc::new(config))
    }
}

fn tls_err(e: rustls::Error) -> FederationError {
    FederationError::Identity(e.to_string())
}

/// The proof that a box knows the pairing code, bound to both certificates so it cannot be
/// replayed on another connection: HMAC-SHA256 keyed with the code over the role and both
/// fingerprints, the prover's first.
pub fn proof(code: &str, role: &str, prover: &Fingerprint, verifier: &Fingerprint) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(normalize_code(code).as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this arm is never taken.
        Err(_) => return String::new(),
    };
    mac.update(format!("tavla-pair|{role}|{prover}|{verifier}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn proof_matches(
    claimed: &str,
    code: &str,
    role: &str,
    prover: &Fingerprint,
    verifier: &Fingerprint,
) -> bool {
    constant_time_eq(claimed, &proof(code, role, prover, verifier))
}

/// A code as a teacher reads it off the screen: two groups of five.
pub fn shown(code: &str) -> String {
    let (first, second) = code.split_at(code.len().min(CODE_LEN / 2));
    format!("{first}-{second}")
}

/// A code as typed: any case, with spaces or dashes.
pub fn normalize_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The handshake-signature checks both verifiers share: ring's algorithms, through
/// `self.algorithms()`.
macro_rules! ring_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(message, cert, dss, self.algorithms())
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(message, cert, dss, self.algorithms())
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algorithms().supported_schemes()
        }
    };
}

/// Accepts client certificates of paired boxes (and, while a pairing window is open, any
/// certificate: the request must then prove the code).
#[derive(Debug)]
struct PairedClients {
    trust: Arc<Trust>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust").finish_non_exhaustive()
    }
}

impl PairedClients {
    fn algorithms(&self) -> &WebPkiSupportedAlgorithms {
        &self.trust.provider.signature_verification_algorithms
    }
}

impl ClientCertVerifier for PairedClients {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let fingerprint = Fingerprint::of(end_entity);
        if self.trust.box_of(&fingerprint).is_some() || self.trust.window_open() {
            return Ok(ClientCertVerified::assertion());
        }
        self.trust
            .refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(box_id = %fingerprint.box_id(), "refused a box that is not paired");
        Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::ApplicationVerificationFailure,
        ))
    }

    ring_signatures!();
}

/// Accepts exactly one server certificate, by fingerprint.
#[derive(Debug)]
struct PinnedServer {
    expect: Option<Fingerprint>,
    provider: Arc<CryptoProvider>,
}

impl PinnedServer {
    fn algorithms(&self) -> &WebPkiSupportedAlgorithms {
        &self.provider.signature_verification_algorithms
    }
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.expect {
            Some(expected) if *expected != Fingerprint::of(end_entity) => {
                Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::ApplicationVerificationFailure,
                ))
            }
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    ring_signatures!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(c: char) -> Fingerprint {
        Fingerprint::parse(&c.to_string().repeat(64)).expect("hex")
    }

    #[test]
    fn a_code_pairs_once_and_wrong_tries_close_the_window() {
        let trust = Trust::new([]);
        let teacher = TeacherId::random();
        let code = trust.open_window(&teacher);
        let (a, b) = (fp('a'), fp('b'));
        let right = proof(&code.to_lowercase(), "client", &a, &b);
        assert_eq!(
            trust.check_proof(&a, |c| proof_matches("nonsense", c, "client", &a, &b)),
            CodeCheck::Wrong
        );
        assert!(matches!(
            trust.check_proof(&a, |c| proof_matches(&right, c, "client", &a, &b)),
            CodeCheck::Right { .. }
        ));
        assert_eq!(
            trust.check_proof(&a, |c| proof_matches(&right, c, "client", &a, &b)),
            CodeCheck::NoWindow
        );
        // A box that guessed wrong too often is refused, even with the right code.
        trust.open_window(&teacher);
        for _ in 0..PAIRING_TRIES {
            assert_eq!(trust.check_proof(&b, |_| false), CodeCheck::Wrong);
        }
        assert_eq!(trust.check_proof(&b, |_| true), CodeCheck::Wrong);
        // Strangers' wrong guesses do not spend the real box's tries...
        for stranger in 0..(PAIRING_WRONG_CEILING - PAIRING_TRIES - 1) {
            let other = Fingerprint::parse(&format!("{stranger:064x}")).unwrap();
            assert_eq!(trust.check_proof(&other, |_| false), CodeCheck::Wrong);
        }
        assert!(matches!(
            trust.check_proof(&a, |_| true),
            CodeCheck::Right { .. }
        ));
        // ...but many together close the window.
        trust.open_window(&teacher);
        for stranger in 0..PAIRING_WRONG_CEILING {
            let other = Fingerprint::parse(&format!("{stranger:064x}")).unwrap();
            trust.check_proof(&other, |_| false);
        }
        assert_eq!(trust.check_proof(&a, |_| true), CodeCheck::NoWindow);
    }

    #[test]
    fn a_proof_is_bound_to_both_certificates_and_the_role() {
        let (a, b) = (fp('a'), fp('b'));
        let p = proof("ABCDE-23456", "client", &a, &b);
        assert!(proof_matches(&p, "abcde23456", "client", &a, &b));
        assert!(!proof_matches(&p, "abcde23456", "server", &a, &b));
        assert!(!proof_matches(&p, "abcde23456", "client", &b, &a));
    }
}
