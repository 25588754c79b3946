//! Shared documents over HTTP: which ones the caller can open, one document's facts, exports
//! (one document, or a whole lesson as a zip), and the teacher's read-only switch.

use std::io::Write;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::doc_json::describe;
use super::download::{self, Shown};
use super::extract::{ApiJson, Caller, TeacherCaller};
use super::state::AppState;
use crate::auth::{can, Action, Who};
use crate::docs::access::{self as doc_access, DocKind, DocName, DocSettings, Resolved};
use crate::docs::export::{self, Format};
use crate::docs::listing;
use crate::error::ApiError;
use crate::lessons::presence::LessonEvent;
use crate::lessons::{classes, groups};
use crate::service::access;
use crate::store::Store;
use crate::validate::invalid;

#[derive(Deserialize)]
pub struct ListQuery {
    /// For teachers: the lesson whose documents to list.
    lesson: Option<String>,
}

/// Pupils: the class document and their own. Teachers (`?lesson=`): every document of the
/// lesson, each with a text preview.
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let store = state.services.store.as_ref();
    let who = &caller.who;
    let (docs, preview) = match who {
        Who::Nobody => return Err(ApiError::Unauthenticated),
        Who::Camera { .. } => return Err(ApiError::Forbidden),
        Who::Pupil(seat) => {
            let mut names = vec![
                DocName::LessonClass {
                    lesson_id: seat.lesson_id.clone(),
                },
                DocName::personal(&seat.lesson_id, &seat.participant_id, &seat.class_id),
            ];
            if let Some(group) =
                groups::of_participant(store, &seat.lesson_id, &seat.participant_id)?
            {
                names.push(DocName::Group {
                    lesson_id: seat.lesson_id.clone(),
                    group_id: group.id,
                });
            }
            // Only the copies for this pupil survive the read filter below.
            names.extend(listing::copies_of(store, &seat.lesson_id)?);
            (listing::resolve_existing(store, names)?, false)
        }
        Who::Teacher { .. } => {
            let lesson =
                access::own_lesson(&state.services, who, query.lesson.as_deref().unwrap_or(""))?;
            (listing::lesson_docs(store, &lesson)?, true)
        }
    };
    let docs: Vec<Value> = docs
        .iter()
        .filter(|r| can(who, Action::ReadDoc(r.facts())))
        .map(|r| describe(&state, who, r, preview))
        .collect();
    Ok(Json(json!({ "docs": docs })))
}

/// One document's facts, for the editor page.
pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(doc): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let resolved = access::readable_doc(&state.services, &caller.who, &doc)?;
    Ok(Json(describe(&state, &caller.who, &resolved, false)))
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

fn parse_format(raw: &str) -> Result<Format, ApiError> {
    Format::parse(raw).ok_or(ApiError::Invalid(invalid(
        "format",
        "must be html, md or txt",
    )))
}

fn parse_lang(raw: Option<&str>) -> Result<&'static str, ApiError> {
    match raw.unwrap_or("nb") {
        "nb" => Ok("nb"),
        "nn" => Ok("nn"),
        "en" => Ok("en"),
        "se" => Ok("se"),
        _ => Err(ApiError::Invalid(invalid(
            "lang",
            "must be nb, nn, en or se",
        ))),
    }
}

/// A file name from a person's or class's name: letters (any script), digits and dashes.
fn file_stem(raw: &str) -> String {
    let stem: String = raw
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    let stem = stem
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if stem.is_empty() {
        "dokument".into()
    } else {
        stem.chars().take(60).collect()
    }
}

/// "Group" in the export's language, for group documents' titles and file names.
fn group_word(lang: &str) -> &'static str {
    match lang {
        "en" => "group",
        "se" => "joavku",
        _ => "gruppe",
    }
}

/// The title and file name stem of a document: the class name for class documents and notes,
/// the pupil's name for personal ones, class and number for groups.
fn naming(
    store: &dyn Store,
    resolved: &Resolved,
    lang: &str,
) -> Result<(String, String), ApiError> {
    let class = classes::get(store, &resolved.class_id)?;
    Ok(match (resolved.name.kind(), &resolved.owner_name) {
        (DocKind::Personal, Some(owner)) => (owner.clone(), file_stem(owner)),
        (DocKind::Group, _) => {
            let title = format!(
                "{} {} {}",
                class.name,
                group_word(lang),
                resolved.group_number.unwrap_or_default()
            );
            let stem = file_stem(&title);
            (title, stem)
        }
        (DocKind::Notes, _) => (
            class.name.clone(),
            format!("{}-notes", file_stem(&class.name)),
        ),
        (DocKind::Copy, _) => {
            let mut title = resolved.title.clone().unwrap_or_default();
            if let Some(owner) = &resolved.owner_name {
                title = format!("{title} – {owner}");
            } else if let Some(number) = resolved.group_number {
                title = format!("{title} – {} {number}", group_word(lang));
            }
            let stem = file_stem(&title);
            (title, stem)
        }
        _ => (class.name.clone(), file_stem(&class.name)),
    })
}

