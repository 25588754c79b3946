//! Messages between the teacher and pupils: private threads, announcements, class and group
//! chat, raised hands. No sockets and no permissions here: the use-cases in
//! `service::messages` decide, and [`Channels`] stores, numbers and delivers.
//!
//! Every change is written to the store, made durable by one flush shared by everything that
//! arrived meanwhile (group commit), and only then delivered, in the order it was numbered.
//! So a client never sees a message a restart could take back, and a resuming client asks for
//! "everything after seq N" and gets exactly what it missed.

pub mod chat;
pub mod hands;
pub mod message;
pub mod people;
pub mod privacy;
pub mod thread;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, mpsc, oneshot};

use crate::clock::Clock;
use crate::ids::LessonId;
use crate::lessons::lesson::Lesson;
use crate::lessons::LessonError;
use crate::store::{Store, StoreError};
use crate::validate::Invalid;
use chat::ChatSettings;
use hands::Hand;
use message::{Author, Message, MessageKind};
use people::GroupEntry;

/// Events a lesson's connections receive; each connection picks what its holder may see.
#[derive(Debug, Clone)]
pub enum Event {
    Message(Arc<Message>),
    Deleted {
        seq: u64,
        thread: String,
        message: u64,
    },
    Hands(Arc<Vec<Hand>>),
    Chat(Arc<ChatSettings>),
    /// The teacher re-formed the groups: the new ones, worked out once for every connection.
    Groups(Arc<Vec<GroupEntry>>),
}

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("no such thread or message")]
    NotFound,
    #[error("you may not do that")]
    Forbidden,
    #[error("the teacher has not opened this chat")]
    ChatClosed,
    #[error("the teacher muted you for a while")]
    Muted,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not make the change durable: {0}")]
    Commit(StoreError),
}

impl ChannelError {
    /// The stable code in a `refused` message (docs/PROTOCOL.md).
    pub fn code(&self) -> &'static str {
        match self {
            ChannelError::NotFound => "not_found",
            ChannelError::Forbidden => "forbidden",
            ChannelError::ChatClosed => "chat_closed",
            ChannelError::Muted => "muted",
            ChannelError::Invalid(_) => "invalid_input",
            ChannelError::Store(e) | ChannelError::Commit(e) => match e {
                StoreError::Full => "disk_full",
                StoreError::Unavailable(_) => "store_unavailable",
                _ => "internal",
            },
        }
    }
}

impl From<LessonError> for ChannelError {
    fn from(e: LessonError) -> Self {
        match e {
            LessonError::Invalid(i) => ChannelError::Invalid(i),
            LessonError::Store(s) => ChannelError::Store(s),
            _ => ChannelError::NotFound,
        }
    }
}

/// Events buffered per lesson; a connection further behind resumes from the store instead.
const BUS_CAPACITY: usize = 1024;

#[derive(Default)]
struct Buses(Mutex<HashMap<LessonId, broadcast::Sender<Event>>>);

impl Buses {
    fn subscribe(&self, lesson_id: &LessonId) -> broadcast::Receiver<Event> {
        let mut buses = self.0.lock().unwrap_or_else(|p| p.into_inner());
        buses.retain(|_, tx| tx.receiver_count() > 0);
        buses
            .entry(lesson_id.clone())
            .or_insert_with(|| broadcast::channel(BUS_CAPACITY).0)
            .subscribe()
    }

    fn publish(&self, lesson_id: &LessonId, event: Event) {
        let buses = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = buses.get(lesson_id) {
            // Nobody listening is fine: they read the store when they come.
            let _ = tx.send(event);
        }
    }
}

