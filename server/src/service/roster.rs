//! A class's pupils: a new login card, and deleting a pupil from the class list. Both end what
//! the pupil's old sign-ins hold, at once.

use super::{access, lessons, Services};
use crate::auth::grants::{Ended, Revocation};
use crate::auth::sessions;
use crate::auth::Who;
use crate::error::ApiError;
use crate::ids::ParticipantId;
use crate::lessons::classes::{self, Pupil};
use crate::lessons::lesson;

/// A lost or seen card is replaced: the old card stops working, every session made with it
/// ends and every connection of those sessions closes with 4005. The pupil signs in again
/// with the new card.
pub fn reissue_card(
    s: &Services,
    who: &Who,
    class_id: &str,
    pupil_id: &str,
) -> Result<Pupil, ApiError> {
    let class = access::own_class(s, who, class_id)?;
    let pupil = classes::reissue_card(s.store.as_ref(), &class.id, pupil_id)?;
    end_sign_ins(s, &class.id, &pupil.id, Ended::CardReissued)?;
    tracing::info!(class_id = %class.id, "login card reissued");
    Ok(pupil)
}

/// The teacher deletes a pupil from the class list: the card stops working, the pupil leaves
/// the class's running lesson, their sessions end and their connections close with 4002.
pub fn remove_pupil(
    s: &Services,
    who: &Who,
    class_id: &str,
    pupil_id: &str,
) -> Result<(), ApiError> {
    let class = access::own_class(s, who, class_id)?;
    classes::remove_pupil(s.store.as_ref(), &class.id, pupil_id)?;
    let participant = ParticipantId::rostered(pupil_id);
    if let Some(running) = lesson::active_for_class(s.store.as_ref(), &class.id, s.clock.now_ms())?
    {
        if lesson::get_participant(s.store.as_ref(), &running.id, participant.as_str()).is_ok() {
            lesson::remove_participant(s.store.as_ref(), &running.id, participant.as_str())?;
            lessons::withdraw_participant(s, &running.id, participant.as_str())?;
        }
    }
    end_sign_ins(s, &class.id, pupil_id, Ended::Removed)
}

/// Ends every session a rostered pupil holds in any lesson of the class, and the connections
/// they opened.
fn end_sign_ins(s: &Services, class_id: &str, pupil_id: &str, why: Ended) -> Result<(), ApiError> {
    let participant = ParticipantId::rostered(pupil_id);
    sessions::revoke_where(s.store.as_ref(), |session| {
        sessions::pupil_seat_matches(session, |seat| {
            seat.class_id == class_id && seat.participant_id == participant.as_str()
        })
    })?;
    s.grants.revoke(
        &Revocation::ParticipantInClass {
            class_id: class_id.to_string(),
            participant_id: participant.as_str().to_string(),
        },
        why,
    );
    Ok(())
}
