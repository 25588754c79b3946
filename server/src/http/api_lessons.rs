//! Lessons over HTTP: start, join by code or card, who is present, remove, end, and pairing a
//! classroom camera.

use crate::service::{self, access};
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::extract::{ApiJson, ApiPath, ApiQuery, ClientIp, RequestHost, TeacherCaller};
use super::respond::{done, svg_response, with_session};
use super::state::AppState;
use crate::auth::Role;
use crate::error::ServiceError;
use crate::ids::{ClassId, LessonId, ParticipantId};
use crate::lessons::lesson::{self, Lesson};
use crate::protocol::PresenceEntry;
use crate::qr;
use crate::service::lessons::{LessonView, Seated};

fn join_url(state: &AppState, host: Option<&str>, lesson: &Lesson) -> String {
    format!(
        "{}/join?code={}",
        state.reachable_base_url(host),
        lesson.code
    )
}

/// The join link by the box's `.local` name, when it announces one.
fn local_join_url(state: &AppState, lesson: &Lesson) -> Option<String> {
    state
        .local_base_url()
        .map(|base| format!("{base}/join?code={}", lesson.code))
}

/// A lesson as the teacher's pages show it.
#[derive(Serialize)]
pub struct LessonAnswer<'a> {
    id: &'a LessonId,
    code: &'a str,
    class: ClassEntry<'a>,
    join_url: String,
    /// By the box's `.local` name; `null` when it announces none.
    local_join_url: Option<String>,
    started_ms: u64,
    expires_ms: u64,
    active: bool,
    /// The paired box (by name) whose stream of this lesson this box relays, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    relayed_from: Option<&'a str>,
}

#[derive(Serialize)]
pub struct ClassEntry<'a> {
    id: &'a ClassId,
    name: &'a str,
}

fn lesson_answer<'a>(
    state: &AppState,
    host: Option<&str>,
    view: &'a LessonView,
) -> LessonAnswer<'a> {
    let lesson = &view.lesson;
    LessonAnswer {
        id: &lesson.id,
        code: &lesson.code,
        class: ClassEntry {
            id: &lesson.class_id,
            name: &view.class_name,
        },
        join_url: join_url(state, host, lesson),
        local_join_url: local_join_url(state, lesson),
        started_ms: lesson.started_ms,
        expires_ms: lesson.expires_ms,
        active: view.active,
        relayed_from: view.relayed_from.as_deref(),
    }
}

#[derive(Serialize)]
pub struct LessonList<'a> {
    lessons: Vec<LessonAnswer<'a>>,
}

#[derive(Serialize)]
pub struct Participants {
    participants: Vec<PresenceEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    class_id: ClassId,
}

pub async fn start(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<Response, ServiceError> {
    let view = service::lessons::start(
        &state.services,
        &teacher.who,
        &body.class_id,
        state.config.lesson_hours,
    )?;
    Ok(Json(lesson_answer(&state, host.as_deref(), &view)).into_response())
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
) -> Result<Response, ServiceError> {
    let running = service::lessons::running(&state.services, &teacher.who)?;
    let lessons = running
        .iter()
        .map(|view| lesson_answer(&state, host.as_deref(), view))
        .collect();
    Ok(Json(LessonList { lessons }).into_response())
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    ApiPath(lesson_id): ApiPath<LessonId>,
) -> Result<Response, ServiceError> {
    let view = service::lessons::own(&state.services, &teacher.who, &lesson_id)?;
    Ok(Json(lesson_answer(&state, host.as_deref(), &view)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrQuery {
    /// `local`: the link by the box's `.local` name instead of its address.
    #[serde(default)]
    by: Option<String>,
}

/// The join link as a QR code, for the projector (`?by=local`: by the `.local` name).
pub async fn qr(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    ApiPath(lesson_id): ApiPath<LessonId>,
    ApiQuery(query): ApiQuery<QrQuery>,
) -> Result<Response, ServiceError> {
    let lesson = access::own_lesson(&state.services, &teacher.who, &lesson_id)?;
    let url = match query.by.as_deref() {
        None => join_url(&state, host.as_deref(), &lesson),
        Some("local") => local_join_url(&state, &lesson).ok_or(ServiceError::NotFound)?,
        Some(_) => {
            return Err(ServiceError::Invalid(crate::validate::invalid(
                "by",
                "must be local",
            )))
        }
    };
    svg_response(&url)
}

pub async fn participants(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(lesson_id): ApiPath<LessonId>,
) -> Result<Response, ServiceError> {
    let lesson = access::own_lesson(&state.services, &teacher.who, &lesson_id)?;
    let participants = service::lessons::presence(&state.services, &lesson)?;
    Ok(Json(Participants { participants }).into_response())
}

pub async fn remove_participant(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath((lesson_id, participant_id)): ApiPath<(LessonId, ParticipantId)>,
) -> Result<Response, ServiceError> {
    service::lessons::remove_participant(
        &state.services,
        &teacher.who,
        &lesson_id,
        &participant_id,
    )?;
    Ok(done().into_response())
}

pub async fn end(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiPath(lesson_id): ApiPath<LessonId>,
) -> Result<Response, ServiceError> {
    service::lessons::end(&state.services, &teacher.who, &lesson_id)?;
    Ok(done().into_response())
}

/// At home if the pupil says so or comes in over the school's VPN (Tavla's own, or one the
/// school named in `home_networks`).
fn is_at_home(state: &AppState, ip: IpAddr, says_at_home: bool) -> bool {
    says_at_home
        || state
            .config
            .home_networks
            .iter()
            .any(|net| net.contains(&ip))
        || service::vpn::is_vpn_address(&state.services, ip)
}

/// The answer that signs a pupil into their seat.
fn seated_response(seated: Seated) -> Response {
    let p = &seated.participant;
    let body = SeatedAnswer {
        role: if p.at_home {
            Role::RemotePupil
        } else {
            Role::Pupil
        },
        pupil: SeatedPupil {
            id: &p.id,
            name: &p.name,
            at_home: p.at_home,
        },
        lesson: LessonRef {
            id: &seated.lesson_id,
        },
    };
    with_session(&seated.token, seated.lifetime_ms, body)
}

/// A pupil (or the classroom camera) signed into a lesson.
#[derive(Serialize)]
pub struct SeatedAnswer<'a> {
    role: Role,
    pupil: SeatedPupil<'a>,
    lesson: LessonRef<'a>,
}

#[derive(Serialize)]
pub struct SeatedPupil<'a> {
    id: &'a ParticipantId,
    name: &'a str,
    at_home: bool,
}

#[derive(Serialize)]
pub struct LessonRef<'a> {
    id: &'a LessonId,
}

#[derive(Serialize)]
pub struct CameraSignedIn<'a> {
    role: Role,
    lesson: LessonRef<'a>,
}

