//! Lessons: started by a teacher for a class, joined with a short code, ended by the teacher
//! (or by themselves after `lesson_hours`).

use crate::ids::{ClassId, LessonId, ParticipantId, PupilId, TeacherId};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::classes::{Class, Pupil};
use super::LessonError;
use crate::clock::{Clock, HOUR_MS};
use crate::store::{encode, Store, StoreExt, Tree};
use crate::validate;

/// Join-code letters: no 0/O, 1/I/L, 2/Z, 5/S, 8/B, so a code read off a projector is typed right.
pub const CODE_ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTUVWXY34679";
pub const CODE_LEN: usize = 6;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lesson {
    pub id: LessonId,
    pub class_id: ClassId,
    pub teacher_id: TeacherId,
    pub code: String,
    pub started_ms: u64,
    pub expires_ms: u64,
    pub ended_ms: Option<u64>,
    /// The end-of-lesson work (automatic versions of its documents) is done.
    #[serde(default)]
    pub wrapped_up: bool,
}

impl Lesson {
    pub fn is_active(&self, now_ms: u64) -> bool {
        self.ended_ms.is_none() && now_ms < self.expires_ms
    }
}

/// Someone taking part in a lesson: a rostered pupil (signed in with a card) or a guest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Participant {
    pub id: ParticipantId,
    pub lesson_id: LessonId,
    pub name: String,
    /// The roster entry, for pupils who signed in with their card.
    pub pupil_id: Option<PupilId>,
    pub at_home: bool,
    pub joined_ms: u64,
}

pub(super) fn lesson_key(id: &str) -> String {
    format!("lesson/{id}")
}

pub(super) fn code_key(code: &str) -> String {
    format!("code/{code}")
}

pub(super) fn participant_key(lesson_id: &str, participant_id: &str) -> String {
    format!("part/{lesson_id}/{participant_id}")
}

/// Marks a participant the teacher removed, so their card does not bring them back this lesson.
pub(super) fn removed_key(lesson_id: &str, participant_id: &str) -> String {
    format!("removed/{lesson_id}/{participant_id}")
}

/// Upper-cases and drops spaces and dashes, so "abc-def" and "ABC DEF" both work.
pub fn normalize_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn random_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// Starts a lesson for the class, or returns the one already running (pressing "start" twice
/// must not split a class over two codes).
pub fn start(
    store: &dyn Store,
    clock: &dyn Clock,
    class: &Class,
    lesson_hours: u32,
) -> Result<Lesson, LessonError> {
    let now = clock.now_ms();
    if let Some(running) = active_for_class(store, &class.id, now)? {
        return Ok(running);
    }
    let id = LessonId::random();
    // Codes are never reused, so an old code always answers "ended", never another lesson.
    let code = loop {
        let code = random_code();
        if store.insert_if_absent(Tree::Lessons, code_key(&code).as_bytes(), id.as_bytes())? {
            break code;
        }
    };
    let lesson = Lesson {
        id,
        class_id: class.id.clone(),
        teacher_id: class.teacher_id.clone(),
        code,
        started_ms: now,
        expires_ms: now + u64::from(lesson_hours) * HOUR_MS,
        ended_ms: None,
        wrapped_up: false,
    };
    store.put(
        Tree::Lessons,
        lesson_key(&lesson.id).as_bytes(),
        &encode(&lesson)?,
    )?;
    store.flush()?;
    Ok(lesson)
}

