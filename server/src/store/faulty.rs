//! For unit tests: an in-memory store whose reads and writes fail with a chosen error until
//! told otherwise (a disk that filled up), and that [`Store::recover`] mends.

use std::sync::Mutex;

use super::{KeyValue, MemoryStore, RecordVisitor, Store, StoreError, Tree};

#[derive(Default)]
pub struct Faulty {
    inner: MemoryStore,
    failing: Mutex<Option<StoreError>>,
}

impl Faulty {
    /// From now on reads and writes fail with `error` (`None`: they work again).
    pub fn fail_with(&self, error: Option<StoreError>) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = error;
    }

    fn check(&self) -> Result<(), StoreError> {
        match &*self.failing.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }
}

impl Store for Faulty {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.check()?;
        self.inner.get(tree, key)
    }
    fn put(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.put(tree, key, value)
    }
    fn insert_if_absent(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.insert_if_absent(tree, key, value)
    }
    fn take(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.take(tree, key)
    }
    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError> {
        self.inner.scan_prefix(tree, prefix)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.check()
    }
    fn read_all(&self, each: &mut RecordVisitor<'_>) -> Result<(), StoreError> {
        self.inner.read_all(each)
    }
    fn recover(&self) -> Result<(), StoreError> {
        self.fail_with(None);
        Ok(())
    }
}
