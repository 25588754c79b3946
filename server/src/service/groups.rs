//! The teacher forms a lesson's groups: by hand, at random, or as last time. Connected pupils
//! hear of their new group at once (its document and chat).

use std::collections::HashSet;

use super::{access, Services};
use crate::auth::Who;
use crate::channels::people::{group_entries, member_names};
use crate::error::ServiceError;
use crate::ids::{LessonId, ParticipantId};
use crate::lessons::groups;
use crate::lessons::lesson::Lesson;
use crate::protocol::GroupEntry;
use crate::validate::invalid;

/// The largest group `random` makes; bigger is a class, not a group.
const MAX_GROUP_SIZE: usize = 10;

/// The lesson's groups now.
pub fn of_lesson(
    s: &Services,
    who: &Who,
    lesson_id: &LessonId,
) -> Result<Vec<GroupEntry>, ServiceError> {
    let lesson = access::own_lesson(s, who, lesson_id)?;
    Ok(group_entries(s.store.as_ref(), &lesson)?)
}

/// Groups by hand: each a list of participant ids; none ends the group work.
pub fn form(
    s: &Services,
    who: &Who,
    lesson_id: &LessonId,
    members: Vec<Vec<ParticipantId>>,
) -> Result<Vec<GroupEntry>, ServiceError> {
    let lesson = access::own_lesson(s, who, lesson_id)?;
    save(s, &lesson, members)
}

/// Groups of `size` at random, of the pupils connected now (or everyone on the list).
pub fn random(
    s: &Services,
    who: &Who,
    lesson_id: &LessonId,
    size: usize,
    present_only: bool,
) -> Result<Vec<GroupEntry>, ServiceError> {
    let lesson = access::own_lesson(s, who, lesson_id)?;
    if !(2..=MAX_GROUP_SIZE).contains(&size) {
        return Err(invalid("size", "must be from 2 to 10").into());
    }
    let mut people: Vec<ParticipantId> = groupable(s, &lesson)?.into_iter().collect();
    if present_only {
        let online = s.presence.online(&lesson.id);
        people.retain(|p| online.contains(p));
    }
    if people.is_empty() {
        return Err(invalid("present_only", "nobody to put in groups").into());
    }
    people.sort();
    save(s, &lesson, groups::random_arrangement(people, size))
}

/// Last time's groups of this class (rostered pupils), formed again with fresh documents.
pub fn repeat(
    s: &Services,
    who: &Who,
    lesson_id: &LessonId,
) -> Result<Vec<GroupEntry>, ServiceError> {
    let lesson = access::own_lesson(s, who, lesson_id)?;
    let allowed = groupable(s, &lesson)?;
    let members = groups::last_arrangement(s.store.as_ref(), &lesson.class_id, &allowed)?;
    if members.iter().all(Vec::is_empty) {
        return Err(invalid("groups", "this class has no earlier groups").into());
    }
    save(s, &lesson, members)
}

/// Who may be grouped: everyone on the lesson's list.
fn groupable(s: &Services, lesson: &Lesson) -> Result<HashSet<ParticipantId>, ServiceError> {
    Ok(member_names(s.store.as_ref(), lesson)?
        .into_keys()
        .collect())
}

fn save(
    s: &Services,
    lesson: &Lesson,
    members: Vec<Vec<ParticipantId>>,
) -> Result<Vec<GroupEntry>, ServiceError> {
    let allowed = groupable(s, lesson)?;
    let list = groups::set(
        s.store.as_ref(),
        lesson,
        members,
        &allowed,
        s.clock.now_ms(),
    )?;
    tracing::info!(lesson_id = %lesson.id, groups = list.len(), "groups formed");
    let entries = s.channels.groups_changed(lesson)?;
    Ok((*entries).clone())
}
