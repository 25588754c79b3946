//! Named versions of a document: the teacher saves one ("before group work"), and one is
//! saved by itself when a lesson ends. A version is never edited; restoring makes a copy.
//!
//! Keys in `Tree::Docs`:
//! - `v/<doc>/<version>` — the version's record (JSON); version ids sort by time
//! - `vs/<doc>/<version>` — its content (one Yjs update of the whole document)

use serde::{Deserialize, Serialize};

use super::hub::DocHub;
use super::{listing, DocError};
use crate::ids::random_record_id;
use crate::lessons::lesson::{self, Lesson};
use crate::store::{Store, StoreExt, Tree};

/// A document with nothing in it encodes as this many bytes; such documents get no version.
const EMPTY_DOC_BYTES: usize = 2;

/// Longest version label and copy title, in characters.
pub const LABEL_MAX: usize = 80;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Version {
    pub id: String,
    /// The teacher's name for it; empty for automatic versions.
    pub label: String,
    /// Saved by itself at the end of a lesson.
    pub auto: bool,
    pub at_ms: u64,
}

fn record_key(doc: &str, id: &str) -> String {
    format!("{}{id}", record_prefix(doc))
}

fn content_key(doc: &str, id: &str) -> String {
    format!("{}{id}", content_prefix(doc))
}

/// Key prefixes of the versions of every document whose name starts with `name_prefix`.
pub fn name_prefixes(name_prefix: &str) -> [String; 2] {
    [format!("v/{name_prefix}"), format!("vs/{name_prefix}")]
}

/// Every version record of `doc` starts with this.
pub fn record_prefix(doc: &str) -> String {
    format!("v/{doc}/")
}

/// Every version's content of `doc` starts with this.
pub fn content_prefix(doc: &str) -> String {
    format!("vs/{doc}/")
}

/// Saves `content` as a version of `doc`. `None` when there is nothing to keep: the document
/// is empty, or (for automatic versions) unchanged since its last version.
pub fn save(
    store: &dyn Store,
    doc: &str,
    label: &str,
    auto: bool,
    content: &[u8],
    now_ms: u64,
) -> Result<Option<Version>, DocError> {
    if content.len() <= EMPTY_DOC_BYTES || (auto && unchanged(store, doc, content)?) {
        return Ok(None);
    }
    // Time first, so keys sort in the order versions were saved.
    let version = Version {
        id: format!("{now_ms:013x}-{}", &random_record_id()[..6]),
        label: label.to_string(),
        auto,
        at_ms: now_ms,
    };
    store.put(
        Tree::Docs,
        content_key(doc, &version.id).as_bytes(),
        content,
    )?;
    store.put_json(Tree::Docs, &record_key(doc, &version.id), &version)?;
    Ok(Some(version))
}

/// Whether `content` is what `doc`'s last version holds.
fn unchanged(store: &dyn Store, doc: &str, content: &[u8]) -> Result<bool, DocError> {
    Ok(match list(store, doc)?.last() {
        Some(last) => self::content(store, doc, &last.id)?.as_deref() == Some(content),
        None => false,
    })
}

/// The document's versions, oldest first.
pub fn list(store: &dyn Store, doc: &str) -> Result<Vec<Version>, DocError> {
    Ok(store.scan_json(Tree::Docs, &record_prefix(doc))?)
}

pub fn content(store: &dyn Store, doc: &str, id: &str) -> Result<Option<Vec<u8>>, DocError> {
    Ok(store.get(Tree::Docs, content_key(doc, id).as_bytes())?)
}

/// The end of a lesson, whether the teacher ended it or its time ran out: every document of
/// the lesson is kept as a version (those empty or unchanged since their last version
/// excepted), once. Returns how many versions were saved.
pub fn wrap_up_lesson(
    store: &dyn Store,
    docs: &DocHub,
    ended: &Lesson,
    now_ms: u64,
) -> Result<usize, DocError> {
    let mut saved = 0;
    for doc in listing::lesson_docs(store, ended)? {
        let name = doc.name.to_string();
        let content = docs.snapshot_of(&name)?;
        if content.len() <= EMPTY_DOC_BYTES || unchanged(store, &name, &content)? {
            continue;
        }
        // Versions count against the lesson's room; past it (or below the disk's reserve) the
        // document itself is kept, only not once more as a version.
        if !docs.room_for_version(&ended.id, content.len() as u64) {
            tracing::warn!(lesson_id = %ended.id, "no room for a lesson-end version");
            continue;
        }
        if save(store, &name, "", true, &content, now_ms)?.is_some() {
            saved += 1;
        }
    }
    lesson::mark_wrapped_up(store, ended)?;
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn versions_list_in_order_and_automatic_ones_skip_repeats() {
        let store = MemoryStore::default();
        let doc = "lesson.a.class";
        assert!(save(&store, doc, "", true, &[0, 0], 1).unwrap().is_none());
        let first = save(&store, doc, "før", false, b"abc", 5).unwrap().unwrap();
        assert!(save(&store, doc, "", true, b"abc", 6).unwrap().is_none());
        let second = save(&store, doc, "", true, b"abcd", 7).unwrap().unwrap();
        let ids: Vec<String> = list(&store, doc)
            .unwrap()
            .into_iter()
            .map(|v| v.id)
            .collect();
        assert_eq!(ids, [first.id.clone(), second.id]);
        assert_eq!(content(&store, doc, &first.id).unwrap().unwrap(), b"abc");
        assert!(list(&store, "lesson.a.classic").unwrap().is_empty());
    }
}
