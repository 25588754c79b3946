//! Lessons: ending one (the teacher, or its time running out — one path for both), removing a
//! pupil from one, and who is present.

use super::{access, Services};
use crate::auth::grants::{Ended, Revocation};
use crate::auth::sessions;
use crate::auth::Who;
use crate::channels::thread::ThreadId;
use crate::docs::history;
use crate::error::ApiError;
use crate::lessons::lesson::{self, Lesson};
use crate::lessons::presence::LessonEvent;
use crate::lessons::presence_list;
use crate::protocol::PresenceEntry;

/// The teacher ends their lesson. What follows is `close`'s: sessions, grants, versions.
pub fn end(s: &Services, who: &Who, lesson_id: &str) -> Result<(), ApiError> {
    let lesson = access::own_lesson(s, who, lesson_id)?;
    let ended = lesson::end(s.store.as_ref(), s.clock.as_ref(), &lesson)?;
    let versions = close(s, &ended)?;
    tracing::info!(lesson_id = %ended.id, versions, "lesson ended");
    Ok(())
}

/// Lessons whose time ran out (and any a stopped box missed) end like one the teacher ended.
/// Returns how many were closed.
pub fn end_those_over(s: &Services) -> Result<usize, ApiError> {
    let over = lesson::needing_wrap_up(s.store.as_ref(), s.clock.now_ms())?;
    for ended in &over {
        let versions = close(s, ended)?;
        tracing::info!(lesson_id = %ended.id, versions, "lesson ran out");
    }
    Ok(over.len())
}

/// Everything that follows from a lesson being over, in this order: its pupils' and camera's
/// sessions end (no new request gets in); every connection of the lesson loses its grant and
/// closes with 4001 (no edit or message gets in after this returns); then every document of
/// the lesson is kept as a version. Returns how many versions were saved.
fn close(s: &Services, ended: &Lesson) -> Result<usize, ApiError> {
    sessions::revoke_where(s.store.as_ref(), |session| {
        sessions::belongs_to_lesson(session, &ended.id)
    })?;
    let closed = s.grants.revoke(
        &Revocation::Lesson {
            lesson_id: ended.id.clone(),
        },
        Ended::LessonEnded,
    );
    tracing::debug!(lesson_id = %ended.id, closed, "lesson connections closed");
    Ok(history::wrap_up_lesson(
        s.store.as_ref(),
        &s.docs,
        ended,
        s.clock.now_ms(),
    )?)
}

/// The teacher removes a pupil from their lesson: the seat is gone (a guest cannot rejoin;
/// a rostered pupil can, by their card), their sessions end, their open connections close
/// with 4002, any permission to speak ends, and the teacher's list updates.
pub fn remove_participant(
    s: &Services,
    who: &Who,
    lesson_id: &str,
    participant_id: &str,
) -> Result<(), ApiError> {
    let lesson = access::own_lesson(s, who, lesson_id)?;
    lesson::remove_participant(s.store.as_ref(), &lesson.id, participant_id)?;
    withdraw_participant(s, &lesson.id, participant_id)?;
    Ok(())
}

/// Ends what a participant who is no longer in the lesson held: sessions, connections (4002),
/// a permission to speak; the teacher's list updates.
pub(super) fn withdraw_participant(
    s: &Services,
    lesson_id: &str,
    participant_id: &str,
) -> Result<(), ApiError> {
    sessions::revoke_where(s.store.as_ref(), |session| {
        sessions::pupil_seat_matches(session, |seat| {
            seat.lesson_id == lesson_id && seat.participant_id == participant_id
        })
    })?;
    s.grants.revoke(
        &Revocation::Participant {
            lesson_id: lesson_id.to_string(),
            participant_id: participant_id.to_string(),
        },
        Ended::Removed,
    );
    if let Some(stage) = s.media.existing_stage(lesson_id) {
        if stage.talk_grant(participant_id).is_some() {
            stage.revoke_talk(participant_id);
        }
    }
    s.presence.publish(lesson_id, LessonEvent::PresenceChanged);
    Ok(())
}

/// The lesson's presence list with each pupil's private thread named.
pub fn presence(s: &Services, lesson: &Lesson) -> Result<Vec<PresenceEntry>, ApiError> {
    let mut list = presence_list(s.store.as_ref(), &s.presence, lesson)?;
    for entry in &mut list {
        entry.thread = ThreadId::private(&lesson.id, &entry.id, &lesson.class_id).to_string();
    }
    Ok(list)
}
