//! The store as the rest of Tavla uses it: the database behind three guards.
//!
//! - **Off the async threads.** Every call runs where blocking is allowed
//!   ([`tokio::task::block_in_place`] on the multi-threaded runtime), so a disk that stalls
//!   slows the requests that wait for it, never the runtime: `/healthz`, TLS handshakes and
//!   shutdown go on.
//! - **A floor under the disk.** Below [`Disk`]'s floor no write goes in (removals still do),
//!   and the caller gets [`StoreError::Full`] at once.
//! - **A broken database is reopened.** A database that failed (the disk filled up under it
//!   anyway, by another program) answers [`StoreError::Unavailable`] at once instead of
//!   failing slowly, and [`Store::recover`] — called by the box's health loop — reopens it
//!   from its files once the disk has room again. Nothing acknowledged is lost: what was
//!   acknowledged had been flushed.

use std::sync::{Arc, Mutex};

use super::disk::{Disk, Room};
use super::{Health, KeyValue, RecordVisitor, Store, StoreError, Tree};

pub struct Guarded<S> {
    inner: S,
    disk: Arc<Disk>,
    /// Why the database failed, while it is broken.
    failed: Mutex<Option<String>>,
}

impl<S: Store> Guarded<S> {
    pub fn new(inner: S, disk: Arc<Disk>) -> Self {
        Self {
            inner,
            disk,
            failed: Mutex::new(None),
        }
    }

    fn failed(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.failed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `call` on the database unless it is broken; an I/O failure marks it broken.
    fn call<T>(&self, call: impl FnOnce(&S) -> Result<T, StoreError>) -> Result<T, StoreError> {
        if let Some(why) = self.failed().as_ref() {
            return Err(StoreError::Unavailable(why.clone()));
        }
        let result = off_the_async_threads(|| call(&self.inner));
        if let Err(StoreError::Io(why)) = &result {
            let mut failed = self.failed();
            if failed.is_none() {
                tracing::error!(
                    "the store failed and takes no more writes until it is reopened: {why}"
                );
                *failed = Some(why.clone());
            }
        }
        result
    }

    /// A write of `bytes` goes in only above the floor.
    fn write<T>(
        &self,
        bytes: usize,
        call: impl FnOnce(&S) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.disk.room_for(bytes as u64) == Room::BelowFloor {
            return Err(StoreError::Full);
        }
        let result = self.call(call);
        if result.is_ok() {
            self.disk.wrote(bytes as u64);
        }
        result
    }
}

/// Runs `f`, telling a multi-threaded tokio runtime first that this thread will block, so its
/// other tasks move to another thread meanwhile. Elsewhere (a blocking-pool thread, a
/// current-thread runtime in unit tests, no runtime) `f` just runs.
fn off_the_async_threads<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

impl<S: Store> Store for Guarded<S> {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.call(|s| s.get(tree, key))
    }

    fn put(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.write(key.len() + value.len(), |s| s.put(tree, key, value))
    }

    fn insert_if_absent(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<bool, StoreError> {
        self.write(key.len() + value.len(), |s| {
            s.insert_if_absent(tree, key, value)
        })
    }

    /// Removals go in below the floor too: they are how room is made.
    fn take(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.call(|s| s.take(tree, key))
    }

    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError> {
        self.call(|s| s.scan_prefix(tree, prefix))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.call(|s| s.flush())
    }

    fn read_all(&self, each: &mut RecordVisitor<'_>) -> Result<(), StoreError> {
        self.call(|s| s.read_all(each))
    }

    fn compact(&self) -> Result<(), StoreError> {
        self.call(|s| s.compact())
    }

    fn health(&self) -> Health {
        if let Some(why) = self.failed().as_ref() {
            return Health::Failed(why.clone());
        }
        match self.disk.room_for(0) {
            Room::Plenty => Health::Ok,
            Room::BelowReserve => Health::Low,
            Room::BelowFloor => Health::Full,
        }
    }

    /// Reopens a broken database once the disk is above the floor again.
    fn recover(&self) -> Result<(), StoreError> {
        if self.failed().is_none() {
            return Ok(());
        }
        if self.disk.room_for(0) == Room::BelowFloor {
            return Err(StoreError::Full);
        }
        off_the_async_threads(|| self.inner.recover())?;
        tracing::info!("the store was reopened and takes writes again");
        *self.failed() = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::faulty::Faulty;
    use crate::store::MemoryStore;

    #[test]
    fn a_failed_database_answers_at_once_until_it_is_reopened() {
        let failing = Faulty::default();
        failing.fail_with(Some(StoreError::Io("No space left on device".into())));
        let store = Guarded::new(failing, Arc::new(Disk::unlimited()));
        assert!(matches!(
            store.put(Tree::Docs, b"k", b"v"),
            Err(StoreError::Io(_))
        ));
        assert!(matches!(store.health(), Health::Failed(_)));
        // Broken: nothing reaches the database now.
        assert!(matches!(
            store.get(Tree::Docs, b"k"),
            Err(StoreError::Unavailable(_))
        ));
        store.recover().unwrap();
        assert_eq!(store.health(), Health::Ok);
        store.put(Tree::Docs, b"k", b"v").unwrap();
        assert_eq!(
            store.get(Tree::Docs, b"k").unwrap().as_deref(),
            Some(&b"v"[..])
        );
    }

    #[test]
    fn below_the_floor_writes_are_refused_and_removals_go_in() {
        let dir = tempfile::tempdir().unwrap();
        let store = Guarded::new(
            MemoryStore::new(),
            Arc::new(Disk::new(dir.path(), u64::MAX, u64::MAX)),
        );
        assert!(matches!(
            store.put(Tree::Docs, b"k", b"v"),
            Err(StoreError::Full)
        ));
        assert_eq!(store.health(), Health::Full);
        assert_eq!(store.take(Tree::Docs, b"k").unwrap(), None);
    }
}
