//! The documents in memory: loaded on first use, shared by every connection, fanned out to
//! them, put to sleep when nobody has edited them for a while, unloaded (after a snapshot)
//! when nobody has them open.

use std::collections::{BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use super::export;
use super::name::DocName;
use super::persist::{self, Forgotten, Persister};
use super::quota::{DocLimits, Ledger, Payer, Scope};
use super::room::{self, Outcome, Peer, Person, Room};
use super::DocError;
use crate::ids::LessonId;
use crate::memory;
use crate::store::disk::{Disk, Room as DiskRoom};
use crate::store::{Store, StoreError};

/// Snapshot a loaded document once this many updates were logged since the last one.
const SNAPSHOT_EVERY: u64 = 1000;

/// Awareness (cursors, names) changes are gathered this long and sent as one frame: in a class
/// they are most of the traffic, and a cursor 50 ms late is not noticed.
const AWARENESS_WINDOW: Duration = Duration::from_millis(50);

/// A document with many connections holds edits that arrive in quick succession for a moment
/// and sends them as one merged update: every frame costs every connection a write (a system
/// call, a TLS record, a TCP segment), so the larger the audience the more a short wait saves.
/// The first edit after a quiet moment always goes out at once. A class (up to
/// `WINDOW_FROM_CONNECTIONS`) never waits; above, one millisecond per
/// `CONNECTIONS_PER_WINDOW_MS` more connections, up to `MAX_UPDATE_WINDOW` (300 wait 16 ms).
const WINDOW_FROM_CONNECTIONS: usize = 60;
const CONNECTIONS_PER_WINDOW_MS: usize = 15;
const MAX_UPDATE_WINDOW: Duration = Duration::from_millis(20);

/// Frames a document holds for connections that have not written them yet. Every loaded
/// document allocates this many slots up front (32 bytes each), so it is kept small; a
/// connection that falls further behind gets the whole state once instead (a catch-up).
const FANOUT_SLOTS: usize = 128;

/// Frames a connection writes before flushing the socket once.
pub const WRITE_BATCH: usize = 64;

/// A frame for every connection of a document except its sender (`from`).
#[derive(Debug)]
pub struct Fanout {
    pub from: u64,
    pub frame: Bytes,
}

/// A `from` that is no connection, for frames the sender gets back too.
const EVERYONE: u64 = 0;

/// One lock for the window flag and the edits, so an edit is never left behind by a window
/// that is just closing.
#[derive(Default)]
struct HeldUpdates {
    window_open: bool,
    /// Edits with their senders, in the order the document applied them.
    updates: Vec<(u64, Vec<u8>)>,
    /// An awareness window ended while this one was open: its frame goes out with the next
    /// edits, so both share one write to every connection.
    awareness_waiting: bool,
}

pub struct LiveDoc {
    pub name: String,
    room: Mutex<Room>,
    fanout: broadcast::Sender<Arc<Fanout>>,
    connections: AtomicUsize,
    idle_since: Mutex<Option<Instant>>,
    /// Sequence number of this document's last queued write.
    last_write: AtomicU64,
    logged_since_snapshot: AtomicU64,
    read_only: AtomicBool,
    /// Edits held while the document's update window is open.
    held: Mutex<HeldUpdates>,
    /// Awareness clients changed since the last awareness frame went out.
    awareness_pending: Mutex<BTreeSet<u64>>,
    awareness_flush_scheduled: AtomicBool,
    /// Its owner was deleted ([`DocHub::forget`]): nothing more of it reaches the store.
    forgotten: AtomicBool,
}

impl LiveDoc {
    fn room(&self) -> std::sync::MutexGuard<'_, Room> {
        self.room.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only.load(Ordering::SeqCst)
    }

    pub fn set_read_only(&self, value: bool) {
        self.read_only.store(value, Ordering::SeqCst);
    }

    /// The document's current content as a snapshot (for export).
    pub fn snapshot(&self) -> Vec<u8> {
        self.room().snapshot()
    }

    fn send(&self, from: u64, frame: Vec<u8>) {
        let _ = self.fanout.send(Arc::new(Fanout {
            from,
            frame: Bytes::from(frame),
        }));
    }

    /// Replaces the document's logged updates with one snapshot. Taken and queued holding the
    /// room: an edit applied in between would be logged before the snapshot and deleted with
    /// the log, though the snapshot lacks it.
    fn compact(&self, persister: &Persister) {
        self.compact_holding(&self.room(), persister);
    }

    fn compact_holding(&self, room: &Room, persister: &Persister) {
        if self.forgotten.load(Ordering::SeqCst) {
            return;
        }
        self.logged_since_snapshot.store(0, Ordering::SeqCst);
        let seq = persister.snapshot(&self.name, room.snapshot());
        self.last_write.store(seq, Ordering::SeqCst);
    }

    fn update_window(&self) -> Duration {
        let ms = self
            .connections
            .load(Ordering::SeqCst)
            .saturating_sub(WINDOW_FROM_CONNECTIONS)
            / CONNECTIONS_PER_WINDOW_MS;
        Duration::from_millis(ms as u64).min(MAX_UPDATE_WINDOW)
    }

    /// Fans out one connection's edits: at once when the document is quiet (or small), else
    /// held and merged with whatever else arrives in the window. Called holding the room, so
    /// edits go out in the order they were applied.
    fn fan_out_updates(self: &Arc<Self>, from: u64, updates: &[Vec<u8>], frames: &[Vec<u8>]) {
        if frames.is_empty() {
            return;
        }
        let window = self.update_window();
        if !window.is_zero() {
            let mut held = self.held();
            if held.window_open {
                held.updates
                    .extend(updates.iter().map(|u| (from, u.clone())));
                return;
            }
            held.window_open = true;
        }
        for frame in frames {
            self.send(from, frame.clone());
        }
        if !window.is_zero() {
            let doc = self.clone();
            tokio::spawn(async move { doc.hold_updates(window).await });
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HeldUpdates> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps the window open while edits keep coming, sending each window's edits as one;
    /// closes it after a window with none.
    async fn hold_updates(&self, window: Duration) {
        loop {
            tokio::time::sleep(window).await;
            let (pending, awareness_waiting) = {
                let mut held = self.held();
                if held.updates.is_empty() {
                    held.window_open = false;
                }
                (
                    std::mem::take(&mut held.updates),
                    std::mem::take(&mut held.awareness_waiting),
                )
            };
            let closed = pending.is_empty();
            self.send_merged(pending);
            if awareness_waiting {
                self.flush_awareness();
            }
            if closed {
                return;
            }
        }
    }

    /// Sends held edits as one update.
    fn send_merged(&self, pending: Vec<(u64, Vec<u8>)>) {
        let Some(&(first, _)) = pending.first() else {
            return;
        };
        // A sender does not need its own edits back; with several senders everyone gets all.
        let from = if pending.iter().all(|(f, _)| *f == first) {
            first
        } else {
            EVERYONE
        };
        match yrs::merge_updates_v1(pending.iter().map(|(_, u)| u)) {
            Ok(merged) => self.send(from, room::update_frame(&merged)),
            // Each was applied to the document already, so each is valid on its own.
            Err(_) => {
                for (sender, update) in pending {
                    self.send(sender, room::update_frame(&update));
                }
            }
        }
    }

    /// Notes changed awareness clients; the first change in a window schedules the frame.
    fn awareness_changed(self: &Arc<Self>, clients: &[u64]) {
        if clients.is_empty() {
            return;
        }
        self.awareness_pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(clients);
        if !self.awareness_flush_scheduled.swap(true, Ordering::SeqCst) {
            let doc = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(AWARENESS_WINDOW).await;
                doc.awareness_window_ended();
            });
        }
    }

    fn awareness_window_ended(&self) {
        {
            let mut held = self.held();
            if held.window_open {
                held.awareness_waiting = true;
                return;
            }
        }
        self.flush_awareness();
    }

    fn flush_awareness(&self) {
        // Clear the flag before taking the set: a change racing with us either lands in this
        // frame or schedules the next one.
        self.awareness_flush_scheduled
            .store(false, Ordering::SeqCst);
        let clients = std::mem::take(
            &mut *self
                .awareness_pending
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        let frame = self.room().awareness_frame(clients);
        if let Some(frame) = frame {
            self.send(EVERYONE, frame);
        }
    }
}

pub struct DocHub {
    docs: Mutex<HashMap<String, Arc<LiveDoc>>>,
    /// Text previews of documents not in memory: their content cannot change until they are
    /// loaded again, so the teacher's overview need not rebuild them from the store each time.
    previews: Mutex<HashMap<String, (usize, String)>>,
    store: Arc<dyn Store>,
    persister: Persister,
    limits: DocLimits,
    /// What pupils and guests have added (see `docs::quota`).
    ledger: Ledger,
    disk: Arc<Disk>,
    idle_unload: Duration,
    next_connection: AtomicU64,
    loaded: watch::Sender<usize>,
    catch_ups: AtomicU64,
}

/// One connection's handle on a document. Dropping it leaves the document.
pub struct DocConnection {
    pub doc: Arc<LiveDoc>,
    hub: Arc<DocHub>,
    id: u64,
    peer: Peer,
    fanout: broadcast::Receiver<Arc<Fanout>>,
    /// Who pays for what this connection adds.
    payer: Payer,
    /// Whether others write in this document too (a share of it is each person's).
    shared: bool,
}

/// What the connection's next outgoing frame is.
pub enum Incoming {
    Frame(Bytes),
    /// The connection fell behind the document; it gets the whole state instead.
    CatchUp(Bytes),
    Closed,
}

impl DocHub {
    pub fn new(
        store: Arc<dyn Store>,
        persister: Persister,
        limits: DocLimits,
        disk: Arc<Disk>,
        idle_unload: Duration,
    ) -> Result<Arc<Self>, StoreError> {
        let ledger = Ledger::load(store.as_ref())?;
        Ok(Arc::new(Self {
            docs: Mutex::default(),
            previews: Mutex::default(),
            store,
            persister,
            limits,
            ledger,
            disk,
            idle_unload,
            next_connection: AtomicU64::new(1),
            loaded: watch::channel(0).0,
            catch_ups: AtomicU64::new(0),
        }))
    }

    fn docs(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<LiveDoc>>> {
        self.docs.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn loaded_count(&self) -> usize {
        self.docs().len()
    }

    /// How often a connection fell behind and was sent the whole document instead.
    pub fn catch_up_count(&self) -> u64 {
        self.catch_ups.load(Ordering::Relaxed)
    }

    /// Follows the number of loaded documents (tests await unloading with it).
    pub fn watch_loaded(&self) -> watch::Receiver<usize> {
        self.loaded.subscribe()
    }

    /// The document, loading it from the store if it is not in memory.
    pub fn get(&self, name: &str, read_only: bool) -> Result<Arc<LiveDoc>, DocError> {
        let mut docs = self.docs();
        if let Some(doc) = docs.get(name) {
            return Ok(doc.clone());
        }
        let stored = persist::load(self.store.as_ref(), name)?;
        let room = Room::load(stored.iter().map(Vec::as_slice))?;
        let doc = Arc::new(LiveDoc {
            name: name.to_string(),
            room: Mutex::new(room),
            fanout: broadcast::channel(FANOUT_SLOTS).0,
            connections: AtomicUsize::new(0),
            idle_since: Mutex::new(Some(Instant::now())),
            last_write: AtomicU64::new(0),
            logged_since_snapshot: AtomicU64::new(stored.len().saturating_sub(1) as u64),
            read_only: AtomicBool::new(read_only),
            held: Mutex::default(),
            awareness_pending: Mutex::default(),
            awareness_flush_scheduled: AtomicBool::new(false),
            forgotten: AtomicBool::new(false),
        });
        docs.insert(name.to_string(), doc.clone());
        self.previews().remove(name);
        self.loaded.send_replace(docs.len());
        Ok(doc)
    }

    /// The document's current content as one update, without keeping it loaded (exports,
    /// previews).
    pub fn snapshot_of(&self, name: &str) -> Result<Vec<u8>, DocError> {
        let loaded = self.docs().get(name).cloned();
        if let Some(doc) = loaded {
            return Ok(doc.snapshot());
        }
        let stored = persist::load(self.store.as_ref(), name)?;
        Ok(Room::load(stored.iter().map(Vec::as_slice))?.snapshot())
    }

    fn previews(&self) -> std::sync::MutexGuard<'_, HashMap<String, (usize, String)>> {
        self.previews.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The largest a document may grow.
    pub fn max_doc_bytes(&self) -> usize {
        self.limits.max_doc_bytes
    }

    /// The room documents may take.
    pub fn limits(&self) -> &DocLimits {
        &self.limits
    }

    /// Whether a lesson-end version of `bytes` may be kept for `lesson_id`: the disk is above
    /// its reserve and the lesson's room has it. Charges the lesson if so.
    pub fn room_for_version(&self, lesson_id: &LessonId, bytes: u64) -> bool {
        if self.disk.room_for(bytes) != DiskRoom::Plenty {
            return false;
        }
        match self.ledger.admit_versions(&self.limits, lesson_id, bytes) {
            Some((key, total)) => {
                self.persister.count(key, total);
                true
            }
            None => false,
        }
    }

    /// What pupils and guests have added to documents.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The document's state vector (lib0 v1), without keeping it loaded: what a paired box is
    /// asked to send the rest of.
    pub fn state_vector_of(&self, name: &str) -> Result<Vec<u8>, DocError> {
        self.with_room(name, |room| room.state_vector_bytes())
    }

    /// What the document holds beyond `state_vector` (lib0 v1), without keeping it loaded:
    /// the updates a paired box lacks.
    pub fn diff_since(&self, name: &str, state_vector: &[u8]) -> Result<Vec<u8>, DocError> {
        self.with_room(name, |room| room.diff_since(state_vector))
    }

    /// Runs `read` on the loaded document, or on one loaded from the store just for it.
    fn with_room<T>(
        &self,
        name: &str,
        read: impl FnOnce(&mut Room) -> Result<T, DocError>,
    ) -> Result<T, DocError> {
        let loaded = self.docs().get(name).cloned();
        if let Some(doc) = loaded {
            return read(&mut doc.room());
        }
        let stored = persist::load(self.store.as_ref(), name)?;
        read(&mut Room::load(stored.iter().map(Vec::as_slice))?)
    }

    /// The first `max_chars` characters of the document's text on one line. A document not in
    /// memory is read from the store once and its preview kept until it is loaded again.
    pub fn preview(&self, name: &str, max_chars: usize) -> Result<String, DocError> {
        let loaded = self.docs().contains_key(name);
        if !loaded {
            if let Some((max, text)) = self.previews().get(name) {
                if *max == max_chars {
                    return Ok(text.clone());
                }
            }
        }
        let text = export::preview(&self.snapshot_of(name)?, max_chars)?;
        // Kept only if nobody loaded the document meanwhile (loading drops the kept preview).
        let docs = self.docs();
        if !docs.contains_key(name) {
            self.previews()
                .insert(name.to_string(), (max_chars, text.clone()));
        }
        Ok(text)
    }

    /// Joins a connection of `person` (whose name and role others see on their cursor) to document
    /// `name`; returns it with the greeting frames to send.
    pub fn connect(
        self: &Arc<Self>,
        name: &str,
        read_only: bool,
        person: Person,
        payer: Payer,
    ) -> Result<(DocConnection, Vec<Vec<u8>>), DocError> {
        let doc = self.get(name, read_only)?;
        doc.connections.fetch_add(1, Ordering::SeqCst);
        *doc.idle_since.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let fanout = doc.fanout.subscribe();
        let greeting = doc.room().greeting()?;
        let connection = DocConnection {
            id: self.next_connection.fetch_add(1, Ordering::Relaxed),
            hub: self.clone(),
            peer: Peer::new(person),
            fanout,
            shared: DocName::parse(name).is_some_and(|n| n.is_shared()),
            doc,
            payer,
        };
        Ok((connection, greeting))
    }

    /// Documents loaded but asleep (see [`Room::sleep`]).
    pub fn asleep_count(&self) -> usize {
        let docs: Vec<Arc<LiveDoc>> = self.docs().values().cloned().collect();
        docs.iter().filter(|d| d.room().is_asleep()).count()
    }

    /// Puts to sleep the documents people have open but nobody has synced or edited for
    /// `idle_unload`; their log is compacted into the snapshot they sleep as. Returns how many
    /// fell asleep.
    fn sleep_idle(&self) -> usize {
        let open: Vec<Arc<LiveDoc>> = self
            .docs()
            .values()
            .filter(|d| d.connections.load(Ordering::SeqCst) > 0)
            .cloned()
            .collect();
        let mut slept = 0;
        for doc in open {
            let mut room = doc.room();
            if room.is_asleep() || room.idle_for() < self.idle_unload {
                continue;
            }
            // Asleep first: the snapshot is then the state it sleeps as, encoded once.
            room.sleep();
            if doc.logged_since_snapshot.load(Ordering::SeqCst) > 0 {
                doc.compact_holding(&room, &self.persister);
            }
            slept += 1;
        }
        slept
    }

    /// Puts idle open documents to sleep and unloads unused ones; returns how many of either.
    pub fn sweep(&self) -> usize {
        self.sleep_idle() + self.unload_idle()
    }

    /// Unloads documents nobody has used for `idle_unload`, once their writes are durable,
    /// leaving a snapshot behind. Returns how many were unloaded.
    fn unload_idle(&self) -> usize {
        let now = Instant::now();
        let mut docs = self.docs();
        let idle: Vec<String> = docs
            .values()
            .filter(|d| d.connections.load(Ordering::SeqCst) == 0)
            .filter(|d| {
                let since = *d.idle_since.lock().unwrap_or_else(|p| p.into_inner());
                since.is_some_and(|t| now.duration_since(t) >= self.idle_unload)
            })
            .filter(|d| {
                self.persister
                    .is_written(d.last_write.load(Ordering::SeqCst))
            })
            .map(|d| d.name.clone())
            .collect();
        for name in &idle {
            if let Some(doc) = docs.remove(name) {
                if doc.logged_since_snapshot.load(Ordering::SeqCst) > 0 {
                    doc.compact(&self.persister);
                }
            }
        }
        self.loaded.send_replace(docs.len());
        idle.len()
    }

    /// Runs `sweep` until `stop` fires. Memory freed by a sweep goes back to the system.
    pub async fn sweep_until(self: Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        let mut tick = tokio::time::interval(
            self.idle_unload
                .clamp(Duration::from_millis(10), Duration::from_secs(5)),
        );
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tick.tick() => {
                    // Snapshotting a thousand documents is work for a blocking thread.
                    let hub = self.clone();
                    let swept = tokio::task::spawn_blocking(move || {
                        let swept = hub.sweep();
                        if swept > 0 {
                            memory::release_freed();
                        }
                        swept
                    });
                    if swept.await.is_err() {
                        tracing::error!("sweeping idle documents failed");
                    }
                }
            }
        }
    }

    /// Drops a document for good (the pupil it belongs to is being deleted): taken out of
    /// memory, and its open connections can no longer write, so nothing more of it is queued
    /// for the store. The caller waits for [`DocHub::durable`] and then deletes what is stored.
    pub fn forget(&self, name: &str) {
        self.persister.forget(Forgotten::One(name.to_string()));
        self.ledger.forget_docs(|doc| doc == name);
        self.unload_forgotten(name);
    }

    /// Drops the kept counts of `docs::quota` whose key starts with `prefix` (a deleted pupil's,
    /// an expired lesson's), here and in what is queued for the store.
    pub fn forget_counts(&self, prefix: &str) {
        self.persister.forget(Forgotten::Counts(prefix.to_string()));
        self.ledger.forget_kept(prefix);
    }

    fn unload_forgotten(&self, name: &str) {
        let mut docs = self.docs();
        if let Some(doc) = docs.remove(name) {
            // Under the room lock: an edit being applied now is queued before the flag is seen.
            let _room = doc.room();
            doc.forgotten.store(true, Ordering::SeqCst);
        }
        self.loaded.send_replace(docs.len());
        drop(docs);
        self.previews().remove(name);
    }

    /// [`DocHub::forget`] for every loaded document whose name starts with `prefix` (an
    /// expired lesson's).
    pub fn forget_prefix(&self, prefix: &str) {
        self.persister.forget(Forgotten::Prefix(prefix.to_string()));
        self.ledger.forget_docs(|doc| doc.starts_with(prefix));
        let names: Vec<String> = self
            .docs()
            .keys()
            .filter(|name| name.starts_with(prefix))
            .cloned()
            .collect();
        for name in names {
            self.unload_forgotten(&name);
        }
    }

    /// Applies a changed read-only setting to the document if it is loaded.
    pub fn set_read_only(&self, name: &str, read_only: bool) {
        if let Some(doc) = self.docs().get(name) {
            doc.set_read_only(read_only);
        }
    }

    /// Stops the persistence worker after everything queued so far (shutdown).
    pub fn close_persistence(&self) {
        self.persister.stop();
    }

    /// Waits until every write queued so far is durable; the store's error, at once, while
    /// writing fails (the writes stay queued and are tried again).
    pub async fn durable(&self) -> Result<(), StoreError> {
        self.persister.written(self.persister.last_queued()).await
    }

    /// Snapshots every loaded document and waits until all writes are durable (shutdown).
    pub async fn flush_all(&self) {
        let docs: Vec<Arc<LiveDoc>> = self.docs().values().cloned().collect();
        for doc in docs {
            if doc.logged_since_snapshot.load(Ordering::SeqCst) > 0 {
                doc.compact(&self.persister);
            }
        }
        if let Err(e) = self.durable().await {
            tracing::error!("documents could not all be written at shutdown: {e}");
        }
    }
}

impl DocConnection {
    /// Handles a frame from this connection: fans out what changed, queues it for the store,
    /// and returns the frames for the sender.
    pub fn receive(&mut self, frame: &[u8], may_write: bool) -> Result<Vec<Vec<u8>>, DocError> {
        let hub = &self.hub;
        let doc = &self.doc;
        let outcome = {
            let mut room = doc.room();
            if doc.forgotten.load(Ordering::SeqCst) {
                return Err(DocError::NotFound);
            }
            // yrs may panic on some hostile inputs (debug assertions on client ids); a bad
            // frame must cost its sender the connection, never the server a thread.
            let (peer, payer, shared) = (&mut self.peer, &self.payer, self.shared);
            let cap = hub.limits.cap_for(payer);
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let checked = room.check(peer, frame, may_write, cap)?;
                if checked.incoming > 0 {
                    pay(hub, &doc.name, payer, shared, checked.incoming as u64)?;
                }
                room.apply(peer, checked)
            }));
            let outcome: Outcome =
                result.map_err(|_| DocError::Malformed("undecodable frame".into()))??;
            // Queue and fan out while holding the room, so every connection and the store see
            // updates in the order the document applied them.
            for update in &outcome.updates {
                let seq = hub.persister.update(&doc.name, update.clone());
                doc.last_write.store(seq, Ordering::SeqCst);
            }
            doc.fan_out_updates(self.id, &outcome.updates, &outcome.broadcast);
            outcome
        };
        doc.awareness_changed(&outcome.awareness);
        let logged = doc
            .logged_since_snapshot
            .fetch_add(outcome.updates.len() as u64, Ordering::SeqCst);
        if logged >= SNAPSHOT_EVERY {
            doc.compact(&hub.persister);
        }
        Ok(outcome.reply)
    }

    /// The next frame from other connections for this one.
    pub async fn next(&mut self) -> Incoming {
        loop {
            let received = self.fanout.recv().await.map_err(|e| match e {
                broadcast::error::RecvError::Lagged(n) => broadcast::error::TryRecvError::Lagged(n),
                broadcast::error::RecvError::Closed => broadcast::error::TryRecvError::Closed,
            });
            if let Some(incoming) = self.incoming(received) {
                return incoming;
            }
        }
    }

    /// The next frame if one is waiting already (to batch socket writes).
    pub fn ready(&mut self) -> Option<Incoming> {
        loop {
            match self.fanout.try_recv() {
                Err(broadcast::error::TryRecvError::Empty) => return None,
                received => {
                    if let Some(incoming) = self.incoming(received) {
                        return Some(incoming);
                    }
                }
            }
        }
    }

    /// What a received fan-out means for this connection; `None` for its own frames.
    fn incoming(
        &self,
        received: Result<Arc<Fanout>, broadcast::error::TryRecvError>,
    ) -> Option<Incoming> {
        match received {
            Ok(f) if f.from == self.id => None,
            Ok(f) => Some(Incoming::Frame(f.frame.clone())),
            Err(broadcast::error::TryRecvError::Lagged(_)) => Some(self.catch_up()),
            // `ready` answers Empty itself; `next` never sees it.
            Err(broadcast::error::TryRecvError::Closed | broadcast::error::TryRecvError::Empty) => {
                Some(Incoming::Closed)
            }
        }
    }

    fn catch_up(&self) -> Incoming {
        self.hub.catch_ups.fetch_add(1, Ordering::Relaxed);
        Incoming::CatchUp(Bytes::from(self.doc.room().catch_up_frame()))
    }
}

