//! Grants: what an open connection was allowed when it opened, held for as long as it is
//! open, and withdrawn the moment a use-case takes that access away.
//!
//! Every long-lived connection (`/ws` with its media, `/yjs`) takes a [`Grant`] when it opens,
//! naming who it is for, which session made it and which lesson it serves. A service function
//! that removes access (remove a pupil, end a lesson, log out, reissue a card, delete a pupil
//! from the roster) calls [`Grants::revoke`] with a [`Revocation`]; each matching connection's
//! [`Grant::revoked`] resolves at once and the connection closes with the code its
//! [`Ended`] reason maps to. Access is therefore never only an upgrade-time check.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

use super::Who;
use crate::ids::{BoxId, ClassId, LessonId, ParticipantId};

/// Why a grant ended; each maps to one WebSocket close code (docs/PROTOCOL.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The lesson ended (by the teacher or its time ran out).
    LessonEnded,
    /// The teacher removed the pupil from the lesson, or from the class list.
    Removed,
    /// The person logged out (on this device).
    LoggedOut,
    /// The pupil's login card was replaced; sessions made with the old one are over.
    CardReissued,
    /// (A paired box's relay) the box was unpaired.
    Unpaired,
    /// (A paired box's relay) the lesson's class is no longer shared with that box.
    Unshared,
}

/// Which grants a revocation ends.
#[derive(Debug, Clone)]
pub enum Revocation {
    /// Every grant of one lesson except its teachers' documents: pupils', cameras' and the
    /// teacher's `/ws` of that lesson.
    Lesson { lesson_id: LessonId },
    /// One pupil in one lesson.
    Participant {
        lesson_id: LessonId,
        participant_id: ParticipantId,
    },
    /// A participant id in every lesson of a class (a rostered pupil's `p-<pupil>`).
    ParticipantInClass {
        class_id: ClassId,
        participant_id: ParticipantId,
    },
    /// Everything one session opened.
    Session { session_key: String },
    /// A paired box's grants (its relays of lessons): those for `classes`, or all of them.
    PairedBox {
        box_id: BoxId,
        classes: Option<Vec<ClassId>>,
    },
}

/// What one grant was given for.
#[derive(Debug, Clone)]
pub struct Holder {
    pub who: Who,
    /// The hash of the session token that opened the connection.
    pub session_key: String,
    /// The lesson a teacher's `/ws` connection or a paired box's relay follows. Pupils and
    /// cameras are tied to theirs by their `Who`; documents outlive lessons (`None` there).
    pub lesson_id: Option<LessonId>,
    /// The class a paired box's relay is for (what unsharing it ends).
    pub class_id: Option<ClassId>,
}

impl Revocation {
    fn covers(&self, holder: &Holder) -> bool {
        match self {
            Revocation::Session { session_key } => &holder.session_key == session_key,
            Revocation::Lesson { lesson_id } => match &holder.who {
                Who::Pupil(seat) => seat.lesson_id == lesson_id,
                Who::Camera { lesson_id: own, .. } => own == lesson_id,
                Who::Teacher { .. } | Who::PairedBox { .. } => {
                    holder.lesson_id.as_ref() == Some(lesson_id)
                }
                Who::Nobody => false,
            },
            Revocation::PairedBox { box_id, classes } => match &holder.who {
                Who::PairedBox { box_id: holder_box } if holder_box == box_id => {
                    match (classes, &holder.class_id) {
                        (None, _) => true,
                        (Some(classes), Some(class_id)) => classes.contains(class_id),
                        (Some(_), None) => false,
                    }
                }
                _ => false,
            },
            Revocation::Participant {
                lesson_id,
                participant_id,
            } => matches!(&holder.who, Who::Pupil(seat)
                if seat.lesson_id == lesson_id && seat.participant_id == participant_id),
            Revocation::ParticipantInClass {
                class_id,
                participant_id,
            } => matches!(&holder.who, Who::Pupil(seat)
                if seat.class_id == class_id && seat.participant_id == participant_id),
        }
    }
}

struct Entry {
    holder: Holder,
    ended: watch::Sender<Option<Ended>>,
}

/// Every grant held by an open connection on this box.
#[derive(Default)]
pub struct Grants {
    open: Mutex<HashMap<u64, Entry>>,
    next: AtomicU64,
}

impl Grants {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn open(&self) -> MutexGuard<'_, HashMap<u64, Entry>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers an open connection's grant; it is withdrawn from the registry when dropped.
    pub fn issue(self: &Arc<Self>, holder: Holder) -> Grant {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (ended, watcher) = watch::channel(None);
        self.open().insert(id, Entry { holder, ended });
        Grant {
            id,
            grants: self.clone(),
            watcher,
        }
    }

    /// Ends every grant `revocation` covers; returns how many.
    pub fn revoke(&self, revocation: &Revocation, why: Ended) -> usize {
        let open = self.open();
        let mut ended = 0;
        for entry in open.values().filter(|e| revocation.covers(&e.holder)) {
            // The first reason sticks: a pupil removed and then signed out was removed.
            entry.ended.send_if_modified(|now| {
                if now.is_some() {
                    return false;
                }
                *now = Some(why);
                true
            });
            ended += 1;
        }
        ended
    }

