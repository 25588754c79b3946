//! The persistence worker: every document update is appended to the store off the fan-out
//! path, with group commit — one durable flush for everything that arrived in the last 50 ms.
//! A document's updates of one flush go in as one merged log entry: a class typing makes a
//! few entries a second instead of hundreds, which the store keeps and compacts far cheaper.
//!
//! Key layout in `Tree::Docs`:
//! - `s/<doc>` — snapshot: the whole document as one update (lib0 v1)
//! - `u/<doc>/<run>-<n>` — an update logged since the snapshot (`run` = start time of the process)
//! - `m/<doc>` — the document's settings (JSON)
//!
//! Yjs updates commute, so the log order does not matter; keys only need to be unique.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::store::{Store, StoreError, Tree};

/// How long updates may wait to be made durable together.
pub const GROUP_COMMIT: Duration = Duration::from_millis(50);

enum Op {
    Update {
        doc: String,
        bytes: Vec<u8>,
        seq: u64,
    },
    Snapshot {
        doc: String,
        state: Vec<u8>,
        seq: u64,
    },
    /// Keep a count of [`super::quota`] (a key and its new total).
    Count { key: String, total: u64, seq: u64 },
    /// Drop what is queued for these documents (they are being deleted): nothing queued
    /// before this is written for them, even after a failed write is tried again.
    Forget { docs: Forgotten, seq: u64 },
    /// Write what came before, then end the worker.
    Stop,
}

/// Which documents a forget covers ([`Persister::forget`]).
#[derive(Debug, Clone)]
pub enum Forgotten {
    One(String),
    /// Every document whose name starts with this (an expired lesson's).
    Prefix(String),
    /// Every count of [`super::quota`] whose key starts with this (a deleted pupil's).
    Counts(String),
}

impl Forgotten {
    pub fn covers(&self, doc: &str) -> bool {
        match self {
            Forgotten::One(name) => doc == name,
            Forgotten::Prefix(prefix) => doc.starts_with(prefix.as_str()),
            Forgotten::Counts(_) => false,
        }
    }

    fn covers_count(&self, key: &str) -> bool {
        matches!(self, Forgotten::Counts(prefix) if key.starts_with(prefix.as_str()))
    }
}

/// The handle documents use to queue writes.
#[derive(Clone)]
pub struct Persister {
    tx: mpsc::UnboundedSender<Op>,
    queued: Arc<AtomicU64>,
    written: watch::Receiver<Durable>,
}

/// How far the writes got: everything up to `seq` is durable; `failing` while the last try
/// to write failed (the batch is kept and tried again).
#[derive(Debug, Clone, Default)]
struct Durable {
    seq: u64,
    failing: Option<StoreError>,
}

/// After a failed write, the next try waits this long (or for more to write).
const RETRY: Duration = Duration::from_secs(1);
/// At shutdown, a store that keeps failing is given this long before what it could not take
/// is given up (the unit's stop timeout must not run out).
const STOP_GRACE: Duration = Duration::from_secs(5);

pub fn snapshot_key(doc: &str) -> String {
    format!("s/{doc}")
}

pub fn log_prefix(doc: &str) -> String {
    format!("u/{doc}/")
}

/// Key prefixes of every document whose name starts with `name_prefix`.
pub fn name_prefixes(name_prefix: &str) -> [String; 2] {
    [format!("s/{name_prefix}"), format!("u/{name_prefix}")]
}

/// Everything stored for `doc`: its snapshot first, then the logged updates.
pub fn load(store: &dyn Store, doc: &str) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut parts: Vec<Vec<u8>> = store
        .get(Tree::Docs, snapshot_key(doc).as_bytes())?
        .into_iter()
        .collect();
    parts.extend(
        store
            .scan_prefix(Tree::Docs, log_prefix(doc).as_bytes())?
            .into_iter()
            .map(|(_, v)| v),
    );
    Ok(parts)
}

