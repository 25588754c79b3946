use std::path::Path;

use super::{KeyValue, Store, StoreError, Tree};

/// sled caches up to 1 GiB by default; on a Raspberry Pi that would be most of the memory.
const SLED_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// The on-disk store: one sled database, one sled tree per [`Tree`].
pub struct SledStore {
    db: sled::Db,
    /// Indexed by `Tree as usize`; `Tree::ALL` is in discriminant order.
    trees: Vec<sled::Tree>,
}

impl SledStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .mode(sled::Mode::HighThroughput)
            .cache_capacity(SLED_CACHE_BYTES)
            .open()
            .map_err(|e| StoreError::Io(format!("{}: {e}", path.display())))?;
        let trees = Tree::ALL
            .iter()
            .map(|tree| db.open_tree(tree.name()).map_err(io))
            .collect::<Result<_, _>>()?;
        Ok(Self { db, trees })
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree as usize]
    }
}

fn io(e: sled::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

impl Store for SledStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(tree).get(key).map_err(io)?.map(|v| v.to_vec()))
    }

    fn put(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.tree(tree).insert(key, value).map_err(io)?;
        Ok(())
    }

    fn insert_if_absent(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<bool, StoreError> {
        let swapped = self
            .tree(tree)
            .compare_and_swap(key, None::<&[u8]>, Some(value))
            .map_err(io)?;
        Ok(swapped.is_ok())
    }

    fn take(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(tree).remove(key).map_err(io)?.map(|v| v.to_vec()))
    }

    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError> {
        self.tree(tree)
            .scan_prefix(prefix)
            .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(io))
            .collect()
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sled_store_meets_the_contract_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(&dir.path().join("db")).unwrap();
            super::super::contract::check(&store);
        }
        let store = SledStore::open(&dir.path().join("db")).unwrap();
        assert_eq!(
            store.get(Tree::Classes, b"a/2").unwrap().as_deref(),
            Some(&b"two"[..])
        );
    }
}
