//! Handing a template out: the teacher gives every pupil, or every group, their own copy of a
//! document to work in. Pupils who join the lesson later get theirs when they join.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{ApiJson, Caller};
use super::state::AppState;
use crate::auth::tokens::random_id;
use crate::docs::copies::{self, HandTo, Handout};
use crate::docs::history::LABEL_MAX;
use crate::error::ApiError;
use crate::lessons::presence::LessonEvent;
use crate::lessons::{groups, lesson};
use crate::service::access;
use crate::validate::{self, invalid};

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
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let resolved = access::managed_doc(&state.services, &caller.who, &doc)?;
    let title = validate::name("title", &body.title, LABEL_MAX)?;
    let store = state.services.store.as_ref();
    let lesson_id =
        access::lesson_of(&state.services, &resolved)?.ok_or(ApiError::NoActiveLesson)?;
    let recipients: Vec<String> = match body.to {
        HandTo::Pupils => lesson::participants(store, &lesson_id)?
            .into_iter()
            .map(|p| p.id)
            .collect(),
        HandTo::Groups => groups::of_lesson(store, &lesson_id)?
            .into_iter()
            .map(|g| g.id)
            .collect(),
    };
    // Handing out to nobody would leave a hand-out that only latecomers ever see.
    if recipients.is_empty() && body.to == HandTo::Groups {
        return Err(ApiError::Invalid(invalid("to", "the lesson has no groups")));
    }
    let content = state
        .services
        .docs
        .snapshot_of(&resolved.name.to_string())?;
    let handout = Handout {
        id: random_id(),
        title,
        to: body.to,
        source: resolved.name.to_string(),
    };
    let made = copies::hand_out(
        store,
        &lesson_id,
        handout,
        &recipients,
        &content,
        state.services.clock.now_ms(),
    )?;
    store.flush()?;
    let docs: Vec<String> = made.iter().map(|c| c.doc_name().to_string()).collect();
    tracing::info!(copies = docs.len(), "template handed out");
    state
        .services
        .presence
        .publish(&lesson_id, LessonEvent::DocsAdded { docs: docs.clone() });
    Ok((StatusCode::CREATED, Json(json!({ "docs": docs }))))
}