    /// Open grants (for /metrics and tests).
    pub fn count(&self) -> usize {
        self.open().len()
    }
}

/// One connection's grant. Dropping it takes it out of the registry.
pub struct Grant {
    id: u64,
    grants: Arc<Grants>,
    watcher: watch::Receiver<Option<Ended>>,
}

impl Grant {
    /// Resolves when the grant is withdrawn, with why. Cancel-safe, for `select!` loops.
    pub async fn revoked(&mut self) -> Ended {
        loop {
            if let Some(why) = *self.watcher.borrow_and_update() {
                return why;
            }
            if self.watcher.changed().await.is_err() {
                // The registry dropped the sender: only at shutdown, which closes the
                // connection by itself; wait for that instead.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Whether the grant has been withdrawn (checked before acting on a message).
    pub fn is_revoked(&self) -> bool {
        self.watcher.borrow().is_some()
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        self.grants.open().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Seat;

    fn pupil(lesson: &str, class: &str, participant: &str) -> Who {
        Who::Pupil(Seat {
            participant_id: participant.into(),
            lesson_id: lesson.into(),
            class_id: class.into(),
            at_home: false,
        })
    }

    fn holder(who: Who, session: &str, lesson: Option<&str>) -> Holder {
        Holder {
            who,
            session_key: session.into(),
            lesson_id: lesson.map(LessonId::from),
            class_id: None,
        }
    }

    #[test]
    fn a_paired_boxs_relays_end_with_its_lesson_its_class_or_its_pairing() {
        let grants = Grants::new();
        let relay = |box_id: &str, lesson: &str, class: &str| Holder {
            who: Who::PairedBox {
                box_id: box_id.into(),
            },
            session_key: format!("box/{box_id}"),
            lesson_id: Some(lesson.into()),
            class_id: Some(class.into()),
        };
        let c1 = grants.issue(relay("b1", "L1", "C1"));
        let c2 = grants.issue(relay("b1", "L2", "C2"));
        let other_box = grants.issue(relay("b2", "L1", "C1"));
        let unshared = Revocation::PairedBox {
            box_id: "b1".into(),
            classes: Some(vec!["C2".into()]),
        };
        assert_eq!(grants.revoke(&unshared, Ended::Unshared), 1);
        assert!(c2.is_revoked() && !c1.is_revoked());
        let ended = Revocation::Lesson {
            lesson_id: "L1".into(),
        };
        assert_eq!(grants.revoke(&ended, Ended::LessonEnded), 2);
        assert!(c1.is_revoked() && other_box.is_revoked());
        let fresh = grants.issue(relay("b1", "L3", "C3"));
        let unpaired = Revocation::PairedBox {
            box_id: "b1".into(),
            classes: None,
        };
        grants.revoke(&unpaired, Ended::Unpaired);
        assert!(fresh.is_revoked());
    }

    #[tokio::test]
    async fn a_revocation_ends_exactly_the_grants_it_covers() {
        let grants = Grants::new();
        let mut ola = grants.issue(holder(pupil("L1", "C1", "p-ola"), "s1", Some("L1")));
        let sara = grants.issue(holder(pupil("L1", "C1", "p-sara"), "s2", Some("L1")));
        let teacher = Who::Teacher {
            teacher_id: "t1".into(),
        };
        let mut teacher_ws = grants.issue(holder(teacher.clone(), "s3", Some("L1")));
        let teacher_doc = grants.issue(holder(teacher, "s3", None));
        let later_ola = grants.issue(holder(pupil("L2", "C1", "p-ola"), "s4", Some("L2")));

        let removed = Revocation::Participant {
            lesson_id: "L1".into(),
            participant_id: "p-ola".into(),
        };
        assert_eq!(grants.revoke(&removed, Ended::Removed), 1);
        assert_eq!(ola.revoked().await, Ended::Removed);
        assert!(!sara.is_revoked() && !later_ola.is_revoked());

        let ended = Revocation::Lesson {
            lesson_id: "L1".into(),
        };
        assert_eq!(grants.revoke(&ended, Ended::LessonEnded), 3);
        assert_eq!(
            ola.revoked().await,
            Ended::Removed,
            "the first reason stays"
        );
        assert_eq!(teacher_ws.revoked().await, Ended::LessonEnded);
        assert!(sara.is_revoked());
        assert!(
            !teacher_doc.is_revoked(),
            "a teacher's documents outlive the lesson"
        );

        let card = Revocation::ParticipantInClass {
            class_id: "C1".into(),
            participant_id: "p-ola".into(),
        };
        grants.revoke(&card, Ended::CardReissued);
        assert!(later_ola.is_revoked());

        let logout = Revocation::Session {
            session_key: "s3".into(),
        };
        grants.revoke(&logout, Ended::LoggedOut);
        assert!(teacher_doc.is_revoked());

        drop((ola, sara, teacher_ws, teacher_doc, later_ola));
        assert_eq!(grants.count(), 0, "dropped grants leave the registry");
    }
}
