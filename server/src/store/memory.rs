use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::{KeyValue, RecordVisitor, Store, StoreError, Tree};

type Table = BTreeMap<Vec<u8>, Vec<u8>>;

/// An in-memory store for unit tests; same semantics as the sled one, no durability.
#[derive(Default)]
pub struct MemoryStore {
    trees: Mutex<HashMap<Tree, Table>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, tree: Tree, f: impl FnOnce(&mut Table) -> R) -> R {
        let mut trees = self
            .trees
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(trees.entry(tree).or_default())
    }
}

impl Store for MemoryStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.with(tree, |t| t.get(key).cloned()))
    }

    fn put(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.with(tree, |t| t.insert(key.to_vec(), value.to_vec()));
        Ok(())
    }

    fn insert_if_absent(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<bool, StoreError> {
        Ok(self.with(tree, |t| {
            if t.contains_key(key) {
                false
            } else {
                t.insert(key.to_vec(), value.to_vec());
                true
            }
        }))
    }

    fn take(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.with(tree, |t| t.remove(key)))
    }

    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError> {
        Ok(self.with(tree, |t| {
            t.range(prefix.to_vec()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }))
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn read_all(&self, each: &mut RecordVisitor<'_>) -> Result<(), StoreError> {
        let trees = self
            .trees
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for tree in Tree::ALL {
            for (key, value) in trees.get(&tree).into_iter().flatten() {
                each(tree, key, value)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_store_meets_the_contract() {
        super::super::contract::check(&super::MemoryStore::new());
    }
}