/// A one-time link that makes a device the lesson's classroom camera.
#[derive(Serialize)]
pub struct CameraLink {
    url: String,
    qr_svg: String,
    expires_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinBody {
    code: String,
    name: String,
    #[serde(default)]
    at_home: bool,
    /// The guest said they are not the pupil on the class list their name matches.
    #[serde(default)]
    not_on_class_list: bool,
    /// A pupil on the class list: the code printed on their card (signs them in as the card).
    #[serde(default)]
    card_code: Option<String>,
}

pub async fn join(
    State(state): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<JoinBody>,
) -> Result<Response, ServiceError> {
    let code = lesson::normalize_code(&body.code);
    state.limits.join(ip, Some(&code))?;
    let at_home = is_at_home(&state, ip, body.at_home);
    let seated = match body.card_code.as_deref() {
        Some(card_code) if card_code.len() > 40 => return Err(ServiceError::InvalidCard),
        Some(card_code) => service::lessons::join_by_card_code(
            &state.services,
            &code,
            &body.name,
            card_code,
            at_home,
        )?,
        None => service::lessons::join_by_code(
            &state.services,
            &code,
            &body.name,
            at_home,
            state.config.limits.max_pupils_per_lesson,
            body.not_on_class_list,
        )?,
    };
    Ok(seated_response(seated))
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
) -> Result<Response, ServiceError> {
    state.limits.join(ip, None)?;
    if body.secret.len() > 100 {
        return Err(ServiceError::InvalidCard);
    }
    let at_home = is_at_home(&state, ip, body.at_home);
    let seated = service::lessons::join_by_card(&state.services, &body.secret, at_home)?;
    Ok(seated_response(seated))
}

/// `POST /api/lessons/{id}/camera`: a one-time link (and its QR code) that makes the device
/// opening it this lesson's classroom camera. The token rides in the fragment, which browsers
/// never send to a server or put in a Referer.
pub async fn camera_link(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    ApiPath(lesson_id): ApiPath<LessonId>,
) -> Result<Response, ServiceError> {
    let (token, expires_ms) =
        service::lessons::camera_link(&state.services, &teacher.who, &lesson_id)?;
    let url = format!(
        "{}/camera#{token}",
        state.reachable_base_url(host.as_deref())
    );
    let qr_svg = qr::svg(&url).ok_or_else(|| ServiceError::Internal("camera link QR".into()))?;
    Ok(Json(CameraLink {
        url,
        qr_svg,
        expires_ms,
    })
    .into_response())
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
) -> Result<Response, ServiceError> {
    state.limits.join(ip, None)?;
    let (token, lifetime_ms, lesson_id) =
        service::lessons::pair_camera(&state.services, &body.token)?;
    let body = CameraSignedIn {
        role: Role::Camera,
        lesson: LessonRef { id: &lesson_id },
    };
    Ok(with_session(&token, lifetime_ms, body))
}
