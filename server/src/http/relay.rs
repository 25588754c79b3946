//! `GET /sync/relay?lesson=<id>` on the sync listener: a paired box receives one running
//! lesson's stream here, once, and passes it on to its own viewers (docs/PROTOCOL.md, "Lesson
//! streams across rooms"). A WebSocket over the listener's mutual TLS that speaks the media
//! requests of `/ws` (`media_watch`, `media_answer`, …) and nothing else; its grant ends with
//! the lesson (4001), the class's sharing (4012) and the pairing (4011).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::SinkExt;
use serde::Deserialize;
use tokio::time::Instant;
use tracing::Instrument;

use super::extract::{ApiQuery, PairedCaller};
use super::socket_limits::{is_invalid_utf8, is_oversized, message_limiter, READ_BUFFER_BYTES};
use super::state::AppState;
use crate::auth::grants::Grant;
use crate::auth::Who;
use crate::error::{ApiError, CloseCode};
use crate::ids::LessonId;
use crate::lessons::lesson::Lesson;
use crate::media::link::MediaLink;
use crate::protocol::{MediaRequest, ServerMessage};
use crate::service;

const PING_EVERY: Duration = Duration::from_secs(20);
/// A relay silent this long (no pong, no message) is closed; the other box asks again.
const SILENCE_LIMIT: Duration = Duration::from_secs(50);

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
) -> Result<Response, ApiError> {
    let (lesson, grant) = service::boxes::open_relay(&state.services, &who, &lesson)?;
    let tracked = state.tasks.clone();
    let span = tracing::info_span!("relay", lesson_id = %lesson.id, role = ?who.role());
    Ok(ws
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(state.config.limits.ws_max_message_bytes)
        .max_frame_size(state.config.limits.ws_max_message_bytes)
        .on_upgrade(move |socket| {
            tracked.track_future(relay(socket, state, lesson, who, grant).instrument(span))
        }))
}

/// What the loop does next.
enum Step {
    Continue,
    Gone,
    Close(CloseCode),
}

async fn relay(
    mut socket: WebSocket,
    state: Arc<AppState>,
    lesson: Lesson,
    who: Who,
    mut grant: Grant,
) {
    let mut media = MediaLink::relay(
        state.services.media.clone(),
        &lesson.id,
        &lesson.teacher_id,
        who,
        state.services.store.clone(),
    );
    let limiter = message_limiter(state.config.limits.ws_messages_per_second);
    tracing::info!("a paired box receives this lesson's stream");
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut last_heard = Instant::now();
    let close = loop {
        let step = tokio::select! {
            biased;
            why = grant.revoked() => Step::Close(CloseCode::from(why)),
            _ = state.shutdown.cancelled() => Step::Close(CloseCode::GoingAway),
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    Step::Close(CloseCode::Timeout)
                } else if socket.send(Message::Ping(Default::default())).await.is_err() {
                    Step::Gone
                } else {
                    Step::Continue
                }
            }
            happening = media.next() => {
                let replies = media.on(happening).await;
                send_all(&mut socket, replies).await
            }
            incoming = socket.recv() => {
                last_heard = Instant::now();
                match incoming {
                    None | Some(Ok(Message::Close(_))) => Step::Gone,
                    Some(Err(e)) if is_oversized(&e) => Step::Close(CloseCode::TooBig),
                    Some(Err(e)) if is_invalid_utf8(&e) => Step::Close(CloseCode::InvalidText),
                    Some(Err(_)) => Step::Gone,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Step::Continue,
                    Some(Ok(Message::Binary(_))) => Step::Close(CloseCode::Unsupported),
                    Some(Ok(Message::Text(_))) if limiter.check().is_err() => {
                        Step::Close(CloseCode::RateLimited)
                    }
                    Some(Ok(Message::Text(text))) => {
                        match serde_json::from_str::<MediaRequest>(text.as_str()) {
                            Ok(request) => {
                                let replies = media.request(request).await;
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
        let frame = CloseFrame {
            code: code.code(),
            reason: code.reason().into(),
        };
        let _ = socket.send(Message::Close(Some(frame))).await;
    }
}

async fn send_all(socket: &mut WebSocket, messages: Vec<ServerMessage>) -> Step {
    for message in &messages {
        if socket
            .feed(Message::Text(message.to_json().into()))
            .await
            .is_err()
        {
            return Step::Gone;
        }
    }
    match socket.flush().await {
        Ok(()) => Step::Continue,
        Err(_) => Step::Gone,
    }
}
