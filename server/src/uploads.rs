//! Files people attach (an image or a PDF to the teacher) and images put into documents: kept
//! on the box, each tied to the thread it was sent in or the document it was put into, which
//! decides who may fetch it.
//!
//! Only types a browser shows safely are taken, and the bytes must be what the type says
//! (checked by their first bytes), so a script cannot arrive dressed as a picture. No SVG: it
//! can carry scripts.

use serde::{Deserialize, Serialize};

use crate::ids::{random_record_id, LessonId};
use crate::privacy::{Held, Keeper, LessonKeeper, LessonScope, Subject};
use crate::store::disk::Room;
use crate::store::{Store, StoreError, StoreExt, Tree};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    /// The thread it belongs to (empty for a document's image).
    pub thread: String,
    /// The lesson it was sent in (resolves the thread's owners when it is fetched); for a
    /// document's image, the lesson the document was shown in, if any.
    #[serde(default, deserialize_with = "crate::ids::empty_is_none")]
    pub lesson_id: Option<LessonId>,
    /// The document it was put into, for images in documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Who sent it (participant or teacher id).
    pub owner_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: usize,
    pub created_ms: u64,
    /// A message carries it (files for a thread that were never sent are swept away).
    #[serde(default)]
    pub attached: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("only PNG, JPEG, GIF, WebP images, PDF and plain text can be attached")]
    UnsupportedType,
    #[error("the file is not what its type says")]
    Mismatch,
    #[error("the file is empty")]
    Empty,
    #[error("{0} has no room for more files")]
    Quota(QuotaScope),
    #[error("the box's disk is nearly full")]
    DiskFull,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whose share of the box's room for files is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaScope {
    /// The sender's own (a pupil's or a teacher's).
    Sender,
    /// The lesson's, all senders together.
    Lesson,
    /// The whole box's.
    Box,
    /// One device's (client address), whoever signs in on it.
    Device,
}

impl std::fmt::Display for QuotaScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            QuotaScope::Sender => "your share",
            QuotaScope::Lesson => "the lesson",
            QuotaScope::Box => "the box",
            QuotaScope::Device => "this device",
        })
    }
}

/// How much room files may take: per sender, per lesson, on the whole box. What must stay free
/// on the disk for everything else is the disk's reserve (`store::disk`).
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    pub per_sender: u64,
    /// Pupils and guests: what one device may store, whoever signs in on it (counted since the
    /// box started; an address is no record worth keeping).
    pub per_address: u64,
    pub per_lesson: u64,
    pub per_box: u64,
}

/// Refuses a file of `size` bytes that would take the sender, the lesson or the box past its
/// quota, or the disk below its reserve (`room`: where the disk would stand after it).
fn check_room(
    store: &dyn Store,
    quotas: &Quotas,
    new: &NewUpload<'_>,
    room: Room,
) -> Result<(), UploadError> {
    let size = new.bytes.len() as u64;
    let (mut sender, mut lesson, mut whole) = (0u64, 0u64, 0u64);
    for upload in store.scan_json::<Upload>(Tree::Files, "meta/")? {
        let bytes = upload.size as u64;
        whole += bytes;
        if upload.owner_id == new.owner_id {
            sender += bytes;
        }
        if new.lesson_id.is_some() && upload.lesson_id.as_ref() == new.lesson_id {
            lesson += bytes;
        }
    }
    if sender + size > quotas.per_sender {
        return Err(UploadError::Quota(QuotaScope::Sender));
    }
    if lesson + size > quotas.per_lesson {
        return Err(UploadError::Quota(QuotaScope::Lesson));
    }
    if whole + size > quotas.per_box {
        return Err(UploadError::Quota(QuotaScope::Box));
    }
    if room != Room::Plenty {
        return Err(UploadError::DiskFull);
    }
    Ok(())
}

/// Uploads are checked against the quotas and stored one at a time, so two at once cannot
/// both fit into the same last bit of room.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

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
    // Nothing that hides or reorders what is shown (a U+202E could make "gpj.exe" read "exe.jpg").
    let name: String = base
        .chars()
        .filter(|&c| !c.is_control() && !crate::validate::is_invisible(c))
        .take(100)
        .collect();
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
    pub lesson_id: Option<&'a LessonId>,
    pub doc: Option<&'a str>,
    pub owner_id: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    pub now_ms: u64,
}

