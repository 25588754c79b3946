//! Teacher accounts over HTTP: first setup, invitations, login, logout, who am I, language.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{ApiJson, Caller, ClientIp, RequestHost, TeacherCaller};
use super::respond::{with_cookie, with_session};
use super::state::AppState;
use crate::auth::sessions::{self, TEACHER_SESSION_MS};
use crate::auth::teachers::{self, Teacher, TokenKind};
use crate::auth::{can, Action, AuthError, Who};
use crate::error::ApiError;
use crate::lessons::{classes, lesson};
use crate::service;
use crate::validate::{self, invalid};

pub const LANGUAGES: [&str; 3] = ["nb", "nn", "en"];

/// Runs slow password work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::from)
}

/// A response that signs the teacher in.
fn signed_in(state: &AppState, teacher: &Teacher) -> Result<Response, ApiError> {
    let holder = Who::Teacher {
        teacher_id: teacher.id.clone(),
    };
    with_session(state, holder, TEACHER_SESSION_MS, teacher_json(teacher))
}

fn teacher_json(t: &Teacher) -> Value {
    json!({ "role": "teacher", "teacher": { "id": t.id, "name": t.name, "lang": t.lang } })
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: String,
}

/// What a setup link is for (the form shows the invited name). Does not use the link up.
pub async fn setup_info(
    State(state): State<Arc<AppState>>,
    Query(q): Query<TokenQuery>,
) -> Result<Json<Value>, ApiError> {
    let record = teachers::peek_setup_token(
        state.services.store.as_ref(),
        state.services.clock.as_ref(),
        &q.token,
    )?;
    Ok(Json(json!({ "kind": record.kind, "name": record.name })))
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
) -> Result<Response, ApiError> {
    // Guessing setup tokens counts against the same budget as guessing passwords.
    state.limits.login(ip, "setup")?;
    let st = state.clone();
    let teacher = blocking(move || {
        teachers::redeem_setup_token(
            st.services.store.as_ref(),
            st.services.clock.as_ref(),
            &body.token,
            &body.name,
            &body.password,
        )
    })
    .await?;
    tracing::info!(teacher_id = %teacher.id, "teacher account created");
    signed_in(&state, &teacher)
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
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    if body.name.len() > 200 || body.password.len() > validate::PASSWORD_MAX * 4 {
        return Err(ApiError::WrongCredentials);
    }
    state.limits.login(ip, &body.name)?;
    let st = state.clone();
    let teacher = blocking(move || {
        teachers::verify_login(st.services.store.as_ref(), &body.name, &body.password)
    })
    .await;
    match teacher {
        Ok(teacher) => signed_in(&state, &teacher),
        Err(e) => {
            tracing::info!(%ip, "failed teacher login");
            Err(e)
        }
    }
}

pub async fn logout(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    service::sessions::log_out(&state.services, caller.token.as_deref())?;
    Ok(with_cookie(
        Json(json!({ "ok": true })).into_response(),
        &sessions::clearing_cookie(),
    ))
}

/// Who the caller is: what the web client shows first.
pub async fn me(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let store = state.services.store.as_ref();
    Ok(Json(match &caller.who {
        Who::Nobody => json!({
            "role": "nobody",
            "needs_setup": !teachers::any_exists(store)?,
        }),
        Who::Teacher { teacher_id } => match teachers::get(store, teacher_id)? {
            Some(t) => teacher_json(&t),
            None => return Err(ApiError::Unauthenticated),
        },
        Who::Pupil(seat) => {
            let participant =
                lesson::get_participant(store, &seat.lesson_id, &seat.participant_id)?;
            let class = classes::get(store, &seat.class_id)?;
            json!({
                "role": caller.who.role(),
                "pupil": {
                    "id": participant.id,
                    "name": participant.name,
                    "at_home": seat.at_home,
                    "rostered": participant.pupil_id.is_some(),
                },
                "lesson": { "id": seat.lesson_id, "class_name": class.name },
            })
        }
        Who::Camera { lesson_id, .. } => {
            let lesson = lesson::get(store, lesson_id)?;
            let class = classes::get(store, &lesson.class_id)?;
            json!({
                "role": caller.who.role(),
                "lesson": { "id": lesson.id, "class_name": class.name },
            })
        }
    }))
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
) -> Result<Json<Value>, ApiError> {
    if !LANGUAGES.contains(&body.lang.as_str()) {
        return Err(invalid("lang", "is not a supported language").into());
    }
    teachers::set_lang(
        state.services.store.as_ref(),
        &teacher.teacher_id,
        &body.lang,
    )?;
    Ok(Json(json!({ "lang": body.lang })))
}

pub async fn list_teachers(
    State(state): State<Arc<AppState>>,
    _teacher: TeacherCaller,
) -> Result<Json<Value>, ApiError> {
    let list: Vec<Value> = teachers::list(state.services.store.as_ref())?
        .iter()
        .map(|t| json!({ "id": t.id, "name": t.name }))
        .collect();
    Ok(Json(json!({ "teachers": list })))
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
) -> Result<Json<Value>, ApiError> {
    if !can(&teacher.who, Action::InviteTeacher) {
        return Err(ApiError::Forbidden);
    }
    let name = body
        .name
        .map(|n| validate::name("name", &n, validate::PERSON_NAME_MAX))
        .transpose()?;
    let token = teachers::issue_setup_token(
        state.services.store.as_ref(),
        state.services.clock.as_ref(),
        TokenKind::Invite,
        name,
    )?;
    let url = format!(
        "{}/setup?token={token}",
        state.reachable_base_url(host.as_deref())
    );
    Ok(Json(json!({ "url": url })))
}
