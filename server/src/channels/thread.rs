//! Message threads: what they are called on the wire, and the facts `auth::can` needs.
//!
//! ```text
//! pm.c.<class>.<pupil>          a rostered pupil and the teacher, kept across lessons of the class
//! pm.l.<lesson>.<participant>   a guest and the teacher, for one lesson
//! an.<lesson>                   the teacher's announcements to the lesson
//! ch.<lesson>                   the class chat
//! gr.<lesson>.<group>           a group's chat (and the teacher's announcements to the group)
//! ```

use super::chat::ChatSettings;
use super::ChannelError;
use crate::auth::{ThreadFacts, ThreadKind};
use crate::ids::{ClassId, GroupId, LessonId, ParticipantId, PupilId, TeacherId};
use crate::lessons::lesson::Lesson;
use crate::lessons::{classes, groups, lesson};
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThreadId {
    PrivateRostered {
        class_id: ClassId,
        pupil_id: PupilId,
    },
    PrivateGuest {
        lesson_id: LessonId,
        participant_id: ParticipantId,
    },
    Announcements {
        lesson_id: LessonId,
    },
    ClassChat {
        lesson_id: LessonId,
    },
    GroupChat {
        lesson_id: LessonId,
        group_id: GroupId,
    },
}

impl ThreadId {
    /// What every class-list pupil's private thread name starts with.
    pub const ROSTERED_PRIVATE_PREFIX: &'static str = "pm.c.";

    /// Whether a thread stays on the box it was written on: a guest's private thread (their
    /// name, their question) never crosses to a paired box (docs/PRIVACY.md).
    pub fn stays_on_its_box(raw: &str) -> bool {
        matches!(Self::parse(raw), Some(ThreadId::PrivateGuest { .. }))
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let parts: Vec<&str> = raw.split('.').collect();
        let thread = match parts.as_slice() {
            ["pm", "c", c, p] => ThreadId::PrivateRostered {
                class_id: ClassId::parse(c).ok()?,
                pupil_id: PupilId::parse(p).ok()?,
            },
            ["pm", "l", l, p] => ThreadId::PrivateGuest {
                lesson_id: LessonId::parse(l).ok()?,
                participant_id: ParticipantId::parse(p).ok()?,
            },
            ["an", l] => ThreadId::Announcements {
                lesson_id: LessonId::parse(l).ok()?,
            },
            ["ch", l] => ThreadId::ClassChat {
                lesson_id: LessonId::parse(l).ok()?,
            },
            ["gr", l, g] => ThreadId::GroupChat {
                lesson_id: LessonId::parse(l).ok()?,
                group_id: GroupId::parse(g).ok()?,
            },
            _ => return None,
        };
        Some(thread)
    }

    /// The private thread of a lesson participant with the teacher.
    pub fn private(
        lesson_id: &LessonId,
        participant_id: &ParticipantId,
        class_id: &ClassId,
    ) -> Self {
        match participant_id.pupil_id() {
            Some(pupil_id) => ThreadId::PrivateRostered {
                class_id: class_id.clone(),
                pupil_id,
            },
            None => ThreadId::PrivateGuest {
                lesson_id: lesson_id.clone(),
                participant_id: participant_id.clone(),
            },
        }
    }

    /// The lesson a thread belongs to; `None` for a class-list pupil's private thread, which
    /// spans the lessons of the class.
    pub fn lesson(&self) -> Option<&LessonId> {
        match self {
            ThreadId::PrivateRostered { .. } => None,
            ThreadId::PrivateGuest { lesson_id, .. }
            | ThreadId::Announcements { lesson_id }
            | ThreadId::ClassChat { lesson_id }
            | ThreadId::GroupChat { lesson_id, .. } => Some(lesson_id),
        }
    }

    /// What the stored keys of a lesson's threads start with after their tree's `m/` or
    /// `del/`: announcements and class chat by name, group chats and guests' private threads
    /// by family.
    pub fn lesson_key_prefixes(lesson_id: &LessonId) -> [String; 4] {
        let l = lesson_id;
        [
            format!(
                "{}/",
                ThreadId::Announcements {
                    lesson_id: l.clone()
                }
            ),
            format!(
                "{}/",
                ThreadId::ClassChat {
                    lesson_id: l.clone()
                }
            ),
            format!("gr.{l}."),
            format!("pm.l.{l}."),
        ]
    }

    /// The pupil a private thread belongs to.
    pub fn private_participant(&self) -> Option<ParticipantId> {
        match self {
            ThreadId::PrivateRostered { pupil_id, .. } => Some(ParticipantId::rostered(pupil_id)),
            ThreadId::PrivateGuest { participant_id, .. } => Some(participant_id.clone()),
            _ => None,
        }
    }
}

impl std::fmt::Display for ThreadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ThreadId::PrivateRostered { class_id, pupil_id } => {
                write!(f, "{}{class_id}.{pupil_id}", Self::ROSTERED_PRIVATE_PREFIX)
            }
            ThreadId::PrivateGuest {
                lesson_id,
                participant_id,
            } => write!(f, "pm.l.{lesson_id}.{participant_id}"),
            ThreadId::Announcements { lesson_id } => write!(f, "an.{lesson_id}"),
            ThreadId::ClassChat { lesson_id } => write!(f, "ch.{lesson_id}"),
            ThreadId::GroupChat {
                lesson_id,
                group_id,
            } => write!(f, "gr.{lesson_id}.{group_id}"),
        }
    }
}

