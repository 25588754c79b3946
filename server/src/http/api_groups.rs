//! The teacher forms a lesson's groups: by hand, at random, or as last time. Connected pupils
//! hear of their new group at once (its document and chat).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{ApiJson, TeacherCaller};
use super::state::AppState;
use crate::error::ApiError;
use crate::service;

pub async fn get(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(lesson_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let entries = service::groups::of_lesson(&state.services, &teacher.who, &lesson_id)?;
    Ok(Json(json!({ "groups": entries })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetBody {
    /// Each group as a list of participant ids; `[]` ends the group work.
    groups: Vec<Vec<String>>,
}

pub async fn set(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(lesson_id): Path<String>,
    ApiJson(body): ApiJson<SetBody>,
) -> Result<Json<Value>, ApiError> {
    let entries = service::groups::form(&state.services, &teacher.who, &lesson_id, body.groups)?;
    Ok(Json(json!({ "groups": entries })))
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
    Path(lesson_id): Path<String>,
    ApiJson(body): ApiJson<RandomBody>,
) -> Result<Json<Value>, ApiError> {
    let entries = service::groups::random(
        &state.services,
        &teacher.who,
        &lesson_id,
        body.size,
        body.present_only,
    )?;
    Ok(Json(json!({ "groups": entries })))
}

/// Last time's groups of this class (rostered pupils), formed again with fresh documents.
pub async fn repeat(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(lesson_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let entries = service::groups::repeat(&state.services, &teacher.who, &lesson_id)?;
    Ok(Json(json!({ "groups": entries })))
}
