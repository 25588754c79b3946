//! What the class list and the lessons keep about a pupil: the class-list entry and login card
//! ([`Roster`]); lessons attended, removals and group memberships ([`Attendance`]).

use serde_json::json;

use super::classes::{self, card_key, class_key, pupil_key};
use super::groups::{self, group_key, groups_key, last_key, Group};
use super::lesson::{self, code_key, lesson_key, participant_key, removed_key};
use crate::ids::{ClassId, ParticipantId};
use crate::privacy::{
    remove_key, remove_prefix, Category, Held, Keeper, LessonKeeper, LessonScope, Subject,
};
use crate::store::{Store, StoreError, StoreExt, Tree};

/// The class-list entry: name, when it was made, the login card.
pub struct Roster;

impl Keeper for Roster {
    fn name(&self) -> &'static str {
        "class list"
    }

    fn trees(&self) -> &'static [Tree] {
        &[Tree::Classes]
    }

    fn holds(&self, store: &dyn Store, subject: &Subject) -> Result<Vec<Held>, StoreError> {
        let class = classes::get(store, &subject.class_id).ok();
        Ok(
            classes::get_pupil(store, &subject.class_id, &subject.pupil_id)
                .ok()
                .map(|pupil| Held::Record {
                    category: Category::Pupil,
                    value: json!({
                        "name": pupil.name,
                        "class": class.map(|c| c.name),
                        "on_class_list_since_ms": pupil.created_ms,
                        "profile": pupil.profile.settings,
                    }),
                })
                .into_iter()
                .collect(),
        )
    }

    fn forget(&self, store: &dyn Store, subject: &Subject) -> Result<usize, StoreError> {
        let Ok(pupil) = classes::get_pupil(store, &subject.class_id, &subject.pupil_id) else {
            return Ok(0);
        };
        Ok(
            remove_key(store, Tree::Classes, &card_key(&pupil.card_secret))?
                + remove_key(
                    store,
                    Tree::Classes,
                    &pupil_key(&subject.class_id, &subject.pupil_id),
                )?,
        )
    }
}

/// Lessons attended (with the name shown and whether from home), removals from a lesson, and
/// the groups the pupil was in.
pub struct Attendance;

impl Keeper for Attendance {
    fn name(&self) -> &'static str {
        "lessons and groups"
    }

    fn trees(&self) -> &'static [Tree] {
        &[Tree::Lessons]
    }

    fn holds(&self, store: &dyn Store, subject: &Subject) -> Result<Vec<Held>, StoreError> {
        let me = &subject.participant;
        let mut held = Vec::new();
        for lesson_id in &subject.lessons {
            let Ok(lesson) = lesson::get(store, lesson_id) else {
                continue;
            };
            if let Ok(p) = lesson::get_participant(store, lesson_id, me) {
                held.push(Held::Record {
                    category: Category::Lessons,
                    value: json!({
                        "lesson_started_ms": lesson.started_ms,
                        "lesson_ended_ms": lesson.ended_ms,
                        "joined_ms": p.joined_ms,
                        "from_home": p.at_home,
                        "name_shown": p.name,
                    }),
                });
            }
            if store
                .get(Tree::Lessons, removed_key(lesson_id, me).as_bytes())?
                .is_some()
            {
                held.push(Held::Record {
                    category: Category::Lessons,
                    value: json!({
                        "lesson_started_ms": lesson.started_ms,
                        "removed_by_teacher": true,
                    }),
                });
            }
            for group in groups::all_of_lesson(store, lesson_id).unwrap_or_default() {
                if group.members.iter().any(|m| m == me) {
                    held.push(Held::Record {
                        category: Category::Groups,
                        value: json!({
                            "lesson_started_ms": lesson.started_ms,
                            "group": group.number,
                            "members": group.members.len(),
                        }),
                    });
                }
            }
        }
        Ok(held)
    }

    fn forget(&self, store: &dyn Store, subject: &Subject) -> Result<usize, StoreError> {
        let me = &subject.participant;
        let mut gone = 0;
        for lesson_id in &subject.lessons {
            gone += remove_key(store, Tree::Lessons, &participant_key(lesson_id, me))?;
            gone += remove_key(store, Tree::Lessons, &removed_key(lesson_id, me))?;
            // Groups keep their other members; the pupil's id leaves every arrangement.
            let key = groups_key(lesson_id);
            if let Some(mut current) = store.get_json::<Vec<Group>>(Tree::Lessons, &key)? {
                if leave_groups(current.iter_mut(), me) {
                    store.put_json(Tree::Lessons, &key, &current)?;
                    gone += 1;
                }
            }
            let prefix = format!("group/{lesson_id}/");
            for (raw_key, value) in store.scan_prefix(Tree::Lessons, prefix.as_bytes())? {
                let Ok((formed, mut group)) = serde_json::from_slice::<(u64, Group)>(&value) else {
                    continue;
                };
                if leave_groups(std::iter::once(&mut group), me) {
                    let key = group_key(lesson_id, &group.id);
                    debug_assert_eq!(key.as_bytes(), raw_key.as_slice());
                    store.put_json(Tree::Lessons, &key, &(formed, group))?;
                    gone += 1;
                }
            }
        }
        let last = last_key(&subject.class_id);
        if let Some(mut arrangement) =
            store.get_json::<Vec<Vec<ParticipantId>>>(Tree::Lessons, &last)?
        {
            let before: usize = arrangement.iter().map(Vec::len).sum();
            for members in &mut arrangement {
                members.retain(|m| m != me);
            }
            if arrangement.iter().map(Vec::len).sum::<usize>() != before {
                store.put_json(Tree::Lessons, &last, &arrangement)?;
                gone += 1;
            }
        }
        Ok(gone)
    }
}

