//! The VPN for pupils at home, as the teacher gives and takes it: a pupil's WireGuard config
//! (and its QR code for the WireGuard app), the class's list, and taking access away (which
//! also ends the pupil's sign-ins). Every change rewrites the box's interface file.

use std::net::IpAddr;

use super::{access, Services};
use crate::auth::grants::{Ended, Revocation};
use crate::auth::sessions;
use crate::auth::Who;
use crate::config::VpnConfig;
use crate::error::ServiceError;
use crate::ids::{ClassId, ParticipantId, PupilId};
use crate::lessons::classes;
use crate::store::Store;
use crate::tls::ServerNames;
use crate::vpn::{self, Issued, Peer, VpnError};

impl From<VpnError> for ServiceError {
    fn from(e: VpnError) -> Self {
        match e {
            VpnError::NotFound | VpnError::NotSetUp => ServiceError::NotFound,
            VpnError::Full => ServiceError::Internal("the VPN's network is full".into()),
            VpnError::Store(e) => e.into(),
        }
    }
}

/// Rewrites the box's WireGuard interface file after a change.
pub fn write_interface_file(s: &Services) -> Result<(), ServiceError> {
    vpn::write_interface_file(s.store.as_ref(), &s.files.data_dir).map_err(ServiceError::Internal)
}

/// The teacher gives a pupil of their class VPN access: the VPN is set up on first use, and
/// the pupil's config comes back once (a new one replaces the old).
pub fn give(
    s: &Services,
    who: &Who,
    config: &VpnConfig,
    fallback_endpoint: &str,
    class_id: &ClassId,
    pupil_id: &PupilId,
) -> Result<Issued, ServiceError> {
    let class = access::own_class(s, who, class_id)?;
    let pupil = classes::get_pupil(s.store.as_ref(), &class.id, pupil_id)?;
    vpn::init(s.store.as_ref(), config)?;
    let endpoint = config.endpoint.as_deref().unwrap_or(fallback_endpoint);
    let issued = vpn::add_pupil(
        s.store.as_ref(),
        &class.id,
        &pupil.id,
        endpoint,
        s.clock.now_ms(),
    )?;
    write_interface_file(s)?;
    tracing::info!(class_id = %class.id, "VPN access given");
    Ok(issued)
}

/// The teacher takes a pupil's VPN access away: the peer goes from the interface, and every
/// sign-in of the pupil ends (their connections close with 4004; from school they sign in
/// again with their card).
pub fn take(
    s: &Services,
    who: &Who,
    class_id: &ClassId,
    pupil_id: &PupilId,
) -> Result<(), ServiceError> {
    let class = access::own_class(s, who, class_id)?;
    if !vpn::remove_pupil(s.store.as_ref(), &class.id, pupil_id)? {
        return Err(ServiceError::NotFound);
    }
    write_interface_file(s)?;
    let participant = ParticipantId::rostered(pupil_id);
    sessions::revoke_where(s.store.as_ref(), |session| {
        sessions::pupil_seat_matches(session, |seat| {
            seat.class_id == class.id && seat.participant_id == participant
        })
    })?;
    s.grants.revoke(
        &Revocation::ParticipantInClass {
            class_id: class.id.clone(),
            participant_id: participant.clone(),
        },
        Ended::LoggedOut,
    );
    tracing::info!(class_id = %class.id, "VPN access taken away");
    Ok(())
}

/// Which pupils of the class have VPN access.
pub fn of_class(s: &Services, who: &Who, class_id: &ClassId) -> Result<Vec<Peer>, ServiceError> {
    let class = access::own_class(s, who, class_id)?;
    Ok(vpn::peers(s.store.as_ref())?
        .into_iter()
        .filter(|p| p.class_id == class.id)
        .collect())
}

/// The names and addresses the box's certificate covers: this machine's, and its address in
/// the pupils' VPN once there is one (the VPN interface may come up after Tavla starts).
pub fn certificate_names(host_name: Option<&str>, store: &dyn Store) -> ServerNames {
    let mut names = ServerNames::of_this_machine(host_name);
    if let Ok(keys) = vpn::box_keys(store) {
        names.ips.insert(keys.address.addr().into());
    }
    names
}

/// Whether `ip` comes in over the box's VPN (its pupils are at home).
pub fn is_vpn_address(s: &Services, ip: IpAddr) -> bool {
    let IpAddr::V4(v4) = ip else {
        return false;
    };
    vpn::box_keys(s.store.as_ref())
        .map(|keys| keys.address.trunc().contains(&v4))
        .unwrap_or(false)
}
