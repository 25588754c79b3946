//! Which shared documents the caller can open, and the teacher's document settings.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{ApiJson, Caller};
use crate::app::AppState;
use crate::auth::{can, Action, Who};
use crate::docs::access::{self, DocName, DocSettings};
use crate::error::ApiError;
use crate::lessons::{classes, lesson};
use crate::store::Store;

#[derive(Deserialize)]
pub struct ListQuery {
    /// For teachers: the lesson whose documents to list.
    lesson: Option<String>,
}

fn entry(
    store: &dyn Store,
    who: &Who,
    name: DocName,
    title: Option<&str>,
) -> Result<Option<Value>, ApiError> {
    let resolved = match access::resolve(store, name) {
        Ok(r) => r,
        Err(crate::docs::DocError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if !can(who, Action::ReadDoc(resolved.facts())) {
        return Ok(None);
    }
    Ok(Some(json!({
        "name": resolved.name.to_string(),
        "kind": resolved.name.kind(),
        "title": title,
        "read_only": resolved.settings.read_only,
        "writable": can(who, Action::WriteDoc(resolved.facts())),
    })))
}

/// Pupils: the class document and their own. Teachers (`?lesson=`): the class document, their
/// notes, and every pupil's own document.
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store.as_ref();
    let who = &caller.who;
    let mut names: Vec<(DocName, Option<String>)> = Vec::new();
    match who {
        Who::Nobody => return Err(ApiError::Unauthenticated),
        Who::Pupil(seat) => {
            names.push((
                DocName::LessonClass {
                    lesson_id: seat.lesson_id.clone(),
                },
                None,
            ));
            names.push((
                DocName::personal(&seat.lesson_id, &seat.participant_id, &seat.class_id),
                None,
            ));
        }
        Who::Teacher { .. } => {
            let lesson = lesson::get(store, query.lesson.as_deref().ok_or(ApiError::NotFound)?)?;
            if !can(
                who,
                Action::ManageLesson {
                    lesson_teacher: &lesson.teacher_id,
                },
            ) {
                return Err(ApiError::NotFound);
            }
            names.push((
                DocName::LessonClass {
                    lesson_id: lesson.id.clone(),
                },
                None,
            ));
            names.push((
                DocName::TeacherNotes {
                    lesson_id: lesson.id.clone(),
                },
                None,
            ));
            for pupil in classes::roster(store, &lesson.class_id)? {
                names.push((
                    DocName::PupilOwn {
                        class_id: lesson.class_id.clone(),
                        pupil_id: pupil.id,
                    },
                    Some(pupil.name),
                ));
            }
            for guest in lesson::participants(store, &lesson.id)?
                .into_iter()
                .filter(|p| p.pupil_id.is_none())
            {
                names.push((
                    DocName::personal(&lesson.id, &guest.id, &lesson.class_id),
                    Some(guest.name),
                ));
            }
        }
    }
    let docs = names
        .into_iter()
        .map(|(name, title)| entry(store, who, name, title.as_deref()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    Ok(Json(json!({ "docs": docs })))
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
    let name = DocName::parse(&doc).ok_or(ApiError::NotFound)?;
    let resolved = access::resolve(state.store.as_ref(), name)?;
    match &caller.who {
        Who::Nobody => return Err(ApiError::Unauthenticated),
        Who::Pupil(_) => return Err(ApiError::Forbidden),
        Who::Teacher { .. } if !can(&caller.who, Action::ManageDoc(resolved.facts())) => {
            return Err(ApiError::NotFound)
        }
        Who::Teacher { .. } => {}
    }
    let settings = DocSettings {
        read_only: body.read_only,
    };
    access::save_settings(state.store.as_ref(), &resolved.name, &settings)?;
    state
        .docs
        .set_read_only(&resolved.name.to_string(), body.read_only);
    Ok(Json(
        json!({ "name": resolved.name.to_string(), "read_only": body.read_only }),
    ))
}
