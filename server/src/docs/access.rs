//! Which documents exist and the facts `auth::can` needs about each: who it is for, its
//! settings. Their names on the wire are [`super::name::DocName`].

use serde::{Deserialize, Serialize};

use super::copies::{self, CopyFor};
pub use super::name::{DocKind, DocName};
use super::DocError;
use crate::auth::{Audience, DocFacts};
use crate::ids::{ClassId, GroupId, LessonId, ParticipantId, TeacherId};
use crate::lessons::{classes, groups, lesson};
use crate::store::{Store, StoreExt, Tree};

/// Settings the teacher changes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DocSettings {
    /// Pupils may read but not change it.
    pub read_only: bool,
}

/// A document's owners and audience, resolved from the store.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: DocName,
    pub teacher_id: TeacherId,
    pub class_id: ClassId,
    pub audience: OwnedAudience,
    pub settings: DocSettings,
    /// The pupil a personal document belongs to (shown to the teacher, used in file names).
    pub owner_name: Option<String>,
    /// The group's number, for group documents.
    pub group_number: Option<usize>,
    /// The teacher's title, for copies.
    pub title: Option<String>,
}

#[derive(Debug, Clone)]
pub enum OwnedAudience {
    Lesson(LessonId),
    TeacherOnly,
    Participant(ParticipantId),
    Group {
        lesson_id: LessonId,
        group_id: GroupId,
        members: Vec<ParticipantId>,
    },
}

pub(super) fn settings_key(name: &DocName) -> String {
    settings_prefix(&name.to_string())
}

/// The settings key of every document whose name starts with `name_prefix` starts so.
pub(super) fn settings_prefix(name_prefix: &str) -> String {
    format!("m/{name_prefix}")
}

pub fn settings(store: &dyn Store, name: &DocName) -> Result<DocSettings, DocError> {
    Ok(store
        .get_json(Tree::Docs, &settings_key(name))?
        .unwrap_or_default())
}

pub fn save_settings(
    store: &dyn Store,
    name: &DocName,
    settings: &DocSettings,
) -> Result<(), DocError> {
    store.put_json(Tree::Docs, &settings_key(name), settings)?;
    Ok(())
}

/// Looks up who a document belongs to. Unknown lessons, classes or people are `NotFound`.
pub fn resolve(store: &dyn Store, name: DocName) -> Result<Resolved, DocError> {
    let not_found = |_| DocError::NotFound;
    let mut group_number = None;
    let mut title = None;
    let (teacher_id, class_id, audience, owner_name) = match &name {
        DocName::LessonClass { lesson_id } | DocName::TeacherNotes { lesson_id } => {
            let lesson = lesson::get(store, lesson_id).map_err(not_found)?;
            let audience = if name.kind() == DocKind::Class {
                OwnedAudience::Lesson(lesson.id.clone())
            } else {
                OwnedAudience::TeacherOnly
            };
            (lesson.teacher_id, lesson.class_id, audience, None)
        }
        DocName::GuestOwn {
            lesson_id,
            participant_id,
        } => {
            let lesson = lesson::get(store, lesson_id).map_err(not_found)?;
            let guest =
                lesson::get_participant(store, lesson_id, participant_id).map_err(not_found)?;
            (
                lesson.teacher_id,
                lesson.class_id,
                OwnedAudience::Participant(participant_id.clone()),
                Some(guest.name),
            )
        }
        DocName::PupilOwn { class_id, pupil_id } => {
            let class = classes::get(store, class_id).map_err(not_found)?;
            let pupil = classes::get_pupil(store, class_id, pupil_id).map_err(not_found)?;
            (
                class.teacher_id,
                class.id,
                OwnedAudience::Participant(ParticipantId::rostered(pupil_id)),
                Some(pupil.name),
            )
        }
        DocName::Group {
            lesson_id,
            group_id,
        } => {
            let lesson = lesson::get(store, lesson_id).map_err(not_found)?;
            let group = groups::get(store, lesson_id, group_id).map_err(not_found)?;
            group_number = Some(group.number);
            (
                lesson.teacher_id,
                lesson.class_id,
                OwnedAudience::Group {
                    lesson_id: lesson.id,
                    group_id: group.id,
                    members: group.members,
                },
                None,
            )
        }
        DocName::Copy { lesson_id, copy_id } => {
            let lesson = lesson::get(store, lesson_id).map_err(not_found)?;
            let copy = copies::get(store, lesson_id, copy_id)?.ok_or(DocError::NotFound)?;
            title = Some(copy.title);
            let mut owner_name = None;
            let audience = match copy.for_whom {
                CopyFor::Lesson => OwnedAudience::Lesson(lesson.id.clone()),
                CopyFor::Teacher => OwnedAudience::TeacherOnly,
                CopyFor::Participant(id) => {
                    owner_name = lesson::get_participant(store, lesson_id, &id)
                        .ok()
                        .map(|p| p.name);
                    OwnedAudience::Participant(id)
                }
                CopyFor::Group(group_id) => {
                    let group = groups::get(store, lesson_id, &group_id).map_err(not_found)?;
                    group_number = Some(group.number);
                    OwnedAudience::Group {
                        lesson_id: lesson.id.clone(),
                        group_id: group.id,
                        members: group.members,
                    }
                }
            };
            (lesson.teacher_id, lesson.class_id, audience, owner_name)
        }
    };
    let settings = settings(store, &name)?;
    Ok(Resolved {
        name,
        teacher_id,
        class_id,
        audience,
        settings,
        owner_name,
        group_number,
        title,
    })
}

impl Resolved {
    pub fn facts(&self) -> DocFacts<'_> {
        DocFacts {
            teacher_id: &self.teacher_id,
            class_id: &self.class_id,
            audience: match &self.audience {
                OwnedAudience::Lesson(l) => Audience::Lesson(l),
                OwnedAudience::TeacherOnly => Audience::TeacherOnly,
                OwnedAudience::Participant(p) => Audience::Participant(p),
                OwnedAudience::Group {
                    lesson_id, members, ..
                } => Audience::Group {
                    lesson: lesson_id,
                    members,
                },
            },
            read_only: self.settings.read_only,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_junk_is_refused() {
        for raw in [
            "lesson.abc.class",
            "lesson.abc.notes",
            "lesson.abc.pupil.g-12",
            "lesson.abc.group.9f3e",
            "lesson.abc.copy.77aa",
            "class.c1.pupil.p9",
        ] {
            assert_eq!(DocName::parse(raw).unwrap().to_string(), raw);
        }
        for junk in [
            "",
            "lesson",
            "lesson..class",
            "lesson.a.b.class",
            "lesson.a/b.class",
            "class.c.pupil.",
            "x.y.z",
            "lesson.a.class.extra",
        ] {
            assert!(DocName::parse(junk).is_none(), "{junk}");
        }
        assert_eq!(
            DocName::personal(&"L".into(), &"p-7".into(), &"C".into()).to_string(),
            "class.C.pupil.7"
        );
        assert_eq!(
            DocName::personal(&"L".into(), &"g-7".into(), &"C".into()).to_string(),
            "lesson.L.pupil.g-7"
        );
    }
}
