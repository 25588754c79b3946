//! The paired boxes this box keeps: who they are, where they are, what each receives, and how
//! far each sync got. Kept in the store's `boxes` tree:
//!
//! ```text
//! pair/<box id>     → PairedBox (fixed at pairing, its shares changed by a teacher)
//! synced/<box id>   → Progress (written by the sync worker only)
//! came/<class id>   → the box id a class was first taken from
//! ```

use serde::{Deserialize, Serialize};

use super::identity::Fingerprint;
use super::FederationError;
use crate::ids::{BoxId, ClassId, TeacherId};
use crate::store::{Store, StoreExt, Tree};

/// A box paired with this one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PairedBox {
    pub box_id: BoxId,
    pub fingerprint: Fingerprint,
    /// The name it gave itself (its host name).
    pub name: String,
    /// Where its sync listener is: `host:port`.
    pub address: String,
    /// The teacher on this box who paired it; classes that arrive from it are hers here.
    pub teacher_id: TeacherId,
    pub paired_ms: u64,
    /// What this box sends it.
    pub shares: Shares,
}

/// What a paired box receives from this one: chosen classes, or everything (a school's backup
/// box).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Shares {
    pub everything: bool,
    pub classes: Vec<ClassId>,
}

impl Shares {
    pub fn includes(&self, class_id: &ClassId) -> bool {
        self.everything || self.classes.contains(class_id)
    }
}

/// How far this box got in taking what a paired box shares.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Progress {
    /// The other box's message number up to which everything was taken.
    pub messages_after: u64,
    /// When the last sync with it finished without error.
    pub last_sync_ms: Option<u64>,
    /// Why the last try failed (shown to the teacher; no content, only the kind of failure).
    pub last_error: Option<String>,
    /// The classes it shared when `messages_after` was reached: a class shared since then
    /// has older messages, so the cursor starts again (messages already taken are known by
    /// their origin and not taken twice).
    #[serde(default)]
    pub classes_seen: Vec<ClassId>,
}

fn pair_key(box_id: &BoxId) -> String {
    format!("pair/{box_id}")
}

fn progress_key(box_id: &BoxId) -> String {
    format!("synced/{box_id}")
}

pub fn all(store: &dyn Store) -> Result<Vec<PairedBox>, FederationError> {
    let mut boxes = store
        .scan_prefix(Tree::Boxes, b"pair/")?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_slice::<PairedBox>(&v).ok())
        .collect::<Vec<_>>();
    boxes.sort_by_key(|b| b.paired_ms);
    Ok(boxes)
}

pub fn get(store: &dyn Store, box_id: &BoxId) -> Result<Option<PairedBox>, FederationError> {
    Ok(store.get_json(Tree::Boxes, &pair_key(box_id))?)
}

pub fn put(store: &dyn Store, paired: &PairedBox) -> Result<(), FederationError> {
    store.put_json(Tree::Boxes, &pair_key(&paired.box_id), paired)?;
    store.flush()?;
    Ok(())
}

/// Forgets a paired box and how far its sync got.
pub fn remove(store: &dyn Store, box_id: &BoxId) -> Result<bool, FederationError> {
    let had = store
        .take(Tree::Boxes, pair_key(box_id).as_bytes())?
        .is_some();
    store.take(Tree::Boxes, progress_key(box_id).as_bytes())?;
    store.flush()?;
    Ok(had)
}

pub fn progress(store: &dyn Store, box_id: &BoxId) -> Result<Progress, FederationError> {
    Ok(store
        .get_json(Tree::Boxes, &progress_key(box_id))?
        .unwrap_or_default())
}

pub fn save_progress(
    store: &dyn Store,
    box_id: &BoxId,
    progress: &Progress,
) -> Result<(), FederationError> {
    store.put_json(Tree::Boxes, &progress_key(box_id), progress)?;
    Ok(())
}

fn came_key(class_id: &ClassId) -> String {
    format!("came/{class_id}")
}

/// Notes that a class was first taken from `box_id` (its deletion there deletes it here).
pub fn mark_arrived(
    store: &dyn Store,
    class_id: &ClassId,
    box_id: &BoxId,
) -> Result<(), FederationError> {
    store.put_json(Tree::Boxes, &came_key(class_id), box_id)?;
    Ok(())
}

/// The box a class was taken from, if it came from one.
pub fn arrived_from(
    store: &dyn Store,
    class_id: &ClassId,
) -> Result<Option<BoxId>, FederationError> {
    Ok(store.get_json(Tree::Boxes, &came_key(class_id))?)
}

/// The paired box a class was taken from, while it is still paired.
pub fn origin_of(
    store: &dyn Store,
    class_id: &ClassId,
) -> Result<Option<PairedBox>, FederationError> {
    match arrived_from(store, class_id)? {
        Some(box_id) => get(store, &box_id),
        None => Ok(None),
    }
}

/// A class is gone: no paired box receives it any more, and where it came from is forgotten.
pub fn unshare_class(store: &dyn Store, class_id: &ClassId) -> Result<(), FederationError> {
    store.take(Tree::Boxes, came_key(class_id).as_bytes())?;
    for mut paired in all(store)? {
        if paired.shares.classes.contains(class_id) {
            paired.shares.classes.retain(|c| c != class_id);
            put(store, &paired)?;
        }
    }
    Ok(())
}
