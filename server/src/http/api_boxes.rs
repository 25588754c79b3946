//! The other classroom boxes: those on the network (mDNS), and pairing with them.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use serde::Deserialize;

use super::extract::{ApiJson, ApiPath, TeacherCaller};
use super::state::AppState;
use crate::config::DEFAULT_SYNC_PORT;
use crate::discovery::FoundBox;
use crate::error::ServiceError;
use crate::ids::{BoxId, ClassId};
use crate::service;
use crate::service::boxes::federation::identity::Fingerprint;
use crate::service::boxes::federation::pairs::Shares;
use crate::service::boxes::{BoxesOverview, PairTarget, PairedView, PairingCode};
use crate::validate;

/// `GET /api/boxes`: `{"enabled", "this_box", "boxes": [{name, host, addresses, port,
/// version, ca_sha256}]}`.
pub async fn nearby(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
) -> Result<Response, ServiceError> {
    let view = state
        .blocking(move |s| service::nearby::boxes(s, &teacher.who))
        .await?;
    Ok(Json(Nearby {
        enabled: view.enabled,
        this_box: view.own_name,
        boxes: view.boxes,
    })
    .into_response())
}

/// The boxes this one sees on the network.
#[derive(Serialize)]
pub struct Nearby {
    /// Discovery is on.
    enabled: bool,
    /// This box's own name.
    this_box: String,
    boxes: Vec<FoundBox>,
}

/// `GET /api/boxes/paired`: this box (name, id, fingerprint, sync port) and the boxes paired
/// with it, each with what it receives and when it last synced.
pub async fn paired(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
) -> Result<Json<BoxesOverview>, ServiceError> {
    state
        .blocking(move |s| service::boxes::overview(s, &teacher.who))
        .await
        .map(Json)
}

/// `POST /api/boxes/pairing`: a new one-time pairing code for another box to enter.
pub async fn open_pairing(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
) -> Result<Json<PairingCode>, ServiceError> {
    state
        .blocking(move |s| service::boxes::open_pairing(s, &teacher.who))
        .await
        .map(Json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairBody {
    /// The other box's address, `host` or `host:port` (its sync port; 8444 if left out).
    address: String,
    /// The code the other box shows.
    code: String,
    /// The fingerprint the other box shows, if the teacher typed it (checked in the handshake).
    #[serde(default)]
    fingerprint: Option<String>,
}

/// `POST /api/boxes/paired`: pair with a box that shows a code.
pub async fn pair(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiJson(body): ApiJson<PairBody>,
) -> Result<Json<PairedView>, ServiceError> {
    let address = sync_address(&body.address)?;
    let fingerprint =
        match body.fingerprint.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(Fingerprint::parse(raw).ok_or_else(|| {
                validate::invalid("fingerprint", "is not a certificate fingerprint")
            })?),
        };
    let target = PairTarget {
        address,
        code: body.code,
        fingerprint,
    };
    service::boxes::pair_with(&state.services, &teacher.who, target)
        .await
        .map(Json)
}

/// `host`, `host:port` or `[v6]:port`, without a scheme or path; the default sync port when
/// none is given.
fn sync_address(raw: &str) -> Result<String, ServiceError> {
    let raw = raw.trim();
    let bad = || ServiceError::from(validate::invalid("address", "is not host or host:port"));
    if raw.is_empty()
        || raw.len() > 255
        || raw.contains(['/', '@', ' ', '?', '#'])
        || raw.chars().any(|c| c.is_control())
    {
        return Err(bad());
    }
    if raw.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(raw.to_string());
    }
    if let Ok(ip) = raw.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return Ok(std::net::SocketAddr::new(ip, DEFAULT_SYNC_PORT).to_string());
    }
    match raw.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.contains(':') => {
            port.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(bad)?;
            Ok(raw.to_string())
        }
        None => Ok(format!("{raw}:{DEFAULT_SYNC_PORT}")),
        Some(_) => Err(bad()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharesBody {
    #[serde(default)]
    everything: bool,
    #[serde(default)]
    classes: Vec<ClassId>,
}

/// `PUT /api/boxes/paired/{box_id}/shares`: what the paired box receives from this one.
pub async fn set_shares(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(box_id): ApiPath<BoxId>,
    ApiJson(body): ApiJson<SharesBody>,
) -> Result<Json<PairedView>, ServiceError> {
    let shares = Shares {
        everything: body.everything,
        classes: body.classes,
    };
    service::boxes::set_shares(&state.services, &teacher.who, &box_id, shares)
        .await
        .map(Json)
}

/// `DELETE /api/boxes/paired/{box_id}`: unpair; nothing crosses any more, at once.
pub async fn unpair(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(box_id): ApiPath<BoxId>,
) -> Result<Response, ServiceError> {
    state
        .blocking(move |s| service::boxes::unpair(s, &teacher.who, &box_id))
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::sync_address;

    #[test]
    fn addresses_are_host_and_port() {
        assert_eq!(sync_address("10.0.0.5").unwrap(), "10.0.0.5:8444");
        assert_eq!(sync_address("10.0.0.5:9000").unwrap(), "10.0.0.5:9000");
        assert_eq!(sync_address("rom-204.local").unwrap(), "rom-204.local:8444");
        assert_eq!(sync_address("[fe80::1]:8444").unwrap(), "[fe80::1]:8444");
        assert_eq!(sync_address("fe80::1").unwrap(), "[fe80::1]:8444");
        for bad in ["", "https://x", "a b", "x:0", "x:99999", "u@x", "x:1:2"] {
            assert!(sync_address(bad).is_err(), "{bad}");
        }
    }
}
