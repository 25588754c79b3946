//! Copies: documents made from another one's content, for someone. The teacher hands a
//! template out (a copy for each pupil or each group of the lesson), or restores an earlier
//! version of a document as a new document beside it. A copy belongs to a lesson; its content
//! starts as the source's and is edited on its own from then on.
//!
//! Keys in `Tree::Docs`:
//! - `c/<lesson>/<copy>` — the copy's record (JSON)
//! - `h/<lesson>/<handout>` — a hand-out (JSON), so pupils who join later get their copy too
//! - `hs/<lesson>/<handout>` — the content handed out (one Yjs update)

use serde::{Deserialize, Serialize};

use super::name::DocName;
use super::persist;
use super::DocError;
use crate::ids::{random_record_id, GroupId, LessonId, ParticipantId};
use crate::store::{Store, StoreExt, Tree};

/// Who a copy is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum CopyFor {
    /// Every pupil of the lesson.
    Lesson,
    /// The teacher alone.
    Teacher,
    /// One pupil (a participant id).
    Participant(ParticipantId),
    /// One group of the lesson (a group id).
    Group(GroupId),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Copy {
    pub id: String,
    pub lesson_id: LessonId,
    /// The teacher's title ("Task 1", "Class text before the break").
    pub title: String,
    pub for_whom: CopyFor,
    /// The hand-out this copy came from, if any.
    pub handout: Option<String>,
    /// The document whose content it started from (its images stay readable in the copy).
    #[serde(default)]
    pub source: Option<String>,
    pub created_ms: u64,
}

impl Copy {
    pub fn doc_name(&self) -> DocName {
        DocName::Copy {
            lesson_id: self.lesson_id.clone(),
            copy_id: self.id.clone(),
        }
    }
}

/// To whom a template is handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandTo {
    /// One copy for each pupil, also those who join later.
    Pupils,
    /// One copy for each group of the current arrangement.
    Groups,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Handout {
    pub id: String,
    pub title: String,
    pub to: HandTo,
    /// The document handed out.
    pub source: String,
}

pub(super) fn copy_key(lesson_id: &str, copy_id: &str) -> String {
    format!("c/{lesson_id}/{copy_id}")
}

fn handout_key(lesson_id: &str, handout_id: &str) -> String {
    format!("h/{lesson_id}/{handout_id}")
}

fn handout_content_key(lesson_id: &str, handout_id: &str) -> String {
    format!("hs/{lesson_id}/{handout_id}")
}

/// Key prefixes of a lesson's copies and hand-outs.
pub(super) fn lesson_prefixes(lesson_id: &LessonId) -> [String; 3] {
    [
        format!("c/{lesson_id}/"),
        format!("h/{lesson_id}/"),
        format!("hs/{lesson_id}/"),
    ]
}

pub fn get(
    store: &dyn Store,
    lesson_id: &LessonId,
    copy_id: &str,
) -> Result<Option<Copy>, DocError> {
    Ok(store.get_json(Tree::Docs, &copy_key(lesson_id, copy_id))?)
}

/// The lesson's copies, oldest first; a hand-out's in the order of its recipients.
pub fn of_lesson(store: &dyn Store, lesson_id: &LessonId) -> Result<Vec<Copy>, DocError> {
    let mut copies: Vec<Copy> = store.scan_json(Tree::Docs, &format!("c/{lesson_id}/"))?;
    copies.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    Ok(copies)
}

/// Stores `copy` as a new document with `content` (a Yjs update of a whole document).
/// Nobody has the new name yet, so its content goes straight into the store.
pub fn create(store: &dyn Store, copy: Copy, content: &[u8]) -> Result<Copy, DocError> {
    let name = copy.doc_name().to_string();
    store.put(Tree::Docs, persist::snapshot_key(&name).as_bytes(), content)?;
    store.put_json(Tree::Docs, &copy_key(&copy.lesson_id, &copy.id), &copy)?;
    Ok(copy)
}

/// Hands `content` out to everyone in `recipients` (pupils or groups, as `handout.to` says)
/// and remembers it for pupils who join later.
pub fn hand_out(
    store: &dyn Store,
    lesson_id: &LessonId,
    handout: Handout,
    recipients: &[CopyFor],
    content: &[u8],
    now_ms: u64,
) -> Result<Vec<Copy>, DocError> {
    store.put(
        Tree::Docs,
        handout_content_key(lesson_id, &handout.id).as_bytes(),
        content,
    )?;
    store.put_json(Tree::Docs, &handout_key(lesson_id, &handout.id), &handout)?;
    recipients
        .iter()
        .map(|for_whom| {
            let copy = Copy {
                // Random, like every id a client sees: one copy's id tells nothing of another's.
                id: random_record_id(),
                lesson_id: lesson_id.clone(),
                title: handout.title.clone(),
                for_whom: for_whom.clone(),
                handout: Some(handout.id.clone()),
                source: Some(handout.source.clone()),
                created_ms: now_ms,
            };
            create(store, copy, content)
        })
        .collect()
}

/// A pupil who joined after templates were handed out to every pupil gets their copies.
pub fn catch_up_newcomer(
    store: &dyn Store,
    lesson_id: &LessonId,
    participant_id: &ParticipantId,
    now_ms: u64,
) -> Result<(), DocError> {
    let handouts: Vec<Handout> = store.scan_json(Tree::Docs, &format!("h/{lesson_id}/"))?;
    let copies = of_lesson(store, lesson_id)?;
    let mine = CopyFor::Participant(participant_id.clone());
    for handout in handouts.into_iter().filter(|h| h.to == HandTo::Pupils) {
        let has_it = copies
            .iter()
            .any(|c| c.handout.as_deref() == Some(handout.id.as_str()) && c.for_whom == mine);
        if has_it {
            continue;
        }
        let Some(content) = store.get(
            Tree::Docs,
            handout_content_key(lesson_id, &handout.id).as_bytes(),
        )?
        else {
            continue;
        };
        let copy = Copy {
            id: random_record_id(),
            lesson_id: lesson_id.clone(),
            title: handout.title.clone(),
            for_whom: mine.clone(),
            handout: Some(handout.id.clone()),
            source: Some(handout.source.clone()),
            created_ms: now_ms,
        };
        create(store, copy, &content)?;
    }
    Ok(())
}
