//! Who someone is, and what they may do. Every HTTP route and WebSocket message asks [`can`];
//! the whole permission table is this one function, and one test walks all of it.

pub mod devices;
pub mod grants;
pub mod password;
pub mod sessions;
pub mod teachers;
pub mod tokens;

use serde::{Deserialize, Serialize};

use crate::ids::{BoxId, ClassId, LessonId, ParticipantId, TeacherId};
use crate::store::StoreError;
use crate::validate::Invalid;

/// A pupil's place in one lesson, as carried by their session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    pub participant_id: ParticipantId,
    pub lesson_id: LessonId,
    pub class_id: ClassId,
    /// Following from home (over the school's VPN): the teacher sees it, later issues stream to it.
    pub at_home: bool,
}

/// Who someone is: built once per request or connection from the session cookie, and the
/// one identity every decision ([`can`]), grant and session holds. Sessions store it in its
/// tagged form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Who {
    Nobody,
    Teacher {
        teacher_id: TeacherId,
    },
    Pupil(Seat),
    /// A device the teacher paired by a one-time link (a phone on a stand, the classroom PC):
    /// it sends the lesson's camera picture and sound and may do nothing else.
    Camera {
        lesson_id: LessonId,
        teacher_id: TeacherId,
    },
    /// Another classroom box a teacher paired with this one, known by its certificate on the
    /// sync listener: it may take the classes this box shares with it, and nothing else.
    PairedBox {
        box_id: BoxId,
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
    PairedBox,
}

