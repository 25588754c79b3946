//! Shared documents over HTTP: which ones the caller can open, one document's facts, exports
//! (one document, or a whole lesson as a zip), and the teacher's read-only switch.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::doc_json::{describe, DocList};
use super::download::{self, Shown};
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller, TeacherCaller};
use super::state::AppState;
use crate::docs::export::Format;
use crate::error::ServiceError;
use crate::ids::LessonId;
use crate::service;
use crate::validate::invalid;

#[derive(Deserialize)]
pub struct ListQuery {
    /// For teachers: the lesson whose documents to list.
    lesson: Option<LessonId>,
}

/// Pupils: the class document and their own. Teachers (`?lesson=`): every document of the
/// lesson, each with a text preview.
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response, ServiceError> {
    let entries = service::docs::openable(&state.services, &caller.who, query.lesson.as_ref())?;
    let docs = entries.iter().map(describe).collect();
    Ok(Json(DocList { docs }).into_response())
}

/// One document's facts, for the editor page.
pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(doc): Path<String>,
) -> Result<Response, ServiceError> {
    let entry = service::docs::one(&state.services, &caller.who, &doc)?;
    Ok(Json(describe(&entry)).into_response())
}

#[derive(Deserialize)]
pub struct ExportQuery {
    format: String,
    /// The language of the exported HTML page (`lang` attribute); `nb` if absent.
    lang: Option<String>,
}

#[derive(Deserialize)]
pub struct ZipQuery {
    lang: Option<String>,
}

fn parse_format(raw: &str) -> Result<Format, ServiceError> {
    Format::parse(raw).ok_or(ServiceError::Invalid(invalid(
        "format",
        "must be html, md or txt",
    )))
}

fn parse_lang(raw: Option<&str>) -> Result<&'static str, ServiceError> {
    let wanted = raw.unwrap_or(crate::i18n::LANGUAGES[0]);
    crate::i18n::LANGUAGES
        .iter()
        .find(|lang| **lang == wanted)
        .copied()
        .ok_or_else(|| ServiceError::Invalid(invalid("lang", "must be nb, nn, se or en")))
}

/// One document as HTML, Markdown or plain text.
pub async fn export(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(doc): Path<String>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ServiceError> {
    let format = parse_format(&query.format)?;
    let lang = parse_lang(query.lang.as_deref())?;
    let file = service::docs::export_one(&state.services, &caller.who, &doc, format, lang)?;
    Ok(download::file(
        format.content_type(),
        Shown::Download,
        &file.file_name,
        file.bytes,
    ))
}

/// Every document of a lesson, each as HTML, Markdown and text, in one zip.
pub async fn lesson_zip(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(lesson_id): ApiPath<LessonId>,
    ApiQuery(query): ApiQuery<ZipQuery>,
) -> Result<Response, ServiceError> {
    let lang = parse_lang(query.lang.as_deref())?;
    let st = state.clone();
    let file = tokio::task::spawn_blocking(move || {
        service::docs::lesson_zip(&st.services, &teacher.who, &lesson_id, lang)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))??;
    Ok(download::file(
        "application/zip",
        Shown::Download,
        &file.file_name,
        file.bytes,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    read_only: bool,
}

/// The teacher makes a document read-only for pupils (or writable again).
pub async fn settings(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(doc): Path<String>,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Result<Response, ServiceError> {
    let name = service::docs::set_read_only(&state.services, &caller.who, &doc, body.read_only)?;
    Ok(Json(DocSettingsAnswer {
        name,
        read_only: body.read_only,
    })
    .into_response())
}

#[derive(Serialize)]
pub struct DocSettingsAnswer {
    name: String,
    read_only: bool,
}
