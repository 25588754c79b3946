//! A person's own settings ("my settings"): a pupil on a class list keeps theirs with their
//! class-list entry, a teacher with their account. A guest has none on the box (their page
//! keeps them in the browser); a classroom camera has none.

use super::{access, Services};
use crate::auth::{can, teachers, Action, Who};
use crate::error::ServiceError;
use crate::ids::ParticipantId;
use crate::lessons::classes::{self, Pupil};
use crate::profile::{Profile, Settings};

/// The caller's own settings as they hold now.
pub fn own_profile(s: &Services, who: &Who) -> Result<Settings, ServiceError> {
    if let Who::Teacher { teacher_id } = who {
        let teacher =
            teachers::get(s.store.as_ref(), teacher_id)?.ok_or(ServiceError::Unauthenticated)?;
        return Ok(teacher.settings());
    }
    Ok(own_pupil(s, who)?.profile.as_of(s.clock.now_ms()))
}

/// Keeps the caller's own settings on the box, so they follow them to another device.
pub fn set_own_profile(
    s: &Services,
    who: &Who,
    settings: Settings,
) -> Result<Settings, ServiceError> {
    let settings = settings.validated()?;
    let now_ms = s.clock.now_ms();
    if let Who::Teacher { teacher_id } = who {
        // "At home today" is a pupil's: a teacher's is never set.
        let settings = Settings {
            at_home_today: false,
            ..settings
        };
        let profile = Profile::saved_at(settings, now_ms);
        let teacher = teachers::set_profile(s.store.as_ref(), teacher_id, profile)?
            .ok_or(ServiceError::Unauthenticated)?;
        tracing::info!("teacher profile saved");
        return Ok(teacher.settings());
    }
    let pupil = own_pupil(s, who)?;
    let pupil = classes::set_profile(
        s.store.as_ref(),
        &pupil.class_id,
        &pupil.id,
        Profile::saved_at(settings, now_ms),
    )?;
    tracing::info!(class_id = %pupil.class_id, "pupil profile saved");
    Ok(pupil.profile.as_of(now_ms))
}

/// The class-list entry of the pupil `who` is, if `who` may see and change it.
fn own_pupil(s: &Services, who: &Who) -> Result<Pupil, ServiceError> {
    let (class_id, pupil_id) = access::own_pupil_id(who)?;
    let participant = ParticipantId::rostered(&pupil_id);
    if !can(
        who,
        Action::OwnData {
            class_id: &class_id,
            participant_id: &participant,
        },
    ) {
        return Err(ServiceError::Forbidden);
    }
    Ok(classes::get_pupil(s.store.as_ref(), &class_id, &pupil_id)?)
}