/// Takes `me` out of each group; returns whether any changed.
fn leave_groups<'a>(groups: impl Iterator<Item = &'a mut Group>, me: &str) -> bool {
    let mut changed = false;
    for group in groups {
        let before = group.members.len();
        group.members.retain(|m| m != me);
        changed |= group.members.len() != before;
    }
    changed
}

/// An expired lesson's own record, join code, participants, removals and groups. Last of the
/// lesson keepers: the others find the lesson's things by its id alone.
impl LessonKeeper for Attendance {
    fn name(&self) -> &'static str {
        "lessons and groups"
    }

    fn forget_lesson(&self, store: &dyn Store, scope: &LessonScope) -> Result<usize, StoreError> {
        let l = &scope.lesson_id;
        let mut gone = remove_prefix(store, Tree::Lessons, &participant_key(l, ""))?
            + remove_prefix(store, Tree::Lessons, &removed_key(l, ""))?
            + remove_prefix(store, Tree::Lessons, &group_key(l, ""))?
            + remove_key(store, Tree::Lessons, &groups_key(l))?;
        if let Ok(lesson) = lesson::get(store, l) {
            // A code is reused by later lessons; it goes only if it still points here.
            let code = code_key(&lesson.code);
            if store.get(Tree::Lessons, code.as_bytes())?.as_deref() == Some(l.as_bytes()) {
                gone += remove_key(store, Tree::Lessons, &code)?;
            }
        }
        gone += remove_key(store, Tree::Lessons, &lesson_key(l))?;
        Ok(gone)
    }
}

/// Every tombstone (hashes of deleted pupils and classes; they name no one), for paired boxes.
pub fn tombstones(store: &dyn Store) -> Result<Vec<String>, StoreError> {
    Ok(store
        .scan_prefix(Tree::Classes, b"forgotten/")?
        .into_iter()
        .filter_map(|(key, _)| String::from_utf8(key).ok())
        .collect())
}

/// A deleted class's own records (after its pupils and lessons went): the class and its last
/// group arrangement. Returns how many went.
pub fn forget_class(store: &dyn Store, class_id: &ClassId) -> Result<usize, StoreError> {
    Ok(remove_key(store, Tree::Classes, &class_key(class_id))?
        + remove_key(store, Tree::Lessons, &last_key(class_id))?)
}
