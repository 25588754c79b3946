//! The local CA certificate for installing on devices: PEM, and an iOS configuration profile.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::state::AppState;
use crate::error::ServiceError;

fn ca_der(state: &AppState) -> Result<Vec<u8>, ServiceError> {
    let pem = state.tls.ca_pem().ok_or(ServiceError::NotFound)?;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map(|der| der.to_vec())
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Whether the box runs its own CA, and its fingerprint so an admin can check what they install.
pub async fn info(State(state): State<Arc<AppState>>) -> Json<CaInfo> {
    let fingerprint = state.tls.ca_fingerprint();
    Json(CaInfo {
        local_ca: fingerprint.is_some(),
        fingerprint_sha256: fingerprint,
        host: state.names.host().to_string(),
        https_port: state.https_port,
    })
}

#[derive(Serialize)]
pub struct CaInfo {
    /// The box made its own certificate authority (not a certificate the school gave it).
    local_ca: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint_sha256: Option<String>,
    host: String,
    https_port: u16,
}

pub async fn certificate(State(state): State<Arc<AppState>>) -> Result<Response, ServiceError> {
    let pem = state.tls.ca_pem().ok_or(ServiceError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-x509-ca-cert"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"tavla-ca.crt\"",
            ),
        ],
        pem,
    )
        .into_response())
}

/// A UUID-shaped string derived from the CA, so the same CA always gives the same profile.
fn stable_uuid(der: &[u8], salt: &str) -> String {
    let h = hex::encode_upper(Sha256::digest([der, salt.as_bytes()].concat()));
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub async fn mobileconfig(State(state): State<Arc<AppState>>) -> Result<Response, ServiceError> {
    let der = ca_der(&state)?;
    let host = state.names.host();
    let cert_b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    let profile = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>PayloadCertificateFileName</key><string>tavla-ca.crt</string>
      <key>PayloadContent</key><data>{cert_b64}</data>
      <key>PayloadDisplayName</key><string>Tavla {host} CA</string>
      <key>PayloadIdentifier</key><string>no.tavla.{host}.ca</string>
      <key>PayloadType</key><string>com.apple.security.root</string>
      <key>PayloadUUID</key><string>{cert_uuid}</string>
      <key>PayloadVersion</key><integer>1</integer>
    </dict>
  </array>
  <key>PayloadDisplayName</key><string>Tavla {host}</string>
  <key>PayloadIdentifier</key><string>no.tavla.{host}</string>
  <key>PayloadType</key><string>Configuration</string>
  <key>PayloadUUID</key><string>{profile_uuid}</string>
  <key>PayloadVersion</key><integer>1</integer>
</dict>
</plist>
"#,
        cert_uuid = stable_uuid(&der, "cert"),
        profile_uuid = stable_uuid(&der, "profile"),
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-apple-aspen-config"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"tavla.mobileconfig\"",
            ),
        ],
        profile,
    )
        .into_response())
}
