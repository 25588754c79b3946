//! Classes and their lists: making a class, adding pupils, a new login card (which ends what
//! the old card's sign-ins hold, at once). Deleting a pupil is `privacy::forget_pupil`.

use super::{access, Services};
use crate::auth::grants::{Ended, Revocation};
use crate::auth::sessions;
use crate::auth::{can, Action, Who};
use crate::error::ServiceError;
use crate::ids::{ClassId, ParticipantId, PupilId};
use crate::lessons::classes::{self, Class, Pupil};
use crate::lessons::lesson::{self, Lesson};

/// A lost or seen card is replaced: the old card stops working, every session made with it
/// ends and every connection of those sessions closes with 4005. The pupil signs in again
/// with the new card.
pub fn reissue_card(
    s: &Services,
    who: &Who,
    class_id: &ClassId,
    pupil_id: &PupilId,
) -> Result<Pupil, ServiceError> {
    let class = access::own_class(s, who, class_id)?;
    let pupil = classes::reissue_card(s.store.as_ref(), &class.id, pupil_id)?;
    end_sign_ins(s, &class.id, &pupil.id, Ended::CardReissued)?;
    tracing::info!(class_id = %class.id, "login card reissued");
    Ok(pupil)
}

/// Ends every session a rostered pupil holds in any lesson of the class, and the connections
/// they opened.
fn end_sign_ins(
    s: &Services,
    class_id: &ClassId,
    pupil_id: &PupilId,
    why: Ended,
) -> Result<(), ServiceError> {
    let participant = ParticipantId::rostered(pupil_id);
    sessions::revoke_where(s.store.as_ref(), |session| {
        sessions::pupil_seat_matches(session, |seat| {
            seat.class_id == class_id && seat.participant_id == participant
        })
    })?;
    s.grants.revoke(
        &Revocation::ParticipantInClass {
            class_id: class_id.clone(),
            participant_id: participant.clone(),
        },
        why,
    );
    Ok(())
}

/// A class as its teacher sees it: its class list and the lesson running now, if any.
pub struct ClassView {
    pub class: Class,
    pub pupils: Vec<Pupil>,
    pub running: Option<Lesson>,
    /// Lessons that are over, the latest first: their documents stay the teacher's to read
    /// and download.
    pub past: Vec<Lesson>,
}

/// One of the teacher's classes, with its list and running lesson.
pub fn class(s: &Services, who: &Who, class_id: &ClassId) -> Result<ClassView, ServiceError> {
    let class = access::own_class(s, who, class_id)?;
    view(s, class)
}

fn view(s: &Services, class: Class) -> Result<ClassView, ServiceError> {
    let pupils = classes::roster(s.store.as_ref(), &class.id)?;
    Ok(ClassView {
        pupils: pupils.into_iter().map(|p| as_of_now(s, p)).collect(),
        running: lesson::active_for_class(s.store.as_ref(), &class.id, s.clock.now_ms())?,
        past: lesson::past_for_class(s.store.as_ref(), &class.id, s.clock.now_ms())?,
        class,
    })
}

/// The teacher's classes.
pub fn classes_of(s: &Services, who: &Who) -> Result<Vec<Class>, ServiceError> {
    let Who::Teacher { teacher_id } = who else {
        return Err(ServiceError::Forbidden);
    };
    Ok(classes::list_for_teacher(s.store.as_ref(), teacher_id)?)
}

/// A teacher makes a class, with a class list from the start if they like.
pub fn create_class(
    s: &Services,
    who: &Who,
    name: &str,
    pupils: &[String],
) -> Result<ClassView, ServiceError> {
    let (Who::Teacher { teacher_id }, true) = (who, can(who, Action::CreateClass)) else {
        return Err(ServiceError::Forbidden);
    };
    let (class, _) = classes::create(s.store.as_ref(), s.clock.as_ref(), teacher_id, name, pupils)?;
    view(s, class)
}

/// The teacher adds pupils to the class list (each gets a card).
pub fn add_pupils(
    s: &Services,
    who: &Who,
    class_id: &ClassId,
    names: &[String],
) -> Result<ClassView, ServiceError> {
    let class = access::own_class(s, who, class_id)?;
    classes::add_pupils(s.store.as_ref(), s.clock.as_ref(), &class.id, names)?;
    view(s, class)
}

/// One pupil of the teacher's class (for their card).
pub fn pupil(
    s: &Services,
    who: &Who,
    class_id: &ClassId,
    pupil_id: &PupilId,
) -> Result<Pupil, ServiceError> {
    let class = access::own_class(s, who, class_id)?;
    let pupil = classes::get_pupil(s.store.as_ref(), &class.id, pupil_id)?;
    Ok(as_of_now(s, pupil))
}

/// The pupil with their profile as it holds now ("at home today" lapses overnight).
fn as_of_now(s: &Services, mut pupil: Pupil) -> Pupil {
    pupil.profile.settings = pupil.profile.as_of(s.clock.now_ms());
    pupil
}
