//! The other classroom boxes on the network, for the teacher's page.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::extract::TeacherCaller;
use super::state::AppState;
use crate::error::ApiError;
use crate::service;

/// `GET /api/boxes`: `{"enabled", "this_box", "boxes": [{name, host, addresses, port,
/// version, ca_sha256}]}`.
pub async fn nearby(
    State(state): State<Arc<AppState>>,
    teacher: TeacherCaller,
) -> Result<Json<Value>, ApiError> {
    let st = state.clone();
    let view =
        tokio::task::spawn_blocking(move || service::nearby::boxes(&st.services, &teacher.who))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(json!({
        "enabled": view.enabled,
        "this_box": view.own_name,
        "boxes": view.boxes,
    })))
}
