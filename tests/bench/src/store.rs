//! How long the store's rewrite after a deletion takes (`Store::compact`: every live record is
//! copied into a fresh database that replaces the old one), beside copying the same files with
//! `cp -a` — the floor for any rewrite of that many bytes on this disk.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use rand::RngCore;
use tavla::store::{SledStore, Store, Tree};

use crate::servers::BoxError;

pub struct RewriteResult {
    pub records: usize,
    pub store_mib: f64,
    pub rewrite_ms: f64,
    pub copy_ms: f64,
}

/// Sizes of stores to rewrite: records of 16 KiB (a document's snapshot or log entry; files
/// are larger but fewer).
pub const RECORDS: [usize; 3] = [640, 6_400, 32_000];
const RECORD_BYTES: usize = 16 * 1024;

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                dir_bytes(&path)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            }
        })
        .sum()
}

pub fn rewrite(records: usize) -> Result<RewriteResult, BoxError> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store");
    let store = SledStore::open(&path)?;
    let mut value = vec![0u8; RECORD_BYTES];
    for i in 0..records {
        rand::rng().fill_bytes(&mut value);
        store.put(
            Tree::Docs,
            format!("u/doc{}/{i:08}", i % 500).as_bytes(),
            &value,
        )?;
    }
    // A deletion's worth of removed records, as before a real rewrite.
    for i in (0..records).step_by(50) {
        store.take(Tree::Docs, format!("u/doc{}/{i:08}", i % 500).as_bytes())?;
    }
    store.flush()?;
    // Closed for the copy: sled moves its files while it runs.
    drop(store);
    let store_mib = dir_bytes(&path) as f64 / (1024.0 * 1024.0);

    let copy_to = dir.path().join("copy");
    let started = Instant::now();
    let status = Command::new("cp")
        .arg("-a")
        .arg(&path)
        .arg(&copy_to)
        .status()?;
    let copy_ms = started.elapsed().as_secs_f64() * 1000.0;
    if !status.success() {
        return Err("cp -a failed".into());
    }
    std::fs::remove_dir_all(&copy_to)?;

    let store = SledStore::open(&path)?;
    let started = Instant::now();
    store.compact()?;
    let rewrite_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(RewriteResult {
        records,
        store_mib,
        rewrite_ms,
        copy_ms,
    })
}
