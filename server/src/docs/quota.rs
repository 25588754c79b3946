//! Room for documents. What pupils and guests add to the box's documents is counted — per
//! person, per device (client address), per lesson, and each person's share of a document
//! others write in too — and refused past each of those, or when the disk is below its
//! reserve. The teacher is never refused for room (only at the disk's floor, like every
//! write), and may write a quarter past a full document, so one a pupil filled can still be
//! fixed.
//!
//! Counts per person and per lesson are kept in the store (`q/…` in `Tree::Docs`, written by
//! the persistence worker with the updates they paid for), so a restart gives nobody a fresh
//! share. Counts per address and per document live in memory only: an address is no record
//! about a pupil, and a document's total is bounded by `max_doc_bytes` anyway.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::ids::{LessonId, ParticipantId};
use crate::store::{Store, StoreError, Tree};

/// How much room documents may take.
#[derive(Debug, Clone, Copy)]
pub struct DocLimits {
    /// Largest document a pupil's or guest's write may make it.
    pub max_doc_bytes: usize,
    /// What one pupil or guest may add to documents in all.
    pub per_person: u64,
    /// What one device (client address) may add, whoever signs in on it.
    pub per_address: u64,
    /// What the pupils and guests of one lesson may add together, its versions included.
    pub per_lesson: u64,
    /// One person's share of a document others write in too (class and group documents).
    pub share_of_shared: u64,
}

impl DocLimits {
    /// The largest a document may grow by `payer`'s write.
    pub fn cap_for(&self, payer: &Payer) -> usize {
        match payer {
            Payer::Teacher => self.max_doc_bytes.saturating_add(self.max_doc_bytes / 4),
            Payer::Learner(_) => self.max_doc_bytes,
        }
    }
}

/// Who pays for what a connection adds.
#[derive(Debug, Clone)]
pub enum Payer {
    /// A teacher (and a paired box passing on what its own pupils paid for there).
    Teacher,
    Learner(Learner),
}

/// A pupil or guest in a lesson, on one device.
#[derive(Debug, Clone)]
pub struct Learner {
    pub lesson_id: LessonId,
    pub participant_id: ParticipantId,
    pub address: Option<IpAddr>,
}

impl Learner {
    /// The store key of this person's count: a pupil on the class list keeps one count across
    /// lessons; a guest is someone only within their lesson.
    fn person_key(&self) -> String {
        match self.participant_id.pupil_id() {
            Some(pupil_id) => person_key_of_pupil(pupil_id.as_str()),
            None => format!(
                "{PREFIX}g/{}/{}",
                self.lesson_id,
                self.participant_id.as_str()
            ),
        }
    }
}

/// Which share a write would go past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The person's own, over all documents.
    Person,
    /// Their device's.
    Device,
    /// Their lesson's.
    Lesson,
    /// Their share of this shared document.
    Share,
    /// The disk's reserve.
    Disk,
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scope::Person => "your share of the box",
            Scope::Device => "this device's share of the box",
            Scope::Lesson => "the lesson's share of the box",
            Scope::Share => "your share of this document",
            Scope::Disk => "the box's free disk",
        })
    }
}

const PREFIX: &str = "q/";

/// The count of a pupil on the class list (deleted with them).
pub fn person_key_of_pupil(pupil_id: &str) -> String {
    format!("{PREFIX}p/{pupil_id}")
}

/// The counts of a lesson and of its guests (deleted when the lesson expires).
pub fn lesson_key_prefixes(lesson_id: &LessonId) -> [String; 2] {
    [lesson_key(lesson_id), format!("{PREFIX}g/{lesson_id}/")]
}

fn lesson_key(lesson_id: &LessonId) -> String {
    format!("{PREFIX}l/{lesson_id}")
}

/// A count to keep in the store: its key and its new total.
pub type Count = (String, u64);

/// Who wrote how much into one shared document (since the box started).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    pub lesson_id: LessonId,
    pub participant_id: ParticipantId,
    pub bytes: u64,
}

#[derive(Default)]
struct Counts {
    /// Persisted counts by store key (persons and lessons).
    kept: HashMap<String, u64>,
    addresses: HashMap<IpAddr, u64>,
    /// Document name → (lesson, participant) → bytes.
    shares: HashMap<String, HashMap<(LessonId, ParticipantId), u64>>,
}

#[derive(Default)]
pub struct Ledger {
    counts: Mutex<Counts>,
}

