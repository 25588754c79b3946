//! What documents are called on the wire: one name per document, parsed and printed here.
//!
//! ```text
//! lesson.<lesson>.class              the class document of a lesson: the teacher and every pupil
//! lesson.<lesson>.notes              the teacher's notes: the teacher only
//! lesson.<lesson>.pupil.<participant> a guest's own document: that guest and the teacher
//! lesson.<lesson>.group.<group>      a group's document: its members and the teacher
//! class.<class>.pupil.<pupil>        a rostered pupil's own document, kept across lessons
//! lesson.<lesson>.copy.<copy>        a copy (hand-out or restored version): whom it is for
//! ```

use serde::Serialize;

use crate::ids::{ClassId, GroupId, LessonId, ParticipantId, PupilId};
use crate::validate;

/// A document's name, parsed once from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocName {
    LessonClass {
        lesson_id: LessonId,
    },
    TeacherNotes {
        lesson_id: LessonId,
    },
    GuestOwn {
        lesson_id: LessonId,
        participant_id: ParticipantId,
    },
    PupilOwn {
        class_id: ClassId,
        pupil_id: PupilId,
    },
    Group {
        lesson_id: LessonId,
        group_id: GroupId,
    },
    Copy {
        lesson_id: LessonId,
        copy_id: String,
    },
}

/// Kinds as the web client names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Class,
    Notes,
    Personal,
    Group,
    Copy,
}

impl DocName {
    pub fn parse(raw: &str) -> Option<Self> {
        let parts: Vec<&str> = raw.split('.').collect();
        let name = match parts.as_slice() {
            ["lesson", l, "class"] => DocName::LessonClass {
                lesson_id: LessonId::parse(l).ok()?,
            },
            ["lesson", l, "notes"] => DocName::TeacherNotes {
                lesson_id: LessonId::parse(l).ok()?,
            },
            ["lesson", l, "pupil", p] => DocName::GuestOwn {
                lesson_id: LessonId::parse(l).ok()?,
                participant_id: ParticipantId::parse(p).ok()?,
            },
            ["lesson", l, "group", g] => DocName::Group {
                lesson_id: LessonId::parse(l).ok()?,
                group_id: GroupId::parse(g).ok()?,
            },
            ["lesson", l, "copy", c] if validate::is_id(c) => DocName::Copy {
                lesson_id: LessonId::parse(l).ok()?,
                copy_id: c.to_string(),
            },
            ["class", c, "pupil", p] => DocName::PupilOwn {
                class_id: ClassId::parse(c).ok()?,
                pupil_id: PupilId::parse(p).ok()?,
            },
            _ => return None,
        };
        Some(name)
    }

    /// Whether several people write in it (the class's and a group's documents), so each of
    /// them has a share of it.
    pub fn is_shared(&self) -> bool {
        matches!(self, DocName::LessonClass { .. } | DocName::Group { .. })
    }

    pub fn kind(&self) -> DocKind {
        match self {
            DocName::LessonClass { .. } => DocKind::Class,
            DocName::TeacherNotes { .. } => DocKind::Notes,
            DocName::GuestOwn { .. } | DocName::PupilOwn { .. } => DocKind::Personal,
            DocName::Group { .. } => DocKind::Group,
            DocName::Copy { .. } => DocKind::Copy,
        }
    }

    /// What the name of every document of a lesson starts with.
    pub fn lesson_prefix(lesson_id: &LessonId) -> String {
        format!("lesson.{lesson_id}.")
    }

    /// The personal document of a lesson participant.
    pub fn personal(
        lesson_id: &LessonId,
        participant_id: &ParticipantId,
        class_id: &ClassId,
    ) -> Self {
        match participant_id.pupil_id() {
            Some(pupil_id) => DocName::PupilOwn {
                class_id: class_id.clone(),
                pupil_id,
            },
            None => DocName::GuestOwn {
                lesson_id: lesson_id.clone(),
                participant_id: participant_id.clone(),
            },
        }
    }
}

impl std::fmt::Display for DocName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DocName::LessonClass { lesson_id } => write!(f, "lesson.{lesson_id}.class"),
            DocName::TeacherNotes { lesson_id } => write!(f, "lesson.{lesson_id}.notes"),
            DocName::GuestOwn {
                lesson_id,
                participant_id,
            } => write!(f, "lesson.{lesson_id}.pupil.{participant_id}"),
            DocName::PupilOwn { class_id, pupil_id } => {
                write!(f, "class.{class_id}.pupil.{pupil_id}")
            }
            DocName::Group {
                lesson_id,
                group_id,
            } => write!(f, "lesson.{lesson_id}.group.{group_id}"),
            DocName::Copy { lesson_id, copy_id } => write!(f, "lesson.{lesson_id}.copy.{copy_id}"),
        }
    }
}
