//! One's own settings (text size, contrast, language, read aloud, a pupil's "at home today"):
//! `GET`/`PUT /api/me/profile`, for a pupil on the class list and for a teacher.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::extract::{ApiJson, Caller};
use super::state::AppState;
use crate::error::ServiceError;
use crate::profile::Settings;
use crate::service;

pub async fn get_profile(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ServiceError> {
    let settings = service::profile::own_profile(&state.services, &caller.who)?;
    Ok(Json(settings).into_response())
}

pub async fn put_profile(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(settings): ApiJson<Settings>,
) -> Result<Response, ServiceError> {
    let settings = service::profile::set_own_profile(&state.services, &caller.who, settings)?;
    Ok(Json(settings).into_response())
}
