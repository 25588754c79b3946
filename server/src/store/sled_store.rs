use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard};

use super::{KeyValue, RecordVisitor, Store, StoreError, Tree};

/// sled caches up to 1 GiB by default; on a Raspberry Pi that would be most of the memory.
const SLED_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// The on-disk store: one sled database, one sled tree per [`Tree`].
///
/// sled is log-structured: a removed key's old bytes stay in its files until sled happens to
/// reuse the segment. Where that matters (a pupil's data was deleted), [`Store::compact`]
/// rewrites the database: every live key is copied into a fresh database beside it, which then
/// takes the old one's place, so nothing removed is left in any file of the store.
pub struct SledStore {
    path: PathBuf,
    /// `None` only while [`SledStore::compact`] swaps the files (it holds the write lock then).
    open: RwLock<Option<Open>>,
}

struct Open {
    db: sled::Db,
    /// Indexed by `Tree as usize`; `Tree::ALL` is in discriminant order.
    trees: Vec<sled::Tree>,
}

/// Where a rewrite is built, and where the old database waits to be removed. A crash leaves at
/// most one of them; [`SledStore::open`] finishes or undoes what was under way.
fn next_path(path: &Path) -> PathBuf {
    path.with_extension("next")
}

fn old_path(path: &Path) -> PathBuf {
    path.with_extension("old")
}

/// Marks a rewrite as complete; only a complete one may replace the store.
const COMPLETE_MARK: &str = "tavla-complete";

impl SledStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        recover_interrupted_rewrite(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            open: RwLock::new(Some(open_db(path)?)),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Option<Open>> {
        self.open.read().unwrap_or_else(|p| p.into_inner())
    }

    fn with_tree<R>(
        &self,
        tree: Tree,
        f: impl FnOnce(&sled::Tree) -> sled::Result<R>,
    ) -> Result<R, StoreError> {
        let open = self.read();
        let open = open.as_ref().ok_or_else(closed)?;
        f(&open.trees[tree as usize]).map_err(io)
    }
}

/// How long an open waits for the database's file lock: sled's background flusher can hold it
/// for a moment after the previous handle in this process was dropped (a restart in a test, a
/// restore, the swap after a rewrite).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

fn open_db(path: &Path) -> Result<Open, StoreError> {
    let started = std::time::Instant::now();
    let db = loop {
        let opened = sled::Config::new()
            .path(path)
            .mode(sled::Mode::HighThroughput)
            .cache_capacity(SLED_CACHE_BYTES)
            .open();
        match opened {
            Ok(db) => break db,
            // sled reports a held lock as a plain I/O error with this text.
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && started.elapsed() < LOCK_WAIT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(StoreError::Io(format!("{}: {e}", path.display()))),
        }
    };
    let trees = Tree::ALL
        .iter()
        .map(|tree| db.open_tree(tree.name()).map_err(io))
        .collect::<Result<_, _>>()?;
    Ok(Open { db, trees })
}

/// A rewrite interrupted by a crash: a complete new database replaces the store (the store is
/// then the old one or already gone); an incomplete one is dropped; an old one left behind is
/// removed.
fn recover_interrupted_rewrite(path: &Path) -> Result<(), StoreError> {
    let next = next_path(path);
    if next.join(COMPLETE_MARK).exists() {
        if path.exists() {
            fs::rename(path, old_path(path)).map_err(fs_io(path))?;
        }
        fs::remove_file(next.join(COMPLETE_MARK)).map_err(fs_io(&next))?;
        fs::rename(&next, path).map_err(fs_io(&next))?;
    } else if next.exists() {
        fs::remove_dir_all(&next).map_err(fs_io(&next))?;
    }
    let old = old_path(path);
    if old.exists() {
        fs::remove_dir_all(&old).map_err(fs_io(&old))?;
    }
    Ok(())
}

fn io(e: sled::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

fn fs_io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Io(format!("{}: {e}", path.display()))
}

fn closed() -> StoreError {
    StoreError::Io("the store is being rewritten".into())
}

