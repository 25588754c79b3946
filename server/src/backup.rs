//! A box's backup: one file with everything needed to bring the box back — its store at one
//! moment (every record of every tree, read while no write can happen) and its certificate
//! authority and certificates (so devices that trust the box keep trusting it). Written while
//! the server runs (through the admin socket) or while it is stopped; restored into an empty
//! data directory.
//!
//! The file is a zip: `tavla-backup` (format line), `tls/<file>`, and `store.records`:
//! records as `<tree name> NUL <u32 key length> <key> <u32 value length> <value>`, big-endian.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use crate::datadir::{DataDir, DataDirError};
use crate::store::{SledStore, Store, StoreError, Tree};

const FORMAT_ENTRY: &str = "tavla-backup";
const FORMAT: &str = "tavla-backup 1\n";
const STORE_ENTRY: &str = "store.records";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already holds a box's data; restore into an empty directory, or give --force (the data there is moved aside to {0}.before-restore)")]
    NotEmpty(String),
    #[error("{0}: not a Tavla backup ({1})")]
    NotABackup(String, String),
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(String),
}

fn io(e: impl std::fmt::Display) -> BackupError {
    BackupError::Io(e.to_string())
}

/// Writes the backup of the box whose store is `store` and data directory `data` to `out`
/// (0600, written aside and renamed, so `out` is never half a backup). Returns how many
/// records it holds.
pub fn write(store: &dyn Store, data: &Path, out: &Path) -> Result<u64, BackupError> {
    let partial = out.with_extension("partial");
    let file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode_private()
        .open(&partial)
        .map_err(io)?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file(FORMAT_ENTRY, options).map_err(io)?;
    zip.write_all(FORMAT.as_bytes()).map_err(io)?;
    let tls = data.join("tls");
    let mut names: Vec<_> = fs::read_dir(&tls)
        .map_err(io)?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name())
        .collect();
    names.sort();
    for name in names {
        zip.start_file(format!("tls/{}", name.to_string_lossy()), options)
            .map_err(io)?;
        zip.write_all(&fs::read(tls.join(&name)).map_err(io)?)
            .map_err(io)?;
    }
    zip.start_file(STORE_ENTRY, options).map_err(io)?;
    let mut records = 0u64;
    store.read_all(&mut |tree, key, value| {
        let mut record = Vec::with_capacity(tree.name().len() + key.len() + value.len() + 9);
        record.extend_from_slice(tree.name().as_bytes());
        record.push(0);
        for part in [key, value] {
            record.extend_from_slice(&(part.len() as u32).to_be_bytes());
            record.extend_from_slice(part);
        }
        records += 1;
        zip.write_all(&record)
            .map_err(|e| StoreError::Io(e.to_string()))
    })?;
    zip.finish().map_err(io)?.sync_all().map_err(io)?;
    fs::rename(&partial, out).map_err(io)?;
    Ok(records)
}

/// Brings a backup back into `data` (which must be empty, or with `force` is moved aside).
/// Returns how many records were restored.
pub fn restore(backup: &Path, data: &Path, force: bool) -> Result<u64, BackupError> {
    let shown = backup.display().to_string();
    let file = fs::File::open(backup).map_err(io)?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| BackupError::NotABackup(shown.clone(), e.to_string()))?;
    let mut format = String::new();
    zip.by_name(FORMAT_ENTRY)
        .map_err(|e| BackupError::NotABackup(shown.clone(), e.to_string()))?
        .read_to_string(&mut format)
        .map_err(io)?;
    if format != FORMAT {
        return Err(BackupError::NotABackup(shown, format!("format {format:?}")));
    }
    let occupied = fs::read_dir(data).is_ok_and(|mut entries| entries.next().is_some());
    if occupied {
        if !force {
            return Err(BackupError::NotEmpty(data.display().to_string()));
        }
        let aside = data.with_extension("before-restore");
        if aside.exists() {
            return Err(BackupError::Io(format!(
                "{} exists from an earlier restore; move it away first",
                aside.display()
            )));
        }
        fs::rename(data, &aside).map_err(io)?;
    }
    let dir = DataDir::open(data)?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(io)?;
        let entry_name = entry.name().map_err(io)?.to_string();
        let Some(name) = entry_name.strip_prefix("tls/").map(str::to_string) else {
            continue;
        };
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(BackupError::NotABackup(
                shown,
                format!("odd entry tls/{name}"),
            ));
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(io)?;
        crate::datadir::write_private_file(&dir.tls_dir().join(name), &bytes)?;
    }
    let store = SledStore::open(&dir.store_dir())?;
    let mut records = Vec::new();
    zip.by_name(STORE_ENTRY)
        .map_err(|e| BackupError::NotABackup(shown.clone(), e.to_string()))?
        .read_to_end(&mut records)
        .map_err(io)?;
    let mut restored = 0u64;
    let mut rest = records.as_slice();
    while !rest.is_empty() {
        let bad = || BackupError::NotABackup(shown.clone(), "a damaged record".into());
        let nul = rest.iter().position(|b| *b == 0).ok_or_else(bad)?;
        let tree = std::str::from_utf8(&rest[..nul])
            .ok()
            .and_then(Tree::from_name)
            .ok_or_else(bad)?;
        rest = &rest[nul + 1..];
        let mut parts = [&[][..], &[][..]];
        for part in &mut parts {
            let len_bytes: [u8; 4] = rest
                .get(..4)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?;
            let len = u32::from_be_bytes(len_bytes) as usize;
            *part = rest.get(4..4 + len).ok_or_else(bad)?;
            rest = &rest[4 + len..];
        }
        store.put(tree, parts[0], parts[1])?;
        restored += 1;
    }
    store.flush()?;
    dir.restrict_store_permissions()?;
    Ok(restored)
}

/// Files only Tavla's user can read: a backup holds pupils' data and the CA's key.
trait PrivateMode {
    fn mode_private(&mut self) -> &mut Self;
}

impl PrivateMode for fs::OpenOptions {
    fn mode_private(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(0o600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_restores_every_record_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::open(&dir.path().join("data")).unwrap();
        fs::write(data.tls_dir().join("ca.crt"), b"CERT").unwrap();
        {
            let store = SledStore::open(&data.store_dir()).unwrap();
            store.put(Tree::Docs, b"s/doc", &[0, 1, 2, 255]).unwrap();
            store.put(Tree::Classes, b"class/1", b"{}").unwrap();
            let out = dir.path().join("box.tavla");
            assert_eq!(write(&store, data.root(), &out).unwrap(), 2);
        }
        let out = dir.path().join("box.tavla");
        let again = dir.path().join("again");
        assert_eq!(restore(&out, &again, false).unwrap(), 2);
        let store = SledStore::open(&again.join("store")).unwrap();
        assert_eq!(
            store.get(Tree::Docs, b"s/doc").unwrap().as_deref(),
            Some(&[0u8, 1, 2, 255][..])
        );
        drop(store);
        assert_eq!(fs::read(again.join("tls/ca.crt")).unwrap(), b"CERT");
        assert!(matches!(
            restore(&out, &again, false),
            Err(BackupError::NotEmpty(_))
        ));
        assert_eq!(restore(&out, &again, true).unwrap(), 2);
        assert!(again.with_extension("before-restore").exists());
        let junk = dir.path().join("junk.tavla");
        fs::write(&junk, b"not a zip").unwrap();
        assert!(matches!(
            restore(&junk, &dir.path().join("x"), false),
            Err(BackupError::NotABackup(..))
        ));
    }
}
