//! Raised hands: a lesson's queue, oldest first. The teacher sees all of it; a pupil is told
//! only their own place.

use serde::{Deserialize, Serialize};

use super::ChannelError;
use crate::ids::{LessonId, ParticipantId};
use crate::store::{Store, StoreExt, Tree};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hand {
    pub participant_id: ParticipantId,
    pub name: String,
    pub at_home: bool,
    pub raised_ms: u64,
    /// The question the pupil wrote with it (also in their private thread).
    pub question: Option<String>,
    /// The teacher said "coming to you".
    pub coming: bool,
}

/// A pupil's own view of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MyHand {
    pub raised: bool,
    /// 1 = next. Absent when the hand is down.
    pub place: Option<usize>,
    pub coming: bool,
}

pub fn my_hand(queue: &[Hand], participant_id: &ParticipantId) -> MyHand {
    match queue
        .iter()
        .position(|h| h.participant_id == participant_id)
    {
        Some(i) => MyHand {
            raised: true,
            place: Some(i + 1),
            coming: queue[i].coming,
        },
        None => MyHand {
            raised: false,
            place: None,
            coming: false,
        },
    }
}

/// Raises a hand, or updates the question of one already raised (it keeps its place).
pub fn raise(queue: &mut Vec<Hand>, hand: Hand) {
    match queue
        .iter_mut()
        .find(|h| h.participant_id == hand.participant_id)
    {
        Some(existing) => {
            if hand.question.is_some() {
                existing.question = hand.question;
            }
        }
        None => queue.push(hand),
    }
}

/// Lowers a hand; returns whether there was one.
pub fn lower(queue: &mut Vec<Hand>, participant_id: &ParticipantId) -> bool {
    let before = queue.len();
    queue.retain(|h| h.participant_id != participant_id);
    queue.len() != before
}

/// Marks "coming to you"; returns whether the hand was up.
pub fn coming(queue: &mut [Hand], participant_id: &ParticipantId) -> bool {
    match queue
        .iter_mut()
        .find(|h| h.participant_id == participant_id)
    {
        Some(hand) => {
            hand.coming = true;
            true
        }
        None => false,
    }
}

pub(super) fn key(lesson_id: &LessonId) -> String {
    format!("hands/{lesson_id}")
}

pub fn load(store: &dyn Store, lesson_id: &LessonId) -> Result<Vec<Hand>, ChannelError> {
    Ok(store
        .get_json(Tree::Channels, &key(lesson_id))?
        .unwrap_or_default())
}

pub fn save(store: &dyn Store, lesson_id: &LessonId, queue: &[Hand]) -> Result<(), ChannelError> {
    store.put_json(Tree::Channels, &key(lesson_id), &queue)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hand(id: &str, at: u64) -> Hand {
        Hand {
            participant_id: id.into(),
            name: id.into(),
            at_home: false,
            raised_ms: at,
            question: None,
            coming: false,
        }
    }

    #[test]
    fn the_queue_keeps_arrival_order_and_pupils_see_only_their_place() {
        let mut queue = Vec::new();
        raise(&mut queue, hand("a", 1));
        raise(&mut queue, hand("b", 2));
        let mut again = hand("a", 3);
        again.question = Some("why?".into());
        raise(&mut queue, again);
        assert_eq!(queue.len(), 2, "raising twice keeps one hand");
        assert_eq!(queue[0].question.as_deref(), Some("why?"));
        assert_eq!(my_hand(&queue, &"b".into()).place, Some(2));
        assert!(coming(&mut queue, &"b".into()));
        assert!(my_hand(&queue, &"b".into()).coming);
        assert!(lower(&mut queue, &"a".into()));
        assert!(!lower(&mut queue, &"a".into()));
        assert_eq!(my_hand(&queue, &"b".into()).place, Some(1));
        assert!(!my_hand(&queue, &"a".into()).raised);
        assert!(!coming(&mut queue, &"a".into()));
    }
}
