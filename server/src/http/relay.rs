//! `GET /sync/relay?lesson=<id>` on the sync listener: a paired box receives one running
//! lesson's stream here, once, and passes it on to its own viewers (docs/PROTOCOL.md, "Lesson
//! streams across rooms"). A WebSocket over the listener's mutual TLS that speaks the media
//! requests of `/ws` (`media_watch`, `media_answer`, …) and nothing else; its grant ends with
//! the lesson (4001), the class's sharing (4012) and the pairing (4011).

use std::sync::Arc;

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tokio::time::Instant;
use tracing::Instrument;

use super::extract::{ApiQuery, PairedCaller};
use super::socket_limits::{
    self, message_limiter, send_all, text_frame, Step, TextFrame, PING_EVERY,
};
use super::state::AppState;
use crate::auth::grants::Grant;
use crate::auth::Who;
use crate::error::ServiceError;
use crate::ids::LessonId;
use crate::lessons::lesson::Lesson;
use crate::protocol::CloseCode;
use crate::protocol::MediaRequest;
use crate::service;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayQuery {
    lesson: LessonId,
}

pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    PairedCaller(who): PairedCaller,
    ApiQuery(RelayQuery { lesson }): ApiQuery<RelayQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response, ServiceError> {
    let (lesson, grant) = service::boxes::open_relay(&state.services, &who, &lesson)?;
    let tracked = state.tasks.clone();
    let span = tracing::info_span!("relay", lesson_id = %lesson.id, role = ?who.role());
    let max = state.config.limits.ws_max_message_bytes;
    Ok(socket_limits::limited(ws, max).on_upgrade(move |socket| {
        tracked.track_future(relay(socket, state, lesson, who, grant).instrument(span))
    }))
}

async fn relay(
    mut socket: WebSocket,
    state: Arc<AppState>,
    lesson: Lesson,
    who: Who,
    mut grant: Grant,
) {
    let mut media = service::media::open_relay(&state.services, &who, &lesson);
    let limiter = message_limiter(state.config.limits.ws_messages_per_second);
    tracing::info!("a paired box receives this lesson's stream");
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut last_heard = Instant::now();
    let close = loop {
        let step = tokio::select! {
            biased;
            why = grant.revoked() => Step::Close(CloseCode::from(why)),
            _ = state.shutdown.cancelled() => Step::Close(CloseCode::GoingAway),
            _ = ping.tick() => socket_limits::ping(&mut socket, last_heard).await,
            happening = media.next() => {
                let replies = service::media::on(&mut media, happening).await;
                send_all(&mut socket, replies).await
            }
            incoming = socket.recv() => {
                last_heard = Instant::now();
                match text_frame(incoming, &limiter) {
                    TextFrame::Step(step) => step,
                    TextFrame::Refuse(code) => Step::Close(code),
                    TextFrame::Text(text) => {
                        match serde_json::from_str::<MediaRequest>(text.as_str()) {
                            Ok(request) => {
                                let replies = service::media::request(&state.services, &mut media, request).await;
                                send_all(&mut socket, replies).await
                            }
                            Err(_) => Step::Close(CloseCode::BadMessage),
                        }
                    }
                }
            }
        };
        match step {
            Step::Continue => {}
            Step::Gone => break None,
            Step::Close(code) => break Some(code),
        }
    };
    media.close().await;
    tracing::info!("a paired box's relay of this lesson ended");
    if let Some(code) = close {
        socket_limits::close(&mut socket, code).await;
    }
}
