//! The other classroom boxes on the network, for the teacher's page.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::extract::TeacherCaller;
use super::state::AppState;
use crate::discovery::FoundBox;
use crate::error::ApiError;
use crate::service;

/// `GET /api/boxes`: `{"enabled", "this_box", "boxes": [{name, host, addresses, port,
/// version, ca_sha256}]}`.
pub async fn nearby(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
) -> Result<Response, ApiError> {
    let st = state.clone();
    let view =
        tokio::task::spawn_blocking(move || service::nearby::boxes(&st.services, &teacher.who))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(Nearby {
        enabled: view.enabled,
        this_box: view.own_name,
        boxes: view.boxes,
    })
    .into_response())
}

/// The boxes this one sees on the network.
#[derive(Serialize)]
pub struct Nearby {
    /// Discovery is on.
    enabled: bool,
    /// This box's own name.
    this_box: String,
    boxes: Vec<FoundBox>,
}
