//! The VPN for pupils at home over HTTP: the teacher gives a pupil access (their WireGuard
//! config and its QR code, shown once), lists the class's, and takes it away.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::extract::{RequestHost, TeacherCaller};
use super::state::AppState;
use crate::error::ApiError;
use crate::{qr, service};

/// `POST /api/classes/{class}/pupils/{pupil}/vpn`
pub async fn give(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    Path((class_id, pupil_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    // Without a configured endpoint the config names the address this page was opened on.
    let box_host = host
        .as_deref()
        .map(|h| h.rsplit_once(':').map_or(h, |(host, _)| host).to_string())
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
        qr::svg(&issued.config).ok_or_else(|| ApiError::Internal("VPN config QR".into()))?;
    Ok(Json(json!({
        "address": issued.peer.address.to_string(),
        "config": issued.config,
        "qr_svg": qr_svg,
        "file_name": "tavla.conf",
    })))
}

/// `DELETE /api/classes/{class}/pupils/{pupil}/vpn`
pub async fn take(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path((class_id, pupil_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    service::vpn::take(&state.services, &teacher.who, &class_id, &pupil_id)?;
    Ok(Json(json!({ "ok": true })))
}

/// `GET /api/classes/{class}/vpn`: `{"pupils": [{"pupil_id", "address", "created_ms"}]}`
pub async fn list(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(class_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let peers = service::vpn::of_class(&state.services, &teacher.who, &class_id)?;
    Ok(Json(json!({
        "pupils": peers
            .iter()
            .map(|p| json!({ "pupil_id": p.pupil_id, "address": p.address.to_string(), "created_ms": p.created_ms }))
            .collect::<Vec<_>>(),
    })))
}