impl Persister {
    /// Starts the worker. It ends, after a last flush, when every `Persister` is dropped.
    pub fn start(store: Arc<dyn Store>, run_id: u64) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (written_tx, written) = watch::channel(Durable::default());
        let worker = tokio::spawn(run(store, rx, written_tx, run_id));
        (
            Self {
                tx,
                queued: Arc::new(AtomicU64::new(0)),
                written,
            },
            worker,
        )
    }

    /// Queues an update; returns its sequence number.
    pub fn update(&self, doc: &str, bytes: Vec<u8>) -> u64 {
        let seq = self.queued.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.tx.send(Op::Update {
            doc: doc.to_string(),
            bytes,
            seq,
        });
        seq
    }

    /// Queues a snapshot that replaces everything logged for `doc` before it.
    pub fn snapshot(&self, doc: &str, state: Vec<u8>) -> u64 {
        let seq = self.queued.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.tx.send(Op::Snapshot {
            doc: doc.to_string(),
            state,
            seq,
        });
        seq
    }

    /// Queues a count of [`super::quota`] to keep.
    pub fn count(&self, key: String, total: u64) -> u64 {
        let seq = self.queued.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.tx.send(Op::Count { key, total, seq });
        seq
    }

    /// Drops everything queued so far for `docs`; returns its sequence number.
    pub fn forget(&self, docs: Forgotten) -> u64 {
        let seq = self.queued.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.tx.send(Op::Forget { docs, seq });
        seq
    }

    /// Ends the worker once everything queued before this call is written (or, with a store
    /// that keeps failing, after `STOP_GRACE`).
    pub fn stop(&self) {
        let _ = self.tx.send(Op::Stop);
    }

    /// The sequence number of the last write queued so far.
    pub fn last_queued(&self) -> u64 {
        self.queued.load(Ordering::SeqCst)
    }

    /// Whether everything up to `seq` is durable.
    pub fn is_written(&self, seq: u64) -> bool {
        self.written.borrow().seq >= seq
    }

    /// Waits until everything up to `seq` is durable; the store's error, at once, while
    /// writing fails (the writes stay queued and are tried again).
    pub async fn written(&self, seq: u64) -> Result<(), StoreError> {
        let mut written = self.written.clone();
        let seen = written
            .wait_for(|w| w.seq >= seq || w.failing.is_some())
            .await
            .map(|w| w.clone());
        match seen {
            Ok(w) if w.seq >= seq => Ok(()),
            Ok(w) => Err(w.failing.unwrap_or(StoreError::Full)),
            // The worker is gone (shutdown): nothing more will be written.
            Err(_) => Err(StoreError::Unavailable(
                "the document writer stopped".into(),
            )),
        }
    }
}

async fn run(
    store: Arc<dyn Store>,
    mut rx: mpsc::UnboundedReceiver<Op>,
    written: watch::Sender<Durable>,
    run_id: u64,
) {
    let mut counter: u64 = 0;
    let mut last_flush = tokio::time::Instant::now() - GROUP_COMMIT;
    // What a failed write left to write, oldest first.
    let mut pending: Vec<Op> = Vec::new();
    let mut stop_asked: Option<tokio::time::Instant> = None;
    loop {
        if pending.is_empty() {
            match rx.recv().await {
                Some(op) => pending.push(op),
                None => break,
            }
            // Group commit: wait out the rest of the interval, then take everything queued.
            tokio::time::sleep_until(last_flush + GROUP_COMMIT).await;
        } else if rx.is_closed() && rx.is_empty() {
            // Nobody can queue more: only the pause before the next try.
            stop_asked.get_or_insert_with(tokio::time::Instant::now);
            tokio::time::sleep(RETRY).await;
        } else {
            // A failed write: try again after a pause, or sooner when more comes.
            tokio::select! {
                _ = tokio::time::sleep(RETRY) => {}
                Some(op) = rx.recv() => pending.push(op),
            }
        }
        while let Ok(op) = rx.try_recv() {
            pending.push(op);
        }
        if stop_asked.is_none() && pending.iter().any(|op| matches!(op, Op::Stop)) {
            stop_asked = Some(tokio::time::Instant::now());
        }
        last_flush = tokio::time::Instant::now();
        let batch = std::mem::take(&mut pending);
        let mut next = counter;
        let writing = store.clone();
        let result = tokio::task::spawn_blocking(move || {
            let result = write(writing.as_ref(), &batch, run_id, &mut next);
            (batch, result.map(|seq| (seq, next)))
        })
        .await;
        let (batch, result) = match result {
            Ok(done) => done,
            Err(e) => {
                tracing::error!("the document writer stopped: {e}");
                break;
            }
        };
        match result {
            Ok((seq, next_counter)) => {
                counter = next_counter;
                // A batch of only `Stop` wrote nothing; never move the mark back.
                written.send_if_modified(|w| {
                    let moved = seq > w.seq || w.failing.is_some();
                    w.seq = w.seq.max(seq);
                    w.failing = None;
                    moved
                });
                if stop_asked.is_some() {
                    break;
                }
            }
            Err(e) => {
                let first = written.borrow().failing.is_none();
                if first {
                    tracing::error!(
                        "writing document updates failed; they are kept and tried again: {e}"
                    );
                }
                written.send_modify(|w| w.failing = Some(e));
                if stop_asked.is_some_and(|asked| asked.elapsed() >= STOP_GRACE) {
                    let lost = batch.iter().filter(|op| !matches!(op, Op::Stop)).count();
                    tracing::error!(
                        lost,
                        "stopping with document updates the store would not take"
                    );
                    break;
                }
                pending = batch;
            }
        }
    }
}

