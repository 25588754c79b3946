//! A pupil's data over HTTP: the archive of everything kept about them, for the class's
//! teacher and for the pupil themselves, and what is kept for how long. (Deleting a pupil is
//! `DELETE` on the pupil, in `api_classes`.)

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::download::{self, Shown};
use super::extract::{ApiPath, ApiQuery, Caller, TeacherCaller};
use super::state::AppState;
use crate::error::ServiceError;
use crate::ids::{ClassId, PupilId};
use crate::service;
use crate::service::privacy::RetentionLine;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    lang: Option<String>,
}

/// `GET /api/classes/{class}/pupils/{pupil}/export`: the teacher's (or the pupil's own) copy.
pub async fn export_pupil(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((class_id, pupil_id)): ApiPath<(ClassId, PupilId)>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ServiceError> {
    archive(state, caller, class_id, pupil_id, query).await
}

/// `GET /api/me/export`: a pupil on a class list downloads what the box keeps about them.
pub async fn export_mine(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ServiceError> {
    let (class_id, pupil_id) = service::access::own_pupil_id(&caller.who)?;
    archive(state, caller, class_id, pupil_id, query).await
}

async fn archive(
    state: Arc<AppState>,
    caller: Caller,
    class_id: ClassId,
    pupil_id: PupilId,
    query: ExportQuery,
) -> Result<Response, ServiceError> {
    let lang = crate::i18n::language(query.lang.as_deref());
    let file =
        service::privacy::export_pupil(&state.services, &caller.who, &class_id, &pupil_id, lang)
            .await?;
    Ok(download::file(
        "application/zip",
        Shown::Download,
        &file.file_name,
        file.bytes,
    ))
}

/// `GET /api/retention`: how long the teacher's lessons and private messages are kept, how
/// many there are, and when the next ones are deleted.
pub async fn retention(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
) -> Result<Response, ServiceError> {
    let lines = service::privacy::retention_overview(
        &state.services,
        &teacher.who,
        &state.config.retention,
    )?;
    Ok(Json(Retention { rules: lines }).into_response())
}

/// What is kept, for how long, and when the next of it is deleted.
#[derive(Serialize)]
pub struct Retention {
    rules: Vec<RetentionLine>,
}
