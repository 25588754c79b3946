//! Paired boxes: pairing and unpairing, what each receives, answering a paired box's sync
//! requests, and taking what paired boxes share (the sync worker calls [`sync_all`]).
//!
//! Every box pulls: it asks each paired box for what that box shares with it (class records,
//! then each document's missing updates against its own state vector, then messages after its
//! cursor) and takes them in. Two boxes that share a class with each other both pull, so edits
//! made on either while they could not reach each other end up on both; yrs merges documents,
//! messages keep their origin so none arrives twice.
//!
//! - this module: pairing and unpairing, what each paired box receives, the teacher's view.
//! - [`answer`]: answering a paired box's sync requests (what it receives, document updates,
//!   messages).
//! - [`take`]: the sync worker's round: asking each paired box and taking in what it shares.
//! - [`relay`]: a lesson's stream across rooms: sent once to a paired box that passes it on to
//!   its own viewers.
//! - [`federation`]: what the use-cases stand on: this box's identity for box-to-box traffic,
//!   the pairing window and certificate pinning, paired boxes in the store, the wire format,
//!   one request to another box.
//!
//! Outside this tree, box-to-box has only its adapters: `http::sync` and `http::relay` (the
//! sync listener's routes), `http::api_boxes` (the teacher's), and `media::relay` (the peer
//! connection that feeds a relayed stream into this box's stage, media's own mechanics).

mod answer;
pub mod federation;
mod relay;
mod take;

pub use answer::{doc_updates, manifest, messages_after, poked, who_is};
pub use relay::{open_relay, relay_while_watched};
pub use take::sync_all;

use std::collections::BTreeSet;
use std::net::IpAddr;

use hyper::{Method, StatusCode};
use serde::Serialize;

use super::Services;
use crate::auth::grants::{Ended, Revocation};
use crate::auth::{can, Action, Who};
use crate::channels::thread::ThreadId;
use crate::error::ServiceError;
use crate::ids::{BoxId, ClassId, LessonId};
use crate::lessons::classes::{self, Class};
use crate::lessons::lesson;
use crate::service::boxes::federation::identity::Fingerprint;
use crate::service::boxes::federation::pairs::{self, PairedBox, Shares};
use crate::service::boxes::federation::trust::{self, CodeCheck, PAIRING_VALID};
use crate::service::boxes::federation::wire::{PairAnswer, PairRequest};
use crate::service::boxes::federation::{client, FederationError};
use crate::store::Store;
use crate::validate;

/// What the teacher reads off this box to pair another with it.
#[derive(Debug, Serialize)]
pub struct PairingCode {
    pub code: String,
    /// This box's fingerprint, grouped for comparing on both screens.
    pub fingerprint: String,
    pub name: String,
    /// The sync port the other box connects to.
    pub port: u16,
    pub valid_minutes: u64,
}

/// A teacher opens pairing: a new one-time code (any earlier one stops working).
pub fn open_pairing(s: &Services, who: &Who) -> Result<PairingCode, ServiceError> {
    let Who::Teacher { teacher_id } = who else {
        return Err(forbidden(who));
    };
    if !can(who, Action::PairBoxes) {
        return Err(ServiceError::Forbidden);
    }
    let boxes = &s.boxes;
    let code = boxes.trust.open_window(teacher_id);
    tracing::info!("pairing code made; another box may pair for the next 10 minutes");
    Ok(PairingCode {
        code: trust::shown(&code),
        fingerprint: boxes.identity.fingerprint().grouped(),
        name: boxes.name.clone(),
        port: boxes.port(),
        valid_minutes: PAIRING_VALID.as_secs() / 60,
    })
}

fn forbidden(who: &Who) -> ServiceError {
    match who {
        Who::Nobody => ServiceError::Unauthenticated,
        _ => ServiceError::Forbidden,
    }
}

/// Where the other box is and the code it showed (its fingerprint too, if the teacher typed it).
pub struct PairTarget {
    /// `host:port` of its sync listener.
    pub address: String,
    pub code: String,
    pub fingerprint: Option<Fingerprint>,
}

