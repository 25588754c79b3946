//! Classes, rosters and login cards over HTTP. Teachers only, and only their own classes.

use super::respond::svg_response;
use crate::service;
use crate::service::roster::ClassView;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{ApiJson, RequestHost, TeacherCaller};
use super::state::AppState;
use crate::error::ApiError;
use crate::lessons::classes::Pupil;

fn pupil_json(p: &Pupil) -> Value {
    json!({ "id": p.id, "name": p.name })
}

fn class_json(view: &ClassView) -> Value {
    let roster: Vec<Value> = view.pupils.iter().map(pupil_json).collect();
    json!({
        "id": view.class.id,
        "name": view.class.name,
        "pupils": roster,
        "active_lesson": view.running.as_ref().map(|l| json!({ "id": l.id, "code": l.code })),
        "past_lessons": view
            .past
            .iter()
            .map(|l| json!({ "id": l.id, "started_ms": l.started_ms, "ended_ms": l.ended_ms.unwrap_or(l.expires_ms) }))
            .collect::<Vec<_>>(),
    })
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
) -> Result<Json<Value>, ApiError> {
    let list: Vec<Value> = service::roster::classes_of(&state.services, &teacher.who)?
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
    let view =
        service::roster::create_class(&state.services, &teacher.who, &body.name, &body.pupils)?;
    Ok(Json(class_json(&view)))
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(class_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = service::roster::class(&state.services, &teacher.who, &class_id)?;
    Ok(Json(class_json(&view)))
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
    let view = service::roster::add_pupils(&state.services, &teacher.who, &class_id, &body.names)?;
    Ok(Json(class_json(&view)))
}

/// Deletes the class with its pupils, lessons and everything kept about them.
pub async fn delete_class(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(class_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let forgotten =
        service::privacy::delete_class(&state.services, &teacher.who, &class_id).await?;
    Ok(Json(json!({ "deleted": removed_json(&forgotten) })))
}

fn removed_json(forgotten: &service::privacy::Forgotten) -> Value {
    forgotten
        .removed
        .iter()
        .map(|(keeper, n)| (keeper.to_string(), json!(n)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Deletes the pupil from the class list and everything the box keeps about them.
pub async fn remove_pupil(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path((class_id, pupil_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let forgotten =
        service::privacy::forget_pupil(&state.services, &teacher.who, &class_id, &pupil_id).await?;
    let view = service::roster::class(&state.services, &teacher.who, &class_id)?;
    let mut body = class_json(&view);
    body["deleted"] = removed_json(&forgotten);
    Ok(Json(body))
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
    let view = service::roster::class(&state.services, &teacher.who, &class_id)?;
    let class = &view.class;
    let cards: Vec<Value> = view
        .pupils
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
    let pupil = service::roster::pupil(&state.services, &teacher.who, &class_id, &pupil_id)?;
    svg_response(&card_url(&state, host.as_deref(), &pupil))
}
