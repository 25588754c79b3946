//! Handing a template out: the teacher gives every pupil, or every group, their own copy of a
//! document to work in. Pupils who join the lesson later get theirs when they join.

use super::{access, Services};
use crate::auth::Who;
use crate::docs::copies::{self, CopyFor, HandTo, Handout};
use crate::docs::history::LABEL_MAX;
use crate::error::ServiceError;
use crate::ids::random_record_id;
use crate::lessons::presence::LessonEvent;
use crate::lessons::{groups, lesson};
use crate::validate::{self, invalid};

/// Copies of document `doc` for every pupil or group of its lesson, titled `title`; pupils who
/// may open one hear of it on `/ws`. Returns the copies' names.
pub fn hand_out(
    s: &Services,
    who: &Who,
    doc: &str,
    to: HandTo,
    title: &str,
) -> Result<Vec<String>, ServiceError> {
    let resolved = access::managed_doc(s, who, doc)?;
    let title = validate::name("title", title, LABEL_MAX)?;
    let store = s.store.as_ref();
    let lesson_id = access::lesson_of(s, &resolved)?.ok_or(ServiceError::NoActiveLesson)?;
    let recipients: Vec<CopyFor> = match to {
        HandTo::Pupils => lesson::participants(store, &lesson_id)?
            .into_iter()
            .map(|p| CopyFor::Participant(p.id))
            .collect(),
        HandTo::Groups => groups::of_lesson(store, &lesson_id)?
            .into_iter()
            .map(|g| CopyFor::Group(g.id))
            .collect(),
    };
    // Handing out to nobody would leave a hand-out that only latecomers ever see.
    if recipients.is_empty() && to == HandTo::Groups {
        return Err(ServiceError::Invalid(invalid(
            "to",
            "the lesson has no groups",
        )));
    }
    let content = s.docs.snapshot_of(&resolved.name.to_string())?;
    let handout = Handout {
        id: random_record_id(),
        title,
        to,
        source: resolved.name.to_string(),
    };
    let made = copies::hand_out(
        store,
        &lesson_id,
        handout,
        &recipients,
        &content,
        s.clock.now_ms(),
    )?;
    store.flush()?;
    let docs: Vec<String> = made.iter().map(|c| c.doc_name().to_string()).collect();
    tracing::info!(copies = docs.len(), "template handed out");
    s.presence
        .publish(&lesson_id, LessonEvent::DocsAdded { docs: docs.clone() });
    Ok(docs)
}
