//! Classes, rosters and login cards over HTTP. Teachers only, and only their own classes.

use super::respond::svg_response;
use crate::service::{self, access};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{ApiJson, RequestHost, TeacherCaller};
use super::state::AppState;
use crate::auth::{can, Action};
use crate::error::ApiError;
use crate::lessons::classes::{self, Class, Pupil};
use crate::lessons::lesson;

fn pupil_json(p: &Pupil) -> Value {
    json!({ "id": p.id, "name": p.name })
}

fn class_json(state: &AppState, class: &Class) -> Result<Value, ApiError> {
    let roster: Vec<Value> = classes::roster(state.services.store.as_ref(), &class.id)?
        .iter()
        .map(pupil_json)
        .collect();
    let active = lesson::active_for_class(
        state.services.store.as_ref(),
        &class.id,
        state.services.clock.now_ms(),
    )?;
    Ok(json!({
        "id": class.id,
        "name": class.name,
        "pupils": roster,
        "active_lesson": active.map(|l| json!({ "id": l.id, "code": l.code })),
    }))
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
) -> Result<Json<Value>, ApiError> {
    let list: Vec<Value> =
        classes::list_for_teacher(state.services.store.as_ref(), &teacher.teacher_id)?
            .iter()
            .map(|c| json!({ "id": c.id, "name": c.name }))
            .collect();
    Ok(Json(json!({ "classes": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    #[serde(default)]
    pupils: Vec<String>,
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Json<Value>, ApiError> {
    if !can(&teacher.who, Action::CreateClass) {
        return Err(ApiError::Forbidden);
    }
    let (class, _) = classes::create(
        state.services.store.as_ref(),
        state.services.clock.as_ref(),
        &teacher.teacher_id,
        &body.name,
        &body.pupils,
    )?;
    Ok(Json(class_json(&state, &class)?))
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(class_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let class = access::own_class(&state.services, &teacher.who, &class_id)?;
    Ok(Json(class_json(&state, &class)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddPupilsBody {
    names: Vec<String>,
}

pub async fn add_pupils(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(class_id): Path<String>,
    ApiJson(body): ApiJson<AddPupilsBody>,
) -> Result<Json<Value>, ApiError> {
    let class = access::own_class(&state.services, &teacher.who, &class_id)?;
    classes::add_pupils(
        state.services.store.as_ref(),
        state.services.clock.as_ref(),
        &class.id,
        &body.names,
    )?;
    Ok(Json(class_json(&state, &class)?))
}

pub async fn remove_pupil(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path((class_id, pupil_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    service::roster::remove_pupil(&state.services, &teacher.who, &class_id, &pupil_id)?;
    let class = access::own_class(&state.services, &teacher.who, &class_id)?;
    Ok(Json(class_json(&state, &class)?))
}

/// Revokes a pupil's card and makes a new one.
pub async fn reissue_card(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path((class_id, pupil_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let pupil = service::roster::reissue_card(&state.services, &teacher.who, &class_id, &pupil_id)?;
    Ok(Json(pupil_json(&pupil)))
}

/// The sign-in link a pupil's card carries. The secret is in the fragment, which browsers never
/// send to a server, so it stays out of access logs and Referer headers.
fn card_url(state: &AppState, host: Option<&str>, pupil: &Pupil) -> String {
    format!(
        "{}/card#{}",
        state.reachable_base_url(host),
        pupil.card_secret
    )
}

/// Everything the printable card sheet needs.
pub async fn cards(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    Path(class_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let class = access::own_class(&state.services, &teacher.who, &class_id)?;
    let cards: Vec<Value> = classes::roster(state.services.store.as_ref(), &class.id)?
        .iter()
        .map(|p| json!({ "id": p.id, "name": p.name, "url": card_url(&state, host.as_deref(), p) }))
        .collect();
    Ok(Json(
        json!({ "class": { "id": class.id, "name": class.name }, "cards": cards }),
    ))
}

pub async fn card_qr(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    Path((class_id, pupil_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let class = access::own_class(&state.services, &teacher.who, &class_id)?;
    let pupil = classes::get_pupil(state.services.store.as_ref(), &class.id, &pupil_id)?;
    svg_response(&card_url(&state, host.as_deref(), &pupil))
}
