//! What the documents keep about a pupil: their own document (kept across lessons), the copies
//! made for them (hand-outs, restored versions), and every saved version of those.
//!
//! Documents shared with others — the class document, a group's document, a group's copy —
//! are the class's work and stay when a pupil is deleted: nothing in them names who typed what
//! (the editor's cursors, which carry names, are never stored), so what the pupil wrote there
//! stays without their name, as text in a book a class wrote together would. docs/PRIVACY.md
//! says so to parents.

use super::access::{settings_key, settings_prefix};
use super::copies::{self, copy_key, CopyFor};
use super::name::DocName;
use super::room::Room;
use super::{history, persist, quota};
use crate::privacy::{
    remove_key, remove_prefix, remove_prefixes, Held, Keeper, LessonKeeper, LessonScope, Subject,
};
use crate::store::{Store, StoreError, Tree};

/// The pupil's own documents.
pub struct Documents;

/// A document of the pupil's: its name and the title it is shown with.
pub struct Owned {
    pub name: DocName,
    pub title: String,
    pub copy_key: Option<String>,
}

/// Every document that is the pupil's alone.
pub fn owned(store: &dyn Store, subject: &Subject) -> Result<Vec<Owned>, StoreError> {
    let mut owned = vec![Owned {
        name: DocName::PupilOwn {
            class_id: subject.class_id.clone(),
            pupil_id: subject.pupil_id.clone(),
        },
        title: subject.name.clone(),
        copy_key: None,
    }];
    let me = CopyFor::Participant(subject.participant.clone());
    for lesson_id in &subject.lessons {
        let copies = copies::of_lesson(store, lesson_id).map_err(store_error)?;
        for copy in copies.into_iter().filter(|c| c.for_whom == me) {
            owned.push(Owned {
                name: copy.doc_name(),
                title: copy.title.clone(),
                copy_key: Some(copy_key(lesson_id, &copy.id)),
            });
        }
    }
    Ok(owned)
}

fn store_error(e: super::DocError) -> StoreError {
    match e {
        super::DocError::Store(e) => e,
        other => StoreError::Io(other.to_string()),
    }
}

/// The stored parts of a document merged into one update; `None` if nothing is stored.
fn content(store: &dyn Store, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let parts = persist::load(store, name)?;
    if parts.is_empty() {
        return Ok(None);
    }
    let room = Room::load(parts.iter().map(Vec::as_slice)).map_err(store_error)?;
    Ok(Some(room.snapshot()))
}

impl Keeper for Documents {
    fn name(&self) -> &'static str {
        "documents"
    }

    fn trees(&self) -> &'static [Tree] {
        &[Tree::Docs]
    }

    fn holds(&self, store: &dyn Store, subject: &Subject) -> Result<Vec<Held>, StoreError> {
        let mut held = Vec::new();
        for doc in owned(store, subject)? {
            let name = doc.name.to_string();
            if let Some(content) = content(store, &name)? {
                held.push(Held::Document {
                    name: name.clone(),
                    title: doc.title.clone(),
                    at_ms: 0,
                    content,
                });
            }
            for version in history::list(store, &name).map_err(store_error)? {
                if let Some(content) =
                    history::content(store, &name, &version.id).map_err(store_error)?
                {
                    let title = match version.label.as_str() {
                        "" => doc.title.clone(),
                        label => format!("{} – {label}", doc.title),
                    };
                    held.push(Held::Document {
                        name: format!("{name}@{}", version.id),
                        title,
                        at_ms: version.at_ms,
                        content,
                    });
                }
            }
        }
        Ok(held)
    }

    fn forget(&self, store: &dyn Store, subject: &Subject) -> Result<usize, StoreError> {
        let mut gone = 0;
        for doc in owned(store, subject)? {
            let name = doc.name.to_string();
            gone += remove_key(store, Tree::Docs, &persist::snapshot_key(&name))?;
            gone += remove_prefix(store, Tree::Docs, &persist::log_prefix(&name))?;
            gone += remove_key(store, Tree::Docs, &settings_key(&doc.name))?;
            gone += remove_prefix(store, Tree::Docs, &history::record_prefix(&name))?;
            gone += remove_prefix(store, Tree::Docs, &history::content_prefix(&name))?;
            if let Some(key) = &doc.copy_key {
                gone += remove_key(store, Tree::Docs, key)?;
            }
        }
        // How much they added to documents (their share of the box's room).
        gone += remove_key(
            store,
            Tree::Docs,
            &quota::person_key_of_pupil(subject.pupil_id.as_str()),
        )?;
        Ok(gone)
    }
}

/// Every document of an expired lesson (class, notes, groups, guests', copies), their versions,
/// settings and hand-outs.
impl LessonKeeper for Documents {
    fn name(&self) -> &'static str {
        "documents"
    }

    fn forget_lesson(&self, store: &dyn Store, lesson: &LessonScope) -> Result<usize, StoreError> {
        let names = &lesson.doc_prefix;
        Ok(
            remove_prefixes(store, Tree::Docs, persist::name_prefixes(names))?
                + remove_prefixes(store, Tree::Docs, history::name_prefixes(names))?
                + remove_prefix(store, Tree::Docs, &settings_prefix(names))?
                + remove_prefixes(
                    store,
                    Tree::Docs,
                    copies::lesson_prefixes(&lesson.lesson_id),
                )?
                + remove_prefixes(
                    store,
                    Tree::Docs,
                    quota::lesson_key_prefixes(&lesson.lesson_id),
                )?,
        )
    }
}