/// One document as HTML, Markdown or plain text.
pub async fn export(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(doc): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let resolved = access::readable_doc(&state.services, &caller.who, &doc)?;
    let format = parse_format(&query.format)?;
    let lang = parse_lang(query.lang.as_deref())?;
    let (title, stem) = naming(state.services.store.as_ref(), &resolved, lang)?;
    let snapshot = state
        .services
        .docs
        .snapshot_of(&resolved.name.to_string())?;
    let body = export::render(&snapshot, format, &title, lang)?;
    Ok(download::file(
        format.content_type(),
        Shown::Download,
        &format!("{stem}.{}", format.extension()),
        body.into_bytes(),
    ))
}

/// Every document of a lesson, each as HTML, Markdown and text, in one zip.
pub async fn lesson_zip(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(lesson_id): Path<String>,
    Query(query): Query<ZipQuery>,
) -> Result<Response, ApiError> {
    let lesson = access::own_lesson(&state.services, &teacher.who, &lesson_id)?;
    let lang = parse_lang(query.lang.as_deref())?;
    let store = state.services.store.as_ref();
    let class = classes::get(store, &lesson.class_id)?;
    let mut files = Vec::new();
    for resolved in listing::lesson_docs(store, &lesson)? {
        let (title, stem) = naming(store, &resolved, lang)?;
        let snapshot = state
            .services
            .docs
            .snapshot_of(&resolved.name.to_string())?;
        files.push((title, stem, snapshot));
    }
    let zip = tokio::task::spawn_blocking(move || build_zip(files, lang))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let day = lesson_day(lesson.started_ms);
    Ok(download::file(
        "application/zip",
        Shown::Download,
        &format!("{}-{day}.zip", file_stem(&class.name)),
        zip,
    ))
}

/// `YYYY-MM-DD` of a lesson's start (UTC), for the zip's name.
fn lesson_day(ms: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp((ms / 1000) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let d = at.date();
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

fn build_zip(files: Vec<(String, String, Vec<u8>)>, lang: &str) -> Result<Vec<u8>, ApiError> {
    let zip_error = |e: zip::result::ZipError| ApiError::Internal(e.to_string());
    let io_error = |e: std::io::Error| ApiError::Internal(e.to_string());
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut used = std::collections::HashSet::new();
    for (title, stem, snapshot) in files {
        // Two pupils with the same name get distinct files.
        let mut unique = stem.clone();
        let mut n = 2;
        while !used.insert(unique.clone()) {
            unique = format!("{stem}-{n}");
            n += 1;
        }
        for format in [Format::Html, Format::Markdown, Format::Text] {
            let body = export::render(&snapshot, format, &title, lang)?;
            writer
                .start_file(format!("{unique}.{}", format.extension()), options)
                .map_err(zip_error)?;
            writer.write_all(body.as_bytes()).map_err(io_error)?;
        }
    }
    Ok(writer.finish().map_err(zip_error)?.into_inner())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    read_only: bool,
}

/// The teacher makes a document read-only for pupils (or writable again). Open connections
/// follow at once: a pupil's next write closes their connection with 4003.
pub async fn settings(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(doc): Path<String>,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Result<Json<Value>, ApiError> {
    let resolved = access::managed_doc(&state.services, &caller.who, &doc)?;
    let settings = DocSettings {
        read_only: body.read_only,
    };
    doc_access::save_settings(state.services.store.as_ref(), &resolved.name, &settings)?;
    state
        .services
        .docs
        .set_read_only(&resolved.name.to_string(), body.read_only);
    if let Some(lesson_id) = access::lesson_of(&state.services, &resolved)? {
        state.services.presence.publish(
            &lesson_id,
            LessonEvent::DocSettings {
                doc: resolved.name.to_string(),
                read_only: body.read_only,
            },
        );
    }
    Ok(Json(
        json!({ "name": resolved.name.to_string(), "read_only": body.read_only }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_letters_and_drop_everything_else() {
        assert_eq!(file_stem("Åse Ødegård"), "Åse-Ødegård");
        assert_eq!(file_stem("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_stem("  "), "dokument");
    }
}
