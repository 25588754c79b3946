//! "Is this the caller's …?": the lookups use-cases start with. Each answers with
//! [`crate::auth::can`]; what the caller may not see is reported as missing (404), so ids cannot be
//! probed, and what a pupil or camera may not do is refused (403).

use super::Services;
use crate::auth::{can, Action, Who};
use crate::docs::access::{self as doc_access, DocName, Resolved};
use crate::error::ServiceError;
use crate::ids::{ClassId, LessonId, PupilId};
use crate::lessons::classes::{self, Class};
use crate::lessons::lesson::{self, Lesson};

/// The lesson, if the caller runs it. Others get 404, as for a lesson that does not exist.
pub fn own_lesson(s: &Services, who: &Who, lesson_id: &LessonId) -> Result<Lesson, ServiceError> {
    let lesson = lesson::get(s.store.as_ref(), lesson_id)?;
    let manages = Action::ManageLesson {
        lesson_teacher: &lesson.teacher_id,
    };
    seen_only_if(can(who, manages), lesson)
}

/// The class, if the caller may manage it. Someone else's class answers 404.
pub fn own_class(s: &Services, who: &Who, class_id: &ClassId) -> Result<Class, ServiceError> {
    let class = classes::get(s.store.as_ref(), class_id)?;
    let manages = Action::ManageClass {
        class_teacher: &class.teacher_id,
    };
    seen_only_if(can(who, manages), class)
}

/// `found`, if the caller may see it; to anyone else it looks like nothing (404).
fn seen_only_if<T>(allowed: bool, found: T) -> Result<T, ServiceError> {
    if allowed {
        Ok(found)
    } else {
        Err(ServiceError::NotFound)
    }
}

/// The running lesson a live request is about: a pupil's own (from their session), the
/// camera's, or the one a teacher names and runs. Another teacher's lesson is 404, an ended
/// one 410.
pub fn running_lesson(
    s: &Services,
    who: &Who,
    named: Option<&LessonId>,
) -> Result<Lesson, ServiceError> {
    let lesson = match who {
        Who::Nobody => return Err(ServiceError::Unauthenticated),
        Who::PairedBox { .. } => return Err(ServiceError::Forbidden),
        Who::Teacher { .. } => own_lesson(s, who, named.ok_or(ServiceError::NotFound)?)?,
        Who::Pupil(seat) => {
            let lesson = lesson::get(s.store.as_ref(), &seat.lesson_id)?;
            let attends = Action::AttendLesson {
                lesson_id: &lesson.id,
            };
            if !can(who, attends) {
                return Err(ServiceError::Forbidden);
            }
            lesson
        }
        Who::Camera { lesson_id, .. } => {
            let lesson = lesson::get(s.store.as_ref(), lesson_id)?;
            let films = Action::FilmLesson {
                lesson_id: &lesson.id,
            };
            if !can(who, films) {
                return Err(ServiceError::Forbidden);
            }
            lesson
        }
    };
    if lesson.is_active(s.clock.now_ms()) {
        Ok(lesson)
    } else {
        Err(ServiceError::LessonEnded)
    }
}

/// The document `raw` names, if the caller may read it; others are reported missing.
pub fn readable_doc(s: &Services, who: &Who, raw: &str) -> Result<Resolved, ServiceError> {
    if matches!(who, Who::Nobody) {
        return Err(ServiceError::Unauthenticated);
    }
    let name = DocName::parse(raw).ok_or(ServiceError::NotFound)?;
    let resolved = doc_access::resolve(s.store.as_ref(), name)?;
    if !can(who, Action::ReadDoc(resolved.facts())) {
        return Err(ServiceError::NotFound);
    }
    Ok(resolved)
}

/// The document `raw` names, if the caller is the teacher who may manage it. Another
/// teacher's document looks like no document; a pupil or a camera is told no.
pub fn managed_doc(s: &Services, who: &Who, raw: &str) -> Result<Resolved, ServiceError> {
    let name = DocName::parse(raw).ok_or(ServiceError::NotFound)?;
    let resolved = doc_access::resolve(s.store.as_ref(), name)?;
    match who {
        Who::Nobody => Err(ServiceError::Unauthenticated),
        Who::Pupil(_) | Who::Camera { .. } | Who::PairedBox { .. } => Err(ServiceError::Forbidden),
        Who::Teacher { .. } if can(who, Action::ManageDoc(resolved.facts())) => Ok(resolved),
        Who::Teacher { .. } => Err(ServiceError::NotFound),
    }
}

/// The lesson whose pages show this document now: its own, or for a rostered pupil's document
/// the class's running lesson.
pub fn lesson_of(s: &Services, resolved: &Resolved) -> Result<Option<LessonId>, ServiceError> {
    Ok(match &resolved.name {
        DocName::LessonClass { lesson_id }
        | DocName::TeacherNotes { lesson_id }
        | DocName::GuestOwn { lesson_id, .. }
        | DocName::Group { lesson_id, .. }
        | DocName::Copy { lesson_id, .. } => Some(lesson_id.clone()),
        DocName::PupilOwn { class_id, .. } => {
            lesson::active_for_class(s.store.as_ref(), class_id, s.clock.now_ms())?.map(|l| l.id)
        }
    })
}

/// May a pupil with this seat open the document `raw` names? (For what a `/ws` tells them.)
pub fn pupil_may_read(s: &Services, who: &Who, raw: &str) -> bool {
    DocName::parse(raw)
        .and_then(|name| doc_access::resolve(s.store.as_ref(), name).ok())
        .is_some_and(|r| can(who, Action::ReadDoc(r.facts())))
}

/// The class-list entry a pupil's own session is for ("download my data", "my settings"): a
/// guest has none (404), a teacher or camera asks about nobody (403).
pub fn own_pupil_id(who: &Who) -> Result<(ClassId, PupilId), ServiceError> {
    match who {
        Who::Nobody => Err(ServiceError::Unauthenticated),
        Who::Pupil(seat) => seat
            .participant_id
            .pupil_id()
            .map(|p| (seat.class_id.clone(), p))
            .ok_or(ServiceError::NotFound),
        _ => Err(ServiceError::Forbidden),
    }
}
