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

use crate::ids::ParticipantId;
use crate::validate;

/// A document's name, parsed once from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocName {
    LessonClass {
        lesson_id: String,
    },
    TeacherNotes {
        lesson_id: String,
    },
    GuestOwn {
        lesson_id: String,
        participant_id: String,
    },
    PupilOwn {
        class_id: String,
        pupil_id: String,
    },
    Group {
        lesson_id: String,
        group_id: String,
    },
    Copy {
        lesson_id: String,
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
        if !parts.iter().skip(1).step_by(2).all(|p| validate::is_id(p)) {
            return None;
        }
        let name = match parts.as_slice() {
            ["lesson", l, "class"] => DocName::LessonClass {
                lesson_id: l.to_string(),
            },
            ["lesson", l, "notes"] => DocName::TeacherNotes {
                lesson_id: l.to_string(),
            },
            ["lesson", l, "pupil", p] if validate::is_id(p) => DocName::GuestOwn {
                lesson_id: l.to_string(),
                participant_id: p.to_string(),
            },
            ["lesson", l, "group", g] if validate::is_id(g) => DocName::Group {
                lesson_id: l.to_string(),
                group_id: g.to_string(),
            },
            ["lesson", l, "copy", c] if validate::is_id(c) => DocName::Copy {
                lesson_id: l.to_string(),
                copy_id: c.to_string(),
            },
            ["class", c, "pupil", p] if validate::is_id(p) => DocName::PupilOwn {
                class_id: c.to_string(),
                pupil_id: p.to_string(),
            },
            _ => return None,
        };
        Some(name)
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
    pub fn lesson_prefix(lesson_id: &str) -> String {
        format!("lesson.{lesson_id}.")
    }

    /// The personal document of a lesson participant.
    pub fn personal(lesson_id: &str, participant_id: &str, class_id: &str) -> Self {
        match ParticipantId::from_raw(participant_id).pupil_id() {
            Some(pupil_id) => DocName::PupilOwn {
                class_id: class_id.to_string(),
                pupil_id: pupil_id.to_string(),
            },
            None => DocName::GuestOwn {
                lesson_id: lesson_id.to_string(),
                participant_id: participant_id.to_string(),
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