/// A thread's owners and audience, looked up in the store, as seen from one lesson.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub id: ThreadId,
    pub teacher_id: TeacherId,
    pub class_id: ClassId,
    kind: OwnedKind,
}

#[derive(Debug, Clone)]
enum OwnedKind {
    Private {
        participant_id: ParticipantId,
        lesson: Option<LessonId>,
    },
    Announcements {
        lesson: LessonId,
    },
    ClassChat {
        lesson: LessonId,
        open: bool,
    },
    GroupChat {
        lesson: LessonId,
        members: Vec<ParticipantId>,
        open: bool,
    },
}

/// Looks up a thread. Threads of another lesson than `lesson` (except the private thread of
/// one of its class's pupils) and threads of unknown people are `NotFound`.
pub fn resolve(
    store: &dyn Store,
    lesson: &Lesson,
    chat: &ChatSettings,
    id: ThreadId,
) -> Result<Resolved, ChannelError> {
    let not_found = |_| ChannelError::NotFound;
    let this_lesson = |lesson_id: &LessonId| {
        if lesson_id == lesson.id {
            Ok(())
        } else {
            Err(ChannelError::NotFound)
        }
    };
    let kind = match &id {
        ThreadId::PrivateRostered { class_id, pupil_id } => {
            if *class_id != lesson.class_id {
                return Err(ChannelError::NotFound);
            }
            classes::get_pupil(store, class_id, pupil_id).map_err(not_found)?;
            OwnedKind::Private {
                participant_id: ParticipantId::rostered(pupil_id),
                lesson: None,
            }
        }
        ThreadId::PrivateGuest {
            lesson_id,
            participant_id,
        } => {
            this_lesson(lesson_id)?;
            lesson::get_participant(store, lesson_id, participant_id).map_err(not_found)?;
            OwnedKind::Private {
                participant_id: participant_id.clone(),
                lesson: Some(lesson_id.clone()),
            }
        }
        ThreadId::Announcements { lesson_id } => {
            this_lesson(lesson_id)?;
            OwnedKind::Announcements {
                lesson: lesson_id.clone(),
            }
        }
        ThreadId::ClassChat { lesson_id } => {
            this_lesson(lesson_id)?;
            OwnedKind::ClassChat {
                lesson: lesson_id.clone(),
                open: chat.class_open,
            }
        }
        ThreadId::GroupChat {
            lesson_id,
            group_id,
        } => {
            this_lesson(lesson_id)?;
            let group = groups::get(store, lesson_id, group_id).map_err(not_found)?;
            OwnedKind::GroupChat {
                lesson: lesson_id.clone(),
                members: group.members,
                open: chat.open_groups.contains(group_id),
            }
        }
    };
    Ok(Resolved {
        id,
        teacher_id: lesson.teacher_id.clone(),
        class_id: lesson.class_id.clone(),
        kind,
    })
}

impl Resolved {
    /// The facts for `can`, with `muted` for the pupil asking.
    pub fn facts(&self, muted: bool) -> ThreadFacts<'_> {
        let kind = match &self.kind {
            OwnedKind::Private {
                participant_id,
                lesson,
            } => ThreadKind::Private {
                participant_id,
                lesson: lesson.as_ref(),
            },
            OwnedKind::Announcements { lesson } => ThreadKind::Announcements { lesson },
            OwnedKind::ClassChat { lesson, open } => ThreadKind::ClassChat {
                lesson,
                open: *open,
            },
            OwnedKind::GroupChat {
                lesson,
                members,
                open,
            } => ThreadKind::GroupChat {
                lesson,
                members,
                open: *open,
            },
        };
        ThreadFacts {
            teacher_id: &self.teacher_id,
            class_id: &self.class_id,
            kind,
            muted,
        }
    }

    pub fn is_chat(&self) -> bool {
        matches!(
            self.kind,
            OwnedKind::ClassChat { .. } | OwnedKind::GroupChat { .. }
        )
    }

    pub fn is_open(&self) -> bool {
        match self.kind {
            OwnedKind::ClassChat { open, .. } | OwnedKind::GroupChat { open, .. } => open,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_names_round_trip_and_junk_is_refused() {
        for raw in ["pm.c.C1.P1", "pm.l.L1.g-9", "an.L1", "ch.L1", "gr.L1.abc"] {
            assert_eq!(ThreadId::parse(raw).unwrap().to_string(), raw);
        }
        for junk in [
            "",
            "pm",
            "pm.x.a.b",
            "pm.c.a",
            "an.",
            "an.a.b",
            "ch.a/b",
            "gr.L1",
            "gr.L1..",
            &format!("an.{}", "x".repeat(41)),
        ] {
            assert!(ThreadId::parse(junk).is_none(), "{junk}");
        }
        assert_eq!(
            ThreadId::private(&"L".into(), &"p-7".into(), &"C".into()).to_string(),
            "pm.c.C.7"
        );
        assert_eq!(
            ThreadId::private(&"L".into(), &"g-7".into(), &"C".into()).to_string(),
            "pm.l.L.g-7"
        );
        assert_eq!(
            ThreadId::parse("pm.c.C.7").unwrap().private_participant(),
            Some("p-7".into())
        );
    }
}
