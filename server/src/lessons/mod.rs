//! Classes, their rosters and login cards; lessons, join codes, participants, classroom camera
//! links; who is online.

pub mod camera;
pub mod classes;
pub mod groups;
pub mod lesson;
pub mod presence;
pub mod privacy;

use serde::Serialize;

use crate::ids::ParticipantId;
use crate::store::Store;
use lesson::Lesson;
use presence::Presence;

use crate::store::StoreError;
use crate::validate::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum LessonError {
    #[error("not found")]
    NotFound,
    #[error("no lesson has that code")]
    WrongCode,
    #[error("the lesson has ended")]
    Ended,
    #[error("no lesson is running for this class")]
    NoActiveLesson,
    #[error("the login card is not valid")]
    InvalidCard,
    #[error("the link is not valid (used, expired or mistyped)")]
    InvalidLink,
    #[error("the teacher removed you from this lesson")]
    Removed,
    #[error("the lesson is full")]
    Full,
    #[error("a class may have at most {0} pupils")]
    RosterFull(usize),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Everyone in the lesson for the teacher's list: every rostered pupil of the class (absent ones
/// too) and every guest who joined, each marked online or not. `thread` is left for the caller
/// to name (lessons know nothing of messages).
pub fn presence_list(
    store: &dyn Store,
    presence: &Presence,
    lesson: &Lesson,
) -> Result<Vec<PresenceEntry>, LessonError> {
    let online = presence.online(&lesson.id);
    let joined = lesson::participants(store, &lesson.id)?;
    let mut entries: Vec<PresenceEntry> = classes::roster(store, &lesson.class_id)?
        .into_iter()
        .map(|pupil| {
            let id = ParticipantId::rostered(&pupil.id);
            let seat = joined.iter().find(|p| p.id == id);
            PresenceEntry {
                online: online.contains(&id),
                at_home: seat.is_some_and(|p| p.at_home),
                id,
                name: pupil.name,
                rostered: true,
                thread: String::new(),
            }
        })
        .collect();
    entries.extend(
        joined
            .into_iter()
            .filter(|p| p.pupil_id.is_none())
            .map(|p| PresenceEntry {
                online: online.contains(&p.id),
                id: p.id,
                name: p.name,
                rostered: false,
                at_home: p.at_home,
                thread: String::new(),
            }),
    );
    Ok(entries)
}

/// One person in the teacher's list of who is here (the `presence` message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresenceEntry {
    pub id: ParticipantId,
    pub name: String,
    /// Signed in with a login card (on the class roster) rather than as a guest.
    pub rostered: bool,
    pub at_home: bool,
    pub online: bool,
    /// Their private thread with the teacher (filled in by `http`, which knows both).
    pub thread: String,
}