impl Ledger {
    /// The counts kept in the store.
    pub fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let mut kept = HashMap::new();
        for (key, value) in store.scan_prefix(Tree::Docs, PREFIX.as_bytes())? {
            let (Ok(key), Ok(total)) = (String::from_utf8(key), <[u8; 8]>::try_from(value)) else {
                continue;
            };
            kept.insert(key, u64::from_be_bytes(total));
        }
        Ok(Self {
            counts: Mutex::new(Counts {
                kept,
                ..Counts::default()
            }),
        })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits `bytes` more from `learner` into document `doc` (`shared`: others write in it
    /// too), charging every count at once; or names the share it would go past, charging
    /// nothing. Returns the counts to keep in the store.
    pub fn admit(
        &self,
        limits: &DocLimits,
        learner: &Learner,
        doc: &str,
        shared: bool,
        bytes: u64,
    ) -> Result<Vec<Count>, Scope> {
        let mut counts = self.counts();
        let person = learner.person_key();
        let lesson = lesson_key(&learner.lesson_id);
        let over = |now: Option<&u64>, limit: u64| now.copied().unwrap_or(0) + bytes > limit;
        if over(counts.kept.get(&person), limits.per_person) {
            return Err(Scope::Person);
        }
        if let Some(address) = learner.address {
            if over(counts.addresses.get(&address), limits.per_address) {
                return Err(Scope::Device);
            }
        }
        if over(counts.kept.get(&lesson), limits.per_lesson) {
            return Err(Scope::Lesson);
        }
        let who = (learner.lesson_id.clone(), learner.participant_id.clone());
        if shared
            && over(
                counts.shares.get(doc).and_then(|s| s.get(&who)),
                limits.share_of_shared,
            )
        {
            return Err(Scope::Share);
        }
        if let Some(address) = learner.address {
            *counts.addresses.entry(address).or_default() += bytes;
        }
        if shared {
            *counts
                .shares
                .entry(doc.to_string())
                .or_default()
                .entry(who)
                .or_default() += bytes;
        }
        let mut kept = Vec::with_capacity(2);
        for key in [person, lesson] {
            let total = counts.kept.entry(key.clone()).or_default();
            *total += bytes;
            kept.push((key, *total));
        }
        Ok(kept)
    }

    /// Charges a lesson for `bytes` of versions kept at its end, if its share has room.
    pub fn admit_versions(
        &self,
        limits: &DocLimits,
        lesson_id: &LessonId,
        bytes: u64,
    ) -> Option<Count> {
        let mut counts = self.counts();
        let key = lesson_key(lesson_id);
        let total = counts.kept.entry(key.clone()).or_default();
        if *total + bytes > limits.per_lesson {
            return None;
        }
        *total += bytes;
        Some((key, *total))
    }

    /// Who wrote most into `doc`, most first.
    pub fn writers(&self, doc: &str) -> Vec<Writer> {
        let counts = self.counts();
        let mut writers: Vec<Writer> = counts
            .shares
            .get(doc)
            .into_iter()
            .flatten()
            .map(|((lesson_id, participant_id), bytes)| Writer {
                lesson_id: lesson_id.clone(),
                participant_id: participant_id.clone(),
                bytes: *bytes,
            })
            .collect();
        writers.sort_by_key(|w| std::cmp::Reverse(w.bytes));
        writers
    }

    /// Drops the in-memory shares of documents `covers` says are gone.
    pub fn forget_docs(&self, covers: impl Fn(&str) -> bool) {
        self.counts().shares.retain(|doc, _| !covers(doc));
    }

    /// Drops kept counts whose key starts with `prefix` (the store's copy is removed by the
    /// documents' keeper).
    pub fn forget_kept(&self, prefix: &str) {
        self.counts().kept.retain(|key, _| !key.starts_with(prefix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn limits() -> DocLimits {
        DocLimits {
            max_doc_bytes: 1000,
            per_person: 100,
            per_address: 150,
            per_lesson: 250,
            share_of_shared: 40,
        }
    }

    fn learner(lesson: &LessonId, address: u8) -> Learner {
        Learner {
            lesson_id: lesson.clone(),
            participant_id: ParticipantId::new_guest(),
            address: Some(IpAddr::from([10, 0, 0, address])),
        }
    }

    #[test]
    fn each_share_stops_its_writer_and_charges_nothing_when_it_refuses() {
        let ledger = Ledger::default();
        let lesson = LessonId::random();
        let (per, siv) = (learner(&lesson, 1), learner(&lesson, 1));
        let limits = limits();
        // A shared document: 40 each.
        assert!(ledger.admit(&limits, &per, "d", true, 40).is_ok());
        assert_eq!(ledger.admit(&limits, &per, "d", true, 1), Err(Scope::Share));
        // Their own document: up to the person's 100.
        assert!(ledger.admit(&limits, &per, "own", false, 60).is_ok());
        assert_eq!(
            ledger.admit(&limits, &per, "own", false, 1),
            Err(Scope::Person)
        );
        // Siv on the same device: the device has 50 left.
        assert_eq!(
            ledger.admit(&limits, &siv, "own2", false, 51),
            Err(Scope::Device)
        );
        assert!(ledger.admit(&limits, &siv, "own2", false, 50).is_ok());
        // Another device in the lesson: the lesson has 100 left of 250.
        let ola = learner(&lesson, 2);
        assert!(ledger.admit(&limits, &ola, "own3", false, 100).is_ok());
        let kari = learner(&lesson, 3);
        assert_eq!(
            ledger.admit(&limits, &kari, "own4", false, 1),
            Err(Scope::Lesson)
        );
        assert!(ledger.admit_versions(&limits, &lesson, 1).is_none());
        assert_eq!(ledger.writers("d")[0].bytes, 40);
    }

    #[test]
    fn kept_counts_come_back_from_the_store() {
        let store = MemoryStore::new();
        let ledger = Ledger::default();
        let lesson = LessonId::random();
        let per = learner(&lesson, 1);
        for (key, total) in ledger.admit(&limits(), &per, "own", false, 90).unwrap() {
            store
                .put(Tree::Docs, key.as_bytes(), &total.to_be_bytes())
                .unwrap();
        }
        let again = Ledger::load(&store).unwrap();
        assert_eq!(
            again.admit(&limits(), &per, "own", false, 11),
            Err(Scope::Person)
        );
        again.forget_kept(&lesson_key_prefixes(&lesson)[1]);
        assert!(again.admit(&limits(), &per, "own", false, 11).is_ok());
    }
}
