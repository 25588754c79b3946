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
    /// Write what came before, then end the worker.
    Stop,
}

/// The handle documents use to queue writes.
#[derive(Clone)]
pub struct Persister {
    tx: mpsc::UnboundedSender<Op>,
    queued: Arc<AtomicU64>,
    written: watch::Receiver<u64>,
}

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
        let (written_tx, written) = watch::channel(0);
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

    /// Ends the worker once everything queued before this call is written.
    pub fn stop(&self) {
        let _ = self.tx.send(Op::Stop);
    }

    /// The sequence number of the last write queued so far.
    pub fn last_queued(&self) -> u64 {
        self.queued.load(Ordering::SeqCst)
    }

    /// Whether everything up to `seq` is durable.
    pub fn is_written(&self, seq: u64) -> bool {
        *self.written.borrow() >= seq
    }

    /// Waits until everything up to `seq` is durable.
    pub async fn written(&self, seq: u64) {
        let mut written = self.written.clone();
        let _ = written.wait_for(|&w| w >= seq).await;
    }
}

async fn run(
    store: Arc<dyn Store>,
    mut rx: mpsc::UnboundedReceiver<Op>,
    written: watch::Sender<u64>,
    run_id: u64,
) {
    let mut counter: u64 = 0;
    let mut last_flush = tokio::time::Instant::now() - GROUP_COMMIT;
    while let Some(first) = rx.recv().await {
        // Group commit: wait out the rest of the interval, then take everything queued.
        tokio::time::sleep_until(last_flush + GROUP_COMMIT).await;
        let mut batch = vec![first];
        while let Ok(op) = rx.try_recv() {
            batch.push(op);
        }
        let stopping = batch.iter().any(|op| matches!(op, Op::Stop));
        last_flush = tokio::time::Instant::now();
        let store = store.clone();
        let mut next = counter;
        let result = tokio::task::spawn_blocking(move || {
            write(store.as_ref(), batch, run_id, &mut next).map(|seq| (seq, next))
        })
        .await;
        match result {
            Ok(Ok((seq, next_counter))) => {
                counter = next_counter;
                // A batch of only `Stop` wrote nothing; never move the mark back.
                written.send_if_modified(|w| {
                    let moved = seq > *w;
                    *w = (*w).max(seq);
                    moved
                });
            }
            Ok(Err(e)) => tracing::error!("writing document updates failed: {e}"),
            Err(e) => tracing::error!("the document writer stopped: {e}"),
        }
        if stopping {
            break;
        }
    }
}

fn write(
    store: &dyn Store,
    batch: Vec<Op>,
    run_id: u64,
    counter: &mut u64,
) -> Result<u64, StoreError> {
    let mut last = 0;
    // Each document's updates of this batch since its last snapshot in it.
    let mut logged: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
    for op in batch {
        match op {
            Op::Update { doc, bytes, seq } => {
                logged.entry(doc).or_default().push(bytes);
                last = seq;
            }
            Op::Snapshot { doc, state, seq } => {
                // It holds every update queued before it: those need no log entry.
                logged.remove(&doc);
                // Snapshot first: a crash in between leaves both, and applying both is harmless.
                store.put(Tree::Docs, snapshot_key(&doc).as_bytes(), &state)?;
                for (key, _) in store.scan_prefix(Tree::Docs, log_prefix(&doc).as_bytes())? {
                    store.take(Tree::Docs, &key)?;
                }
                last = seq;
            }
            Op::Stop => {}
        }
    }
    for (doc, updates) in logged {
        for entry in merged(updates) {
            *counter += 1;
            let key = format!("{}{run_id:016x}-{:012x}", log_prefix(&doc), *counter);
            store.put(Tree::Docs, key.as_bytes(), &entry)?;
        }
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
        persister.written(seq).await;
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
        persister.written(seq).await;
        assert_eq!(load(store.as_ref(), "d").unwrap(), vec![vec![1], vec![2]]);
        let seq = persister.snapshot("d", vec![1, 2]);
        persister.written(seq).await;
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
