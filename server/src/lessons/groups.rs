//! Groups (pairs, threes …) the teacher forms in a lesson: by hand, at random, or as last time.
//!
//! A lesson has one arrangement at a time, stored as a whole so re-forming is atomic. Every
//! arrangement gets fresh group ids: a group document or chat never passes to other pupils
//! because the teacher re-formed the groups.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::lesson::Lesson;
use super::LessonError;
use crate::ids::{ClassId, GroupId, LessonId, ParticipantId};
use crate::store::{Store, StoreExt, Tree};
use crate::validate::invalid;

/// More groups than this in one lesson is a mistake, not a class.
pub const MAX_GROUPS: usize = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    /// 1, 2, 3 … as the teacher and pupils see it ("Group 2").
    pub number: usize,
    /// Participant ids (`p-<pupil>` for rostered pupils, `g-…` for guests).
    pub members: Vec<ParticipantId>,
}

pub(super) fn groups_key(lesson_id: &str) -> String {
    format!("groups/{lesson_id}")
}

/// Every group ever formed in the lesson, also after re-forming: its document and chat stay
/// with the pupils who were in it.
pub(super) fn group_key(lesson_id: &str, group_id: &str) -> String {
    format!("group/{lesson_id}/{group_id}")
}

/// The class's most recent arrangement of rostered pupils, for "same groups as last time".
pub(super) fn last_key(class_id: &str) -> String {
    format!("lastgroups/{class_id}")
}

pub fn of_lesson(store: &dyn Store, lesson_id: &LessonId) -> Result<Vec<Group>, LessonError> {
    Ok(store
        .get_json(Tree::Lessons, &groups_key(lesson_id))?
        .unwrap_or_default())
}

/// A group of the lesson, current or from an earlier arrangement.
pub fn get(
    store: &dyn Store,
    lesson_id: &LessonId,
    group_id: &GroupId,
) -> Result<Group, LessonError> {
    store
        .get_json::<(u64, Group)>(Tree::Lessons, &group_key(lesson_id, group_id))?
        .map(|(_, group)| group)
        .ok_or(LessonError::NotFound)
}

/// Every group the lesson has had, in the order they were formed.
pub fn all_of_lesson(store: &dyn Store, lesson_id: &LessonId) -> Result<Vec<Group>, LessonError> {
    let mut all = formed_in(store, lesson_id)?;
    all.sort_by_key(|f| (f.formed_ms, f.group.number));
    Ok(all.into_iter().map(|f| f.group).collect())
}

/// A group formed in a lesson, and when: as a paired box sends and takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Formed {
    pub lesson_id: LessonId,
    pub formed_ms: u64,
    pub group: Group,
}

/// Every group formed in the lesson, with when (in no particular order).
pub fn formed_in(store: &dyn Store, lesson_id: &LessonId) -> Result<Vec<Formed>, LessonError> {
    let all: Vec<(u64, Group)> = store.scan_json(Tree::Lessons, &format!("group/{lesson_id}/"))?;
    Ok(all
        .into_iter()
        .map(|(formed_ms, group)| Formed {
            lesson_id: lesson_id.clone(),
            formed_ms,
            group,
        })
        .collect())
}

/// Takes in a group a paired box formed (its document then has a home here), unless it is
/// here already. The lesson's current arrangement stays the box's where the lesson runs.
pub fn take_copy(store: &dyn Store, formed: &Formed) -> Result<(), LessonError> {
    let key = group_key(&formed.lesson_id, &formed.group.id);
    let value = crate::store::encode(&(formed.formed_ms, &formed.group))?;
    store.insert_if_absent(Tree::Lessons, key.as_bytes(), &value)?;
    Ok(())
}

/// The group a participant is in this lesson, if any.
pub fn of_participant(
    store: &dyn Store,
    lesson_id: &LessonId,
    participant_id: &ParticipantId,
) -> Result<Option<Group>, LessonError> {
    Ok(of_lesson(store, lesson_id)?
        .into_iter()
        .find(|g| g.members.iter().any(|m| m == participant_id)))
}

/// Replaces the lesson's groups. `allowed` are the participant ids that may be grouped (the
/// lesson's list); anyone else, or anyone twice, is refused. Empty groups are dropped.
pub fn set(
    store: &dyn Store,
    lesson: &Lesson,
    members: Vec<Vec<ParticipantId>>,
    allowed: &HashSet<ParticipantId>,
    now_ms: u64,
) -> Result<Vec<Group>, LessonError> {
    let members: Vec<Vec<ParticipantId>> = members.into_iter().filter(|g| !g.is_empty()).collect();
    if members.len() > MAX_GROUPS {
        return Err(invalid("groups", "has too many groups").into());
    }
    let mut seen = HashSet::new();
    for id in members.iter().flatten() {
        if !allowed.contains(id) {
            return Err(invalid("groups", "names someone who is not in this lesson").into());
        }
        if !seen.insert(id) {
            return Err(invalid("groups", "has someone in two groups").into());
        }
    }
    let groups: Vec<Group> = members
        .into_iter()
        .enumerate()
        .map(|(i, members)| Group {
            id: GroupId::random(),
            number: i + 1,
            members,
        })
        .collect();
    for group in &groups {
        store.put_json(
            Tree::Lessons,
            &group_key(&lesson.id, &group.id),
            &(now_ms, group),
        )?;
    }
    store.put_json(Tree::Lessons, &groups_key(&lesson.id), &groups)?;
    let rostered: Vec<Vec<ParticipantId>> = groups
        .iter()
        .map(|g| {
            g.members
                .iter()
                .filter(|m| m.is_rostered())
                .cloned()
                .collect()
        })
        .collect();
    if !groups.is_empty() {
        store.put_json(Tree::Lessons, &last_key(&lesson.class_id), &rostered)?;
    }
    Ok(groups)
}