/// A teacher pairs this box with another that shows a code: this box proves it knows the
/// code, the other proves it too, and both keep each other's certificate.
pub async fn pair_with(
    s: &Services,
    who: &Who,
    target: PairTarget,
) -> Result<PairedView, ServiceError> {
    let Who::Teacher { teacher_id } = who else {
        return Err(forbidden(who));
    };
    if !can(who, Action::PairBoxes) {
        return Err(ServiceError::Forbidden);
    }
    let code = trust::normalize_code(&target.code);
    if code.len() != trust::CODE_LEN {
        return Err(validate::invalid("code", "is ten letters and digits").into());
    }
    let boxes = &s.boxes;
    let own = boxes.identity.fingerprint().clone();
    let config = boxes
        .trust
        .client_config(&boxes.identity, target.fingerprint.clone())?;
    let name = boxes.name.clone();
    let port = boxes.port();
    let answer = client::request_with(
        config,
        &target.address,
        Method::POST,
        "/pair",
        64 * 1024,
        |peer| {
            let request = PairRequest {
                name,
                port,
                proof: peer.map_or_else(String::new, |peer| {
                    trust::proof(&code, "client", &own, peer)
                }),
            };
            serde_json::to_vec(&request).ok()
        },
    )
    .await?;
    let peer = answer
        .peer
        .ok_or_else(|| FederationError::BadAnswer("no certificate".into()))?;
    if answer.status == StatusCode::FORBIDDEN {
        return Err(ServiceError::PairingRefused);
    }
    if answer.status != StatusCode::OK {
        return Err(FederationError::BadAnswer(answer.status.to_string()).into());
    }
    let said: PairAnswer = serde_json::from_slice(&answer.body)
        .map_err(|e| FederationError::BadAnswer(e.to_string()))?;
    if !trust::proof_matches(&said.proof, &code, "server", &peer, &own)
        || said.box_id != peer.box_id()
    {
        return Err(ServiceError::PairingRefused);
    }
    let paired = PairedBox {
        box_id: peer.box_id(),
        fingerprint: peer.clone(),
        name: validate::name("name", &said.name, validate::CLASS_NAME_MAX)
            .unwrap_or_else(|_| peer.box_id().to_string()),
        address: target.address,
        teacher_id: teacher_id.clone(),
        paired_ms: s.clock.now_ms(),
        shares: Shares::default(),
    };
    keep_paired(s, &paired)?;
    tracing::info!(box_id = %paired.box_id, "paired with another box (this box entered its code)");
    view(s, paired)
}

/// What pairing does on either side: the box is kept, its certificate is trusted from now on,
/// and this box asks it at once.
fn keep_paired(s: &Services, paired: &PairedBox) -> Result<(), ServiceError> {
    pairs::put(s.store.as_ref(), paired)?;
    s.boxes
        .trust
        .add(paired.fingerprint.clone(), paired.box_id.clone());
    s.boxes.wake.notify_one();
    Ok(())
}

/// Another box proves it knows the open pairing code: it is paired, as the teacher's who made
/// the code. Called by the sync listener with the certificate the box showed.
pub fn accept_pairing(
    s: &Services,
    peer: &Fingerprint,
    peer_ip: IpAddr,
    request: PairRequest,
) -> Result<PairAnswer, ServiceError> {
    let boxes = &s.boxes;
    let own = boxes.identity.fingerprint();
    if peer == own {
        return Err(ServiceError::PairingRefused);
    }
    let name = validate::name("name", &request.name, validate::CLASS_NAME_MAX)?;
    if request.port == 0 {
        return Err(validate::invalid("port", "is not a port").into());
    }
    let checked = boxes.trust.check_proof(peer, |code| {
        trust::proof_matches(&request.proof, code, "client", peer, own)
    });
    let (code, teacher_id) = match checked {
        CodeCheck::Right { code, teacher_id } => (code, teacher_id),
        CodeCheck::Wrong => {
            tracing::info!(box_id = %peer.box_id(), "a box offered a wrong pairing code");
            return Err(ServiceError::PairingRefused);
        }
        CodeCheck::NoWindow => return Err(ServiceError::PairingRefused),
    };
    let paired = PairedBox {
        box_id: peer.box_id(),
        fingerprint: peer.clone(),
        name,
        address: std::net::SocketAddr::new(peer_ip, request.port).to_string(),
        teacher_id,
        paired_ms: s.clock.now_ms(),
        shares: Shares::default(),
    };
    keep_paired(s, &paired)?;
    tracing::info!(box_id = %paired.box_id, "paired with another box (it entered this box's code)");
    Ok(PairAnswer {
        box_id: boxes.identity.box_id(),
        name: boxes.name.clone(),
        proof: trust::proof(&code, "server", own, peer),
    })
}

/// A teacher unpairs a box: from now on its handshakes fail, requests on connections it still
/// has are refused, and this box stops asking it for anything. Logged.
pub fn unpair(s: &Services, who: &Who, box_id: &BoxId) -> Result<(), ServiceError> {
    if !can(who, Action::PairBoxes) {
        return Err(forbidden(who));
    }
    s.boxes.trust.remove(box_id);
    if !pairs::remove(s.store.as_ref(), box_id)? {
        return Err(ServiceError::NotFound);
    }
    let relays = Revocation::PairedBox {
        box_id: box_id.clone(),
        classes: None,
    };
    s.grants.revoke(&relays, Ended::Unpaired);
    tracing::info!(%box_id, "unpaired a box: nothing crosses to or from it any more");
    Ok(())
}

