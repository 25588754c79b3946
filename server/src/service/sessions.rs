//! Signing out, and the grant an open connection holds for as long as it is open.

use super::Services;
use crate::auth::grants::{Ended, Grant, Holder, Revocation};
use crate::auth::sessions::{self, SessionToken};
use crate::auth::{teachers, Who};
use crate::error::ServiceError;
use crate::ids::LessonId;
use crate::lessons::lesson;

/// Starts a session for `who`, lasting `lifetime_ms`; returns the token for the cookie (the
/// store keeps only its hash).
pub fn start(s: &Services, who: Who, lifetime_ms: u64) -> Result<SessionToken, ServiceError> {
    Ok(sessions::create(
        s.store.as_ref(),
        s.clock.as_ref(),
        who,
        lifetime_ms,
    )?)
}

/// Who the session `token` is for; `Who::Nobody` when there is none, it expired, or what it
/// was for is gone (a session outlives neither its teacher account nor its lesson and seat).
pub fn who_is(s: &Services, token: &SessionToken) -> Result<Who, ServiceError> {
    let Some(session) = sessions::lookup(s.store.as_ref(), s.clock.as_ref(), token)? else {
        return Ok(Who::Nobody);
    };
    let store = s.store.as_ref();
    let running = |lesson_id: &LessonId| {
        lesson::get(store, lesson_id).is_ok_and(|l| l.is_active(s.clock.now_ms()))
    };
    let valid = match &session.holder {
        Who::Teacher { teacher_id } => teachers::get(store, teacher_id)?.is_some(),
        Who::Pupil(seat) => {
            running(&seat.lesson_id)
                && lesson::get_participant(store, &seat.lesson_id, &seat.participant_id).is_ok()
        }
        Who::Camera {
            lesson_id,
            teacher_id,
        } => teachers::get(store, teacher_id)?.is_some() && running(lesson_id),
        // Paired boxes have no sessions: they are known by their certificate.
        Who::Nobody | Who::PairedBox { .. } => false,
    };
    Ok(if valid { session.holder } else { Who::Nobody })
}

/// Ends the session `token` belongs to, and closes every connection it opened (4004).
pub fn log_out(s: &Services, token: Option<&SessionToken>) -> Result<(), ServiceError> {
    let Some(token) = token else {
        return Ok(());
    };
    sessions::revoke(s.store.as_ref(), token)?;
    s.grants.revoke(
        &Revocation::Session {
            session_key: token.key(),
        },
        Ended::LoggedOut,
    );
    Ok(())
}

/// The grant for a connection `who` opens with the session `token`, following `lesson_id`
/// (a `/ws`) or not (a document). The session is looked up again after the grant is
/// registered: a use-case that ended it in between has either revoked this grant too or is
/// seen here, so no connection outlives the access it was opened with.
pub fn open_grant(
    s: &Services,
    who: &Who,
    token: Option<&SessionToken>,
    lesson_id: Option<&LessonId>,
) -> Result<Grant, ServiceError> {
    let token = token.ok_or(ServiceError::Unauthenticated)?;
    let grant = s.grants.issue(Holder {
        who: who.clone(),
        session_key: token.key(),
        lesson_id: lesson_id.cloned(),
        class_id: None,
    });
    match sessions::lookup(s.store.as_ref(), s.clock.as_ref(), token)? {
        Some(session) if session.who() == *who => Ok(grant),
        _ => Err(ServiceError::Unauthenticated),
    }
}
