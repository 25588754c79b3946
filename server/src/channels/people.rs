//! Who is in a lesson, by name, and its groups as clients see them. Computed once per change
//! and shared by every connection (and the HTTP answer), not once per socket.

use std::collections::HashMap;

use serde::Serialize;

use super::thread::ThreadId;
use super::ChannelError;
use crate::docs::access::DocName;
use crate::ids::{GroupId, ParticipantId};
use crate::lessons::lesson::{self, Lesson};
use crate::lessons::{classes, groups};
use crate::store::Store;

/// Everyone who can be in the lesson (rostered pupils and guests who joined), by participant id.
pub fn member_names(
    store: &dyn Store,
    lesson: &Lesson,
) -> Result<HashMap<ParticipantId, String>, ChannelError> {
    let mut names: HashMap<ParticipantId, String> = classes::roster(store, &lesson.class_id)?
        .into_iter()
        .map(|p| (ParticipantId::rostered(&p.id), p.name))
        .collect();
    for p in lesson::participants(store, &lesson.id)? {
        names.insert(p.id, p.name);
    }
    Ok(names)
}

/// The lesson's current groups with their members' names, documents and chats.
pub fn group_entries(store: &dyn Store, lesson: &Lesson) -> Result<Vec<GroupEntry>, ChannelError> {
    let names = member_names(store, lesson)?;
    Ok(groups::of_lesson(store, &lesson.id)?
        .into_iter()
        .map(|g| GroupEntry {
            doc: DocName::Group {
                lesson_id: lesson.id.clone(),
                group_id: g.id.clone(),
            }
            .to_string(),
            chat: ThreadId::GroupChat {
                lesson_id: lesson.id.clone(),
                group_id: g.id.clone(),
            }
            .to_string(),
            members: g
                .members
                .iter()
                .map(|id| Member {
                    id: id.clone(),
                    name: names.get(id).cloned().unwrap_or_default(),
                })
                .collect(),
            id: g.id,
            number: g.number,
        })
        .collect())
}

/// A group as clients see it (the `groups` and `my_group` messages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupEntry {
    pub id: GroupId,
    pub number: usize,
    pub members: Vec<Member>,
    /// The group's shared document.
    pub doc: String,
    pub chat: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub id: ParticipantId,
    pub name: String,
}
