//! Who is connected to which lesson, and the events a lesson's connections listen for.
//! (Connections that must close — the lesson ended, a pupil removed — are closed by their
//! grant, [`crate::auth::grants`], not by an event here.)
//! In memory only: presence is about now, not history.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::ids::{LessonId, ParticipantId};
use tokio::sync::broadcast;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LessonEvent {
    /// Someone connected or left; teachers re-read the list.
    PresenceChanged,
    /// The teacher made a document read-only for pupils, or writable again; open editors
    /// follow at once.
    DocSettings { doc: String, read_only: bool },
    /// New documents (copies) were made; pupils who may open one of them are told.
    DocsAdded { docs: Vec<String> },
}

#[derive(Default)]
struct Room {
    online: HashMap<ParticipantId, usize>,
    events: Option<broadcast::Sender<LessonEvent>>,
}

impl Room {
    fn sender(&mut self) -> &broadcast::Sender<LessonEvent> {
        self.events.get_or_insert_with(|| broadcast::channel(64).0)
    }

    fn is_idle(&self) -> bool {
        self.online.is_empty()
            && self
                .events
                .as_ref()
                .is_none_or(|tx| tx.receiver_count() == 0)
    }
}

#[derive(Default)]
pub struct Presence {
    rooms: Mutex<HashMap<LessonId, Room>>,
}

impl Presence {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn with_room<R>(&self, lesson_id: &LessonId, f: impl FnOnce(&mut Room) -> R) -> R {
        let mut rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        let room = rooms.entry(lesson_id.clone()).or_default();
        let result = f(room);
        if room.is_idle() {
            rooms.remove(lesson_id);
        }
        result
    }

    pub fn subscribe(&self, lesson_id: &LessonId) -> broadcast::Receiver<LessonEvent> {
        self.with_room(lesson_id, |room| room.sender().subscribe())
    }

    pub fn publish(&self, lesson_id: &LessonId, event: LessonEvent) {
        self.with_room(lesson_id, |room| {
            if let Some(tx) = &room.events {
                // No receivers means nobody to tell; that is fine.
                let _ = tx.send(event);
            }
        });
    }

    /// Marks a participant online until the guard drops.
    pub fn connect(
        self: &Arc<Self>,
        lesson_id: &LessonId,
        participant_id: &ParticipantId,
    ) -> PresenceGuard {
        let first = self.with_room(lesson_id, |room| {
            let count = room.online.entry(participant_id.clone()).or_insert(0);
            *count += 1;
            *count == 1
        });
        if first {
            self.publish(lesson_id, LessonEvent::PresenceChanged);
        }
        PresenceGuard {
            presence: self.clone(),
            lesson_id: lesson_id.clone(),
            participant_id: participant_id.clone(),
        }
    }

    pub fn online(&self, lesson_id: &LessonId) -> HashSet<ParticipantId> {
        let rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        rooms
            .get(lesson_id)
            .map(|room| room.online.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Lessons with at least one connection (for /metrics).
    pub fn live_lessons(&self) -> usize {
        let rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        rooms.values().filter(|r| !r.online.is_empty()).count()
    }
}

pub struct PresenceGuard {
    presence: Arc<Presence>,
    lesson_id: LessonId,
    participant_id: ParticipantId,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let last = self.presence.with_room(&self.lesson_id, |room| {
            match room.online.get_mut(&self.participant_id) {
                Some(count) if *count > 1 => {
                    *count -= 1;
                    false
                }
                Some(_) => {
                    room.online.remove(&self.participant_id);
                    true
                }
                None => false,
            }
        });
        if last {
            self.presence
                .publish(&self.lesson_id, LessonEvent::PresenceChanged);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_participant_is_online_while_any_connection_is_open() {
        let presence = Presence::new();
        let mut teacher = presence.subscribe(&"L1".into());
        let first = presence.connect(&"L1".into(), &"p1".into());
        assert_eq!(teacher.recv().await.unwrap(), LessonEvent::PresenceChanged);
        let second = presence.connect(&"L1".into(), &"p1".into());
        drop(first);
        assert!(
            presence.online(&"L1".into()).contains("p1"),
            "second tab still open"
        );
        drop(second);
        assert_eq!(teacher.recv().await.unwrap(), LessonEvent::PresenceChanged);
        assert!(presence.online(&"L1".into()).is_empty());
        assert!(teacher.try_recv().is_err(), "exactly one event per change");
    }

    #[test]
    fn idle_rooms_are_forgotten() {
        let presence = Presence::new();
        drop(presence.connect(&"L1".into(), &"p1".into()));
        assert_eq!(presence.rooms.lock().unwrap().len(), 0);
    }
}
