//! Files attached to messages and images in documents: upload one for a thread (or document)
//! the caller may write in, fetch one from a thread (or document) the caller may read. Anyone
//! else gets 404, as for a file that does not exist.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::download::{self, Shown};
use super::extract::{ApiQuery, Caller, ClientIp};
use super::state::AppState;
use crate::error::ServiceError;
use crate::ids::LessonId;
use crate::service;
use crate::service::files::{Destination, Sent};
use crate::uploads;
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
    lesson: Option<LessonId>,
}

/// `POST /api/files?thread=…&name=…`: the body is the file, `Content-Type` its type.
pub async fn upload(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<UploadQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServiceError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ServiceError::TooLarge,
        _ => ServiceError::Invalid(invalid("file", "could not be read")),
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let to = match (&query.thread, &query.doc) {
        (Some(thread), None) => Destination::Thread {
            thread,
            lesson: query.lesson.as_ref(),
        },
        (None, Some(doc)) => Destination::Doc(doc),
        _ => {
            return Err(ServiceError::Invalid(invalid(
                "thread",
                "give either a thread or a doc",
            )))
        }
    };
    let file = Sent {
        file_name: query.name.as_deref().unwrap_or_default(),
        content_type,
        bytes: &body,
    };
    let saved = service::files::save(&state.services, &caller.who, to, file, Some(ip))?;
    Ok(Json(Saved {
        id: saved.id,
        name: saved.file_name,
        content_type: saved.content_type,
        size: saved.size,
    })
    .into_response())
}

/// A file the box kept: what a message refers to it by.
#[derive(Serialize)]
pub struct Saved {
    id: String,
    name: String,
    content_type: String,
    size: usize,
}

/// `GET /api/files/{id}`: images inline, everything else as a download.
pub async fn download(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ServiceError> {
    let (upload, bytes) = service::files::fetch(&state.services, &caller.who, &id)?;
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