/// A change waiting for the next flush, then delivered.
struct Commit {
    lesson_id: LessonId,
    event: Event,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The message hub: numbering, storing, group commit, delivery; the hand queues and chat
/// switches of every lesson.
pub struct Channels {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    buses: Arc<Buses>,
    /// The last number given out; held while a change is numbered, stored and queued, so
    /// changes reach the committer (and so every client) in number order.
    last_seq: Mutex<u64>,
    commits: mpsc::UnboundedSender<Commit>,
    hands: Mutex<HashMap<LessonId, Vec<Hand>>>,
}

/// What a new message says; the hub adds its number and time.
pub struct Draft {
    pub thread: String,
    pub lesson_id: LessonId,
    pub author: Author,
    pub kind: MessageKind,
    pub text: String,
    pub doc: Option<String>,
    pub file: Option<message::FileRef>,
    pub client_id: Option<String>,
    /// Set for a message taken from a paired box: it keeps its time there, and its origin
    /// stands in for the client id (the same message never arrives twice).
    pub origin: Option<message::Origin>,
}

impl Channels {
    /// The hub and its commit worker (which ends when the hub is dropped).
    pub fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<(Arc<Self>, tokio::task::JoinHandle<()>), ChannelError> {
        let last_seq = message::last_seq(store.as_ref())?;
        let buses = Arc::new(Buses::default());
        let (commits, queue) = mpsc::unbounded_channel();
        let worker = tokio::spawn(commit_worker(store.clone(), buses.clone(), queue));
        let hub = Arc::new(Self {
            store,
            clock,
            buses,
            last_seq: Mutex::new(last_seq),
            commits,
            hands: Mutex::new(HashMap::new()),
        });
        Ok((hub, worker))
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    pub fn subscribe(&self, lesson_id: &LessonId) -> broadcast::Receiver<Event> {
        self.buses.subscribe(lesson_id)
    }

    /// Runs `read` while no change can be numbered, and returns the last number with it: what
    /// `read` saw is exactly everything up to that number.
    pub fn consistent<R>(&self, read: impl FnOnce() -> R) -> (u64, R) {
        let last = self.last_seq.lock().unwrap_or_else(|p| p.into_inner());
        let result = read();
        (*last, result)
    }

    /// Queues an event for delivery after the next flush; returns the receipt to await.
    fn queue(
        &self,
        lesson_id: &LessonId,
        event: Event,
    ) -> oneshot::Receiver<Result<(), StoreError>> {
        let (done, receipt) = oneshot::channel();
        let commit = Commit {
            lesson_id: lesson_id.clone(),
            event,
            done,
        };
        // The worker lives as long as the hub; if it is gone we are shutting down and the
        // receipt reports it.
        let _ = self.commits.send(commit);
        receipt
    }

    async fn durable(
        receipt: oneshot::Receiver<Result<(), StoreError>>,
    ) -> Result<(), ChannelError> {
        match receipt.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ChannelError::Commit(e)),
            Err(_) => Err(ChannelError::Commit(StoreError::Unavailable(
                "shutting down".into(),
            ))),
        }
    }

    /// Stores and delivers a message. A repeated `client_id` from the same author returns the
    /// message the first send became, without storing or delivering it again.
    pub async fn post(&self, draft: Draft) -> Result<Arc<Message>, ChannelError> {
        let (message, receipt) = {
            let mut last = self.last_seq.lock().unwrap_or_else(|p| p.into_inner());
            let client_id = draft
                .origin
                .as_ref()
                .map(message::Origin::client_id)
                .or(draft.client_id);
            if let Some(client_id) = &client_id {
                if let Some(earlier) =
                    message::already_sent(self.store(), &draft.author.id, client_id)?
                {
                    return Ok(Arc::new(earlier));
                }
            }
            let message = Arc::new(Message {
                seq: *last + 1,
                thread: draft.thread,
                lesson_id: draft.lesson_id,
                author: draft.author,
                at_ms: draft
                    .origin
                    .as_ref()
                    .map_or_else(|| self.clock.now_ms(), |o| o.at_ms),
                kind: draft.kind,
                text: draft.text,
                doc: draft.doc,
                file: draft.file,
                deleted: false,
                origin: draft.origin,
            });
            message::store_new(self.store(), &message, client_id.as_deref())?;
            *last = message.seq;
            let receipt = self.queue(&message.lesson_id, Event::Message(message.clone()));
            (message, receipt)
        };
        Self::durable(receipt).await?;
        Ok(message)
    }

