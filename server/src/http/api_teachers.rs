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
use crate::auth::sessions;
use crate::auth::teachers::Teacher;
use crate::error::ApiError;
use crate::service;
use crate::service::teachers::{Me, SignedIn};
use crate::validate;

/// Runs slow password work (argon2) off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// The answer that signs the teacher in.
fn signed_in(signed: SignedIn) -> Response {
    with_session(
        &signed.token,
        signed.lifetime_ms,
        teacher_json(&signed.teacher),
    )
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
    let record = service::teachers::setup_link(&state.services, &q.token)?;
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
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    if body.name.len() > 200 || body.password.len() > validate::PASSWORD_MAX * 4 {
        return Err(ApiError::WrongCredentials);
    }
    state.limits.login(ip, &body.name)?;
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
    let role = caller.who.role();
    Ok(Json(
        match service::teachers::me(&state.services, &caller.who)? {
            Me::Nobody { needs_setup } => json!({ "role": "nobody", "needs_setup": needs_setup }),
            Me::Teacher(teacher) => teacher_json(&teacher),
            Me::Pupil {
                seat,
                participant,
                class_name,
            } => json!({
                "role": role,
                "pupil": {
                    "id": participant.id,
                    "name": participant.name,
                    "at_home": seat.at_home,
                    "rostered": participant.pupil_id.is_some(),
                },
                "lesson": { "id": seat.lesson_id, "class_name": class_name },
            }),
            Me::Camera {
                lesson_id,
                class_name,
            } => json!({
                "role": role,
                "lesson": { "id": lesson_id, "class_name": class_name },
            }),
        },
    ))
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
    service::teachers::set_lang(&state.services, &teacher.who, &body.lang)?;
    Ok(Json(json!({ "lang": body.lang })))
}

pub async fn list_teachers(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
) -> Result<Json<Value>, ApiError> {
    let list: Vec<Value> = service::teachers::colleagues(&state.services, &teacher.who)?
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
    let token = service::teachers::invite(&state.services, &teacher.who, body.name.as_deref())?;
    let url = format!(
        "{}/setup?token={token}",
        state.reachable_base_url(host.as_deref())
    );
    Ok(Json(json!({ "url": url })))
}
