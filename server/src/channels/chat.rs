//! The teacher's chat switches for a lesson: class chat and each group's chat (off until the
//! teacher opens them), and pupils muted for a while.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ChannelError;
use crate::ids::{GroupId, LessonId, ParticipantId};
use crate::store::{Store, StoreExt, Tree};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSettings {
    pub class_open: bool,
    /// Groups whose chat is open.
    pub open_groups: Vec<GroupId>,
    /// Participant id → muted until (ms since the epoch).
    pub muted: BTreeMap<ParticipantId, u64>,
}

impl ChatSettings {
    /// Until when this participant is muted, if they are now.
    pub fn muted_until(&self, participant_id: &ParticipantId, now_ms: u64) -> Option<u64> {
        self.muted
            .get(participant_id)
            .copied()
            .filter(|until| *until > now_ms)
    }

    /// Drops mutes that have run out, so the list the teacher sees is the current one.
    pub fn forget_expired(&mut self, now_ms: u64) {
        self.muted.retain(|_, until| *until > now_ms);
    }
}

pub(super) fn key(lesson_id: &LessonId) -> String {
    format!("chat/{lesson_id}")
}

pub fn load(store: &dyn Store, lesson_id: &LessonId) -> Result<ChatSettings, ChannelError> {
    Ok(store
        .get_json(Tree::Channels, &key(lesson_id))?
        .unwrap_or_default())
}

pub fn save(
    store: &dyn Store,
    lesson_id: &LessonId,
    settings: &ChatSettings,
) -> Result<(), ChannelError> {
    store.put_json(Tree::Channels, &key(lesson_id), settings)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutes_run_out() {
        let mut chat = ChatSettings::default();
        chat.muted.insert("p-1".into(), 1_000);
        assert_eq!(chat.muted_until(&"p-1".into(), 999), Some(1_000));
        assert_eq!(chat.muted_until(&"p-1".into(), 1_000), None);
        assert_eq!(chat.muted_until(&"p-2".into(), 0), None);
        chat.forget_expired(1_000);
        assert!(chat.muted.is_empty());
    }
}
