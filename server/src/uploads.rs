//! Files people attach (an image or a PDF to the teacher) and images put into documents: kept
//! on the box, each tied to the thread it was sent in or the document it was put into, which
//! decides who may fetch it.
//!
//! Only types a browser shows safely are taken, and the bytes must be what the type says
//! (checked by their first bytes), so a script cannot arrive dressed as a picture. No SVG: it
//! can carry scripts.

use serde::{Deserialize, Serialize};

use crate::auth::tokens::random_id;
use crate::store::{Store, StoreError, StoreExt, Tree};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    /// The thread it belongs to (empty for a document's image).
    pub thread: String,
    /// The lesson it was sent in (resolves the thread's owners when it is fetched; empty for a
    /// document's image).
    pub lesson_id: String,
    /// The document it was put into, for images in documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Who sent it (participant or teacher id).
    pub owner_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: usize,
    pub created_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("only PNG, JPEG, GIF, WebP images, PDF and plain text can be attached")]
    UnsupportedType,
    #[error("the file is not what its type says")]
    Mismatch,
    #[error("the file is empty")]
    Empty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The content types taken, and how each one's bytes begin.
fn looks_like(content_type: &str, bytes: &[u8]) -> Result<bool, UploadError> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    Ok(match content_type {
        "image/png" => starts(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => starts(&[0xff, 0xd8, 0xff]),
        "image/gif" => starts(b"GIF87a") || starts(b"GIF89a"),
        "image/webp" => starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP"),
        "application/pdf" => starts(b"%PDF-"),
        "text/plain" => std::str::from_utf8(bytes).is_ok(),
        _ => return Err(UploadError::UnsupportedType),
    })
}

/// The content type without parameters (`text/plain; charset=utf-8` → `text/plain`).
pub fn essence(raw: &str) -> String {
    raw.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Images are shown in the page; everything else is downloaded.
pub fn is_image(content_type: &str) -> bool {
    content_type.starts_with("image/")
}

/// A file name safe to show and to send back: no path, no control characters, ≤ 100 chars.
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = base.chars().filter(|c| !c.is_control()).take(100).collect();
    let name = name.trim().to_string();
    if name.is_empty() {
        "fil".into()
    } else {
        name
    }
}

fn meta_key(id: &str) -> String {
    format!("meta/{id}")
}

fn data_key(id: &str) -> String {
    format!("data/{id}")
}

pub struct NewUpload<'a> {
    pub thread: &'a str,
    pub lesson_id: &'a str,
    pub doc: Option<&'a str>,
    pub owner_id: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    pub now_ms: u64,
}

/// Checks and stores a file; the caller has checked the sender may write the thread (or the
/// document).
pub fn save(store: &dyn Store, new: NewUpload<'_>) -> Result<Upload, UploadError> {
    if new.bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    let content_type = essence(new.content_type);
    if !looks_like(&content_type, new.bytes)? {
        return Err(UploadError::Mismatch);
    }
    let upload = Upload {
        id: random_id(),
        thread: new.thread.to_string(),
        lesson_id: new.lesson_id.to_string(),
        doc: new.doc.map(str::to_string),
        owner_id: new.owner_id.to_string(),
        file_name: clean_name(new.file_name),
        content_type,
        size: new.bytes.len(),
        created_ms: new.now_ms,
    };
    store.put(Tree::Files, data_key(&upload.id).as_bytes(), new.bytes)?;
    store.put_json(Tree::Files, &meta_key(&upload.id), &upload)?;
    store.flush()?;
    Ok(upload)
}

pub fn get(store: &dyn Store, id: &str) -> Result<Option<Upload>, StoreError> {
    if id.len() > 40 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    store.get_json(Tree::Files, &meta_key(id))
}

pub fn bytes(store: &dyn Store, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
    store.get(Tree::Files, data_key(id).as_bytes())
}

/// Deletes a file (its message was deleted).
pub fn delete(store: &dyn Store, id: &str) -> Result<(), StoreError> {
    store.delete(Tree::Files, &data_key(id))?;
    store.delete(Tree::Files, &meta_key(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn new<'a>(content_type: &'a str, bytes: &'a [u8]) -> NewUpload<'a> {
        NewUpload {
            thread: "pm.l.L.g-1",
            lesson_id: "L",
            doc: None,
            owner_id: "g-1",
            file_name: "../../etc/Bilde 1.png",
            content_type,
            bytes,
            now_ms: 1,
        }
    }

    #[test]
    fn files_must_be_what_they_say_and_of_a_safe_type() {
        let store = MemoryStore::new();
        let png = b"\x89PNG\r\n\x1a\n....";
        let saved = save(&store, new("image/png", png)).unwrap();
        assert_eq!(saved.file_name, "Bilde 1.png");
        assert_eq!(bytes(&store, &saved.id).unwrap().unwrap(), png);
        assert_eq!(get(&store, &saved.id).unwrap().unwrap(), saved);
        assert!(matches!(
            save(&store, new("image/png", b"<script>alert(1)</script>")),
            Err(UploadError::Mismatch)
        ));
        assert!(matches!(
            save(&store, new("image/svg+xml", b"<svg/>")),
            Err(UploadError::UnsupportedType)
        ));
        assert!(matches!(
            save(&store, new("text/plain", &[0xff, 0xfe])),
            Err(UploadError::Mismatch)
        ));
        assert!(matches!(
            save(&store, new("text/plain", b"")),
            Err(UploadError::Empty)
        ));
        assert!(save(
            &store,
            new("text/plain; charset=utf-8", "hei på deg".as_bytes())
        )
        .is_ok());
        assert_eq!(get(&store, "../meta/x").unwrap(), None);
        delete(&store, &saved.id).unwrap();
        assert_eq!(bytes(&store, &saved.id).unwrap(), None);
    }
}
