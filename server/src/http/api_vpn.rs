//! The VPN for pupils at home over HTTP: the teacher gives a pupil access (their WireGuard
//! config and its QR code, shown once), lists the class's, and takes it away.

use std::net::Ipv4Addr;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::extract::{ApiPath, TeacherCaller};
use super::respond::done;
use super::state::AppState;
use crate::error::ServiceError;
use crate::ids::{ClassId, PupilId};
use crate::{qr, service};

/// `POST /api/classes/{class}/pupils/{pupil}/vpn`
pub async fn give(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath((class_id, pupil_id)): ApiPath<(ClassId, PupilId)>,
) -> Result<Response, ServiceError> {
    // Without a configured endpoint the config names the box's own LAN address (or its name),
    // never what the request's Host header says: that is the client's to choose.
    let box_host = state
        .names
        .ips
        .iter()
        .find(|ip| ip.is_ipv4() && !ip.is_loopback() && !ip.is_unspecified())
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| state.names.host().to_string());
    let fallback = format!("{box_host}:{}", state.config.vpn.listen_port);
    let issued = service::vpn::give(
        &state.services,
        &teacher.who,
        &state.config.vpn,
        &fallback,
        &class_id,
        &pupil_id,
    )?;
    // The first access sets the VPN up: from now on the certificate covers the box's VPN
    // address, so pupils at home reach it without a warning.
    let names = service::vpn::certificate_names(
        state.config.host_name.as_deref(),
        state.services.store.as_ref(),
    );
    if let Err(e) = state.tls.refresh(names, state.services.clock.now_ms()) {
        tracing::error!("could not renew the certificate for the VPN address: {e}");
    }
    // The WireGuard app scans the config itself; a config always fits a QR code.
    let qr_svg =
        qr::svg(&issued.config).ok_or_else(|| ServiceError::Internal("VPN config QR".into()))?;
    Ok(Json(Access {
        address: issued.peer.address,
        config: issued.config,
        qr_svg,
        file_name: "tavla.conf",
    })
    .into_response())
}

/// A pupil's VPN access: the WireGuard config (shown once) and its QR code.
#[derive(Serialize)]
pub struct Access {
    address: Ipv4Addr,
    config: String,
    qr_svg: String,
    file_name: &'static str,
}

/// `DELETE /api/classes/{class}/pupils/{pupil}/vpn`
pub async fn take(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath((class_id, pupil_id)): ApiPath<(ClassId, PupilId)>,
) -> Result<Response, ServiceError> {
    service::vpn::take(&state.services, &teacher.who, &class_id, &pupil_id)?;
    Ok(done().into_response())
}

/// `GET /api/classes/{class}/vpn`: `{"pupils": [{"pupil_id", "address", "created_ms"}]}`
pub async fn list(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(class_id): ApiPath<ClassId>,
) -> Result<Response, ServiceError> {
    let peers = service::vpn::of_class(&state.services, &teacher.who, &class_id)?;
    let pupils = peers
        .iter()
        .map(|p| PeerEntry {
            pupil_id: &p.pupil_id,
            address: p.address,
            created_ms: p.created_ms,
        })
        .collect();
    Ok(Json(ClassAccess { pupils }).into_response())
}

#[derive(Serialize)]
pub struct ClassAccess<'a> {
    pupils: Vec<PeerEntry<'a>>,
}

/// One pupil's access, without its keys.
#[derive(Serialize)]
pub struct PeerEntry<'a> {
    pupil_id: &'a PupilId,
    address: Ipv4Addr,
    created_ms: u64,
}
