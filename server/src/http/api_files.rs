//! Files attached to messages and images in documents: upload one for a thread (or document)
//! the caller may write in, fetch one from a thread (or document) the caller may read. Anyone
//! else gets 404, as for a file that does not exist.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::download::{self, Shown};
use super::extract::Caller;
use super::state::AppState;
use crate::auth::{can, Action, Who};
use crate::channels::thread;
use crate::docs::access::Resolved;
use crate::docs::copies;
use crate::error::ApiError;
use crate::lessons::lesson;
use crate::service::access;
use crate::uploads::{self, NewUpload, UploadError};
use crate::validate::invalid;

#[derive(Deserialize)]
pub struct UploadQuery {
    /// The thread the file is for.
    thread: Option<String>,
    /// Or the document the image goes into.
    doc: Option<String>,
    /// The file's name as the sender's device called it.
    name: Option<String>,
    /// Teachers: the lesson they are sending from.
    lesson: Option<String>,
}

fn owner_id(who: &Who) -> String {
    match who {
        Who::Teacher { teacher_id } => teacher_id.clone(),
        Who::Pupil(seat) => seat.participant_id.clone(),
        Who::Nobody | Who::Camera { .. } => String::new(),
    }
}

/// `POST /api/files?thread=…&name=…`: the body is the file, `Content-Type` its type.
pub async fn upload(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<UploadQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        _ => ApiError::Invalid(crate::validate::invalid("file", "could not be read")),
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let file_name = query.name.as_deref().unwrap_or_default();
    let owner = owner_id(&caller.who);
    let now_ms = state.services.clock.now_ms();
    let saved = match (&query.thread, &query.doc) {
        (Some(thread_id), None) => {
            let lesson =
                access::running_lesson(&state.services, &caller.who, query.lesson.as_deref())?;
            let chat = state.services.channels.chat(&lesson.id)?;
            let resolved = thread::writable(
                state.services.store.as_ref(),
                &lesson,
                &chat,
                &caller.who,
                thread_id,
                now_ms,
            )?;
            tracing::info!(lesson_id = %lesson.id, size = body.len(), "file attached");
            uploads::save(
                state.services.store.as_ref(),
                NewUpload {
                    thread: &resolved.id.to_string(),
                    lesson_id: &lesson.id,
                    doc: None,
                    owner_id: &owner,
                    file_name,
                    content_type,
                    bytes: &body,
                    now_ms,
                },
            )?
        }
        (None, Some(doc)) => {
            let resolved = writable_doc(&state, &caller.who, doc)?;
            // Documents show pictures only; a PDF belongs in a message.
            if !uploads::is_image(&uploads::essence(content_type)) {
                return Err(ApiError::UnsupportedFile);
            }
            tracing::info!(size = body.len(), "image put into a document");
            uploads::save(
                state.services.store.as_ref(),
                NewUpload {
                    thread: "",
                    lesson_id: "",
                    doc: Some(&resolved.name.to_string()),
                    owner_id: &owner,
                    file_name,
                    content_type,
                    bytes: &body,
                    now_ms,
                },
            )?
        }
        _ => {
            return Err(ApiError::Invalid(invalid(
                "thread",
                "give either a thread or a doc",
            )))
        }
    };
    Ok(Json(json!({
        "id": saved.id,
        "name": saved.file_name,
        "content_type": saved.content_type,
        "size": saved.size,
    })))
}

/// `GET /api/files/{id}`: images inline, everything else as a download.
pub async fn download(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if matches!(caller.who, Who::Nobody) {
        return Err(ApiError::Unauthenticated);
    }
    let store = state.services.store.as_ref();
    let upload = uploads::get(store, &id)?.ok_or(ApiError::NotFound)?;
    match &upload.doc {
        Some(doc) => image_readable(&state, &caller.who, doc)?,
        None => {
            let lesson = lesson::get(store, &upload.lesson_id)?;
            let chat = state.services.channels.chat(&lesson.id)?;
            thread::readable(store, &lesson, &chat, &caller.who, &upload.thread)?;
        }
    }
    let bytes = uploads::bytes(store, &upload.id)?.ok_or(ApiError::NotFound)?;
    let shown = if uploads::is_image(&upload.content_type) {
        Shown::Inline
    } else {
        Shown::Download
    };
    Ok(download::file(
        &upload.content_type,
        shown,
        &upload.file_name,
        bytes,
    ))
}

/// The document an image is to go into, if the caller may write it.
fn writable_doc(state: &AppState, who: &Who, raw: &str) -> Result<Resolved, ApiError> {
    let resolved = access::readable_doc(&state.services, who, raw)?;
    if !can(who, Action::WriteDoc(resolved.facts())) {
        return Err(ApiError::Forbidden);
    }
    Ok(resolved)
}

/// A document's image is for whoever may read the document, or a copy made from it (a
/// template handed out keeps its pictures).
fn image_readable(state: &AppState, who: &Who, doc: &str) -> Result<(), ApiError> {
    if access::readable_doc(&state.services, who, doc).is_ok() {
        return Ok(());
    }
    let Who::Pupil(seat) = who else {
        return Err(ApiError::NotFound);
    };
    let store = state.services.store.as_ref();
    let reads_a_copy = copies::of_lesson(store, &seat.lesson_id)?
        .iter()
        .filter(|c| c.source.as_deref() == Some(doc))
        .any(|c| access::readable_doc(&state.services, who, &c.doc_name().to_string()).is_ok());
    if reads_a_copy {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::UnsupportedType => ApiError::UnsupportedFile,
            UploadError::Mismatch => ApiError::Invalid(crate::validate::invalid(
                "file",
                "is not what its type says",
            )),
            UploadError::Empty => ApiError::Invalid(crate::validate::invalid("file", "is empty")),
            UploadError::Store(s) => s.into(),
        }
    }
}
