//! Classroom camera links: the teacher shows a one-time link (as a QR code) and a second device
//! (a phone on a stand, the classroom PC) that opens it becomes the lesson's camera, without
//! the teacher typing a password on it. Only the link's hash is stored, as for sessions.

use serde::{Deserialize, Serialize};

use super::lesson::{self, Lesson};
use super::LessonError;
use crate::auth::tokens::{hash_token, random_token};
use crate::clock::Clock;
use crate::ids::LessonId;
use crate::store::{Store, StoreExt, Tree};

/// Long enough to walk to the stand and scan; short enough that a photo of the projector
/// taken later is useless.
pub const LINK_LIFETIME_MS: u64 = 10 * 60 * 1000;

/// Longest token a client may send; real ones are 43 characters.
const MAX_TOKEN_CHARS: usize = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CameraLink {
    lesson_id: LessonId,
    expires_ms: u64,
}

fn link_key(token: &str) -> String {
    format!("camera/{}", hash_token(token))
}

/// A new link token for `lesson`, and when it stops working. Expired links are swept here.
pub fn issue(
    store: &dyn Store,
    clock: &dyn Clock,
    lesson: &Lesson,
) -> Result<(String, u64), LessonError> {
    let now = clock.now_ms();
    for (key, value) in store.scan_prefix(Tree::Lessons, b"camera/")? {
        let expired =
            serde_json::from_slice::<CameraLink>(&value).map_or(true, |l| l.expires_ms <= now);
        if expired {
            store.take(Tree::Lessons, &key)?;
        }
    }
    let token = random_token(32);
    let expires_ms = now + LINK_LIFETIME_MS;
    let link = CameraLink {
        lesson_id: lesson.id.clone(),
        expires_ms,
    };
    store.put_json(Tree::Lessons, &link_key(&token), &link)?;
    Ok((token, expires_ms))
}

/// Uses a link: it works once, before it expires, while its lesson runs. Taking it is atomic,
/// so two devices racing with one link make one camera.
pub fn redeem(store: &dyn Store, clock: &dyn Clock, token: &str) -> Result<Lesson, LessonError> {
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return Err(LessonError::InvalidLink);
    }
    let link: CameraLink = store
        .take_json(Tree::Lessons, &link_key(token))?
        .ok_or(LessonError::InvalidLink)?;
    let now = clock.now_ms();
    if link.expires_ms <= now {
        return Err(LessonError::InvalidLink);
    }
    let lesson = lesson::get(store, &link.lesson_id)?;
    if !lesson.is_active(now) {
        return Err(LessonError::Ended);
    }
    Ok(lesson)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::lessons::classes::Class;
    use crate::store::MemoryStore;

    fn running_lesson(store: &MemoryStore, clock: &ManualClock) -> Lesson {
        let class = Class {
            id: "c1".into(),
            teacher_id: "t1".into(),
            name: "7B".into(),
            created_ms: 0,
        };
        lesson::start(store, clock, &class, 2).unwrap()
    }

    #[test]
    fn a_link_works_once() {
        let (store, clock) = (MemoryStore::new(), ManualClock::new());
        let lesson = running_lesson(&store, &clock);
        let (token, _) = issue(&store, &clock, &lesson).unwrap();
        assert_eq!(redeem(&store, &clock, &token).unwrap().id, lesson.id);
        assert!(matches!(
            redeem(&store, &clock, &token),
            Err(LessonError::InvalidLink)
        ));
        assert!(matches!(
            redeem(&store, &clock, &"x".repeat(500)),
            Err(LessonError::InvalidLink)
        ));
    }

    #[test]
    fn links_expire_and_are_swept() {
        let (store, clock) = (MemoryStore::new(), ManualClock::new());
        let lesson = running_lesson(&store, &clock);
        let (old, _) = issue(&store, &clock, &lesson).unwrap();
        clock.advance(LINK_LIFETIME_MS);
        assert!(matches!(
            redeem(&store, &clock, &old),
            Err(LessonError::InvalidLink)
        ));
        let (_, _) = issue(&store, &clock, &lesson).unwrap();
        clock.advance(LINK_LIFETIME_MS);
        issue(&store, &clock, &lesson).unwrap();
        let kept = store.scan_prefix(Tree::Lessons, b"camera/").unwrap();
        assert_eq!(kept.len(), 1, "expired links are swept");
    }

    #[test]
    fn a_link_of_an_ended_lesson_does_not_work() {
        let (store, clock) = (MemoryStore::new(), ManualClock::new());
        let lesson = running_lesson(&store, &clock);
        let (token, _) = issue(&store, &clock, &lesson).unwrap();
        lesson::end(&store, &clock, &lesson).unwrap();
        assert!(matches!(
            redeem(&store, &clock, &token),
            Err(LessonError::Ended)
        ));
    }
}
