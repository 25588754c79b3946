//! The teacher forms a lesson's groups: by hand, at random, or as last time. Connected pupils
//! hear of their new group at once (its document and chat).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::extract::{ApiJson, ApiPath, TeacherCaller};
use super::state::AppState;
use crate::error::ServiceError;
use crate::ids::{LessonId, ParticipantId};
use crate::protocol::GroupEntry;
use crate::service;

pub async fn get(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(lesson_id): ApiPath<LessonId>,
) -> Result<Response, ServiceError> {
    let entries = service::groups::of_lesson(&state.services, &teacher.who, &lesson_id)?;
    Ok(Json(Groups { groups: entries }).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetBody {
    /// Each group as a list of participant ids; `[]` ends the group work.
    groups: Vec<Vec<ParticipantId>>,
}

pub async fn set(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(lesson_id): ApiPath<LessonId>,
    ApiJson(body): ApiJson<SetBody>,
) -> Result<Response, ServiceError> {
    let entries = service::groups::form(&state.services, &teacher.who, &lesson_id, body.groups)?;
    Ok(Json(Groups { groups: entries }).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomBody {
    size: usize,
    /// Only pupils connected now (default), or everyone on the list.
    #[serde(default = "yes")]
    present_only: bool,
}

fn yes() -> bool {
    true
}

pub async fn random(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(lesson_id): ApiPath<LessonId>,
    ApiJson(body): ApiJson<RandomBody>,
) -> Result<Response, ServiceError> {
    let entries = service::groups::random(
        &state.services,
        &teacher.who,
        &lesson_id,
        body.size,
        body.present_only,
    )?;
    Ok(Json(Groups { groups: entries }).into_response())
}

/// Last time's groups of this class (rostered pupils), formed again with fresh documents.
pub async fn repeat(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(lesson_id): ApiPath<LessonId>,
) -> Result<Response, ServiceError> {
    let entries = service::groups::repeat(&state.services, &teacher.who, &lesson_id)?;
    Ok(Json(Groups { groups: entries }).into_response())
}

/// The lesson's groups after a change.
#[derive(Serialize)]
pub struct Groups {
    groups: Vec<GroupEntry>,
}
