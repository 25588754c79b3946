//! Personal data: what each subsystem keeps about a pupil, and how it forgets it.
//!
//! Every subsystem that stores something about a person answers two questions through a
//! [`Keeper`]: "what do you hold about this pupil" ([`Keeper::holds`], for the export a pupil
//! or their parents may ask for, GDPR art. 15 and 20) and "forget this pupil"
//! ([`Keeper::forget`], art. 17). The service layer asks every keeper (see
//! `service::privacy`); which keeper answers for which store tree is one exhaustive `match`
//! there, so a new tree cannot be added without naming its keeper.
//!
//! This module knows only the store: the subsystems implement the trait next to the data they
//! own (`lessons::privacy`, `docs::privacy`, `channels::privacy`, `uploads`, `auth::sessions`).

use serde::Serialize;

use crate::ids::{ClassId, LessonId, ParticipantId, PupilId};
use crate::store::{Store, StoreError, Tree};
use sha2::{Digest, Sha256};

/// The pupil whose data is asked for or forgotten: a pupil on a class list.
#[derive(Debug, Clone)]
pub struct Subject {
    pub class_id: ClassId,
    pub pupil_id: PupilId,
    /// `p-<pupil>`: the pupil in every lesson of the class.
    pub participant: ParticipantId,
    pub name: String,
    /// Every lesson the class has had (records of a rostered pupil are kept per lesson).
    pub lessons: Vec<LessonId>,
    /// The names of the documents that are the pupil's alone (their own, copies for them).
    pub own_documents: Vec<String>,
    /// The name of the pupil's private thread with the teacher.
    pub private_thread: String,
}

impl Subject {
    /// The pupil with what the subsystems call their things; `own_documents` is filled in by
    /// the documents (see `docs::privacy::owned`).
    pub fn new(
        class_id: &ClassId,
        pupil_id: &PupilId,
        name: &str,
        lessons: Vec<LessonId>,
        private_thread: String,
    ) -> Self {
        Self {
            class_id: class_id.clone(),
            pupil_id: pupil_id.clone(),
            participant: ParticipantId::rostered(pupil_id),
            name: name.to_string(),
            lessons,
            own_documents: Vec::new(),
            private_thread,
        }
    }

    /// The key of the pupil's tombstone: a hash, so the record that a pupil was deleted does not
    /// itself name them (paired boxes compute the same hash for their copies).
    pub fn tombstone_key(&self) -> String {
        pupil_tombstone_key(&self.class_id, &self.pupil_id)
    }
}

/// The key of a deleted pupil's tombstone (see [`Subject::tombstone_key`]).
pub fn pupil_tombstone_key(class_id: &ClassId, pupil_id: &PupilId) -> String {
    format!(
        "forgotten/{}",
        hex::encode(Sha256::digest(format!("{class_id}/{pupil_id}")))
    )
}

/// The key of a deleted class's tombstone: a hash of its id, like a pupil's.
pub fn class_tombstone_key(class_id: &str) -> String {
    format!(
        "forgotten/{}",
        hex::encode(Sha256::digest(format!("class/{class_id}")))
    )
}

/// Headings of the export, in the order the readable page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The class-list entry.
    Pupil,
    /// Lessons the pupil took part in.
    Lessons,
    Groups,
    Documents,
    Messages,
    Hands,
    Files,
    /// Sign-ins: when they were made and when they end (never the token).
    SignIns,
    /// Access to the box over the school's VPN from home.
    Vpn,
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::Pupil,
        Category::Lessons,
        Category::Groups,
        Category::Documents,
        Category::Messages,
        Category::Hands,
        Category::Files,
        Category::SignIns,
        Category::Vpn,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Category::Pupil => "pupil",
            Category::Lessons => "lessons",
            Category::Groups => "groups",
            Category::Documents => "documents",
            Category::Messages => "messages",
            Category::Hands => "hands",
            Category::Files => "files",
            Category::SignIns => "sign_ins",
            Category::Vpn => "vpn",
        }
    }
}

