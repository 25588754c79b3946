//! Lessons over HTTP: start, join by code or card, who is present, remove, end, and pairing a
//! classroom camera.

use crate::service::{self, access};
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{ApiJson, ClientIp, RequestHost, TeacherCaller};
use super::respond::{svg_response, with_session};
use super::state::AppState;
use crate::auth::{can, Action, Seat, Who};
use crate::docs::copies;
use crate::error::ApiError;
use crate::lessons::lesson::{self, Lesson, Participant};
use crate::lessons::presence::LessonEvent;
use crate::lessons::{camera, classes};
use crate::qr;

fn join_url(state: &AppState, host: Option<&str>, lesson: &Lesson) -> String {
    format!(
        "{}/join?code={}",
        state.reachable_base_url(host),
        lesson.code
    )
}

fn lesson_json(state: &AppState, host: Option<&str>, lesson: &Lesson) -> Result<Value, ApiError> {
    let class = classes::get(state.services.store.as_ref(), &lesson.class_id)?;
    Ok(json!({
        "id": lesson.id,
        "code": lesson.code,
        "class": { "id": class.id, "name": class.name },
        "join_url": join_url(state, host, lesson),
        "started_ms": lesson.started_ms,
        "expires_ms": lesson.expires_ms,
        "active": lesson.is_active(state.services.clock.now_ms()),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    class_id: String,
}

pub async fn start(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<Json<Value>, ApiError> {
    let class = classes::get(state.services.store.as_ref(), &body.class_id)?;
    if !can(
        &teacher.who,
        Action::ManageClass {
            class_teacher: &class.teacher_id,
        },
    ) {
        return Err(ApiError::NotFound);
    }
    let lesson = lesson::start(
        state.services.store.as_ref(),
        state.services.clock.as_ref(),
        &class,
        state.config.lesson_hours,
    )?;
    tracing::info!(lesson_id = %lesson.id, class_id = %class.id, "lesson started");
    Ok(Json(lesson_json(&state, host.as_deref(), &lesson)?))
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
) -> Result<Json<Value>, ApiError> {
    let lessons = lesson::active_for_teacher(
        state.services.store.as_ref(),
        &teacher.teacher_id,
        state.services.clock.now_ms(),
    )?;
    let list = lessons
        .iter()
        .map(|l| lesson_json(&state, host.as_deref(), l))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "lessons": list })))
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    Path(lesson_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let lesson = access::own_lesson(&state.services, &teacher.who, &lesson_id)?;
    Ok(Json(lesson_json(&state, host.as_deref(), &lesson)?))
}

/// The join link as a QR code, for the projector.
pub async fn qr(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    Path(lesson_id): Path<String>,
) -> Result<Response, ApiError> {
    let lesson = access::own_lesson(&state.services, &teacher.who, &lesson_id)?;
    svg_response(&join_url(&state, host.as_deref(), &lesson))
}

pub async fn participants(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(lesson_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let lesson = access::own_lesson(&state.services, &teacher.who, &lesson_id)?;
    let list = service::lessons::presence(&state.services, &lesson)?;
    Ok(Json(json!({ "participants": list })))
}

pub async fn remove_participant(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path((lesson_id, participant_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    service::lessons::remove_participant(
        &state.services,
        &teacher.who,
        &lesson_id,
        &participant_id,
    )?;
    Ok(Json(json!({ "ok": true })))
}

pub async fn end(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    Path(lesson_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    service::lessons::end(&state.services, &teacher.who, &lesson_id)?;
    Ok(Json(json!({ "ok": true })))
}

/// At home if the pupil says so or comes in over the school's VPN.
fn is_at_home(state: &AppState, ip: IpAddr, says_at_home: bool) -> bool {
    says_at_home
        || state
            .config
            .home_networks
            .iter()
            .any(|net| net.contains(&ip))
}

/// Signs the pupil into their seat in the lesson.
fn seated(
    state: &AppState,
    lesson: &Lesson,
    participant: &Participant,
) -> Result<Response, ApiError> {
    copies::catch_up_newcomer(
        state.services.store.as_ref(),
        &lesson.id,
        &participant.id,
        state.services.clock.now_ms(),
    )?;
    let lifetime = lesson
        .expires_ms
        .saturating_sub(state.services.clock.now_ms());
    let seat = Seat {
        participant_id: participant.id.clone(),
        lesson_id: lesson.id.clone(),
        class_id: lesson.class_id.clone(),
        at_home: participant.at_home,
    };
    let body = json!({
        "role": if participant.at_home { "remote_pupil" } else { "pupil" },
        "pupil": { "id": participant.id, "name": participant.name, "at_home": participant.at_home },
        "lesson": { "id": lesson.id },
    });
    let response = with_session(state, Who::Pupil(seat), lifetime, body)?;
    state
        .services
        .presence
        .publish(&lesson.id, LessonEvent::PresenceChanged);
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinBody {
    code: String,
    name: String,
    #[serde(default)]
    at_home: bool,
}

pub async fn join(
    State(state): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<JoinBody>,
) -> Result<Response, ApiError> {
    let code = lesson::normalize_code(&body.code);
    state.limits.join(ip, Some(&code))?;
    let lesson = lesson::by_code(
        state.services.store.as_ref(),
        &code,
        state.services.clock.now_ms(),
    )?;
    let participant = lesson::join_guest(
        state.services.store.as_ref(),
        state.services.clock.as_ref(),
        &lesson,
        &body.name,
        is_at_home(&state, ip, body.at_home),
        state.config.limits.max_pupils_per_lesson,
    )?;
    seated(&state, &lesson, &participant)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardBody {
    secret: String,
    #[serde(default)]
    at_home: bool,
}

pub async fn card_login(
    State(state): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<CardBody>,
) -> Result<Response, ApiError> {
    state.limits.join(ip, None)?;
    if body.secret.len() > 100 {
        return Err(ApiError::InvalidCard);
    }
    let pupil = classes::pupil_by_card(state.services.store.as_ref(), &body.secret)?;
    let lesson = lesson::active_for_class(
        state.services.store.as_ref(),
        &pupil.class_id,
        state.services.clock.now_ms(),
    )?
    .ok_or(ApiError::NoActiveLesson)?;
    let participant = lesson::join_rostered(
        state.services.store.as_ref(),
        state.services.clock.as_ref(),
        &lesson,
        &pupil,
        is_at_home(&state, ip, body.at_home),
    )?;
    seated(&state, &lesson, &participant)
}

/// `POST /api/lessons/{id}/camera`: a one-time link (and its QR code) that makes the device
/// opening it this lesson's classroom camera. The token rides in the fragment, which browsers
/// never send to a server or put in a Referer.
pub async fn camera_link(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    Path(lesson_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let lesson = access::running_lesson(&state.services, &teacher.who, Some(&lesson_id))?;
    let (token, expires_ms) = camera::issue(
        state.services.store.as_ref(),
        state.services.clock.as_ref(),
        &lesson,
    )?;
    let url = format!(
        "{}/camera#{token}",
        state.reachable_base_url(host.as_deref())
    );
    let qr_svg = qr::svg(&url).ok_or_else(|| ApiError::Internal("camera link QR".into()))?;
    Ok(Json(
        json!({ "url": url, "qr_svg": qr_svg, "expires_ms": expires_ms }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraBody {
    token: String,
}

/// `POST /api/camera`: uses a camera link and signs this device in as the lesson's camera
/// until the lesson ends.
pub async fn camera_sign_in(
    State(state): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<CameraBody>,
) -> Result<Response, ApiError> {
    state.limits.join(ip, None)?;
    let lesson = camera::redeem(
        state.services.store.as_ref(),
        state.services.clock.as_ref(),
        &body.token,
    )?;
    let lifetime = lesson
        .expires_ms
        .saturating_sub(state.services.clock.now_ms());
    let holder = Who::Camera {
        lesson_id: lesson.id.clone(),
        teacher_id: lesson.teacher_id.clone(),
    };
    let body = json!({ "role": "camera", "lesson": { "id": lesson.id } });
    let response = with_session(&state, holder, lifetime, body)?;
    tracing::info!(lesson_id = %lesson.id, "classroom camera paired");
    Ok(response)
}