impl Who {
    pub fn role(&self) -> Role {
        match self {
            Who::Nobody => Role::Nobody,
            Who::Teacher { .. } => Role::Teacher,
            Who::Pupil(seat) if seat.at_home => Role::RemotePupil,
            Who::Pupil(_) => Role::Pupil,
            Who::Camera { .. } => Role::Camera,
            Who::PairedBox { .. } => Role::PairedBox,
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
    ManageClass { class_teacher: &'a TeacherId },
    /// What the box keeps about oneself, a pupil on the class list: download all of it, see
    /// and change one's own profile (the class's teacher does both through `ManageClass`).
    OwnData {
        class_id: &'a ClassId,
        participant_id: &'a ParticipantId,
    },
    /// Run a lesson: who is present, remove a pupil, end it, show the join code.
    ManageLesson { lesson_teacher: &'a TeacherId },
    /// Take part in a lesson: the pupil page and its live connection.
    AttendLesson { lesson_id: &'a LessonId },
    /// Send the classroom camera's picture and sound into a lesson, and nothing else.
    FilmLesson { lesson_id: &'a LessonId },
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
    /// Raise (or lower) one's own hand in a lesson.
    RaiseHand { lesson_id: &'a LessonId },
    /// Send audio or video into a lesson's live media.
    SendMedia(MediaFacts<'a>),
    /// Receive one of a lesson's live sources.
    ReceiveMedia(MediaFacts<'a>),
    /// Pair this box with another, unpair one, see the paired boxes.
    PairBoxes,
    /// Choose to send a class to a paired box (its teacher only; "everything" is `PairBoxes`).
    ShareClass { class_teacher: &'a TeacherId },
    /// Take a class's records, documents and messages from this box (a paired box), if this
    /// box shares it with the asker.
    ReceiveClass { shared_with_asker: bool },
}

/// What `can` needs to know about a live-media request: which stream or source, and what the
/// lesson's stage says about the asker right now.
#[derive(Debug, Clone, Copy)]
pub struct MediaFacts<'a> {
    pub lesson_id: &'a LessonId,
    /// The teacher who runs the lesson.
    pub lesson_teacher: &'a TeacherId,
    pub medium: Medium,
    /// Sending video (else audio). Ignored for receiving.
    pub video: bool,
    /// The teacher lets this pupil speak: `Some(with camera)`.
    pub talk_grant: Option<bool>,
    /// This connection is one side of the lesson's private call: `Some(with video)`.
    pub in_call: Option<bool>,
    /// This connection is a paired box's relay of the lesson, let in because the lesson's
    /// class is shared with that box (and ended when it no longer is).
    pub relay: bool,
}

/// The live streams of a lesson, as sent and as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    /// The teacher's (or the classroom camera's) camera and microphone; as a source, the
    /// lesson's camera and screen together.
    Lesson,
    /// The teacher's shared screen.
    Screen,
    /// A second picture beside the teacher's (an interpreter, a document camera): video only.
    Second,
    /// A pupil the teacher let speak.
    Talk,
    /// The two sides of a private call.
    Call,
}

/// What `can` needs to know about a message thread.
#[derive(Debug, Clone, Copy)]
pub struct ThreadFacts<'a> {
    /// The teacher of the class the thread belongs to.
    pub teacher_id: &'a TeacherId,
    pub class_id: &'a ClassId,
    pub kind: ThreadKind<'a>,
    /// The teacher muted this pupil for now (chats only; a muted pupil can still ask the teacher).
    pub muted: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum ThreadKind<'a> {
    /// One pupil and the teacher. `lesson` is set for guests, whose thread ends with the lesson;
    /// a rostered pupil's thread lasts across the lessons of the class.
    Private {
        participant_id: &'a ParticipantId,
        lesson: Option<&'a LessonId>,
    },
    /// The teacher to everyone in a lesson.
    Announcements { lesson: &'a LessonId },
    /// Everyone in a lesson; pupils write only while the teacher has it open.
    ClassChat { lesson: &'a LessonId, open: bool },
    /// The members of one group and the teacher.
    GroupChat {
        lesson: &'a LessonId,
        members: &'a [ParticipantId],
        open: bool,
    },
}

/// What `can` needs to know about a shared document.
#[derive(Debug, Clone, Copy)]
pub struct DocFacts<'a> {
    /// The teacher of the class the document belongs to.
    pub teacher_id: &'a TeacherId,
    pub class_id: &'a ClassId,
    pub audience: Audience<'a>,
    /// The teacher made it read-only for pupils.
    pub read_only: bool,
}

/// Which pupils a document is for (its teacher always may).
#[derive(Debug, Clone, Copy)]
pub enum Audience<'a> {
    /// Everyone in this lesson.
    Lesson(&'a LessonId),
    /// The teacher alone.
    TeacherOnly,
    /// One pupil: a participant id, stable across lessons for rostered pupils (`p-<pupil>`).
    Participant(&'a ParticipantId),
    /// The members of one group of a lesson.
    Group {
        lesson: &'a LessonId,
        members: &'a [ParticipantId],
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
        (Who::Teacher { .. }, Action::InviteTeacher | Action::CreateClass | Action::PairBoxes) => {
            true
        }
        (Who::Teacher { teacher_id }, Action::ShareClass { class_teacher }) => {
            teacher_id == class_teacher
        }
        (Who::PairedBox { .. }, Action::ReceiveClass { shared_with_asker }) => shared_with_asker,
        (Who::Teacher { teacher_id }, Action::ManageClass { class_teacher }) => {
            teacher_id == class_teacher
        }
        (Who::Teacher { teacher_id }, Action::ManageLesson { lesson_teacher }) => {
            teacher_id == lesson_teacher
        }
        (
            Who::Pupil(seat),
            Action::OwnData {
                class_id,
                participant_id,
            },
        ) => seat.class_id == class_id && seat.participant_id == participant_id,
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
        (Who::Pupil(seat), Action::RaiseHand { lesson_id }) => seat.lesson_id == lesson_id,
        (who, Action::SendMedia(m)) => may_send_media(who, &m),
        (who, Action::ReceiveMedia(m)) => may_receive_media(who, &m),
        _ => false,
    }
}

/// The teacher who runs the lesson, a pupil in it, or its classroom camera.
fn side(who: &Who, m: &MediaFacts<'_>) -> Option<Role> {
    match who {
        Who::Teacher { teacher_id } if teacher_id == m.lesson_teacher => Some(Role::Teacher),
        Who::Pupil(seat) if seat.lesson_id == m.lesson_id => Some(Role::Pupil),
        Who::Camera { lesson_id, .. } if lesson_id == m.lesson_id => Some(Role::Camera),
        Who::PairedBox { .. } if m.relay => Some(Role::PairedBox),
        _ => None,
    }
}

/// The teacher sends the lesson, the screen and a second picture (video only); the classroom
/// camera only the lesson's camera; a pupil only what the teacher allowed (their voice, their
/// camera if allowed too); a private call's two sides send into it (video only in a video call).
fn may_send_media(who: &Who, m: &MediaFacts<'_>) -> bool {
    let allowed_kind = |video_allowed: bool| video_allowed || !m.video;
    match (side(who, m), m.medium) {
        (Some(Role::Teacher), Medium::Lesson | Medium::Screen) => true,
        (Some(Role::Teacher), Medium::Second) => m.video,
        (Some(Role::Camera), Medium::Lesson) => true,
        (Some(Role::Pupil), Medium::Talk) => m.talk_grant.is_some_and(allowed_kind),
        (Some(Role::Teacher | Role::Pupil), Medium::Call) => m.in_call.is_some_and(allowed_kind),
        _ => false,
    }
}

/// Teachers and pupils receive the lesson, and a paired box relays it to its own viewers; the
/// pupils let speak are heard in the room (on the teacher's device and the classroom camera); a
/// call only by its two sides.
fn may_receive_media(who: &Who, m: &MediaFacts<'_>) -> bool {
    match (side(who, m), m.medium) {
        (Some(Role::Teacher | Role::Pupil | Role::PairedBox), Medium::Lesson | Medium::Second) => {
            true
        }
        (Some(Role::Teacher | Role::Camera), Medium::Talk) => true,
        (Some(Role::Teacher | Role::Pupil), Medium::Call) => m.in_call.is_some(),
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
            teacher_id: &"t1".into(),
            class_id: &"c1".into(),
            audience: Audience::Lesson(&"L1".into()),
            read_only: false,
        };
        let thread = ThreadFacts {
            teacher_id: &"t1".into(),
            class_id: &"c1".into(),
            kind: ThreadKind::ClassChat {
                lesson: &"L1".into(),
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
            Action::AttendLesson {
                lesson_id: &"L1".into(),
            },
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
                    class_teacher: &"t1".into(),
                },
            ),
            (
                "manage lesson",
                Action::ManageLesson {
                    lesson_teacher: &"t1".into(),
                },
            ),
            (
                "attend lesson",
                Action::AttendLesson {
                    lesson_id: &"L1".into(),
                },
            ),
            (
                "film lesson",
                Action::FilmLesson {
                    lesson_id: &"L1".into(),
                },
            ),
            (
                "own data",
                Action::OwnData {
                    class_id: &"c1".into(),
                    participant_id: &"p1".into(),
                },
            ),
            ("pair boxes", Action::PairBoxes),
            (
                "share class",
                Action::ShareClass {
                    class_teacher: &"t1".into(),
                },
            ),
            (
                "receive shared class",
                Action::ReceiveClass {
                    shared_with_asker: true,
                },
            ),
            (
                "receive unshared class",
                Action::ReceiveClass {
                    shared_with_asker: false,
                },
            ),
        ];
        let paired_box = Who::PairedBox {
            box_id: "0123456789abcdef".into(),
        };
        // Rows: owner teacher, other teacher, pupil in room, pupil at home, pupil of another
        // lesson, the lesson's camera, another lesson's camera, a paired box, nobody. Columns
        // follow `actions`.
        let f = false;
        let table: [(&str, &Who, [bool; 11]); 9] = [
            (
                "owner teacher",
                &owner,
                [true, true, true, true, f, f, f, true, true, f, f],
            ),
            (
                "other teacher",
                &other_teacher,
                [true, true, f, f, f, f, f, true, f, f, f],
            ),
            (
                "pupil in room",
                &in_room,
                [f, f, f, f, true, f, true, f, f, f, f],
            ),
            (
                "pupil at home",
                &at_home,
                [f, f, f, f, true, f, true, f, f, f, f],
            ),
            // The same pupil in another lesson of the class: still their own data.
            (
                "pupil of other lesson",
                &other_lesson,
                [f, f, f, f, f, f, true, f, f, f, f],
            ),
            (
                "camera",
                &camera("L1"),
                [f, f, f, f, f, true, f, f, f, f, f],
            ),
            (
                "other lesson's camera",
                &camera("L2"),
                [f, f, f, f, f, f, f, f, f, f, f],
            ),
            // A paired box takes what this box shares with it, and nothing else.
            (
                "paired box",
                &paired_box,
                [f, f, f, f, f, f, f, f, f, true, f],
            ),
            ("nobody", &nobody, [f, f, f, f, f, f, f, f, f, f, f]),
        ];
        for (who_name, who, expected) in table {
            for ((action_name, action), allowed) in actions.iter().zip(expected) {
                assert_eq!(can(who, *action), allowed, "{who_name} / {action_name}");
            }
        }
    }

    /// The live-media rules: who sends and receives what, with and without the stage's say.
    #[test]
    fn media_table() {
        let (l1, t1): (LessonId, TeacherId) = ("L1".into(), "t1".into());
        let facts = |medium, video, talk_grant, in_call| MediaFacts {
            lesson_id: &l1,
            lesson_teacher: &t1,
            medium,
            video,
            talk_grant,
            in_call,
            relay: false,
        };
        let owner = Who::Teacher {
            teacher_id: "t1".into(),
        };
        let other_teacher = Who::Teacher {
            teacher_id: "t2".into(),
        };
        let pupil_here = pupil("L1", true);
        let pupil_elsewhere = pupil("L2", true);
        let cam = camera("L1");
        let send = |who: &Who, m| can(who, Action::SendMedia(m));
        let receive = |who: &Who, m| can(who, Action::ReceiveMedia(m));
        let lesson_video = facts(Medium::Lesson, true, None, None);
        assert!(send(&owner, lesson_video) && send(&cam, lesson_video));
        assert!(!send(&other_teacher, lesson_video) && !send(&pupil_here, lesson_video));
        assert!(send(&owner, facts(Medium::Screen, true, None, None)));
        assert!(!send(&cam, facts(Medium::Screen, true, None, None)));
        // The second picture: the teacher's, video only; nobody else's.
        assert!(send(&owner, facts(Medium::Second, true, None, None)));
        assert!(!send(&owner, facts(Medium::Second, false, None, None)));
        assert!(!send(&cam, facts(Medium::Second, true, None, None)));
        assert!(!send(
            &pupil_here,
            facts(Medium::Second, true, Some(true), None)
        ));
        // Talk-back: only with the teacher's leave, video only when allowed.
        assert!(!send(&pupil_here, facts(Medium::Talk, false, None, None)));
        assert!(send(
            &pupil_here,
            facts(Medium::Talk, false, Some(false), None)
        ));
        assert!(!send(
            &pupil_here,
            facts(Medium::Talk, true, Some(false), None)
        ));
        assert!(send(
            &pupil_here,
            facts(Medium::Talk, true, Some(true), None)
        ));
        assert!(!send(
            &pupil_elsewhere,
            facts(Medium::Talk, false, Some(true), None)
        ));
        // Calls: its two sides, video only in a video call; nobody else.
        assert!(send(
            &pupil_here,
            facts(Medium::Call, false, None, Some(false))
        ));
        assert!(!send(
            &pupil_here,
            facts(Medium::Call, true, None, Some(false))
        ));
        assert!(!send(&pupil_here, facts(Medium::Call, false, None, None)));
        assert!(!send(&cam, facts(Medium::Call, false, None, Some(true))));
        // Receiving.
        let lesson = facts(Medium::Lesson, false, None, None);
        assert!(receive(&owner, lesson) && receive(&pupil_here, lesson));
        assert!(!receive(&cam, lesson) && !receive(&pupil_elsewhere, lesson));
        let talk = facts(Medium::Talk, false, None, None);
        assert!(receive(&owner, talk) && receive(&cam, talk) && !receive(&pupil_here, talk));
        assert!(!receive(
            &pupil_here,
            facts(Medium::Call, false, None, None)
        ));
        assert!(receive(
            &pupil_here,
            facts(Medium::Call, false, None, Some(true))
        ));
        assert!(!receive(&Who::Nobody, lesson));
        // A paired box relays the lesson once the stage let it in (its class is shared with
        // it), and receives nothing else; it never sends.
        let paired_box = Who::PairedBox {
            box_id: "0123456789abcdef".into(),
        };
        fn relayed(m: MediaFacts<'_>) -> MediaFacts<'_> {
            MediaFacts { relay: true, ..m }
        }
        assert!(!receive(&paired_box, lesson));
        assert!(receive(&paired_box, relayed(lesson)));
        assert!(receive(
            &paired_box,
            relayed(facts(Medium::Second, false, None, None))
        ));
        assert!(!receive(&paired_box, relayed(talk)));
        assert!(!receive(
            &paired_box,
            relayed(facts(Medium::Call, false, None, Some(true)))
        ));
        assert!(!send(&paired_box, relayed(lesson_video)));
    }

    #[test]
    fn roles_mark_pupils_at_home() {
        assert_eq!(pupil("L1", true).role(), Role::RemotePupil);
        assert_eq!(pupil("L1", false).role(), Role::Pupil);
        assert_eq!(Who::Nobody.role(), Role::Nobody);
    }
}
