//! A document's history for its teacher: the saved versions, saving one, and restoring one as
//! a new document (a copy) beside the current one, which stays as it is.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::doc_json::describe;
use super::extract::{ApiJson, Caller};
use super::state::AppState;
use crate::auth::tokens::random_id;
use crate::docs::access::{OwnedAudience, Resolved};
use crate::docs::copies::{self, Copy, CopyFor};
use crate::docs::history;
use crate::docs::history::LABEL_MAX;
use crate::error::ApiError;
use crate::lessons::presence::LessonEvent;
use crate::service::access;
use crate::validate::{self, invalid};

pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(doc): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let resolved = access::managed_doc(&state.services, &caller.who, &doc)?;
    let versions = history::list(state.services.store.as_ref(), &resolved.name.to_string())?;
    Ok(Json(json!({ "versions": versions })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    label: String,
}

pub async fn save(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(doc): Path<String>,
    ApiJson(body): ApiJson<SaveBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let resolved = access::managed_doc(&state.services, &caller.who, &doc)?;
    let label = validate::name("label", &body.label, LABEL_MAX)?;
    let name = resolved.name.to_string();
    let content = state.services.docs.snapshot_of(&name)?;
    let version = history::save(
        state.services.store.as_ref(),
        &name,
        &label,
        false,
        &content,
        state.services.clock.now_ms(),
    )?
    .ok_or(ApiError::Invalid(invalid("doc", "is empty")))?;
    state.services.store.flush()?;
    tracing::info!(doc = %name, "version saved");
    Ok((StatusCode::CREATED, Json(json!({ "version": version }))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyBody {
    title: String,
}

/// Restores a version as a new document for the same people as the original, in the lesson
/// that shows the original now.
pub async fn restore_as_copy(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((doc, version_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<CopyBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let resolved = access::managed_doc(&state.services, &caller.who, &doc)?;
    let title = validate::name("title", &body.title, LABEL_MAX)?;
    let name = resolved.name.to_string();
    let store = state.services.store.as_ref();
    let content = history::content(store, &name, &version_id)?.ok_or(ApiError::NotFound)?;
    let lesson_id =
        access::lesson_of(&state.services, &resolved)?.ok_or(ApiError::NoActiveLesson)?;
    let copy = Copy {
        id: random_id(),
        lesson_id: lesson_id.clone(),
        title,
        for_whom: same_people(&resolved),
        handout: None,
        source: Some(name.clone()),
        created_ms: state.services.clock.now_ms(),
    };
    let copy = copies::create(store, copy, &content)?;
    store.flush()?;
    tracing::info!(doc = %name, copy = %copy.id, "version restored as a copy");
    let copy_name = copy.doc_name().to_string();
    state.services.presence.publish(
        &lesson_id,
        LessonEvent::DocsAdded {
            docs: vec![copy_name.clone()],
        },
    );
    let made = access::readable_doc(&state.services, &caller.who, &copy_name)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "doc": describe(&state, &caller.who, &made, false) })),
    ))
}

/// Who a restored copy is for: whoever the original is for.
fn same_people(resolved: &Resolved) -> CopyFor {
    match &resolved.audience {
        OwnedAudience::Lesson(_) => CopyFor::Lesson,
        OwnedAudience::TeacherOnly => CopyFor::Teacher,
        OwnedAudience::Participant(id) => CopyFor::Participant(id.clone()),
        OwnedAudience::Group { group_id, .. } => CopyFor::Group(group_id.clone()),
    }
}
