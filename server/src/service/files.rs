//! Files attached to messages and images in documents: saving one for a thread (or document)
//! the caller may write in, fetching one from a thread (or document) the caller may read.
//! Anyone else is told there is no such file.

use std::net::IpAddr;

use super::{access, messages, Services};
use crate::auth::{can, Action, Who};
use crate::docs::access::Resolved;
use crate::docs::copies;
use crate::error::ServiceError;
use crate::ids::LessonId;
use crate::lessons::lesson;
use crate::uploads::{self, NewUpload, QuotaScope, Upload, UploadError};
use crate::validate::invalid;

/// Where an upload goes: a message thread (of the caller's running lesson, or the one a
/// teacher names), or a document (an image).
pub enum Destination<'a> {
    Thread {
        thread: &'a str,
        lesson: Option<&'a LessonId>,
    },
    Doc(&'a str),
}

/// A file as sent: its name on the sender's device, its declared type, its bytes.
pub struct Sent<'a> {
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

/// Saves a file the caller sends for `to`, which they must be allowed to write in, from the
/// device at `address` (a pupil's or guest's device has a share of its own).
pub fn save(
    s: &Services,
    who: &Who,
    to: Destination<'_>,
    file: Sent<'_>,
    address: Option<IpAddr>,
) -> Result<Upload, ServiceError> {
    let owner = owner_id(who);
    let now_ms = s.clock.now_ms();
    let (thread_name, lesson_id, doc) = match to {
        Destination::Thread { thread, lesson } => {
            let lesson = access::running_lesson(s, who, lesson)?;
            let chat = s.channels.chat(&lesson.id)?;
            let resolved =
                messages::writable_thread(s.store.as_ref(), &lesson, &chat, who, thread, now_ms)?;
            tracing::info!(lesson_id = %lesson.id, size = file.bytes.len(), "file attached");
            (resolved.id.to_string(), Some(lesson.id), None)
        }
        Destination::Doc(doc) => {
            let resolved = writable_doc(s, who, doc)?;
            // Documents show pictures only; a PDF belongs in a message.
            if !uploads::is_image(&uploads::essence(file.content_type)) {
                return Err(ServiceError::UnsupportedFile);
            }
            tracing::info!(size = file.bytes.len(), "image put into a document");
            // Counted against the lesson the document belongs to now, if any.
            let lesson_id = access::lesson_of(s, &resolved)?;
            (String::new(), lesson_id, Some(resolved.name.to_string()))
        }
    };
    let size = file.bytes.len() as u64;
    // Held while the file is saved, so two uploads from one device cannot both take its last room.
    let mut by_address = s.files.by_address.lock().unwrap_or_else(|p| p.into_inner());
    let device = address.filter(|_| matches!(who, Who::Pupil(_)));
    if let Some(device) = device {
        let used = by_address.get(&device).copied().unwrap_or(0);
        if used + size > s.files.quotas.per_address {
            return Err(UploadError::Quota(QuotaScope::Device).into());
        }
    }
    let saved = uploads::save(
        s.store.as_ref(),
        &s.files.quotas,
        s.disk.room_for(size),
        NewUpload {
            thread: &thread_name,
            lesson_id: lesson_id.as_ref(),
            doc: doc.as_deref(),
            owner_id: &owner,
            file_name: file.file_name,
            content_type: file.content_type,
            bytes: file.bytes,
            now_ms,
        },
    )?;
    if let Some(device) = device {
        *by_address.entry(device).or_default() += size;
    }
    Ok(saved)
}

/// Deletes files uploaded for a message but never sent, once older than `older_than_ms`.
pub fn sweep_unsent(s: &Services, older_than_ms: u64) -> Result<usize, ServiceError> {
    let swept = uploads::sweep_unsent(s.store.as_ref(), s.clock.now_ms(), older_than_ms)?;
    if swept > 0 {
        tracing::info!(swept, "unsent uploads deleted");
    }
    Ok(swept)
}

/// A file the caller may read (from a thread or a document they may read), with its bytes.
pub fn fetch(s: &Services, who: &Who, id: &str) -> Result<(Upload, Vec<u8>), ServiceError> {
    if matches!(who, Who::Nobody) {
        return Err(ServiceError::Unauthenticated);
    }
    let store = s.store.as_ref();
    let upload = uploads::get(store, id)?.ok_or(ServiceError::NotFound)?;
    match &upload.doc {
        Some(doc) => image_readable(s, who, doc)?,
        None => {
            let lesson_id = upload.lesson_id.as_ref().ok_or(ServiceError::NotFound)?;
            let lesson = lesson::get(store, lesson_id)?;
            let chat = s.channels.chat(&lesson.id)?;
            messages::readable_thread(store, &lesson, &chat, who, &upload.thread)?;
        }
    }
    let bytes = uploads::bytes(store, &upload.id)?.ok_or(ServiceError::NotFound)?;
    Ok((upload, bytes))
}

fn owner_id(who: &Who) -> String {
    match who {
        Who::Teacher { teacher_id } => teacher_id.to_string(),
        Who::Pupil(seat) => seat.participant_id.to_string(),
        Who::Nobody | Who::Camera { .. } | Who::PairedBox { .. } => String::new(),
    }
}

/// The document an image is to go into, if the caller may write it.
fn writable_doc(s: &Services, who: &Who, raw: &str) -> Result<Resolved, ServiceError> {
    let resolved = access::readable_doc(s, who, raw)?;
    if !can(who, Action::WriteDoc(resolved.facts())) {
        return Err(ServiceError::Forbidden);
    }
    Ok(resolved)
}

/// A document's image is for whoever may read the document, or a copy made from it (a
/// template handed out keeps its pictures).
fn image_readable(s: &Services, who: &Who, doc: &str) -> Result<(), ServiceError> {
    if access::readable_doc(s, who, doc).is_ok() {
        return Ok(());
    }
    let Who::Pupil(seat) = who else {
        return Err(ServiceError::NotFound);
    };
    let store = s.store.as_ref();
    let reads_a_copy = copies::of_lesson(store, &seat.lesson_id)?
        .iter()
        .filter(|c| c.source.as_deref() == Some(doc))
        .any(|c| access::readable_doc(s, who, &c.doc_name().to_string()).is_ok());
    if reads_a_copy {
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}

impl From<UploadError> for ServiceError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::UnsupportedType => ServiceError::UnsupportedFile,
            UploadError::Mismatch => {
                ServiceError::Invalid(invalid("file", "is not what its type says"))
            }
            UploadError::Empty => ServiceError::Invalid(invalid("file", "is empty")),
            UploadError::Quota(_) => ServiceError::QuotaExceeded,
            UploadError::DiskFull => ServiceError::DiskFull,
            UploadError::Store(s) => s.into(),
        }
    }
}
