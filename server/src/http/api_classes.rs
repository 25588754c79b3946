//! Classes, rosters and login cards over HTTP. Teachers only, and only their own classes.

use super::respond::svg_response;
use crate::ids::{ClassId, LessonId, PupilId};
use crate::service;
use crate::service::roster::ClassView;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::extract::{ApiJson, ApiPath, RequestHost, TeacherCaller};
use super::state::AppState;
use crate::error::ServiceError;
use crate::lessons::classes::{self, Pupil};
use crate::profile::Settings;

/// A pupil on the class list, as the class page shows them.
#[derive(Serialize)]
pub struct PupilAnswer<'a> {
    id: &'a PupilId,
    name: &'a str,
    /// The pupil's own settings, so the teacher knows who reads with larger text and so on.
    profile: &'a Settings,
}

impl<'a> From<&'a Pupil> for PupilAnswer<'a> {
    fn from(p: &'a Pupil) -> Self {
        Self {
            id: &p.id,
            name: &p.name,
            profile: &p.profile.settings,
        }
    }
}

#[derive(Serialize)]
pub struct RunningLesson<'a> {
    id: &'a LessonId,
    code: &'a str,
}

#[derive(Serialize)]
pub struct PastLesson<'a> {
    id: &'a LessonId,
    started_ms: u64,
    ended_ms: u64,
}

/// A class with its list, its running lesson and its past lessons.
#[derive(Serialize)]
pub struct ClassAnswer<'a> {
    id: &'a ClassId,
    name: &'a str,
    pupils: Vec<PupilAnswer<'a>>,
    active_lesson: Option<RunningLesson<'a>>,
    past_lessons: Vec<PastLesson<'a>>,
    /// After a pupil was deleted: how many records each subsystem removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted: Option<BTreeMap<&'static str, usize>>,
}

impl<'a> From<&'a ClassView> for ClassAnswer<'a> {
    fn from(view: &'a ClassView) -> Self {
        Self {
            id: &view.class.id,
            name: &view.class.name,
            pupils: view.pupils.iter().map(PupilAnswer::from).collect(),
            active_lesson: view.running.as_ref().map(|l| RunningLesson {
                id: &l.id,
                code: &l.code,
            }),
            past_lessons: view
                .past
                .iter()
                .map(|l| PastLesson {
                    id: &l.id,
                    started_ms: l.started_ms,
                    ended_ms: l.ended_ms.unwrap_or(l.expires_ms),
                })
                .collect(),
            deleted: None,
        }
    }
}

#[derive(Serialize)]
pub struct ClassEntry<'a> {
    id: &'a ClassId,
    name: &'a str,
}

#[derive(Serialize)]
pub struct ClassList<'a> {
    classes: Vec<ClassEntry<'a>>,
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
) -> Result<Response, ServiceError> {
    let classes = service::roster::classes_of(&state.services, &teacher.who)?;
    let classes = classes
        .iter()
        .map(|c| ClassEntry {
            id: &c.id,
            name: &c.name,
        })
        .collect();
    Ok(Json(ClassList { classes }).into_response())
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
) -> Result<Response, ServiceError> {
    let view =
        service::roster::create_class(&state.services, &teacher.who, &body.name, &body.pupils)?;
    Ok(Json(ClassAnswer::from(&view)).into_response())
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(class_id): ApiPath<ClassId>,
) -> Result<Response, ServiceError> {
    let view = service::roster::class(&state.services, &teacher.who, &class_id)?;
    Ok(Json(ClassAnswer::from(&view)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddPupilsBody {
    names: Vec<String>,
}

pub async fn add_pupils(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(class_id): ApiPath<ClassId>,
    ApiJson(body): ApiJson<AddPupilsBody>,
) -> Result<Response, ServiceError> {
    let view = service::roster::add_pupils(&state.services, &teacher.who, &class_id, &body.names)?;
    Ok(Json(ClassAnswer::from(&view)).into_response())
}

/// Deletes the class with its pupils, lessons and everything kept about them.
pub async fn delete_class(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(class_id): ApiPath<ClassId>,
) -> Result<Response, ServiceError> {
    let forgotten =
        service::privacy::delete_class(&state.services, &teacher.who, &class_id).await?;
    Ok(Json(Deleted {
        deleted: removed(&forgotten),
    })
    .into_response())
}

/// What a deletion removed: records per subsystem.
#[derive(Serialize)]
pub struct Deleted {
    deleted: BTreeMap<&'static str, usize>,
}

fn removed(forgotten: &service::privacy::Forgotten) -> BTreeMap<&'static str, usize> {
    forgotten.removed.iter().copied().collect()
}

/// Deletes the pupil from the class list and everything the box keeps about them.
pub async fn remove_pupil(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath((class_id, pupil_id)): ApiPath<(ClassId, PupilId)>,
) -> Result<Response, ServiceError> {
    let forgotten =
        service::privacy::forget_pupil(&state.services, &teacher.who, &class_id, &pupil_id).await?;
    let view = service::roster::class(&state.services, &teacher.who, &class_id)?;
    let answer = ClassAnswer {
        deleted: Some(removed(&forgotten)),
        ..ClassAnswer::from(&view)
    };
    Ok(Json(answer).into_response())
}

/// Revokes a pupil's card and makes a new one.
pub async fn reissue_card(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath((class_id, pupil_id)): ApiPath<(ClassId, PupilId)>,
) -> Result<Response, ServiceError> {
    let pupil = service::roster::reissue_card(&state.services, &teacher.who, &class_id, &pupil_id)?;
    Ok(Json(PupilAnswer::from(&pupil)).into_response())
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
    ApiPath(class_id): ApiPath<ClassId>,
) -> Result<Response, ServiceError> {
    let view = service::roster::class(&state.services, &teacher.who, &class_id)?;
    let class = &view.class;
    let cards = view
        .pupils
        .iter()
        .map(|p| Card {
            id: &p.id,
            name: &p.name,
            url: card_url(&state, host.as_deref(), p),
            code: classes::shown_card_code(&p.card_secret),
        })
        .collect();
    Ok(Json(CardSheet {
        class: ClassEntry {
            id: &class.id,
            name: &class.name,
        },
        cards,
    })
    .into_response())
}

/// One printed card: the pupil and the link its QR code carries.
#[derive(Serialize)]
pub struct Card<'a> {
    id: &'a PupilId,
    name: &'a str,
    url: String,
    /// The code printed beside the QR code, typed with the name where there is no camera.
    code: String,
}

#[derive(Serialize)]
pub struct CardSheet<'a> {
    class: ClassEntry<'a>,
    cards: Vec<Card<'a>>,
}

pub async fn card_qr(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    ApiPath((class_id, pupil_id)): ApiPath<(ClassId, PupilId)>,
) -> Result<Response, ServiceError> {
    let pupil = service::roster::pupil(&state.services, &teacher.who, &class_id, &pupil_id)?;
    svg_response(&card_url(&state, host.as_deref(), &pupil))
}
