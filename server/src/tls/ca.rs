//! The local certificate authority: made once per box, kept in the data dir.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType,
};
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::names::{local_networks, LOCAL_DNS_SUFFIXES};
use super::{bad_file, ServerNames, TlsError};
use crate::datadir::write_private_file;

const CA_YEARS: i64 = 10;
const SERVER_CERT_DAYS: i64 = 365;
/// A Raspberry Pi has no real-time clock: it may boot with yesterday's time. Backdate so a
/// certificate made then is already valid when the clock is corrected.
const BACKDATE_DAYS: i64 = 2;

pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
    cert_der: CertificateDer<'static>,
}

fn generate_err(e: rcgen::Error) -> TlsError {
    TlsError::Generate(e.to_string())
}

fn time_of(ms: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp((ms / 1000) as i64).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl LocalCa {
    pub fn load_or_create(dir: &Path, names: &ServerNames, now_ms: u64) -> Result<Self, TlsError> {
        let (cert_path, key_path) = (dir.join("ca.crt"), dir.join("ca.key"));
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => Self::load(&cert_path, &key_path),
            (false, false) => Self::create(dir, names, now_ms),
            (true, false) => Err(bad_file(&cert_path, "ca.key is missing beside it")),
            (false, true) => Err(bad_file(&key_path, "ca.crt is missing beside it")),
        }
    }

    fn load(cert_path: &Path, key_path: &Path) -> Result<Self, TlsError> {
        let cert_pem =
            std::fs::read_to_string(cert_path).map_err(|e| bad_file(cert_path, e.to_string()))?;
        let key_pem =
            std::fs::read_to_string(key_path).map_err(|e| bad_file(key_path, e.to_string()))?;
        let key = KeyPair::from_pem(&key_pem)
            .map_err(|e| bad_file(key_path, format!("not a private key: {e}")))?;
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key)
            .map_err(|e| bad_file(cert_path, format!("not a CA certificate: {e}")))?;
        let cert_der = pem_to_der(&cert_pem).ok_or_else(|| bad_file(cert_path, "not PEM"))?;
        Ok(Self {
            issuer,
            cert_pem,
            cert_der,
        })
    }

    fn create(dir: &Path, names: &ServerNames, now_ms: u64) -> Result<Self, TlsError> {
        let key = KeyPair::generate().map_err(generate_err)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Tavla");
        dn.push(
            DnType::CommonName,
            format!("Tavla {} local CA", names.host()),
        );
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = time_of(now_ms);
        params.not_before = now - Duration::days(BACKDATE_DAYS);
        params.not_after = now + Duration::days(365 * CA_YEARS);
        params.name_constraints = Some(name_constraints(names.host()));
        let cert = params.self_signed(&key).map_err(generate_err)?;
        let cert_pem = cert.pem();
        write_private_file(&dir.join("ca.key"), key.serialize_pem().as_bytes())?;
        write_private_file(&dir.join("ca.crt"), cert_pem.as_bytes())?;
        tracing::info!(
            "made a new local certificate authority in {}",
            dir.display()
        );
        Ok(Self {
            issuer: Issuer::new(params, key),
            cert_der: cert.der().clone(),
            cert_pem,
        })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A new server key and certificate for `names`, as PEM (cert, key).
    pub fn issue_server_cert(
        &self,
        names: &ServerNames,
        now_ms: u64,
    ) -> Result<(String, String), TlsError> {
        let key = KeyPair::generate().map_err(generate_err)?;
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, names.host().to_string());
        params.subject_alt_names = names
            .dns
            .iter()
            .filter_map(|d| d.clone().try_into().ok().map(SanType::DnsName))
            .chain(names.ips.iter().map(|ip| SanType::IpAddress(*ip)))
            .collect();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        let now = time_of(now_ms);
        params.not_before = now - Duration::days(BACKDATE_DAYS);
        params.not_after = now + Duration::days(SERVER_CERT_DAYS);
        let cert = params.signed_by(&key, &self.issuer).map_err(generate_err)?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// Whether `leaf` carries this CA's signature.
    pub fn issued(&self, leaf: &CertificateDer<'_>) -> bool {
        let (Ok((_, leaf)), Ok((_, ca))) = (
            X509Certificate::from_der(leaf),
            X509Certificate::from_der(&self.cert_der),
        ) else {
            return false;
        };
        leaf.verify_signature(Some(ca.public_key())).is_ok()
    }
}

fn name_constraints(host: &str) -> NameConstraints {
    let dns = LOCAL_DNS_SUFFIXES
        .iter()
        .map(|s| s.to_string())
        .chain([host.to_string()])
        .map(GeneralSubtree::DnsName);
    let ips = local_networks().into_iter().map(|net| {
        GeneralSubtree::IpAddress(match net {
            ipnet::IpNet::V4(n) => CidrSubnet::from_v4_prefix(n.addr().octets(), n.prefix_len()),
            ipnet::IpNet::V6(n) => CidrSubnet::from_v6_prefix(n.addr().octets(), n.prefix_len()),
        })
    });
    NameConstraints {
        permitted_subtrees: dns.chain(ips).collect(),
        excluded_subtrees: Vec::new(),
    }
}

fn pem_to_der(pem: &str) -> Option<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).ok()
}

/// Whether `leaf` is valid until `until_ms` and names everything in `names`.
pub fn covers(
    leaf: &CertificateDer<'_>,
    names: &ServerNames,
    until_ms: u64,
) -> Result<bool, String> {
    let (_, cert) = X509Certificate::from_der(leaf).map_err(|e| e.to_string())?;
    if cert.validity().not_after.timestamp() < (until_ms / 1000) as i64 {
        return Ok(false);
    }
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Ok(false);
    };
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    for name in &san.value.general_names {
        match name {
            GeneralName::DNSName(d) => dns.push(d.to_string()),
            GeneralName::IPAddress(bytes) => ips.push(bytes.to_vec()),
            _ => {}
        }
    }
    let ip_bytes = |ip: &std::net::IpAddr| match ip {
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    Ok(names.dns.iter().all(|d| dns.contains(d))
        && names.ips.iter().all(|ip| ips.contains(&ip_bytes(ip))))
}
