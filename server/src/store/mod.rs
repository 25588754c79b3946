//! The persistent key-value store behind everything Tavla keeps.
//!
//! The trait is deliberately small: named trees of byte keys and values, with the two atomic
//! operations the domain needs (insert-if-absent for unique names, take for one-time tokens).
//! `SledStore` is the real one; `MemoryStore` backs unit tests.

pub mod disk;
#[cfg(test)]
pub(crate) mod faulty;
mod guarded;
mod memory;
mod sled_store;

pub use guarded::Guarded;
pub use memory::MemoryStore;
pub use sled_store::SledStore;

use serde::{de::DeserializeOwned, Serialize};

/// The trees (tables) Tavla keeps. Keys inside a tree are documented next to each variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tree {
    /// `teacher/<id>` → Teacher; `teacher-name/<lowercase name>` → id; `device/<id>/<sha256>` →
    /// when a device the teacher signed in on was remembered (`auth::devices`)
    Teachers,
    /// `<sha256(token) hex>` → Session
    Sessions,
    /// `<sha256(token) hex>` → SetupToken (first-teacher setup and invitations)
    SetupTokens,
    /// `class/<id>` → Class; `pupil/<class id>/<pupil id>` → Pupil; `card/<sha256(secret)>` →
    /// pupil ref; `forgotten/<sha256>` → a deleted pupil's or class's tombstone (names no one)
    Classes,
    /// `lesson/<id>` → Lesson; `code/<code>` → lesson id; `part/<lesson id>/<participant id>` →
    /// Participant; `removed/<lesson id>/<participant id>` → removed by the teacher;
    /// `camera/<sha256(token)>` → classroom camera link; `groups/<lesson id>` → the current
    /// groups; `group/<lesson id>/<group id>` → every group formed; `lastgroups/<class id>` →
    /// last time's arrangement
    Lessons,
    /// Shared documents: `s/<doc>` snapshot, `u/<doc>/<key>` logged updates, `m/<doc>`
    /// settings; `v/<doc>/<id>` version record, `vs/<doc>/<id>` its content; `c/<lesson>/<copy>`
    /// copy; `h/<lesson>/<hand-out>` hand-out, `hs/…` its content
    Docs,
    /// Messages: `m/<thread>/<seq>` → Message; `del/<thread>/<seq>` → deleted seq; `counter`;
    /// `sent/<author>/<client id>` → (thread, seq); `hands/<lesson>`; `chat/<lesson>`
    Channels,
    /// Attached files: `meta/<id>` → Upload; `data/<id>` → the bytes
    Files,
    /// The pupils' VPN: `box` → the interface's keys; `peer/<class>/<pupil>` → a pupil's peer
    Vpn,
    /// Paired boxes: `pair/<box id>` → PairedBox; `synced/<box id>` → how far its sync got
    Boxes,
}

impl Tree {
    pub const ALL: [Tree; 10] = [
        Tree::Teachers,
        Tree::Sessions,
        Tree::SetupTokens,
        Tree::Classes,
        Tree::Lessons,
        Tree::Docs,
        Tree::Channels,
        Tree::Files,
        Tree::Vpn,
        Tree::Boxes,
    ];

    /// The tree a name stands for (backups name trees).
    pub fn from_name(name: &str) -> Option<Tree> {
        Tree::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Tree::Teachers => "teachers",
            Tree::Sessions => "sessions",
            Tree::SetupTokens => "setup_tokens",
            Tree::Classes => "classes",
            Tree::Lessons => "lessons",
            Tree::Docs => "docs",
            Tree::Channels => "channels",
            Tree::Files => "files",
            Tree::Vpn => "vpn",
            Tree::Boxes => "boxes",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("store I/O failed: {0}")]
    Io(String),
    /// The disk is below the floor: the write was not made (see [`disk`]).
    #[error("the disk is full")]
    Full,
    /// The database failed and waits to be reopened (see [`Guarded`]).
    #[error("the store cannot be used until it is reopened: {0}")]
    Unavailable(String),
    #[error("stored value under {tree}/{key} is not valid: {reason}")]
    Corrupt {
        tree: &'static str,
        key: String,
        reason: String,
    },
    #[error("could not encode value: {0}")]
    Encode(String),
}

pub type KeyValue = (Vec<u8>, Vec<u8>);

