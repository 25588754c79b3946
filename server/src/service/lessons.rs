//! Lessons: starting one, joining (by code or card), ending one (the teacher, or its time
//! running out — one path for both), removing a pupil, who is present, pairing a classroom
//! camera.

use super::{access, sessions as session_service, Services};
use crate::auth::grants::{Ended, Revocation};
use crate::auth::sessions::{self, SessionToken};
use crate::auth::{Seat, Who};
use crate::channels::thread::ThreadId;
use crate::docs::{copies, history};
use crate::error::ServiceError;
use crate::ids::{ClassId, LessonId, ParticipantId};
use crate::lessons::lesson::{self, Lesson, Participant};
use crate::lessons::presence::LessonEvent;
use crate::lessons::presence_list;
use crate::lessons::{camera, classes};
use crate::protocol::PresenceEntry;
use crate::service::boxes::federation::pairs;
use crate::validate;

/// The teacher ends their lesson. What follows is `close`'s: sessions, grants, versions.
pub fn end(s: &Services, who: &Who, lesson_id: &LessonId) -> Result<(), ServiceError> {
    let lesson = access::own_lesson(s, who, lesson_id)?;
    let ended = lesson::end(s.store.as_ref(), s.clock.as_ref(), &lesson)?;
    let versions = close(s, &ended)?;
    tracing::info!(lesson_id = %ended.id, versions, "lesson ended");
    Ok(())
}