    /// Deletes a message's text for everyone; the deletion itself is numbered so resuming
    /// clients hear of it.
    pub async fn delete(
        &self,
        lesson_id: &LessonId,
        thread: &str,
        seq: u64,
    ) -> Result<(), ChannelError> {
        let receipt = {
            let mut last = self.last_seq.lock().unwrap_or_else(|p| p.into_inner());
            let mut stored =
                message::get(self.store(), thread, seq)?.ok_or(ChannelError::NotFound)?;
            if stored.deleted {
                return Ok(());
            }
            stored.deleted = true;
            stored.text.clear();
            stored.doc = None;
            // A deleted message's file goes with it.
            if let Some(file) = stored.file.take() {
                crate::uploads::delete(self.store(), &file.id)?;
            }
            message::put(self.store(), &stored)?;
            let event_seq = *last + 1;
            message::store_deletion(self.store(), thread, event_seq, seq)?;
            *last = event_seq;
            self.queue(
                lesson_id,
                Event::Deleted {
                    seq: event_seq,
                    thread: thread.to_string(),
                    message: seq,
                },
            )
        };
        Self::durable(receipt).await
    }

    /// The lesson's hand queue, oldest first.
    pub fn hands(&self, lesson_id: &LessonId) -> Result<Vec<Hand>, ChannelError> {
        let mut all = self.hands.lock().unwrap_or_else(|p| p.into_inner());
        Ok(match all.get(lesson_id) {
            Some(queue) => queue.clone(),
            None => {
                let queue = hands::load(self.store(), lesson_id)?;
                all.insert(lesson_id.clone(), queue.clone());
                queue
            }
        })
    }

    /// Changes the hand queue; when `change` says it changed something, stores and delivers it.
    pub async fn update_hands(
        &self,
        lesson_id: &LessonId,
        change: impl FnOnce(&mut Vec<Hand>) -> bool,
    ) -> Result<bool, ChannelError> {
        let receipt = {
            let mut all = self.hands.lock().unwrap_or_else(|p| p.into_inner());
            let queue = match all.entry(lesson_id.clone()) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(hands::load(self.store(), lesson_id)?)
                }
            };
            if !change(queue) {
                return Ok(false);
            }
            hands::save(self.store(), lesson_id, queue)?;
            self.queue(lesson_id, Event::Hands(Arc::new(queue.clone())))
        };
        Self::durable(receipt).await?;
        Ok(true)
    }

    pub fn chat(&self, lesson_id: &LessonId) -> Result<ChatSettings, ChannelError> {
        let mut settings = chat::load(self.store(), lesson_id)?;
        settings.forget_expired(self.clock.now_ms());
        Ok(settings)
    }

    pub async fn update_chat(
        &self,
        lesson_id: &LessonId,
        change: impl FnOnce(&mut ChatSettings),
    ) -> Result<(), ChannelError> {
        let receipt = {
            // The number lock also orders chat changes, so the last one delivered is the last made.
            let _order = self.last_seq.lock().unwrap_or_else(|p| p.into_inner());
            let mut settings = self.chat(lesson_id)?;
            change(&mut settings);
            chat::save(self.store(), lesson_id, &settings)?;
            self.queue(lesson_id, Event::Chat(Arc::new(settings)))
        };
        Self::durable(receipt).await
    }

    /// Tells the lesson's connections the groups changed; returns the groups as clients see them.
    pub fn groups_changed(&self, lesson: &Lesson) -> Result<Arc<Vec<GroupEntry>>, ChannelError> {
        let entries = Arc::new(people::group_entries(self.store(), lesson)?);
        self.buses
            .publish(&lesson.id, Event::Groups(entries.clone()));
        Ok(entries)
    }
}

/// Flushes whatever has queued up since the last flush, then delivers it in order.
async fn commit_worker(
    store: Arc<dyn Store>,
    buses: Arc<Buses>,
    mut queue: mpsc::UnboundedReceiver<Commit>,
) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = queue.try_recv() {
            batch.push(more);
        }
        let flushing = store.clone();
        let flushed = match tokio::task::spawn_blocking(move || flushing.flush()).await {
            Ok(flushed) => flushed,
            Err(e) => Err(StoreError::Io(e.to_string())),
        };
        if let Err(e) = &flushed {
            tracing::error!("flushing messages failed: {e}");
        }
        for commit in batch {
            if flushed.is_ok() {
                buses.publish(&commit.lesson_id, commit.event);
            }
            let _ = commit.done.send(flushed.clone());
        }
    }
}
