//! Handing a template out: the teacher gives every pupil, or every group, their own copy of a
//! document to work in. Pupils who join the lesson later get theirs when they join.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::extract::{ApiJson, Caller};
use super::state::AppState;
use crate::docs::copies::HandTo;
use crate::error::ServiceError;
use crate::service;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandOutBody {
    to: HandTo,
    title: String,
}

pub async fn hand_out(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(doc): Path<String>,
    ApiJson(body): ApiJson<HandOutBody>,
) -> Result<Response, ServiceError> {
    let docs =
        service::handouts::hand_out(&state.services, &caller.who, &doc, body.to, &body.title)?;
    Ok((StatusCode::CREATED, Json(HandedOut { docs })).into_response())
}

/// The copies made: their document names.
#[derive(Serialize)]
pub struct HandedOut {
    docs: Vec<String>,
}