/// Lessons whose time ran out (and any a stopped box missed) end like one the teacher ended.
/// Returns how many were closed.
pub fn end_those_over(s: &Services) -> Result<usize, ServiceError> {
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
/// the lesson is kept as a version. Returns how many versions were saved. A lesson that ended
/// on the paired box it ran on is closed here the same way.
pub(super) fn close(s: &Services, ended: &Lesson) -> Result<usize, ServiceError> {
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
    lesson_id: &LessonId,
    participant_id: &ParticipantId,
) -> Result<(), ServiceError> {
    let lesson = access::own_lesson(s, who, lesson_id)?;
    lesson::remove_participant(s.store.as_ref(), &lesson.id, participant_id)?;
    withdraw_participant(s, &lesson.id, participant_id)?;
    Ok(())
}

/// Ends what a participant who is no longer in the lesson held: sessions, connections (4002),
/// a permission to speak; the teacher's list updates.
pub(super) fn withdraw_participant(
    s: &Services,
    lesson_id: &LessonId,
    participant_id: &ParticipantId,
) -> Result<(), ServiceError> {
    sessions::revoke_where(s.store.as_ref(), |session| {
        sessions::pupil_seat_matches(session, |seat| {
            seat.lesson_id == lesson_id && seat.participant_id == participant_id
        })
    })?;
    s.grants.revoke(
        &Revocation::Participant {
            lesson_id: lesson_id.clone(),
            participant_id: participant_id.clone(),
        },
        Ended::Removed,
    );
    super::media::end_talk_of(s, lesson_id, participant_id);
    s.presence.publish(lesson_id, LessonEvent::PresenceChanged);
    Ok(())
}

/// The lesson's presence list with each pupil's private thread named.
pub fn presence(s: &Services, lesson: &Lesson) -> Result<Vec<PresenceEntry>, ServiceError> {
    let mut list = presence_list(s.store.as_ref(), &s.presence, lesson)?;
    for entry in &mut list {
        entry.thread = ThreadId::private(&lesson.id, &entry.id, &lesson.class_id).to_string();
    }
    Ok(list)
}

/// A lesson as its teacher sees it: the lesson and its class's name.
pub struct LessonView {
    pub lesson: Lesson,
    pub class_name: String,
    pub active: bool,
    /// The paired box the lesson's class came from (by its name): that box's stream of the
    /// lesson is relayed here, so the projector can show the other room.
    pub relayed_from: Option<String>,
}

fn view(s: &Services, lesson: Lesson) -> Result<LessonView, ServiceError> {
    let store = s.store.as_ref();
    let class = classes::get(store, &lesson.class_id)?;
    let relayed_from = pairs::origin_of(store, &lesson.class_id)?.map(|paired| paired.name);
    Ok(LessonView {
        active: lesson.is_active(s.clock.now_ms()),
        class_name: class.name,
        lesson,
        relayed_from,
    })
}

/// The teacher starts a lesson of their class (or gets the one already running).
pub fn start(
    s: &Services,
    who: &Who,
    class_id: &ClassId,
    lesson_hours: u32,
) -> Result<LessonView, ServiceError> {
    let class = access::own_class(s, who, class_id)?;
    let lesson = lesson::start(s.store.as_ref(), s.clock.as_ref(), &class, lesson_hours)?;
    tracing::info!(lesson_id = %lesson.id, class_id = %class.id, "lesson started");
    view(s, lesson)
}

/// The teacher's running lessons.
pub fn running(s: &Services, who: &Who) -> Result<Vec<LessonView>, ServiceError> {
    let Who::Teacher { teacher_id } = who else {
        return Err(ServiceError::Forbidden);
    };
    lesson::active_for_teacher(s.store.as_ref(), teacher_id, s.clock.now_ms())?
        .into_iter()
        .map(|l| view(s, l))
        .collect()
}

/// How many lessons run on the box now (for /metrics).
pub fn count_running(s: &Services) -> Result<usize, ServiceError> {
    Ok(lesson::count_active(s.store.as_ref(), s.clock.now_ms())?)
}

/// One of the teacher's lessons.
pub fn own(s: &Services, who: &Who, lesson_id: &LessonId) -> Result<LessonView, ServiceError> {
    view(s, access::own_lesson(s, who, lesson_id)?)
}

/// A pupil signed into their seat: the session to set, and what the page shows first.
pub struct Seated {
    pub token: SessionToken,
    pub lifetime_ms: u64,
    pub participant: Participant,
    pub lesson_id: LessonId,
}

/// A guest joins a running lesson by its code and a name. A name that matches a pupil on the
/// class list (in full, or a first name only one pupil has) is refused with that pupil's
/// name, so the page can ask "is that you?" and send them to their card — the teacher never
/// sees two people they cannot tell apart — unless the guest said they are someone else.
pub fn join_by_code(
    s: &Services,
    code: &str,
    name: &str,
    at_home: bool,
    max_pupils: usize,
    not_on_class_list: bool,
) -> Result<Seated, ServiceError> {
    let lesson = lesson::by_code(s.store.as_ref(), code, s.clock.now_ms())?;
    if !not_on_class_list {
        let roster = classes::roster(s.store.as_ref(), &lesson.class_id)?;
        if let Some(pupil) = on_class_list(&roster, name) {
            return Err(ServiceError::OnClassList(pupil.name.clone()));
        }
    }
    let participant = lesson::join_guest(
        s.store.as_ref(),
        s.clock.as_ref(),
        &lesson,
        name,
        at_home,
        max_pupils,
    )?;
    seat(s, &lesson, participant)
}

/// The pupil on the class list a typed name means: the same name, or a first name that only
/// one pupil has (case, spacing and look-alike letters aside: "Аda" with a Cyrillic "А" is
/// Ada).
fn on_class_list<'a>(roster: &'a [classes::Pupil], typed: &str) -> Option<&'a classes::Pupil> {
    let norm = validate::looks_like;
    let typed = norm(typed);
    if typed.is_empty() {
        return None;
    }
    if let Some(same) = roster.iter().find(|p| norm(&p.name) == typed) {
        return Some(same);
    }
    let mut by_first = roster
        .iter()
        .filter(|p| norm(&p.name).split(' ').next() == Some(typed.as_str()));
    match (by_first.next(), by_first.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// A pupil on the class list joins with the lesson's code, their name and the code printed on
/// their card (a device without a camera): as their card would sign them in. A name that is
/// nobody's on the class list, or a code that is not that pupil's card's, is `invalid_card`.
pub fn join_by_card_code(
    s: &Services,
    code: &str,
    name: &str,
    card_code: &str,
    at_home: bool,
) -> Result<Seated, ServiceError> {
    let lesson = lesson::by_code(s.store.as_ref(), code, s.clock.now_ms())?;
    let roster = classes::roster(s.store.as_ref(), &lesson.class_id)?;
    let pupil = on_class_list(&roster, name)
        .filter(|pupil| classes::card_code_matches(pupil, card_code))
        .ok_or(ServiceError::InvalidCard)?;
    seat_rostered(s, &lesson, pupil, at_home)
}

/// A pupil on the class list signs in with their card, into the class's running lesson.
pub fn join_by_card(s: &Services, secret: &str, at_home: bool) -> Result<Seated, ServiceError> {
    let pupil = classes::pupil_by_card(s.store.as_ref(), secret)?;
    let lesson = lesson::active_for_class(s.store.as_ref(), &pupil.class_id, s.clock.now_ms())?
        .ok_or(ServiceError::NoActiveLesson)?;
    seat_rostered(s, &lesson, &pupil, at_home)
}

/// Seats a pupil of the class list in the lesson, as their card does.
fn seat_rostered(
    s: &Services,
    lesson: &Lesson,
    pupil: &classes::Pupil,
    at_home: bool,
) -> Result<Seated, ServiceError> {
    // "I am at home today" in the pupil's profile counts as ticking "at home" on the join page.
    let at_home = at_home || pupil.profile.as_of(s.clock.now_ms()).at_home_today;
    let participant =
        lesson::join_rostered(s.store.as_ref(), s.clock.as_ref(), lesson, pupil, at_home)?;
    seat(s, lesson, participant)
}

/// Seats a participant: hand-outs made before they came are copied for them, a session lasts
/// as long as the lesson, and the teacher's list updates.
fn seat(s: &Services, lesson: &Lesson, participant: Participant) -> Result<Seated, ServiceError> {
    copies::catch_up_newcomer(
        s.store.as_ref(),
        &lesson.id,
        &participant.id,
        s.clock.now_ms(),
    )?;
    let lifetime_ms = lesson.expires_ms.saturating_sub(s.clock.now_ms());
    let who = Who::Pupil(Seat {
        participant_id: participant.id.clone(),
        lesson_id: lesson.id.clone(),
        class_id: lesson.class_id.clone(),
        at_home: participant.at_home,
    });
    let token = session_service::start(s, who, lifetime_ms)?;
    s.presence.publish(&lesson.id, LessonEvent::PresenceChanged);
    Ok(Seated {
        token,
        lifetime_ms,
        participant,
        lesson_id: lesson.id.clone(),
    })
}

/// The teacher asks for a one-time classroom camera link for their running lesson: its token
/// and when it expires.
pub fn camera_link(
    s: &Services,
    who: &Who,
    lesson_id: &LessonId,
) -> Result<(String, u64), ServiceError> {
    let lesson = access::running_lesson(s, who, Some(lesson_id))?;
    Ok(camera::issue(s.store.as_ref(), s.clock.as_ref(), &lesson)?)
}

/// A device uses a camera link: it gets a session as the lesson's classroom camera until the
/// lesson ends. Returns the session token, its lifetime and the lesson id.
pub fn pair_camera(
    s: &Services,
    token: &str,
) -> Result<(SessionToken, u64, LessonId), ServiceError> {
    let lesson = camera::redeem(s.store.as_ref(), s.clock.as_ref(), token)?;
    let lifetime_ms = lesson.expires_ms.saturating_sub(s.clock.now_ms());
    let who = Who::Camera {
        lesson_id: lesson.id.clone(),
        teacher_id: lesson.teacher_id.clone(),
    };
    let session = session_service::start(s, who, lifetime_ms)?;
    tracing::info!(lesson_id = %lesson.id, "classroom camera paired");
    Ok((session, lifetime_ms, lesson.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster(names: &[&str]) -> Vec<classes::Pupil> {
        names
            .iter()
            .enumerate()
            .map(|(i, name)| classes::Pupil {
                id: format!("p{i}").as_str().into(),
                class_id: "c".into(),
                name: name.to_string(),
                card_secret: String::new(),
                created_ms: 0,
                profile: Default::default(),
            })
            .collect()
    }

    #[test]
    fn a_typed_name_means_a_pupil_on_the_list_only_when_it_is_plain_which() {
        let list = roster(&["Ola Hansen", "Ola Berg", "Sara Lie"]);
        let found = |typed: &str| on_class_list(&list, typed).map(|p| p.name.as_str());
        assert_eq!(found("  ola   hansen "), Some("Ola Hansen"));
        assert_eq!(found("Sara"), Some("Sara Lie"), "the only Sara");
        assert_eq!(found("Ola"), None, "two Olas: the page cannot tell which");
        assert_eq!(found("Per"), None);
        assert_eq!(found(""), None);
    }
}
