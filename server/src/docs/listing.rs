//! Which documents a lesson has, in the order the teacher's overview, the zip export and the
//! automatic versions at lesson end go through them.

use super::access::{self, DocName, Resolved};
use super::{copies, DocError};
use crate::ids::LessonId;
use crate::lessons::lesson::{self, Lesson};
use crate::lessons::{classes, groups};
use crate::store::Store;

/// Every document of a lesson, in the order the teacher sees them: the class document, the
/// teacher's notes, the groups' documents, rostered pupils' own documents, then guests'.
pub fn lesson_docs(store: &dyn Store, lesson: &Lesson) -> Result<Vec<Resolved>, DocError> {
    let mut names = vec![
        DocName::LessonClass {
            lesson_id: lesson.id.clone(),
        },
        DocName::TeacherNotes {
            lesson_id: lesson.id.clone(),
        },
    ];
    for group in groups::all_of_lesson(store, &lesson.id)? {
        names.push(DocName::Group {
            lesson_id: lesson.id.clone(),
            group_id: group.id,
        });
    }
    for pupil in classes::roster(store, &lesson.class_id)? {
        names.push(DocName::PupilOwn {
            class_id: lesson.class_id.clone(),
            pupil_id: pupil.id,
        });
    }
    for guest in lesson::participants(store, &lesson.id)?
        .into_iter()
        .filter(|p| p.pupil_id.is_none())
    {
        names.push(DocName::personal(&lesson.id, &guest.id, &lesson.class_id));
    }
    let mut docs = resolve_existing(store, names)?;
    // Copies by hand-out, then whose: a teacher finds a pupil's copy where their name sorts.
    let mut copies = resolve_existing(store, copies_of(store, &lesson.id)?)?;
    copies.sort_by(|a, b| {
        (&a.title, &a.owner_name, a.group_number).cmp(&(&b.title, &b.owner_name, b.group_number))
    });
    docs.extend(copies);
    Ok(docs)
}

/// The names of a lesson's copies; the caller keeps those the reader may open.
pub fn copies_of(store: &dyn Store, lesson_id: &LessonId) -> Result<Vec<DocName>, DocError> {
    Ok(copies::of_lesson(store, lesson_id)?
        .iter()
        .map(copies::Copy::doc_name)
        .collect())
}

/// Resolves the names whose documents exist (a pupil or group may be gone).
pub fn resolve_existing(store: &dyn Store, names: Vec<DocName>) -> Result<Vec<Resolved>, DocError> {
    let mut found = Vec::new();
    for name in names {
        match access::resolve(store, name) {
            Ok(r) => found.push(r),
            Err(DocError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}
