//! The teacher forms a lesson's groups: by hand, at random, or as last time. Connected pupils
//! hear of their new group at once (its document and chat).

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{ApiJson, TeacherCaller};
use super::state::AppState;
use crate::channels::people::{group_entries, member_names};
use crate::error::ApiError;
use crate::lessons::groups;
use crate::lessons::lesson::Lesson;
use crate::service::access;
use crate::validate::invalid;

/// The largest group `random` makes; bigger is a class, not a group.
const MAX_GROUP_SIZE: usize = 10;

/// Who may be grouped: everyone on the lesson's list.
fn groupable(state: &AppState, lesson: &Lesson) -> Result<HashSet<String>, ApiError> {
    Ok(member_names(state.services.store.as_ref(), lesson)?
        .into_keys()
        .collect())
}

fn save(state: &AppState, lesson: &Lesson, members: Vec<Vec<String>>) -> Result<Value, ApiError> {
    let allowed = groupable(state, lesson)?;
    let list = groups::set(
        state.services.store.as_ref(),
        lesson,
        members,
        &allowed,
        state.services.clock.now_ms(),
    )?;
    tracing::info!(lesson_id = %lesson.id, groups = list.len(), "groups formed");
    let entries = state.services.channels.groups_changed(lesson)?;
    Ok(json!({ "groups": *entries }))
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(lesson_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let lesson = access::own_lesson(&state.services, &teacher.who, &lesson_id)?;
    let entries = group_entries(state.services.store.as_ref(), &lesson)?;
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
    let lesson = access::own_lesson(&state.services, &teacher.who, &lesson_id)?;
    Ok(Json(save(&state, &lesson, body.groups)?))
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
    let lesson = access::own_lesson(&state.services, &teacher.who, &lesson_id)?;
    if body.size < 2 || body.size > MAX_GROUP_SIZE {
        return Err(invalid("size", "must be from 2 to 10").into());
    }
    let mut people: Vec<String> = groupable(&state, &lesson)?.into_iter().collect();
    if body.present_only {
        let online = state.services.presence.online(&lesson.id);
        people.retain(|p| online.contains(p));
    }
    if people.is_empty() {
        return Err(invalid("present_only", "nobody to put in groups").into());
    }
    people.sort();
    let members = groups::random_arrangement(people, body.size);
    Ok(Json(save(&state, &lesson, members)?))
}

/// Last time's groups of this class (rostered pupils), formed again with fresh documents.
pub async fn repeat(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(lesson_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let lesson = access::own_lesson(&state.services, &teacher.who, &lesson_id)?;
    let allowed = groupable(&state, &lesson)?;
    let members =
        groups::last_arrangement(state.services.store.as_ref(), &lesson.class_id, &allowed)?;
    if members.iter().all(Vec::is_empty) {
        return Err(invalid("groups", "this class has no earlier groups").into());
    }
    Ok(Json(save(&state, &lesson, members)?))
}
