//! The use-cases an IT contact runs from the command line while Tavla is stopped (`tavla
//! teacher add`, `tavla vpn …`). With the box stopped nothing is open, so these take the store
//! alone, not the running box's [`super::Services`]; they do what their counterparts on the
//! class page do to the stored state (the same subsystems, the same checks).

use crate::auth::sessions;
use crate::auth::teachers::{self, Teacher, TokenKind};
use crate::clock::Clock;
use crate::config::VpnConfig;
use crate::error::ServiceError;
use crate::ids::ParticipantId;
use crate::lessons::classes::{self, Pupil};
use crate::store::Store;
use crate::vpn::{self, BoxKeys, Issued};

/// Adds a teacher account with a password.
pub fn add_teacher(
    store: &dyn Store,
    clock: &dyn Clock,
    name: &str,
    password: &str,
) -> Result<Teacher, ServiceError> {
    Ok(teachers::create(store, clock, name, password)?)
}

/// A one-time setup link's token for a teacher called `name`.
pub fn invite_teacher(
    store: &dyn Store,
    clock: &dyn Clock,
    name: &str,
) -> Result<String, ServiceError> {
    Ok(teachers::issue_setup_token(
        store,
        clock,
        TokenKind::Invite,
        Some(name.to_string()),
    )?)
}

/// The pupil called `pupil` in the class called `class`, if exactly one is.
pub fn find_pupil(store: &dyn Store, class: &str, pupil: &str) -> Result<Pupil, String> {
    let named: Vec<_> = classes::all(store)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|c| c.name == class)
        .collect();
    let [class] = named.as_slice() else {
        return Err(format!("{} classes are called {class:?}", named.len()));
    };
    let pupils: Vec<_> = classes::roster(store, &class.id)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|p| p.name == pupil)
        .collect();
    match pupils.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "{} pupils of {} are called {pupil:?}",
            pupils.len(),
            class.name
        )),
    }
}

/// Sets the VPN up (once): the box's keys and address.
pub fn vpn_init(store: &dyn Store, config: &VpnConfig) -> Result<BoxKeys, ServiceError> {
    Ok(vpn::init(store, config)?)
}

/// Gives `pupil` VPN access reaching the box at `endpoint`: their config, shown once.
pub fn vpn_give(
    store: &dyn Store,
    config: &VpnConfig,
    pupil: &Pupil,
    endpoint: &str,
    now_ms: u64,
) -> Result<Issued, ServiceError> {
    vpn::init(store, config)?;
    Ok(vpn::add_pupil(
        store,
        &pupil.class_id,
        &pupil.id,
        endpoint,
        now_ms,
    )?)
}

/// Takes `pupil`'s VPN access away and ends their sign-ins; `false` if they had none.
pub fn vpn_take(store: &dyn Store, pupil: &Pupil) -> Result<bool, ServiceError> {
    if !vpn::remove_pupil(store, &pupil.class_id, &pupil.id)? {
        return Ok(false);
    }
    let participant = ParticipantId::rostered(&pupil.id);
    sessions::revoke_where(store, |session| {
        sessions::pupil_seat_matches(session, |seat| {
            seat.class_id == pupil.class_id && seat.participant_id == participant
        })
    })?;
    Ok(true)
}

/// Every pupil with VPN access: their address and name.
pub fn vpn_list(store: &dyn Store) -> Result<Vec<(String, String)>, ServiceError> {
    Ok(vpn::peers(store)?
        .into_iter()
        .map(|peer| {
            let name = classes::get_pupil(store, &peer.class_id, &peer.pupil_id)
                .map(|p| p.name)
                .unwrap_or_default();
            (peer.address.to_string(), name)
        })
        .collect())
}
