//! Teacher accounts: the first setup, invitations, signing in, and who someone is.

use super::{sessions as session_service, Services};
use crate::auth::devices;
use crate::auth::sessions::{SessionToken, TEACHER_SESSION_MS};
use crate::auth::teachers::{self, SetupToken, Teacher, TokenKind};
use crate::auth::{can, Action, Seat, Who};
use crate::error::ServiceError;
use crate::ids::LessonId;
use crate::lessons::lesson::Participant;
use crate::lessons::{classes, lesson};
use crate::profile::Settings;
use crate::validate::{self, invalid};

/// The languages the web client speaks (a teacher's choice is kept on the box).
pub use crate::i18n::LANGUAGES;

/// A teacher signed in: the session token for the cookie and how long it lasts.
pub struct SignedIn {
    pub teacher: Teacher,
    pub token: SessionToken,
    pub lifetime_ms: u64,
    /// For the device's own cookie: this device is now one the teacher signed in on.
    pub device: String,
}

fn signed_in(s: &Services, teacher: Teacher) -> Result<SignedIn, ServiceError> {
    let who = Who::Teacher {
        teacher_id: teacher.id.clone(),
    };
    let token = session_service::start(s, who, TEACHER_SESSION_MS)?;
    let device = devices::remember(s.store.as_ref(), &teacher.id, s.clock.now_ms())?;
    Ok(SignedIn {
        teacher,
        token,
        lifetime_ms: TEACHER_SESSION_MS,
        device,
    })
}

/// Whether the caller's device (its cookie's `token`) is one the teacher called `name` signed
/// in on before: her sign-in from it is not slowed by strangers' guesses at her name.
pub fn is_known_device(s: &Services, name: &str, token: Option<&str>) -> bool {
    let Some(token) = token else {
        return false;
    };
    let store = s.store.as_ref();
    match teachers::id_by_name(store, name) {
        Ok(Some(id)) => devices::is_known(store, &id, token, s.clock.now_ms()).unwrap_or(false),
        _ => false,
    }
}

/// What a setup link is for, without using it up.
pub fn setup_link(s: &Services, token: &str) -> Result<SetupToken, ServiceError> {
    Ok(teachers::peek_setup_token(
        s.store.as_ref(),
        s.clock.as_ref(),
        token,
    )?)
}

/// A setup link becomes an account, signed in. Slow (argon2): call it off the async threads.
pub fn set_up(
    s: &Services,
    token: &str,
    name: &str,
    password: &str,
) -> Result<SignedIn, ServiceError> {
    let teacher =
        teachers::redeem_setup_token(s.store.as_ref(), s.clock.as_ref(), token, name, password)?;
    tracing::info!(teacher_id = %teacher.id, "teacher account created");
    signed_in(s, teacher)
}

/// Name and password sign a teacher in. Slow (argon2): call it off the async threads.
pub fn sign_in(s: &Services, name: &str, password: &str) -> Result<SignedIn, ServiceError> {
    let teacher = teachers::verify_login(s.store.as_ref(), name, password)?;
    signed_in(s, teacher)
}

/// A teacher invites a colleague: a one-time setup link's token.
pub fn invite(s: &Services, who: &Who, name: Option<&str>) -> Result<String, ServiceError> {
    if !can(who, Action::InviteTeacher) {
        return Err(ServiceError::Forbidden);
    }
    let name = name
        .map(|n| validate::person_name("name", n, validate::PERSON_NAME_MAX))
        .transpose()?;
    Ok(teachers::issue_setup_token(
        s.store.as_ref(),
        s.clock.as_ref(),
        TokenKind::Invite,
        name,
    )?)
}

/// Every teacher on the box (for a teacher).
pub fn colleagues(s: &Services, who: &Who) -> Result<Vec<Teacher>, ServiceError> {
    match who {
        Who::Teacher { .. } => Ok(teachers::list(s.store.as_ref())?),
        Who::Nobody => Err(ServiceError::Unauthenticated),
        _ => Err(ServiceError::Forbidden),
    }
}

/// Remembers a teacher's language.
pub fn set_lang(s: &Services, who: &Who, lang: &str) -> Result<(), ServiceError> {
    let Who::Teacher { teacher_id } = who else {
        return Err(ServiceError::Forbidden);
    };
    if !LANGUAGES.contains(&lang) {
        return Err(invalid("lang", "is not a supported language").into());
    }
    Ok(teachers::set_lang(s.store.as_ref(), teacher_id, lang)?)
}

/// Who the caller is, as the web client shows it first.
pub enum Me {
    Nobody {
        needs_setup: bool,
    },
    Teacher(Teacher),
    Pupil {
        seat: Seat,
        participant: Participant,
        class_name: String,
        /// A pupil on the class list: their own settings (a guest has none on the box).
        profile: Option<Settings>,
    },
    Camera {
        lesson_id: LessonId,
        class_name: String,
    },
}

pub fn me(s: &Services, who: &Who) -> Result<Me, ServiceError> {
    let store = s.store.as_ref();
    Ok(match who {
        Who::Nobody => Me::Nobody {
            needs_setup: !teachers::any_exists(store)?,
        },
        // Paired boxes speak only on the sync listener.
        Who::PairedBox { .. } => return Err(ServiceError::Forbidden),
        Who::Teacher { teacher_id } => {
            Me::Teacher(teachers::get(store, teacher_id)?.ok_or(ServiceError::Unauthenticated)?)
        }
        Who::Pupil(seat) => Me::Pupil {
            participant: lesson::get_participant(store, &seat.lesson_id, &seat.participant_id)?,
            class_name: classes::get(store, &seat.class_id)?.name,
            // A guest has none on the box (their page keeps theirs).
            profile: super::profile::own_profile(s, who).ok(),
            seat: seat.clone(),
        },
        Who::Camera { lesson_id, .. } => {
            let lesson = lesson::get(store, lesson_id)?;
            Me::Camera {
                class_name: classes::get(store, &lesson.class_id)?.name,
                lesson_id: lesson.id,
            }
        }
    })
}
