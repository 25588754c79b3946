//! A document's history for its teacher: the saved versions, saving one, and restoring one as
//! a new document (a copy) beside the current one, which stays as it is.

use super::docs::DocEntry;
use super::{access, Services};
use crate::auth::Who;
use crate::docs::access::{OwnedAudience, Resolved};
use crate::docs::copies::{self, Copy, CopyFor};
use crate::docs::history::{self, Version, LABEL_MAX};
use crate::error::ServiceError;
use crate::ids::random_record_id;
use crate::lessons::presence::LessonEvent;
use crate::validate::{self, invalid};

/// The document's saved versions, oldest first.
pub fn versions(s: &Services, who: &Who, doc: &str) -> Result<Vec<Version>, ServiceError> {
    let resolved = access::managed_doc(s, who, doc)?;
    Ok(history::list(s.store.as_ref(), &resolved.name.to_string())?)
}

/// The teacher saves the document as it is now, under `label`.
pub fn save(s: &Services, who: &Who, doc: &str, label: &str) -> Result<Version, ServiceError> {
    let resolved = access::managed_doc(s, who, doc)?;
    let label = validate::name("label", label, LABEL_MAX)?;
    let name = resolved.name.to_string();
    let content = s.docs.snapshot_of(&name)?;
    let version = history::save(
        s.store.as_ref(),
        &name,
        &label,
        false,
        &content,
        s.clock.now_ms(),
    )?
    .ok_or(ServiceError::Invalid(invalid("doc", "is empty")))?;
    s.store.flush()?;
    tracing::info!(doc = %name, "version saved");
    Ok(version)
}

/// A version becomes a new document for the same people as the original, titled `title`;
/// pupils who may open it hear of it. Returns the new document as the caller sees it.
pub fn restore_as_copy(
    s: &Services,
    who: &Who,
    doc: &str,
    version_id: &str,
    title: &str,
) -> Result<DocEntry, ServiceError> {
    let resolved = access::managed_doc(s, who, doc)?;
    let title = validate::name("title", title, LABEL_MAX)?;
    let name = resolved.name.to_string();
    let store = s.store.as_ref();
    let content = history::content(store, &name, version_id)?.ok_or(ServiceError::NotFound)?;
    let lesson_id = access::lesson_of(s, &resolved)?.ok_or(ServiceError::NoActiveLesson)?;
    let copy = Copy {
        id: random_record_id(),
        lesson_id: lesson_id.clone(),
        title,
        for_whom: same_people(&resolved),
        handout: None,
        source: Some(name.clone()),
        created_ms: s.clock.now_ms(),
    };
    let copy = copies::create(store, copy, &content)?;
    store.flush()?;
    tracing::info!(doc = %name, copy = %copy.id, "version restored as a copy");
    let copy_name = copy.doc_name().to_string();
    s.presence.publish(
        &lesson_id,
        LessonEvent::DocsAdded {
            docs: vec![copy_name.clone()],
        },
    );
    super::docs::one(s, who, &copy_name)
}

/// Who a restored copy is for: whoever the original is for.
fn same_people(resolved: &Resolved) -> CopyFor {
    match &resolved.audience {
        OwnedAudience::Lesson(_) => CopyFor::Lesson,
        OwnedAudience::TeacherOnly => CopyFor::Teacher,
        OwnedAudience::Participant(id) => CopyFor::Participant(id.clone()),
        OwnedAudience::Group { group_id, .. } => CopyFor::Group(group_id.clone()),
    }
}