/// `people` shuffled into groups of about `size`: as many groups as `size` needs, sizes
/// differing by at most one (seven pupils in pairs make two pairs and a three).
pub fn random_arrangement<T: Clone>(mut people: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let size = size.max(1);
    people.shuffle(&mut rand::rng());
    let count = (people.len() / size).max(1);
    let mut groups = vec![Vec::new(); count];
    for (i, id) in people.into_iter().enumerate() {
        groups[i % count].push(id);
    }
    groups
}

/// Last time's arrangement of this class, keeping only people in `allowed`.
pub fn last_arrangement(
    store: &dyn Store,
    class_id: &ClassId,
    allowed: &HashSet<ParticipantId>,
) -> Result<Vec<Vec<ParticipantId>>, LessonError> {
    let last: Vec<Vec<ParticipantId>> = store
        .get_json(Tree::Lessons, &last_key(class_id))?
        .unwrap_or_default();
    Ok(last
        .into_iter()
        .map(|g| g.into_iter().filter(|m| allowed.contains(m)).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn lesson() -> Lesson {
        Lesson {
            id: "L1".into(),
            class_id: "C1".into(),
            teacher_id: "T1".into(),
            code: "ACDEFG".into(),
            started_ms: 0,
            expires_ms: 1,
            ended_ms: None,
            wrapped_up: false,
        }
    }

    fn ids(names: &[&str]) -> Vec<ParticipantId> {
        names.iter().map(|s| ParticipantId::from(*s)).collect()
    }

    #[test]
    fn random_groups_cover_everyone_once_and_differ_by_at_most_one() {
        let people = ids(&["a", "b", "c", "d", "e", "f", "g"]);
        let groups = random_arrangement(people.clone(), 2);
        assert_eq!(groups.len(), 3);
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        assert!(sizes.iter().all(|s| *s == 2 || *s == 3), "{sizes:?}");
        let mut all: Vec<ParticipantId> = groups.into_iter().flatten().collect();
        all.sort();
        assert_eq!(all, people);
        assert_eq!(random_arrangement(ids(&["a"]), 3), vec![ids(&["a"])]);
    }

    #[test]
    fn setting_refuses_strangers_and_doubles_and_remembers_rostered_pupils() {
        let store = MemoryStore::new();
        let allowed: HashSet<ParticipantId> = ids(&["p-1", "p-2", "g-3"]).into_iter().collect();
        let stranger = set(&store, &lesson(), vec![ids(&["p-1", "x"])], &allowed, 1);
        assert!(matches!(stranger, Err(LessonError::Invalid(_))));
        let twice = set(
            &store,
            &lesson(),
            vec![ids(&["p-1"]), ids(&["p-1"])],
            &allowed,
            1,
        );
        assert!(matches!(twice, Err(LessonError::Invalid(_))));
        assert!(
            of_lesson(&store, &"L1".into()).unwrap().is_empty(),
            "nothing saved"
        );

        let groups = set(
            &store,
            &lesson(),
            vec![ids(&["p-1", "g-3"]), vec![], ids(&["p-2"])],
            &allowed,
            1,
        )
        .unwrap();
        assert_eq!(groups.len(), 2, "empty groups are dropped");
        assert_eq!(groups[1].number, 2);
        assert_ne!(groups[0].id, groups[1].id);
        assert_eq!(
            of_participant(&store, &"L1".into(), &"g-3".into())
                .unwrap()
                .unwrap()
                .id,
            groups[0].id
        );
        let again = last_arrangement(&store, &"C1".into(), &allowed).unwrap();
        assert_eq!(
            again,
            vec![ids(&["p-1"]), ids(&["p-2"])],
            "guests are not kept"
        );
        let reformed = set(&store, &lesson(), again, &allowed, 2).unwrap();
        assert_ne!(reformed[0].id, groups[0].id, "fresh ids each time");
        assert_eq!(of_lesson(&store, &"L1".into()).unwrap(), reformed);
        assert_eq!(all_of_lesson(&store, &"L1".into()).unwrap().len(), 4);
        assert_eq!(get(&store, &"L1".into(), &groups[0].id).unwrap(), groups[0]);
    }
}