/// Takes in a lesson a paired box sent, as `teacher_id`'s here. Its join code works here too
/// (pupils in the other room of a split class join it on this box and watch the stream it
/// relays), unless this box already gave the code to a lesson of its own. Returns the lesson if
/// it ended there while it ran here: it is ended here now, and the caller closes it.
pub fn take_copy(
    store: &dyn Store,
    lesson: &Lesson,
    teacher_id: &TeacherId,
) -> Result<Option<Lesson>, LessonError> {
    let key = lesson_key(&lesson.id);
    match store.get_json::<Lesson>(Tree::Lessons, &key)? {
        None => {
            let copy = Lesson {
                teacher_id: teacher_id.clone(),
                ..lesson.clone()
            };
            let code = normalize_code(&lesson.code);
            if code.len() == CODE_LEN {
                store.insert_if_absent(
                    Tree::Lessons,
                    code_key(&code).as_bytes(),
                    lesson.id.as_bytes(),
                )?;
            }
            store.put_json(Tree::Lessons, &key, &copy)?;
            Ok(None)
        }
        Some(mut here) if here.ended_ms.is_none() && lesson.ended_ms.is_some() => {
            here.ended_ms = lesson.ended_ms;
            store.put_json(Tree::Lessons, &key, &here)?;
            Ok(Some(here))
        }
        Some(_) => Ok(None),
    }
}

pub fn get(store: &dyn Store, id: &str) -> Result<Lesson, LessonError> {
    store
        .get_json(Tree::Lessons, &lesson_key(id))?
        .ok_or(LessonError::NotFound)
}

fn all(store: &dyn Store) -> Result<Vec<Lesson>, LessonError> {
    Ok(store.scan_json(Tree::Lessons, "lesson/")?)
}

/// Every lesson a class has had, running or over.
pub fn of_class(store: &dyn Store, class_id: &ClassId) -> Result<Vec<Lesson>, LessonError> {
    Ok(all(store)?
        .into_iter()
        .filter(|l| l.class_id == class_id)
        .collect())
}

/// Lessons that ended before `before_ms` (by the teacher, or when their time ran out).
pub fn over_before(store: &dyn Store, before_ms: u64) -> Result<Vec<Lesson>, LessonError> {
    Ok(all(store)?
        .into_iter()
        .filter(|l| l.ended_ms.unwrap_or(l.expires_ms) < before_ms)
        .collect())
}

/// A class's lessons that are over, the latest first.
pub fn past_for_class(
    store: &dyn Store,
    class_id: &ClassId,
    now_ms: u64,
) -> Result<Vec<Lesson>, LessonError> {
    let mut past: Vec<Lesson> = all(store)?
        .into_iter()
        .filter(|l| l.class_id == class_id && !l.is_active(now_ms))
        .collect();
    past.sort_by_key(|l| std::cmp::Reverse(l.started_ms));
    Ok(past)
}

pub fn count_active(store: &dyn Store, now_ms: u64) -> Result<usize, LessonError> {
    Ok(all(store)?.iter().filter(|l| l.is_active(now_ms)).count())
}

pub fn active_for_class(
    store: &dyn Store,
    class_id: &ClassId,
    now_ms: u64,
) -> Result<Option<Lesson>, LessonError> {
    Ok(all(store)?
        .into_iter()
        .find(|l| l.class_id == class_id && l.is_active(now_ms)))
}

pub fn active_for_teacher(
    store: &dyn Store,
    teacher_id: &TeacherId,
    now_ms: u64,
) -> Result<Vec<Lesson>, LessonError> {
    let mut lessons: Vec<Lesson> = all(store)?
        .into_iter()
        .filter(|l| l.teacher_id == teacher_id && l.is_active(now_ms))
        .collect();
    lessons.sort_by_key(|l| l.started_ms);
    Ok(lessons)
}

/// The running lesson with this code; a code of a finished lesson says so.
pub fn by_code(store: &dyn Store, raw_code: &str, now_ms: u64) -> Result<Lesson, LessonError> {
    let code = normalize_code(raw_code);
    if code.len() != CODE_LEN {
        return Err(LessonError::WrongCode);
    }
    let id = store
        .get(Tree::Lessons, code_key(&code).as_bytes())?
        .ok_or(LessonError::WrongCode)?;
    let lesson = get(store, &String::from_utf8_lossy(&id)).map_err(|_| LessonError::WrongCode)?;
    if lesson.is_active(now_ms) {
        Ok(lesson)
    } else {
        Err(LessonError::Ended)
    }
}