/// Admits `bytes` more into document `doc` from `payer`, or says which room is used up. The
/// teacher stops only at the disk's floor (below it the store would refuse the write anyway,
/// after everyone had seen it).
fn pay(hub: &DocHub, doc: &str, payer: &Payer, shared: bool, bytes: u64) -> Result<(), DocError> {
    let room = hub.disk.room_for(bytes);
    match payer {
        Payer::Teacher if room == DiskRoom::BelowFloor => Err(DocError::NoRoom(Scope::Disk)),
        Payer::Teacher => Ok(()),
        Payer::Learner(_) if room != DiskRoom::Plenty => Err(DocError::NoRoom(Scope::Disk)),
        Payer::Learner(learner) => {
            let counts = hub
                .ledger
                .admit(&hub.limits, learner, doc, shared, bytes)
                .map_err(DocError::NoRoom)?;
            for (key, total) in counts {
                hub.persister.count(key, total);
            }
            Ok(())
        }
    }
}

impl Drop for DocConnection {
    fn drop(&mut self) {
        let goodbye = self.doc.room().leave(&self.peer);
        if let Some(frame) = goodbye {
            self.doc.send(self.id, frame);
        }
        if self.doc.connections.fetch_sub(1, Ordering::SeqCst) == 1 {
            *self
                .doc
                .idle_since
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs::quota::Learner;
    use crate::ids::ParticipantId;
    use crate::store::MemoryStore;
    use rand::{Rng, SeedableRng};
    use yrs::updates::encoder::Encode;
    use yrs::{ReadTxn, Text, Transact};

    /// A new client's edit of `len` characters: always applies (it builds on nothing).
    fn edit(client: u64, len: usize) -> (Vec<u8>, usize) {
        let doc = yrs::Doc::with_client_id(client);
        let text = doc.get_or_insert_text("t");
        text.insert(&mut doc.transact_mut(), 0, &"x".repeat(len));
        let update = doc
            .transact()
            .encode_state_as_update_v1(&yrs::StateVector::default());
        let size = update.len();
        let frame = yrs::sync::Message::Sync(yrs::sync::SyncMessage::Update(update)).encode_v1();
        (frame, size)
    }

    /// Seeded fuzzing over the rooms' limits: four pupils on two devices write edits of random
    /// sizes, and random bytes, into the class document and their own. Whatever happens, no
    /// person, device, lesson or share ever holds more than its limit, a refused frame leaves
    /// the document as it was, and nothing panics.
    #[tokio::test]
    async fn no_share_is_ever_exceeded_and_a_refused_frame_changes_nothing() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (persister, _worker) = Persister::start(store.clone(), 1);
        let limits = DocLimits {
            max_doc_bytes: 6_000,
            per_person: 3_000,
            per_address: 5_000,
            per_lesson: 8_000,
            share_of_shared: 1_500,
        };
        let hub = DocHub::new(
            store,
            persister,
            limits,
            Arc::new(Disk::unlimited()),
            Duration::from_secs(60),
        )
        .unwrap();
        let lesson = LessonId::random();
        let class_doc = format!("lesson.{lesson}.class");
        let learners: Vec<Learner> = (0..4u8)
            .map(|n| Learner {
                lesson_id: lesson.clone(),
                participant_id: ParticipantId::new_guest(),
                address: Some(std::net::IpAddr::from([10, 0, 0, n / 2])),
            })
            .collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x51_4a7e);
        let (mut by_person, mut by_address, mut in_class) = (
            HashMap::<usize, usize>::new(),
            HashMap::<u8, usize>::new(),
            HashMap::<usize, usize>::new(),
        );
        let mut lesson_total = 0;
        let mut no_room = 0;
        for round in 0..600u64 {
            let who = rng.random_range(0..learners.len());
            let learner = &learners[who];
            let shared = rng.random_bool(0.5);
            let name = if shared {
                class_doc.clone()
            } else {
                format!("lesson.{lesson}.pupil.{}", learner.participant_id.as_str())
            };
            let (mut connection, _) = hub
                .connect(
                    &name,
                    false,
                    Person::default(),
                    Payer::Learner(learner.clone()),
                )
                .unwrap();
            let (frame, size) = if rng.random_bool(0.2) {
                let noise: Vec<u8> = (0..rng.random_range(0..64)).map(|_| rng.random()).collect();
                (noise, usize::MAX)
            } else {
                edit(1_000 + round, rng.random_range(1..700))
            };
            let before = connection.doc.snapshot();
            match connection.receive(&frame, true) {
                Ok(_) if size != usize::MAX => {
                    *by_person.entry(who).or_default() += size;
                    *by_address.entry(who as u8 / 2).or_default() += size;
                    lesson_total += size;
                    if shared {
                        *in_class.entry(who).or_default() += size;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    no_room += usize::from(matches!(e, DocError::NoRoom(_)));
                    assert_eq!(connection.doc.snapshot(), before, "round {round}");
                }
            }
        }
        assert!(by_person.values().all(|b| *b as u64 <= limits.per_person));
        assert!(by_address.values().all(|b| *b as u64 <= limits.per_address));
        assert!(in_class
            .values()
            .all(|b| *b as u64 <= limits.share_of_shared));
        assert!(lesson_total as u64 <= limits.per_lesson);
        assert!(
            lesson_total > 0 && no_room > 0,
            "writes went in until the limits refused them"
        );
        assert!(
            hub.snapshot_of(&class_doc).unwrap().len() <= limits.max_doc_bytes,
            "the class document stays within its size"
        );
    }
}
