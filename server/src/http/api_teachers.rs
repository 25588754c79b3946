//! Teacher accounts over HTTP: first setup, invitations, login, logout, who am I, language.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::extract::{ApiJson, ApiQuery, Caller, ClientIp, RequestHost, TeacherCaller};
use super::respond::{done, with_cookie, with_session};
use super::state::AppState;
use crate::auth::teachers::{Teacher, TokenKind};
use crate::auth::Role;
use crate::auth::{devices, sessions};
use crate::error::ServiceError;
use crate::ids::{LessonId, ParticipantId, TeacherId};
use crate::profile::Settings;
use crate::service;
use crate::service::teachers::{Me, SignedIn};
use crate::validate;

/// Runs slow password work (argon2) off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
}

/// The answer that signs the teacher in.
fn signed_in(signed: SignedIn) -> Response {
    with_cookie(
        with_session(
            &signed.token,
            signed.lifetime_ms,
            TeacherAnswer::from(&signed.teacher),
        ),
        &devices::cookie(&signed.device),
    )
}

/// A signed-in teacher, as `/api/me` and signing in answer.
#[derive(Serialize)]
pub struct TeacherAnswer<'a> {
    role: Role,
    teacher: TeacherEntry<'a>,
}

#[derive(Serialize)]
pub struct TeacherEntry<'a> {
    id: &'a TeacherId,
    name: &'a str,
    /// The language the teacher chose, if they did (`null` otherwise).
    lang: Option<&'a str>,
    /// The teacher's own settings (text size, contrast …).
    profile: Settings,
}

/// A colleague on this box.
#[derive(Serialize)]
pub struct Colleague<'a> {
    id: &'a TeacherId,
    name: &'a str,
}

impl<'a> From<&'a Teacher> for TeacherAnswer<'a> {
    fn from(t: &'a Teacher) -> Self {
        Self {
            role: Role::Teacher,
            teacher: TeacherEntry {
                id: &t.id,
                name: &t.name,
                lang: t.lang.as_deref(),
                profile: t.settings(),
            },
        }
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: String,
}

/// What a setup link is for (the form shows the invited name). Does not use the link up.
pub async fn setup_info(
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> Result<Response, ServiceError> {
    let record = service::teachers::setup_link(&state.services, &q.token)?;
    Ok(Json(SetupInfo {
        kind: record.kind,
        name: record.name,
    })
    .into_response())
}

/// What a setup link is for: the first teacher or an invitation, and the invited name.
#[derive(Serialize)]
pub struct SetupInfo {
    kind: TokenKind,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupBody {
    token: String,
    name: String,
    password: String,
}

pub async fn setup(
    State(state): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<SetupBody>,
) -> Result<Response, ServiceError> {
    // Guessing setup tokens counts against the same budget as guessing passwords.
    state.limits.login(ip, "setup")?;
    let st = state.clone();
    let signed = blocking(move || {
        service::teachers::set_up(&st.services, &body.token, &body.name, &body.password)
    })
    .await?;
    Ok(signed_in(signed))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    name: String,
    password: String,
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ServiceError> {
    if body.name.len() > 200 || body.password.len() > validate::PASSWORD_MAX * 4 {
        return Err(ServiceError::WrongCredentials);
    }
    let device = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(devices::token_from_cookie_header);
    if service::teachers::is_known_device(&state.services, &body.name, device) {
        // A device she signed in on before: only its own guesses slow it.
        state.limits.login_from_known_device(ip, &body.name)?;
    } else {
        state.limits.login(ip, &body.name)?;
    }
    let st = state.clone();
    let signed =
        blocking(move || service::teachers::sign_in(&st.services, &body.name, &body.password))
            .await;
    match signed {
        Ok(signed) => Ok(signed_in(signed)),
        Err(e) => {
            tracing::info!(%ip, "failed teacher login");
            Err(e)
        }
    }
}

pub async fn logout(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ServiceError> {
    service::sessions::log_out(&state.services, caller.token.as_ref())?;
    Ok(with_cookie(
        done().into_response(),
        &sessions::clearing_cookie(),
    ))
}

/// Who the caller is: what the web client shows first.
pub async fn me(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ServiceError> {
    let role = caller.who.role();
    Ok(match service::teachers::me(&state.services, &caller.who)? {
        Me::Nobody { needs_setup } => Json(NobodyAnswer {
            role: Role::Nobody,
            needs_setup,
        })
        .into_response(),
        Me::Teacher(teacher) => Json(TeacherAnswer::from(&teacher)).into_response(),
        Me::Pupil {
            seat,
            participant,
            class_name,
            profile,
        } => Json(PupilAnswer {
            role,
            profile,
            pupil: PupilEntry {
                id: &participant.id,
                name: &participant.name,
                at_home: seat.at_home,
                rostered: participant.pupil_id.is_some(),
            },
            lesson: LessonEntry {
                id: &seat.lesson_id,
                class_name: &class_name,
            },
        })
        .into_response(),
        Me::Camera {
            lesson_id,
            class_name,
        } => Json(CameraAnswer {
            role,
            lesson: LessonEntry {
                id: &lesson_id,
                class_name: &class_name,
            },
        })
        .into_response(),
    })
}

#[derive(Serialize)]
pub struct NobodyAnswer {
    role: Role,
    /// The box has no teacher yet: the page shows where the setup link is.
    needs_setup: bool,
}

#[derive(Serialize)]
pub struct PupilAnswer<'a> {
    role: Role,
    /// A pupil on the class list: their own settings; `null` for a guest.
    profile: Option<Settings>,
    pupil: PupilEntry<'a>,
    lesson: LessonEntry<'a>,
}

#[derive(Serialize)]
pub struct PupilEntry<'a> {
    id: &'a ParticipantId,
    name: &'a str,
    at_home: bool,
    rostered: bool,
}

#[derive(Serialize)]
pub struct LessonEntry<'a> {
    id: &'a LessonId,
    class_name: &'a str,
}

#[derive(Serialize)]
pub struct CameraAnswer<'a> {
    role: Role,
    lesson: LessonEntry<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangBody {
    lang: String,
}

/// Remembers a teacher's language on the box (pupils' choice stays in their browser).
pub async fn set_lang(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    ApiJson(body): ApiJson<LangBody>,
) -> Result<Response, ServiceError> {
    service::teachers::set_lang(&state.services, &teacher.who, &body.lang)?;
    Ok(Json(LangAnswer { lang: body.lang }).into_response())
}

#[derive(Serialize)]
pub struct LangAnswer {
    lang: String,
}

pub async fn list_teachers(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
) -> Result<Response, ServiceError> {
    let colleagues = service::teachers::colleagues(&state.services, &teacher.who)?;
    let teachers = colleagues
        .iter()
        .map(|t| Colleague {
            id: &t.id,
            name: &t.name,
        })
        .collect();
    Ok(Json(Colleagues { teachers }).into_response())
}

#[derive(Serialize)]
pub struct Colleagues<'a> {
    teachers: Vec<Colleague<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    name: Option<String>,
}

/// A one-time link for a colleague to create their account.
pub async fn invite(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
    RequestHost(host): RequestHost,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<Response, ServiceError> {
    let token = service::teachers::invite(&state.services, &teacher.who, body.name.as_deref())?;
    let url = format!(
        "{}/setup?token={token}",
        state.reachable_base_url(host.as_deref())
    );
    Ok(Json(Invitation { url }).into_response())
}

/// The link to pass on to the invited colleague.
#[derive(Serialize)]
pub struct Invitation {
    url: String,
}