/// Writes a batch; the same batch written again (after a failure) writes the same keys.
fn write(
    store: &dyn Store,
    batch: &[Op],
    run_id: u64,
    counter: &mut u64,
) -> Result<u64, StoreError> {
    let mut last = 0;
    // Each document's updates of this batch since its last snapshot in it.
    let mut logged: HashMap<&str, Vec<Vec<u8>>> = HashMap::new();
    // A document forgotten later in the batch gets nothing written for it before that.
    let forgotten_after = |at: usize, covered: &dyn Fn(&Forgotten) -> bool| {
        batch[at..].iter().any(|op| match op {
            Op::Forget { docs, .. } => covered(docs),
            _ => false,
        })
    };
    // The last total of each count in the batch.
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for (at, op) in batch.iter().enumerate() {
        match op {
            Op::Count { key, seq, .. } if forgotten_after(at, &|f| f.covers_count(key)) => {
                last = *seq;
            }
            Op::Count { key, total, seq } => {
                counts.insert(key, *total);
                last = *seq;
            }
            Op::Update { doc, seq, .. } | Op::Snapshot { doc, seq, .. }
                if forgotten_after(at, &|f| f.covers(doc)) =>
            {
                last = *seq;
            }
            Op::Forget { docs, seq } => {
                logged.retain(|doc, _| !docs.covers(doc));
                last = *seq;
            }
            Op::Update { doc, bytes, seq } => {
                logged.entry(doc).or_default().push(bytes.clone());
                last = *seq;
            }
            Op::Snapshot { doc, state, seq } => {
                // It holds every update queued before it: those need no log entry.
                logged.remove(doc.as_str());
                // Snapshot first: a crash in between leaves both, and applying both is harmless.
                store.put(Tree::Docs, snapshot_key(doc).as_bytes(), state)?;
                for (key, _) in store.scan_prefix(Tree::Docs, log_prefix(doc).as_bytes())? {
                    store.take(Tree::Docs, &key)?;
                }
                last = *seq;
            }
            Op::Stop => {}
        }
    }
    for (doc, updates) in logged {
        for entry in merged(updates) {
            *counter += 1;
            let key = format!("{}{run_id:016x}-{:012x}", log_prefix(doc), *counter);
            store.put(Tree::Docs, key.as_bytes(), &entry)?;
        }
    }
    for (key, total) in counts {
        store.put(Tree::Docs, key.as_bytes(), &total.to_be_bytes())?;
    }
    store.flush()?;
    Ok(last)
}