/// What the store can do now (`/healthz` says it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Ok,
    /// The disk is below the reserve: pupils' writes are refused, the teacher's go in.
    Low,
    /// The disk is below the floor: no write goes in.
    Full,
    /// The database failed; it is reopened once the disk has room.
    Failed(String),
}

/// What [`Store::read_all`] calls with each record: its tree, key and value.
pub type RecordVisitor<'a> = dyn FnMut(Tree, &[u8], &[u8]) -> Result<(), StoreError> + 'a;

pub trait Store: Send + Sync + 'static {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    fn put(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError>;
    /// Inserts only when the key is absent; returns whether it did.
    fn insert_if_absent(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<bool, StoreError>;
    /// Removes the key and returns what it held, atomically (one-time tokens).
    fn take(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError>;
    /// Makes every write so far durable.
    fn flush(&self) -> Result<(), StoreError>;
    /// Calls `each` with every record of every tree while no write can happen, so what it sees
    /// is one moment of the store (a backup). Writes wait meanwhile.
    fn read_all(&self, each: &mut RecordVisitor<'_>) -> Result<(), StoreError>;
    /// Makes removed data unrecoverable from the store's files (a deletion's last step). A
    /// store that keeps nothing on disk has nothing to do.
    fn compact(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// What the store can do now. A store that knows nothing of its disk is always fine.
    fn health(&self) -> Health {
        Health::Ok
    }
    /// Opens the database again from its files after it failed. One that cannot fail has
    /// nothing to do.
    fn recover(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Typed JSON helpers over any [`Store`].
pub trait StoreExt: Store {
    fn get_json<T: DeserializeOwned>(
        &self,
        tree: Tree,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.get(tree, key.as_bytes())? {
            None => Ok(None),
            Some(bytes) => decode(tree, key.as_bytes(), &bytes).map(Some),
        }
    }

    fn put_json<T: Serialize>(&self, tree: Tree, key: &str, value: &T) -> Result<(), StoreError> {
        self.put(tree, key.as_bytes(), &encode(value)?)
    }

    fn take_json<T: DeserializeOwned>(
        &self,
        tree: Tree,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.take(tree, key.as_bytes())? {
            None => Ok(None),
            Some(bytes) => decode(tree, key.as_bytes(), &bytes).map(Some),
        }
    }

    fn scan_json<T: DeserializeOwned>(
        &self,
        tree: Tree,
        prefix: &str,
    ) -> Result<Vec<T>, StoreError> {
        self.scan_prefix(tree, prefix.as_bytes())?
            .iter()
            .map(|(key, value)| decode(tree, key, value))
            .collect()
    }

    fn delete(&self, tree: Tree, key: &str) -> Result<(), StoreError> {
        self.take(tree, key.as_bytes()).map(|_| ())
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Encode(e.to_string()))
}

fn decode<T: DeserializeOwned>(tree: Tree, key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree: tree.name(),
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
pub(crate) mod contract {
    //! One behaviour test run against every Store implementation.
    use super::*;

    pub fn check(store: &dyn Store) {
        let t = Tree::Classes;
        assert_eq!(store.get(t, b"a/1").unwrap(), None);
        store.put(t, b"a/1", b"one").unwrap();
        store.put(t, b"a/2", b"two").unwrap();
        store.put(t, b"b/1", b"other").unwrap();
        assert_eq!(store.get(t, b"a/1").unwrap().as_deref(), Some(&b"one"[..]));
        assert_eq!(
            store.get(Tree::Lessons, b"a/1").unwrap(),
            None,
            "trees are separate"
        );
        let scanned = store.scan_prefix(t, b"a/").unwrap();
        assert_eq!(scanned.len(), 2);
        assert_eq!(scanned[0].0, b"a/1");
        assert!(store.insert_if_absent(t, b"u", b"x").unwrap());
        assert!(!store.insert_if_absent(t, b"u", b"y").unwrap());
        assert_eq!(store.get(t, b"u").unwrap().as_deref(), Some(&b"x"[..]));
        assert_eq!(store.take(t, b"u").unwrap().as_deref(), Some(&b"x"[..]));
        assert_eq!(store.take(t, b"u").unwrap(), None, "take is one-time");
        store.flush().unwrap();
    }
}
