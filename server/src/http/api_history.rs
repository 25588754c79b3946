//! A document's history for its teacher: the saved versions, saving one, and restoring one as
//! a new document (a copy) beside the current one, which stays as it is.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::doc_json::{describe, DocAnswer};
use super::extract::{ApiJson, Caller};
use super::state::AppState;
use crate::docs::history::Version;
use crate::error::ServiceError;
use crate::service;

pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(doc): Path<String>,
) -> Result<Response, ServiceError> {
    let versions = service::history::versions(&state.services, &caller.who, &doc)?;
    Ok(Json(Versions { versions }).into_response())
}

#[derive(Serialize)]
pub struct Versions {
    versions: Vec<Version>,
}

#[derive(Serialize)]
pub struct Saved {
    version: Version,
}

#[derive(Serialize)]
pub struct Restored<'a> {
    doc: DocAnswer<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    label: String,
}

pub async fn save(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(doc): Path<String>,
    ApiJson(body): ApiJson<SaveBody>,
) -> Result<Response, ServiceError> {
    let version = service::history::save(&state.services, &caller.who, &doc, &body.label)?;
    Ok((StatusCode::CREATED, Json(Saved { version })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyBody {
    title: String,
}

/// Restores a version as a new document for the same people as the original, in the lesson
/// that shows the original now.
pub async fn restore_as_copy(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((doc, version_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<CopyBody>,
) -> Result<Response, ServiceError> {
    let made = service::history::restore_as_copy(
        &state.services,
        &caller.who,
        &doc,
        &version_id,
        &body.title,
    )?;
    let doc = describe(&made);
    Ok((StatusCode::CREATED, Json(Restored { doc })).into_response())
}