pub fn participants(
    store: &dyn Store,
    lesson_id: &LessonId,
) -> Result<Vec<Participant>, LessonError> {
    let mut list: Vec<Participant> =
        store.scan_json(Tree::Lessons, &format!("part/{lesson_id}/"))?;
    list.sort_by_key(|p| p.joined_ms);
    Ok(list)
}

pub fn get_participant(
    store: &dyn Store,
    lesson_id: &LessonId,
    participant_id: &ParticipantId,
) -> Result<Participant, LessonError> {
    store
        .get_json(Tree::Lessons, &participant_key(lesson_id, participant_id))?
        .ok_or(LessonError::NotFound)
}

/// A guest joins with a code and a name they type.
pub fn join_guest(
    store: &dyn Store,
    clock: &dyn Clock,
    lesson: &Lesson,
    name: &str,
    at_home: bool,
    max_participants: usize,
) -> Result<Participant, LessonError> {
    let name = validate::person_name("name", name, validate::PERSON_NAME_MAX)?;
    let present = participants(store, &lesson.id)?;
    if present.len() >= max_participants {
        return Err(LessonError::Full);
    }
    // Strictly after everyone before, so the teacher's list keeps the order people came in.
    let after_last = present.last().map_or(0, |p| p.joined_ms + 1);
    let participant = Participant {
        id: ParticipantId::new_guest(),
        lesson_id: lesson.id.clone(),
        name,
        pupil_id: None,
        at_home,
        joined_ms: clock.now_ms().max(after_last),
    };
    save_participant(store, &participant)?;
    Ok(participant)
}

/// A rostered pupil joins with their card: always the same participant, so signing in again
/// (another device, a lost cookie) continues where they were.
pub fn join_rostered(
    store: &dyn Store,
    clock: &dyn Clock,
    lesson: &Lesson,
    pupil: &Pupil,
    at_home: bool,
) -> Result<Participant, LessonError> {
    let id = ParticipantId::rostered(&pupil.id);
    if store
        .get(Tree::Lessons, removed_key(&lesson.id, &id).as_bytes())?
        .is_some()
    {
        return Err(LessonError::Removed);
    }
    let joined_ms = get_participant(store, &lesson.id, &id)
        .map(|p| p.joined_ms)
        .unwrap_or_else(|_| clock.now_ms());
    let participant = Participant {
        id,
        lesson_id: lesson.id.clone(),
        name: pupil.name.clone(),
        pupil_id: Some(pupil.id.clone()),
        at_home,
        joined_ms,
    };
    save_participant(store, &participant)?;
    Ok(participant)
}

fn save_participant(store: &dyn Store, p: &Participant) -> Result<(), LessonError> {
    store.put_json(Tree::Lessons, &participant_key(&p.lesson_id, &p.id), p)?;
    Ok(())
}

pub fn remove_participant(
    store: &dyn Store,
    lesson_id: &LessonId,
    participant_id: &ParticipantId,
) -> Result<(), LessonError> {
    get_participant(store, lesson_id, participant_id)?;
    store.put(
        Tree::Lessons,
        removed_key(lesson_id, participant_id).as_bytes(),
        b"1",
    )?;
    store.delete(Tree::Lessons, &participant_key(lesson_id, participant_id))?;
    Ok(())
}

/// Lessons that are over (ended, or out of time) whose end-of-lesson work is not done yet.
pub fn needing_wrap_up(store: &dyn Store, now_ms: u64) -> Result<Vec<Lesson>, LessonError> {
    Ok(all(store)?
        .into_iter()
        .filter(|l| !l.is_active(now_ms) && !l.wrapped_up)
        .collect())
}