/// A teacher chooses what a paired box receives: her own classes (each checked), or
/// everything on this box (a school's backup box). The other box is told to ask now, so the
/// choice shows there at once (if it cannot be reached, it learns at its next round).
pub async fn set_shares(
    s: &Services,
    who: &Who,
    box_id: &BoxId,
    shares: Shares,
) -> Result<PairedView, ServiceError> {
    let paired = choose_shares(s, who, box_id, shares)?;
    take::poke(s, &paired).await;
    view(s, paired)
}

fn choose_shares(
    s: &Services,
    who: &Who,
    box_id: &BoxId,
    shares: Shares,
) -> Result<PairedBox, ServiceError> {
    if !can(who, Action::PairBoxes) {
        return Err(forbidden(who));
    }
    let store = s.store.as_ref();
    let mut paired = pairs::get(store, box_id)?.ok_or(ServiceError::NotFound)?;
    let may_share = |class: &Class| {
        can(
            who,
            Action::ShareClass {
                class_teacher: &class.teacher_id,
            },
        )
    };
    let mut chosen = BTreeSet::new();
    for class_id in &shares.classes {
        let class = classes::get(store, class_id)?;
        if !may_share(&class) {
            return Err(ServiceError::Forbidden);
        }
        chosen.insert(class.id);
    }
    // Another teacher's classes stay as she chose them.
    let others: Vec<ClassId> = paired
        .shares
        .classes
        .iter()
        .filter(|c| classes::get(store, c).is_ok_and(|class| !may_share(&class)))
        .cloned()
        .collect();
    chosen.extend(others);
    let before = std::mem::replace(
        &mut paired.shares,
        Shares {
            everything: shares.everything,
            classes: chosen.into_iter().collect(),
        },
    );
    pairs::put(store, &paired)?;
    // Lesson streams of classes it no longer receives stop now.
    let unshared: Vec<ClassId> = classes::all(store)?
        .into_iter()
        .map(|class| class.id)
        .filter(|id| before.includes(id) && !paired.shares.includes(id))
        .collect();
    if !unshared.is_empty() {
        let relays = Revocation::PairedBox {
            box_id: box_id.clone(),
            classes: Some(unshared),
        };
        s.grants.revoke(&relays, Ended::Unshared);
    }
    tracing::info!(%box_id, everything = paired.shares.everything, classes = paired.shares.classes.len(), "what a paired box receives changed");
    Ok(paired)
}

/// A paired box as the teacher's page shows it.
#[derive(Debug, Serialize)]
pub struct PairedView {
    pub box_id: BoxId,
    pub name: String,
    pub address: String,
    pub fingerprint: String,
    pub paired_ms: u64,
    /// What this box sends it.
    pub shares: Shares,
    /// How far taking what it shares got.
    pub last_sync_ms: Option<u64>,
    pub last_error: Option<String>,
}

fn view(s: &Services, paired: PairedBox) -> Result<PairedView, ServiceError> {
    let progress = pairs::progress(s.store.as_ref(), &paired.box_id)?;
    Ok(PairedView {
        fingerprint: paired.fingerprint.grouped(),
        box_id: paired.box_id,
        name: paired.name,
        address: paired.address,
        paired_ms: paired.paired_ms,
        shares: paired.shares,
        last_sync_ms: progress.last_sync_ms,
        last_error: progress.last_error,
    })
}

#[derive(Debug, Serialize)]
pub struct BoxesOverview {
    pub box_id: BoxId,
    pub name: String,
    pub fingerprint: String,
    pub port: u16,
    pub paired: Vec<PairedView>,
}

/// This box and the boxes paired with it, for a teacher.
pub fn overview(s: &Services, who: &Who) -> Result<BoxesOverview, ServiceError> {
    if !can(who, Action::PairBoxes) {
        return Err(forbidden(who));
    }
    let paired = pairs::all(s.store.as_ref())?
        .into_iter()
        .map(|p| view(s, p))
        .collect::<Result<_, _>>()?;
    let boxes = &s.boxes;
    Ok(BoxesOverview {
        box_id: boxes.identity.box_id(),
        name: boxes.name.clone(),
        fingerprint: boxes.identity.fingerprint().grouped(),
        port: boxes.port(),
        paired,
    })
}

/// The class a message belongs to: a class-list pupil's private thread names it, every other
/// thread belongs to its lesson's class.
fn class_of_thread(store: &dyn Store, thread: &str, lesson_id: &LessonId) -> Option<ClassId> {
    match ThreadId::parse(thread)? {
        ThreadId::PrivateRostered { class_id, .. } => Some(class_id),
        _ => lesson::get(store, lesson_id).ok().map(|l| l.class_id),
    }
}

/// The TLS configuration for talking to `other`, its certificate pinned.
fn config_for(
    s: &Services,
    other: &PairedBox,
) -> Result<std::sync::Arc<rustls::ClientConfig>, FederationError> {
    s.boxes
        .trust
        .client_config(&s.boxes.identity, Some(other.fingerprint.clone()))
}
