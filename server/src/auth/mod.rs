//! Who someone is, and what they may do. Every HTTP route and WebSocket message asks [`can`];
//! the whole permission table is this one function, and one test walks all of it.

pub mod grants;
pub mod password;
pub mod sessions;
pub mod teachers;
pub mod tokens;

use serde::{Deserialize, Serialize};

use crate::store::StoreError;
use crate::validate::Invalid;

/// A pupil's place in one lesson, as carried by their session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    pub participant_id: String,
    pub lesson_id: String,
    pub class_id: String,
    /// Following from home (over the school's VPN): the teacher sees it, later issues stream to it.
    pub at_home: bool,
}

/// The caller of a request, resolved from the session cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Nobody,
    Teacher {
        teacher_id: String,
    },
    Pupil(Seat),
    /// A device the teacher paired by a one-time link (a phone on a stand, the classroom PC):
    /// it sends the lesson's camera picture and sound and may do nothing else.
    Camera {
        lesson_id: String,
        teacher_id: String,
    },
}

/// The roles people see in the interface and in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Nobody,
    Teacher,
    Pupil,
    RemotePupil,
    Camera,
}

impl Who {
    pub fn role(&self) -> Role {
        match self {
            Who::Nobody => Role::Nobody,
            Who::Teacher { .. } => Role::Teacher,
            Who::Pupil(seat) if seat.at_home => Role::RemotePupil,
            Who::Pupil(_) => Role::Pupil,
            Who::Camera { .. } => Role::Camera,
        }
    }
}

