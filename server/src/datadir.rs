//! The data directory: what Tavla keeps on disk, checked before anything is opened.
//!
//! ```text
//! <data dir>/            0700
//!   FORMAT               marks the directory as Tavla's and its layout version
//!   store/               the sled database
//!   store.next/ store.old/  only while the store is rewritten after a deletion
//!   vpn/wg-tavla.conf    the box's WireGuard interface, once a pupil has VPN access
//!   admin.sock           the local admin socket while Tavla runs (`tavla backup`)
//!   tls/                 the local certificate authority and the server certificate
//! ```
//! Anything else in the directory stops the start with a message naming it: a wrong `--data-dir`
//! must never lead to Tavla writing into (or wiping) someone else's files.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const FORMAT_FILE: &str = "FORMAT";
const FORMAT_CONTENT: &str = "tavla-data 1\n";
/// `store.next` and `store.old` exist only while the store is rewritten after a deletion (see
/// `SledStore::compact`); a crash can leave one, which the next start finishes or removes.
const KNOWN_ENTRIES: [&str; 7] = [
    FORMAT_FILE,
    "admin.sock",
    "store",
    "store.next",
    "store.old",
    "tls",
    "vpn",
];

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("{path}: was not made by Tavla; move it out of the data directory or choose another --data-dir (nothing was changed)")]
    Foreign { path: PathBuf },
    #[error("{path}: {reason} (nothing was changed)")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Creates a fresh data directory, or checks that an existing one is Tavla's and intact.
    pub fn open(root: &Path) -> Result<Self, DataDirError> {
        private_from_now_on();
        let dir = Self {
            root: root.to_path_buf(),
        };
        let is_empty = match fs::read_dir(root) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(io_err(root)(e)),
        };
        if is_empty {
            create_private_dir(root)?;
            write_private_file(&root.join(FORMAT_FILE), FORMAT_CONTENT.as_bytes())?;
        } else {
            dir.check_existing()?;
        }
        fs::set_permissions(root, fs::Permissions::from_mode(0o700)).map_err(io_err(root))?;
        create_private_dir(&dir.tls_dir())?;
        Ok(dir)
    }

    fn check_existing(&self) -> Result<(), DataDirError> {
        let format_path = self.root.join(FORMAT_FILE);
        match fs::read_to_string(&format_path) {
            Ok(content) if content == FORMAT_CONTENT => {}
            Ok(_) => {
                return Err(DataDirError::Corrupt {
                    path: format_path,
                    reason: format!("expected {FORMAT_CONTENT:?}; this data directory is from another program or a newer Tavla"),
                })
            }
            Err(_) => {
                // No marker: name the first entry so the admin sees whose files these are.
                let first = fs::read_dir(&self.root)
                    .map_err(io_err(&self.root))?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .min()
                    .unwrap_or_else(|| self.root.clone());
                return Err(DataDirError::Foreign { path: first });
            }
        }
        for entry in fs::read_dir(&self.root).map_err(io_err(&self.root))? {
            let entry = entry.map_err(io_err(&self.root))?;
            let name = entry.file_name();
            if !KNOWN_ENTRIES.iter().any(|known| name == *known) {
                return Err(DataDirError::Foreign { path: entry.path() });
            }
        }
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn store_dir(&self) -> PathBuf {
        self.root.join("store")
    }

    pub fn tls_dir(&self) -> PathBuf {
        self.root.join("tls")
    }

    /// sled creates its files with the process umask; pupils' data must not be world-readable.
    pub fn restrict_store_permissions(&self) -> Result<(), DataDirError> {
        restrict_tree(&self.store_dir())
    }
}

/// Every file and directory the process makes from now on is its user's alone (umask 077),
/// whatever umask it was started with: the store (sled) makes new files as it grows, and
/// pupils' data must not be readable by other users of the box even for a moment.
fn private_from_now_on() {
    // SAFETY: umask(2) only sets the process's file mode creation mask and cannot fail; it
    // touches no memory of ours.
    unsafe {
        libc::umask(0o077);
    }
}

fn restrict_tree(path: &Path) -> Result<(), DataDirError> {
    let meta = fs::symlink_metadata(path).map_err(io_err(path))?;
    if meta.is_dir() {
        fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(io_err(path))?;
        for entry in fs::read_dir(path).map_err(io_err(path))? {
            restrict_tree(&entry.map_err(io_err(path))?.path())?;
        }
    } else if meta.is_file() {
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(io_err(path))?;
    }
    Ok(())
}

pub fn create_private_dir(path: &Path) -> Result<(), DataDirError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(io_err(path))
}

/// Writes a file readable only by Tavla's user, atomically (temp file + rename), so a crash
/// never leaves half a key or certificate behind.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), DataDirError> {
    let tmp = path.with_extension("tmp");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    file.write_all(bytes).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn creates_a_private_directory_and_reopens_it() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("data");
        DataDir::open(&root).unwrap();
        assert_eq!(fs::metadata(&root).unwrap().mode() & 0o777, 0o700);
        assert_eq!(
            fs::metadata(root.join("FORMAT")).unwrap().mode() & 0o777,
            0o600
        );
        DataDir::open(&root).unwrap();
    }

    #[test]
    fn refuses_a_directory_of_someone_else() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("thesis.docx"), b"precious").unwrap();
        let err = DataDir::open(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("thesis.docx"), "{err}");
        assert_eq!(
            fs::read(tmp.path().join("thesis.docx")).unwrap(),
            b"precious"
        );
    }

    #[test]
    fn refuses_a_foreign_file_among_its_own() {
        let tmp = tempfile::tempdir().unwrap();
        DataDir::open(tmp.path()).unwrap();
        fs::write(tmp.path().join("notes.txt"), b"x").unwrap();
        let err = DataDir::open(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("notes.txt"), "{err}");
    }

    #[test]
    fn refuses_a_changed_format_marker() {
        let tmp = tempfile::tempdir().unwrap();
        DataDir::open(tmp.path()).unwrap();
        fs::write(tmp.path().join("FORMAT"), b"tavla-data 99\n").unwrap();
        let err = DataDir::open(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("FORMAT"), "{err}");
    }
}