pub fn mark_wrapped_up(store: &dyn Store, lesson: &Lesson) -> Result<(), LessonError> {
    let mut done = get(store, &lesson.id)?;
    done.wrapped_up = true;
    store.put_json(Tree::Lessons, &lesson_key(&done.id), &done)?;
    store.flush()?;
    Ok(())
}

pub fn end(store: &dyn Store, clock: &dyn Clock, lesson: &Lesson) -> Result<Lesson, LessonError> {
    let mut ended = lesson.clone();
    ended.ended_ms.get_or_insert(clock.now_ms());
    store.put_json(Tree::Lessons, &lesson_key(&ended.id), &ended)?;
    store.flush()?;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::MemoryStore;

    fn class() -> Class {
        Class {
            id: "c1".into(),
            name: "7B".into(),
            teacher_id: "t1".into(),
            created_ms: 0,
        }
    }

    #[test]
    fn codes_use_only_unambiguous_letters_and_find_their_lesson() {
        let store = MemoryStore::new();
        let clock = ManualClock::new();
        let lesson = start(&store, &clock, &class(), 2).unwrap();
        assert_eq!(lesson.code.len(), CODE_LEN);
        assert!(lesson.code.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        let typed = format!(
            " {}-{} ",
            &lesson.code[..3].to_lowercase(),
            &lesson.code[3..]
        );
        assert_eq!(
            by_code(&store, &typed, clock.now_ms()).unwrap().id,
            lesson.id
        );
        assert!(matches!(
            by_code(&store, "ZZZZZZ", clock.now_ms()),
            Err(LessonError::WrongCode)
        ));
        assert!(matches!(
            by_code(&store, "", clock.now_ms()),
            Err(LessonError::WrongCode)
        ));
    }

    #[test]
    fn starting_twice_gives_the_running_lesson_and_lessons_expire() {
        let store = MemoryStore::new();
        let clock = ManualClock::new();
        let first = start(&store, &clock, &class(), 2).unwrap();
        assert_eq!(start(&store, &clock, &class(), 2).unwrap().id, first.id);
        clock.advance(2 * HOUR_MS);
        assert!(matches!(
            by_code(&store, &first.code, clock.now_ms()),
            Err(LessonError::Ended)
        ));
        assert_ne!(start(&store, &clock, &class(), 2).unwrap().id, first.id);
    }

    #[test]
    fn ended_lessons_refuse_their_code() {
        let store = MemoryStore::new();
        let clock = ManualClock::new();
        let lesson = start(&store, &clock, &class(), 2).unwrap();
        end(&store, &clock, &lesson).unwrap();
        assert!(matches!(
            by_code(&store, &lesson.code, clock.now_ms()),
            Err(LessonError::Ended)
        ));
    }

    #[test]
    fn a_removed_pupil_cannot_come_back_with_their_card() {
        let store = MemoryStore::new();
        let clock = ManualClock::new();
        let lesson = start(&store, &clock, &class(), 2).unwrap();
        let pupil = Pupil {
            id: "pu1".into(),
            class_id: "c1".into(),
            name: "Ada".into(),
            card_secret: "s".into(),
            created_ms: 0,
            profile: Default::default(),
        };
        let seat = join_rostered(&store, &clock, &lesson, &pupil, false).unwrap();
        remove_participant(&store, &lesson.id, &seat.id).unwrap();
        assert!(matches!(
            join_rostered(&store, &clock, &lesson, &pupil, false),
            Err(LessonError::Removed)
        ));
    }

    #[test]
    fn lessons_have_a_size_limit() {
        let store = MemoryStore::new();
        let clock = ManualClock::new();
        let lesson = start(&store, &clock, &class(), 2).unwrap();
        join_guest(&store, &clock, &lesson, "Ada", false, 1).unwrap();
        assert!(matches!(
            join_guest(&store, &clock, &lesson, "Bo", false, 1),
            Err(LessonError::Full)
        ));
    }
}