/// Several updates of one document as one. Updates the document applied always merge; should
/// merging fail anyway, they are kept as they came.
fn merged(updates: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    if updates.len() < 2 {
        return updates;
    }
    match yrs::merge_updates_v1(updates.iter().map(Vec::as_slice)) {
        Ok(one) => vec![one],
        Err(e) => {
            tracing::warn!("document updates did not merge: {e}");
            updates
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    /// A text edit as a yrs update.
    fn typed(doc: &yrs::Doc, text: &str) -> Vec<u8> {
        use yrs::{GetString, ReadTxn, Text, Transact};
        let t = doc.get_or_insert_text("t");
        let before = doc.transact().state_vector();
        let end = t.get_string(&doc.transact()).len() as u32;
        t.insert(&mut doc.transact_mut(), end, text);
        doc.transact().encode_state_as_update_v1(&before)
    }

    #[tokio::test]
    async fn one_flush_logs_a_documents_updates_as_one_entry_that_loads_the_same() {
        use yrs::updates::decoder::Decode;
        use yrs::{GetString, Transact, Update};
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (persister, worker) = Persister::start(store.clone(), 1);
        let typist = yrs::Doc::new();
        let mut seq = 0;
        for word in ["hei ", "på ", "deg"] {
            seq = persister.update("d", typed(&typist, word));
        }
        persister.written(seq).await.unwrap();
        let stored = load(store.as_ref(), "d").unwrap();
        assert_eq!(stored.len(), 1, "one log entry for the flush");
        let reader = yrs::Doc::new();
        reader
            .transact_mut()
            .apply_update(Update::decode_v1(&stored[0]).unwrap())
            .unwrap();
        let text = reader.get_or_insert_text("t");
        assert_eq!(text.get_string(&reader.transact()), "hei på deg");
        persister.stop();
        worker.await.unwrap();
    }

    #[tokio::test]
    async fn updates_are_logged_and_a_snapshot_replaces_the_log() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (persister, worker) = Persister::start(store.clone(), 1);
        persister.update("d", vec![1]);
        persister.update("d", vec![2]);
        let seq = persister.update("other", vec![9]);
        persister.written(seq).await.unwrap();
        assert_eq!(load(store.as_ref(), "d").unwrap(), vec![vec![1], vec![2]]);
        let seq = persister.snapshot("d", vec![1, 2]);
        persister.written(seq).await.unwrap();
        assert_eq!(load(store.as_ref(), "d").unwrap(), vec![vec![1, 2]]);
        assert_eq!(
            load(store.as_ref(), "other").unwrap(),
            vec![vec![9]],
            "other documents are untouched"
        );
        persister.stop();
        worker.await.unwrap();
    }
}

#[cfg(test)]
mod count_tests {
    use super::*;
    use crate::store::faulty::Faulty;
    use crate::store::MemoryStore;

    /// A full disk: whoever waits hears so at once, the updates wait and are written once
    /// there is room, and a document deleted meanwhile gets none of its queued updates.
    #[tokio::test]
    async fn a_failed_write_is_told_and_tried_again_and_a_deleted_document_is_left_out() {
        let filling = Arc::new(Faulty::default());
        filling.fail_with(Some(StoreError::Full));
        let store: Arc<dyn Store> = filling.clone();
        let (persister, worker) = Persister::start(store.clone(), 1);
        let kept = persister.update("kept", vec![1]);
        persister.update("gone", vec![2]);
        assert!(matches!(
            persister.written(kept).await,
            Err(StoreError::Full)
        ));
        let forgotten = persister.forget(Forgotten::One("gone".into()));
        filling.fail_with(None);
        // The worker tries again after its pause (a second).
        let mut written = persister.written.clone();
        let _ = written.wait_for(|w| w.seq >= forgotten).await;
        assert_eq!(load(store.as_ref(), "kept").unwrap(), vec![vec![1]]);
        assert!(load(store.as_ref(), "gone").unwrap().is_empty());
        persister.stop();
        worker.await.unwrap();
    }

    #[tokio::test]
    async fn counts_are_kept_and_a_forgotten_one_is_not() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (persister, worker) = Persister::start(store.clone(), 1);
        persister.count("q/p/a".into(), 5);
        persister.count("q/p/a".into(), 9);
        persister.count("q/p/b".into(), 3);
        let seq = persister.forget(Forgotten::Counts("q/p/b".into()));
        persister.written(seq).await.unwrap();
        assert_eq!(
            store.get(Tree::Docs, b"q/p/a").unwrap(),
            Some(9u64.to_be_bytes().to_vec())
        );
        assert_eq!(store.get(Tree::Docs, b"q/p/b").unwrap(), None);
        persister.stop();
        worker.await.unwrap();
    }
}