/// Everything someone may ask to do, with the facts the decision needs.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Invite another teacher to this box.
    InviteTeacher,
    /// Create a class.
    CreateClass,
    /// See or change a class: roster, login cards, starting a lesson.
    ManageClass { class_teacher: &'a str },
    /// Run a lesson: who is present, remove a pupil, end it, show the join code.
    ManageLesson { lesson_teacher: &'a str },
    /// Take part in a lesson: the pupil page and its live connection.
    AttendLesson { lesson_id: &'a str },
    /// Send the classroom camera's picture and sound into a lesson, and nothing else.
    FilmLesson { lesson_id: &'a str },
    /// Open a shared document: see it, and who else is in it.
    ReadDoc(DocFacts<'a>),
    /// Change a shared document.
    WriteDoc(DocFacts<'a>),
    /// Change a document's settings (read-only for pupils).
    ManageDoc(DocFacts<'a>),
    /// See a message thread: its history and new messages.
    ReadThread(ThreadFacts<'a>),
    /// Write into a message thread.
    WriteThread(ThreadFacts<'a>),
}

/// What `can` needs to know about a message thread.
#[derive(Debug, Clone, Copy)]
pub struct ThreadFacts<'a> {
    /// The teacher of the class the thread belongs to.
    pub teacher_id: &'a str,
    pub class_id: &'a str,
    pub kind: ThreadKind<'a>,
    /// The teacher muted this pupil for now (chats only; a muted pupil can still ask the teacher).
    pub muted: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum ThreadKind<'a> {
    /// One pupil and the teacher. `lesson` is set for guests, whose thread ends with the lesson;
    /// a rostered pupil's thread lasts across the lessons of the class.
    Private {
        participant_id: &'a str,
        lesson: Option<&'a str>,
    },
    /// The teacher to everyone in a lesson.
    Announcements { lesson: &'a str },
    /// Everyone in a lesson; pupils write only while the teacher has it open.
    ClassChat { lesson: &'a str, open: bool },
    /// The members of one group and the teacher.
    GroupChat {
        lesson: &'a str,
        members: &'a [String],
        open: bool,
    },
}

/// What `can` needs to know about a shared document.
#[derive(Debug, Clone, Copy)]
pub struct DocFacts<'a> {
    /// The teacher of the class the document belongs to.
    pub teacher_id: &'a str,
    pub class_id: &'a str,
    pub audience: Audience<'a>,
    /// The teacher made it read-only for pupils.
    pub read_only: bool,
}

/// Which pupils a document is for (its teacher always may).
#[derive(Debug, Clone, Copy)]
pub enum Audience<'a> {
    /// Everyone in this lesson.
    Lesson(&'a str),
    /// The teacher alone.
    TeacherOnly,
    /// One pupil: a participant id, stable across lessons for rostered pupils (`p-<pupil>`).
    Participant(&'a str),
    /// The members of one group of a lesson.
    Group {
        lesson: &'a str,
        members: &'a [String],
    },
}

fn pupil_may_read(seat: &Seat, doc: &DocFacts<'_>) -> bool {
    match doc.audience {
        Audience::Lesson(lesson_id) => seat.lesson_id == lesson_id,
        Audience::TeacherOnly => false,
        Audience::Participant(id) => seat.participant_id == id && seat.class_id == doc.class_id,
        Audience::Group { lesson, members } => {
            seat.lesson_id == lesson && members.contains(&seat.participant_id)
        }
    }
}

fn pupil_may_read_thread(seat: &Seat, thread: &ThreadFacts<'_>) -> bool {
    match thread.kind {
        ThreadKind::Private {
            participant_id,
            lesson,
        } => {
            seat.participant_id == participant_id
                && seat.class_id == thread.class_id
                && lesson.is_none_or(|l| l == seat.lesson_id)
        }
        ThreadKind::Announcements { lesson } | ThreadKind::ClassChat { lesson, .. } => {
            seat.lesson_id == lesson
        }
        ThreadKind::GroupChat {
            lesson, members, ..
        } => seat.lesson_id == lesson && members.contains(&seat.participant_id),
    }
}

fn pupil_may_write_thread(seat: &Seat, thread: &ThreadFacts<'_>) -> bool {
    let open = match thread.kind {
        ThreadKind::Private { .. } => true,
        ThreadKind::Announcements { .. } => false,
        ThreadKind::ClassChat { open, .. } | ThreadKind::GroupChat { open, .. } => {
            open && !thread.muted
        }
    };
    open && pupil_may_read_thread(seat, thread)
}

pub fn can(who: &Who, action: Action<'_>) -> bool {
    match (who, action) {
        (Who::Teacher { .. }, Action::InviteTeacher | Action::CreateClass) => true,
        (Who::Teacher { teacher_id }, Action::ManageClass { class_teacher }) => {
            teacher_id == class_teacher
        }
        (Who::Teacher { teacher_id }, Action::ManageLesson { lesson_teacher }) => {
            teacher_id == lesson_teacher
        }
        (Who::Pupil(seat), Action::AttendLesson { lesson_id }) => seat.lesson_id == lesson_id,
        (Who::Camera { lesson_id: own, .. }, Action::FilmLesson { lesson_id }) => own == lesson_id,
        (
            Who::Teacher { teacher_id },
            Action::ReadDoc(doc) | Action::WriteDoc(doc) | Action::ManageDoc(doc),
        ) => teacher_id == doc.teacher_id,
        (Who::Pupil(seat), Action::ReadDoc(doc)) => pupil_may_read(seat, &doc),
        (Who::Pupil(seat), Action::WriteDoc(doc)) => !doc.read_only && pupil_may_read(seat, &doc),
        (Who::Teacher { teacher_id }, Action::ReadThread(t) | Action::WriteThread(t)) => {
            teacher_id == t.teacher_id
        }
        (Who::Pupil(seat), Action::ReadThread(thread)) => pupil_may_read_thread(seat, &thread),
        (Who::Pupil(seat), Action::WriteThread(thread)) => pupil_may_write_thread(seat, &thread),
        _ => false,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong name or password")]
    WrongCredentials,
    #[error("a teacher with that name exists")]
    NameTaken,
    #[error("the setup link is not valid (used, expired or mistyped)")]
    InvalidToken,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pupil(lesson: &str, at_home: bool) -> Who {
        Who::Pupil(Seat {
            participant_id: "p1".into(),
            lesson_id: lesson.into(),
            class_id: "c1".into(),
            at_home,
        })
    }

    fn camera(lesson: &str) -> Who {
        Who::Camera {
            lesson_id: lesson.into(),
            teacher_id: "t1".into(),
        }
    }

    /// A camera reads and writes nothing: no document, no thread, even of its own lesson.
    #[test]
    fn a_camera_reads_and_writes_nothing() {
        let cam = camera("L1");
        let doc = DocFacts {
            teacher_id: "t1",
            class_id: "c1",
            audience: Audience::Lesson("L1"),
            read_only: false,
        };
        let thread = ThreadFacts {
            teacher_id: "t1",
            class_id: "c1",
            kind: ThreadKind::ClassChat {
                lesson: "L1",
                open: true,
            },
            muted: false,
        };
        for action in [
            Action::ReadDoc(doc),
            Action::WriteDoc(doc),
            Action::ManageDoc(doc),
            Action::ReadThread(thread),
            Action::WriteThread(thread),
            Action::AttendLesson { lesson_id: "L1" },
        ] {
            assert!(!can(&cam, action), "{action:?}");
        }
        assert_eq!(cam.role(), Role::Camera);
    }

    /// The permission table: every role against every action, for the owner and for others.
    #[test]
    fn permission_table() {
        let owner = Who::Teacher {
            teacher_id: "t1".into(),
        };
        let other_teacher = Who::Teacher {
            teacher_id: "t2".into(),
        };
        let in_room = pupil("L1", false);
        let at_home = pupil("L1", true);
        let other_lesson = pupil("L2", false);
        let nobody = Who::Nobody;

        let actions = [
            ("invite teacher", Action::InviteTeacher),
            ("create class", Action::CreateClass),
            (
                "manage class",
                Action::ManageClass {
                    class_teacher: "t1",
                },
            ),
            (
                "manage lesson",
                Action::ManageLesson {
                    lesson_teacher: "t1",
                },
            ),
            ("attend lesson", Action::AttendLesson { lesson_id: "L1" }),
            ("film lesson", Action::FilmLesson { lesson_id: "L1" }),
        ];
        // Rows: owner teacher, other teacher, pupil in room, pupil at home, pupil of another
        // lesson, the lesson's camera, another lesson's camera, nobody. Columns follow `actions`.
        let f = false;
        let table: [(&str, &Who, [bool; 6]); 8] = [
            ("owner teacher", &owner, [true, true, true, true, f, f]),
            ("other teacher", &other_teacher, [true, true, f, f, f, f]),
            ("pupil in room", &in_room, [f, f, f, f, true, f]),
            ("pupil at home", &at_home, [f, f, f, f, true, f]),
            ("pupil of other lesson", &other_lesson, [f, f, f, f, f, f]),
            ("camera", &camera("L1"), [f, f, f, f, f, true]),
            ("other lesson's camera", &camera("L2"), [f, f, f, f, f, f]),
            ("nobody", &nobody, [f, f, f, f, f, f]),
        ];
        for (who_name, who, expected) in table {
            for ((action_name, action), allowed) in actions.iter().zip(expected) {
                assert_eq!(can(who, *action), allowed, "{who_name} / {action_name}");
            }
        }
    }

    #[test]
    fn roles_mark_pupils_at_home() {
        assert_eq!(pupil("L1", true).role(), Role::RemotePupil);
        assert_eq!(pupil("L1", false).role(), Role::Pupil);
        assert_eq!(Who::Nobody.role(), Role::Nobody);
    }
}