/// Checks and stores a file; the caller has checked the sender may write the thread (or the
/// document). `free_disk` is what the data directory's disk has free now, if known.
/// Saves a file; `room` is where the disk would stand after it (`Disk::room_for`).
pub fn save(
    store: &dyn Store,
    quotas: &Quotas,
    room: Room,
    new: NewUpload<'_>,
) -> Result<Upload, UploadError> {
    if new.bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    let content_type = essence(new.content_type);
    if !looks_like(&content_type, new.bytes)? {
        return Err(UploadError::Mismatch);
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    check_room(store, quotas, &new, room)?;
    let upload = Upload {
        id: random_record_id(),
        thread: new.thread.to_string(),
        lesson_id: new.lesson_id.cloned(),
        doc: new.doc.map(str::to_string),
        owner_id: new.owner_id.to_string(),
        file_name: clean_name(new.file_name),
        content_type,
        size: new.bytes.len(),
        created_ms: new.now_ms,
        attached: false,
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

/// The file went out in a message.
pub fn mark_attached(store: &dyn Store, id: &str) -> Result<(), StoreError> {
    if let Some(mut upload) = get(store, id)? {
        upload.attached = true;
        store.put_json(Tree::Files, &meta_key(id), &upload)?;
    }
    Ok(())
}

/// Deletes files uploaded for a thread but never sent in a message, once they are older than
/// `older_than_ms` (the sender changed their mind, or a script fills the disk). Pictures in
/// documents stay: their document shows them. Returns how many went.
pub fn sweep_unsent(
    store: &dyn Store,
    now_ms: u64,
    older_than_ms: u64,
) -> Result<usize, StoreError> {
    let mut swept = 0;
    for upload in store.scan_json::<Upload>(Tree::Files, "meta/")? {
        let unsent = upload.doc.is_none() && !upload.attached;
        if unsent && now_ms.saturating_sub(upload.created_ms) >= older_than_ms {
            delete(store, &upload.id)?;
            swept += 1;
        }
    }
    if swept > 0 {
        store.flush()?;
    }
    Ok(swept)
}

/// Deletes the files sent in threads whose names start with `thread_prefix` before
/// `before_ms`: they go with their messages when those expire. Returns how many went.
pub fn expire_in_threads(
    store: &dyn Store,
    thread_prefix: &str,
    before_ms: u64,
) -> Result<usize, StoreError> {
    let mut expired = 0;
    for upload in store.scan_json::<Upload>(Tree::Files, "meta/")? {
        if upload.thread.starts_with(thread_prefix) && upload.created_ms < before_ms {
            delete(store, &upload.id)?;
            expired += 1;
        }
    }
    Ok(expired)
}

/// Deletes a file (its message was deleted).
pub fn delete(store: &dyn Store, id: &str) -> Result<(), StoreError> {
    store.delete(Tree::Files, &data_key(id))?;
    store.delete(Tree::Files, &meta_key(id))
}

/// The files that are about a pupil: those they sent (in any thread or document), those sent
/// in their private thread, and pictures in their own documents.
pub struct Files;

fn is_about(upload: &Upload, subject: &Subject) -> bool {
    upload.owner_id == subject.participant.as_str()
        || upload.thread == subject.private_thread
        || upload
            .doc
            .as_ref()
            .is_some_and(|doc| subject.own_documents.contains(doc))
}

fn about(store: &dyn Store, subject: &Subject) -> Result<Vec<Upload>, StoreError> {
    Ok(store
        .scan_json::<Upload>(Tree::Files, "meta/")?
        .into_iter()
        .filter(|u| is_about(u, subject))
        .collect())
}

impl Keeper for Files {
    fn name(&self) -> &'static str {
        "files"
    }

    fn trees(&self) -> &'static [Tree] {
        &[Tree::Files]
    }

    fn holds(&self, store: &dyn Store, subject: &Subject) -> Result<Vec<Held>, StoreError> {
        let mut held = Vec::new();
        for upload in about(store, subject)? {
            if let Some(bytes) = bytes(store, &upload.id)? {
                held.push(Held::File {
                    id: upload.id,
                    name: upload.file_name,
                    content_type: upload.content_type,
                    at_ms: upload.created_ms,
                    bytes,
                });
            }
        }
        Ok(held)
    }

    fn forget(&self, store: &dyn Store, subject: &Subject) -> Result<usize, StoreError> {
        let uploads = about(store, subject)?;
        for upload in &uploads {
            delete(store, &upload.id)?;
        }
        Ok(uploads.len())
    }
}

/// The files of an expired lesson: sent in its threads, or put into its documents. Files in a
/// class-list pupil's private thread are the thread's, which spans lessons: they go with its
/// messages (`expire_in_threads`), not with the lesson they were sent in.
impl LessonKeeper for Files {
    fn name(&self) -> &'static str {
        "files"
    }

    fn forget_lesson(&self, store: &dyn Store, lesson: &LessonScope) -> Result<usize, StoreError> {
        let mut gone = 0;
        for upload in store.scan_json::<Upload>(Tree::Files, "meta/")? {
            let in_lesson = (upload.lesson_id.as_ref() == Some(&lesson.lesson_id)
                && !upload.thread.starts_with(&lesson.lasting_thread_prefix))
                || upload
                    .doc
                    .as_ref()
                    .is_some_and(|d| d.starts_with(&lesson.doc_prefix));
            if in_lesson {
                delete(store, &upload.id)?;
                gone += 1;
            }
        }
        Ok(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn new<'a>(content_type: &'a str, bytes: &'a [u8]) -> NewUpload<'a> {
        static L: std::sync::LazyLock<LessonId> = std::sync::LazyLock::new(|| "L".into());
        NewUpload {
            thread: "pm.l.L.g-1",
            lesson_id: Some(&L),
            doc: None,
            owner_id: "g-1",
            file_name: "../../etc/Bilde 1.png",
            content_type,
            bytes,
            now_ms: 1,
        }
    }

    const ROOMY: Quotas = Quotas {
        per_sender: 1 << 30,
        per_address: 1 << 30,
        per_lesson: 1 << 30,
        per_box: 1 << 30,
    };

    fn save(store: &dyn Store, new: NewUpload<'_>) -> Result<Upload, UploadError> {
        super::save(store, &ROOMY, Room::Plenty, new)
    }

    #[test]
    fn a_sender_a_lesson_and_the_box_each_have_their_share_and_the_disk_keeps_a_reserve() {
        let store = MemoryStore::new();
        let quotas = Quotas {
            per_sender: 10,
            per_address: 1 << 30,
            per_lesson: 16,
            per_box: 20,
        };
        // A test's few lesson ids live as long as the test.
        let text = |owner: &'static str, lesson: &'static str, body: &'static str| NewUpload {
            owner_id: owner,
            lesson_id: Some(Box::leak(Box::new(LessonId::from(lesson)))),
            ..new("text/plain", body.as_bytes())
        };
        let put = |n: NewUpload<'_>| super::save(&store, &quotas, Room::Plenty, n);
        assert!(put(text("ada", "L", "12345678")).is_ok());
        assert!(matches!(
            put(text("ada", "L", "123")),
            Err(UploadError::Quota(QuotaScope::Sender))
        ));
        assert!(put(text("bo", "L", "12345678")).is_ok());
        assert!(matches!(
            put(text("cy", "L", "1")),
            Err(UploadError::Quota(QuotaScope::Lesson))
        ));
        assert!(put(text("cy", "M", "1234")).is_ok());
        assert!(matches!(
            put(text("di", "N", "1")),
            Err(UploadError::Quota(QuotaScope::Box))
        ));
        // Below the disk's reserve or floor (`store::disk` keeps the lines to the byte).
        let empty = MemoryStore::new();
        for below in [Room::BelowReserve, Room::BelowFloor] {
            assert!(matches!(
                super::save(&empty, &quotas, below, text("ed", "L", "12345")),
                Err(UploadError::DiskFull)
            ));
        }
        assert!(super::save(&empty, &quotas, Room::Plenty, text("ed", "L", "12345")).is_ok());
    }

    #[test]
    fn files_must_be_what_they_say_and_of_a_safe_type() {
        let store = MemoryStore::new();
        let png = b"\x89PNG\r\n\x1a\n....";
        let saved = save(&store, new("image/png", png)).unwrap();
        assert_eq!(saved.file_name, "Bilde 1.png");
        assert_eq!(
            super::clean_name("rapport\u{202E}gnp.exe"),
            "rapportgnp.exe"
        );
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
        // Never sent: swept once old enough; sent: kept.
        let sent = save(&store, new("text/plain", b"sendt")).unwrap();
        mark_attached(&store, &sent.id).unwrap();
        assert_eq!(
            sweep_unsent(&store, 1000, 5000).unwrap(),
            0,
            "not old enough"
        );
        let unsent_before = get(&store, &saved.id).unwrap().is_some();
        assert!(unsent_before);
        assert!(sweep_unsent(&store, 6000, 5000).unwrap() >= 1);
        assert_eq!(get(&store, &saved.id).unwrap(), None);
        assert!(get(&store, &sent.id).unwrap().is_some());
        delete(&store, &saved.id).unwrap();
        assert_eq!(bytes(&store, &saved.id).unwrap(), None);
    }
}