impl Store for SledStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_tree(tree, |t| t.get(key).map(|v| v.map(|v| v.to_vec())))
    }

    fn put(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.with_tree(tree, |t| t.insert(key, value).map(|_| ()))
    }

    fn insert_if_absent(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<bool, StoreError> {
        self.with_tree(tree, |t| {
            t.compare_and_swap(key, None::<&[u8]>, Some(value))
                .map(|swapped| swapped.is_ok())
        })
    }

    fn take(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_tree(tree, |t| t.remove(key).map(|v| v.map(|v| v.to_vec())))
    }

    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError> {
        self.with_tree(tree, |t| {
            t.scan_prefix(prefix)
                .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())))
                .collect()
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        let open = self.read();
        open.as_ref().ok_or_else(closed)?.db.flush().map_err(io)?;
        Ok(())
    }

    /// Holds the write lock, so no put or take runs while the records are read.
    fn read_all(&self, each: &mut RecordVisitor<'_>) -> Result<(), StoreError> {
        let guard = self.open.write().unwrap_or_else(|p| p.into_inner());
        let open = guard.as_ref().ok_or_else(closed)?;
        for (tree, sled_tree) in Tree::ALL.iter().zip(&open.trees) {
            for entry in sled_tree.iter() {
                let (key, value) = entry.map_err(io)?;
                each(*tree, &key, &value)?;
            }
        }
        Ok(())
    }

    /// Copies every live key into a fresh database and puts it in the old one's place. Every
    /// other use of the store waits meanwhile (it is a deletion's last step, not a routine).
    fn compact(&self) -> Result<(), StoreError> {
        let mut guard = self.open.write().unwrap_or_else(|p| p.into_inner());
        let current = guard.take().ok_or_else(closed)?;
        let next = next_path(&self.path);
        let copied = copy_into(&current, &next);
        // The old database closes before its files move, whatever happened to the copy.
        drop(current);
        let swapped = copied.and_then(|()| {
            recover_interrupted_rewrite(&self.path)?;
            Ok(())
        });
        let reopened = open_db(&self.path);
        match (swapped, reopened) {
            (Ok(()), Ok(open)) => {
                *guard = Some(open);
                Ok(())
            }
            (Err(e), Ok(open)) => {
                *guard = Some(open);
                Err(e)
            }
            (_, Err(e)) => Err(e),
        }
    }

    /// sled keeps failing once a write met a full disk, even after room is made: the only way
    /// back is to drop the database and open it again from what is on disk.
    fn recover(&self) -> Result<(), StoreError> {
        let mut guard = self.open.write().unwrap_or_else(|p| p.into_inner());
        drop(guard.take());
        *guard = Some(open_db(&self.path)?);
        Ok(())
    }
}

/// Writes every tree of `from` into a new database at `to` and marks it complete.
fn copy_into(from: &Open, to: &Path) -> Result<(), StoreError> {
    if to.exists() {
        fs::remove_dir_all(to).map_err(fs_io(to))?;
    }
    let copy = open_db(to)?;
    for (source, target) in from.trees.iter().zip(&copy.trees) {
        for entry in source.iter() {
            let (key, value) = entry.map_err(io)?;
            target.insert(key, value).map_err(io)?;
        }
    }
    copy.db.flush().map_err(io)?;
    drop(copy);
    fs::write(to.join(COMPLETE_MARK), b"").map_err(fs_io(to))?;
    Ok(())
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

    #[test]
    fn an_open_waits_for_a_lock_that_is_about_to_be_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let first = SledStore::open(&path).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(first);
        });
        SledStore::open(&path).expect("opens once the first handle is gone");
        releaser.join().unwrap();
    }

    /// Every byte of every file under `dir`, to look for what must be gone.
    fn files_contain(dir: &Path, needle: &[u8]) -> bool {
        walk(dir).iter().any(|file| {
            fs::read(file)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
        files
    }

    #[test]
    fn compacting_leaves_no_removed_bytes_in_any_file_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let store = SledStore::open(&path).unwrap();
        store.put(Tree::Docs, b"keep", b"Kari's essay").unwrap();
        store
            .put(Tree::Channels, b"gone", b"Ola-secret-7f3a")
            .unwrap();
        store.flush().unwrap();
        store.take(Tree::Channels, b"gone").unwrap();
        store.flush().unwrap();
        assert!(
            files_contain(dir.path(), b"Ola-secret-7f3a"),
            "without a rewrite sled keeps removed bytes (else this test proves nothing)"
        );

        store.compact().unwrap();
        assert!(!files_contain(dir.path(), b"Ola-secret-7f3a"));
        assert_eq!(
            store.get(Tree::Docs, b"keep").unwrap().as_deref(),
            Some(&b"Kari's essay"[..])
        );
        store.put(Tree::Docs, b"after", b"still works").unwrap();
        drop(store);
        let reopened = SledStore::open(&path).unwrap();
        assert_eq!(
            reopened.get(Tree::Docs, b"after").unwrap().as_deref(),
            Some(&b"still works"[..])
        );
        assert!(!next_path(&path).exists() && !old_path(&path).exists());
    }

    #[test]
    fn a_rewrite_cut_short_is_finished_or_dropped_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        SledStore::open(&path)
            .unwrap()
            .put(Tree::Docs, b"k", b"old")
            .unwrap();
        // An incomplete rewrite (no mark): dropped, the store is kept.
        {
            let half = open_db(&next_path(&path)).unwrap();
            half.trees[Tree::Docs as usize]
                .insert(b"k", b"half")
                .unwrap();
            half.db.flush().unwrap();
        }
        let store = SledStore::open(&path).unwrap();
        assert_eq!(
            store.get(Tree::Docs, b"k").unwrap().as_deref(),
            Some(&b"old"[..])
        );
        // A complete one: it replaces the store.
        {
            let open = store.open.read().unwrap();
            let done = next_path(&path);
            copy_into(open.as_ref().unwrap(), &done).unwrap();
        }
        drop(store);
        assert!(next_path(&path).join(COMPLETE_MARK).exists());
        let store = SledStore::open(&path).unwrap();
        assert_eq!(
            store.get(Tree::Docs, b"k").unwrap().as_deref(),
            Some(&b"old"[..])
        );
        assert!(!next_path(&path).exists() && !old_path(&path).exists());
    }
}
