//! Files attached to messages: upload one for a thread the caller may write in, fetch one from
//! a thread the caller may read. Anyone else gets 404, as for a file that does not exist.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::api_lessons::callers_running_lesson;
use super::download::{self, Shown};
use super::extract::Caller;
use crate::app::AppState;
use crate::auth::Who;
use crate::channels::thread;
use crate::error::ApiError;
use crate::lessons::lesson;
use crate::uploads::{self, NewUpload, UploadError};

#[derive(Deserialize)]
pub struct UploadQuery {
    /// The thread the file is for.
    thread: String,
    /// The file's name as the sender's device called it.
    name: Option<String>,
    /// Teachers: the lesson they are sending from.
    lesson: Option<String>,
}

fn owner_id(who: &Who) -> String {
    match who {
        Who::Teacher { teacher_id } => teacher_id.clone(),
        Who::Pupil(seat) => seat.participant_id.clone(),
        Who::Nobody => String::new(),
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
    let lesson = callers_running_lesson(&state, &caller.who, query.lesson.as_deref())?;
    let chat = state.channels.chat(&lesson.id)?;
    let resolved = thread::writable(
        state.store.as_ref(),
        &lesson,
        &chat,
        &caller.who,
        &query.thread,
        state.clock.now_ms(),
    )?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let saved = uploads::save(
        state.store.as_ref(),
        NewUpload {
            thread: &resolved.id.to_string(),
            lesson_id: &lesson.id,
            owner_id: &owner_id(&caller.who),
            file_name: query.name.as_deref().unwrap_or_default(),
            content_type,
            bytes: &body,
            now_ms: state.clock.now_ms(),
        },
    )?;
    tracing::info!(lesson_id = %lesson.id, size = saved.size, "file attached");
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
    let store = state.store.as_ref();
    let upload = uploads::get(store, &id)?.ok_or(ApiError::NotFound)?;
    let lesson = lesson::get(store, &upload.lesson_id)?;
    let chat = state.channels.chat(&lesson.id)?;
    thread::readable(store, &lesson, &chat, &caller.who, &upload.thread)?;
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