/// One thing a keeper holds about the subject.
#[derive(Debug, Clone)]
pub enum Held {
    /// A record, shown as its JSON fields.
    Record {
        category: Category,
        value: serde_json::Value,
    },
    /// A document (or a saved version of one) the pupil owns; `content` is a Yjs update.
    Document {
        name: String,
        title: String,
        at_ms: u64,
        content: Vec<u8>,
    },
    /// A file the pupil sent, or that was sent to them privately.
    File {
        id: String,
        name: String,
        content_type: String,
        at_ms: u64,
        bytes: Vec<u8>,
    },
}

impl Held {
    pub fn category(&self) -> Category {
        match self {
            Held::Record { category, .. } => *category,
            Held::Document { .. } => Category::Documents,
            Held::File { .. } => Category::Files,
        }
    }
}

/// A subsystem that stores something about pupils.
pub trait Keeper: Sync {
    /// A short name for logs and the deletion receipt ("documents", "messages" …).
    fn name(&self) -> &'static str;
    /// The store trees it keeps its records in.
    fn trees(&self) -> &'static [Tree];
    /// Everything it holds about the subject.
    fn holds(&self, store: &dyn Store, subject: &Subject) -> Result<Vec<Held>, StoreError>;
    /// Removes everything it holds about the subject; returns how many records went (or were
    /// changed to leave the subject out).
    fn forget(&self, store: &dyn Store, subject: &Subject) -> Result<usize, StoreError>;
}

/// A subsystem that keeps things per lesson: when a lesson expires (its retention time ran
/// out), each forgets what it kept for it.
pub trait LessonKeeper: Sync {
    fn name(&self) -> &'static str;
    /// Removes everything kept for the lesson; returns how many records went.
    fn forget_lesson(&self, store: &dyn Store, lesson: &LessonScope) -> Result<usize, StoreError>;
}

/// A lesson to forget, with what its documents' names start with.
pub struct LessonScope {
    pub lesson_id: LessonId,
    /// `lesson.<id>.`: every document of the lesson is named so.
    pub doc_prefix: String,
    /// Threads that outlive lessons (class-list pupils' private threads) start so; what was
    /// sent in them stays with them.
    pub lasting_thread_prefix: String,
}

/// Removes every key under each of `prefixes`; returns how many.
pub fn remove_prefixes<const N: usize>(
    store: &dyn Store,
    tree: Tree,
    prefixes: [String; N],
) -> Result<usize, StoreError> {
    let mut gone = 0;
    for prefix in prefixes {
        gone += remove_prefix(store, tree, &prefix)?;
    }
    Ok(gone)
}

/// Removes every key under `prefix` in `tree`; returns how many.
pub fn remove_prefix(store: &dyn Store, tree: Tree, prefix: &str) -> Result<usize, StoreError> {
    let keys = store.scan_prefix(tree, prefix.as_bytes())?;
    for (key, _) in &keys {
        store.take(tree, key)?;
    }
    Ok(keys.len())
}

/// Removes one key; returns 1 if it was there.
pub fn remove_key(store: &dyn Store, tree: Tree, key: &str) -> Result<usize, StoreError> {
    Ok(usize::from(store.take(tree, key.as_bytes())?.is_some()))
}

/// A store tree that holds nothing about pupils (teachers' accounts, setup links); it is named
/// so that every tree has answered the two questions.
pub struct NothingAboutPupils {
    pub name: &'static str,
    pub trees: &'static [Tree],
}

impl Keeper for NothingAboutPupils {
    fn name(&self) -> &'static str {
        self.name
    }

    fn trees(&self) -> &'static [Tree] {
        self.trees
    }

    fn holds(&self, _: &dyn Store, _: &Subject) -> Result<Vec<Held>, StoreError> {
        Ok(Vec::new())
    }

    fn forget(&self, _: &dyn Store, _: &Subject) -> Result<usize, StoreError> {
        Ok(0)
    }
}
