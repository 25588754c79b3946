//! The client WebSocket `/ws`: one per open page. Teachers watch a lesson's presence; pupils
//! are counted present while connected and are told when they are removed or the lesson ends.
//! Message requests (threads, hands, chat) go to a [`Session`], which answers what to send.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::socket_limits::{
    self, message_limiter, send_all, text_frame, Step, TextFrame, PING_EVERY,
};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tracing::Instrument;

use super::extract::{ApiQuery, Caller};
use super::origin_matches_host;
use super::state::AppState;
use crate::auth::grants::{Ended, Grant};
use crate::auth::{Seat, Who};
use crate::error::ServiceError;
use crate::ids::LessonId;
use crate::lessons::lesson::Lesson;
use crate::lessons::presence::LessonEvent;
use crate::media::link::MediaLink;
use crate::protocol::CloseCode;
use crate::protocol::{ClientMessage, ServerMessage};
use crate::service::messages::session::Session;
use crate::service::Services;
use crate::service::{self, access};

#[derive(Deserialize)]
pub struct WsQuery {
    /// For teachers: the lesson to watch.
    lesson: Option<LessonId>,
}

pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    ApiQuery(query): ApiQuery<WsQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response, ServiceError> {
    // Browsers always send Origin on WebSocket upgrades; a page of another site must not ride
    // on the pupil's cookie. Non-browser clients send none and still need a session.
    if !origin_matches_host(&headers, &uri) {
        return Err(ServiceError::CrossOrigin);
    }
    // The grant first, then the checks: access withdrawn while this request was on its way
    // is either seen by the checks or withdraws the grant.
    let grant = service::sessions::open_grant(
        &state.services,
        &caller.who,
        caller.token.as_ref(),
        query.lesson.as_ref(),
    )?;
    let lesson = access::running_lesson(&state.services, &caller.who, query.lesson.as_ref())?;
    let who = caller.who;
    let tracked = state.tasks.clone();
    // Every line the connection logs, across all its awaits, carries its span.
    let span = tracing::info_span!("ws", lesson_id = %lesson.id, role = ?who.role());
    let max = state.config.limits.ws_max_message_bytes;
    Ok(socket_limits::limited(ws, max).on_upgrade(move |socket| {
        tracked.track_future(connection(socket, state, lesson, who, grant).instrument(span))
    }))
}

/// Counts the connection in /metrics for as long as it lives.
struct Counted(Arc<AppState>);

impl Counted {
    fn new(state: Arc<AppState>) -> Self {
        state.ws_connections.fetch_add(1, Ordering::Relaxed);
        Self(state)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.ws_connections.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn connection(
    mut socket: WebSocket,
    state: Arc<AppState>,
    lesson: Lesson,
    who: Who,
    mut grant: Grant,
) {
    let _counted = Counted::new(state.clone());
    let role = who.role();
    let mut events = state.services.presence.subscribe(&lesson.id);
    let mut channel_events = state.services.channels.subscribe(&lesson.id);
    // A classroom camera takes part in no thread: it has no message session.
    let mut session = match who {
        Who::Camera { .. } => None,
        _ => match Session::new(state.services.channels.clone(), lesson.clone(), who.clone()) {
            Ok(session) => Some(session),
            Err(e) => {
                tracing::error!("starting a message session failed: {e}");
                socket_limits::close(&mut socket, CloseCode::Internal).await;
                return;
            }
        },
    };
    let _online = match &who {
        Who::Pupil(seat) => Some(
            state
                .services
                .presence
                .connect(&lesson.id, &seat.participant_id),
        ),
        _ => None,
    };
    let mut media = service::media::open(&state.services, &who, &lesson);
    let limiter = message_limiter(state.config.limits.ws_messages_per_second);
    tracing::debug!("connected");

    let welcome = ServerMessage::Welcome {
        role,
        lesson_id: lesson.id.clone(),
    };
    if send(&mut socket, &welcome).await.is_err() {
        return;
    }
    if matches!(who, Who::Teacher { .. })
        && send_presence(&mut socket, &state, &lesson).await.is_err()
    {
        return;
    }
    if let Step::Gone = send_all(&mut socket, media.current_state()).await {
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut last_heard = Instant::now();
    let close = loop {
        let step = tokio::select! {
            // Withdrawn access wins over anything else that is ready: nothing more is
            // delivered to, or accepted from, a connection whose grant ended.
            biased;
            why = grant.revoked() => {
                let _ = send_all(&mut socket, farewell(why)).await;
                Step::Close(CloseCode::from(why))
            }
            _ = state.shutdown.cancelled() => Step::Close(CloseCode::GoingAway),
            _ = ping.tick() => socket_limits::ping(&mut socket, last_heard).await,
            event = events.recv() => on_event(&mut socket, &state, &lesson, &who, event).await,
            event = channel_events.recv() => match (event, session.as_mut()) {
                (Ok(event), Some(session)) => send_all(&mut socket, session.event(event)).await,
                // Missed some: the store has them.
                (Err(RecvError::Lagged(_)), Some(session)) => {
                    send_all(&mut socket, session.resync()).await
                }
                (Err(RecvError::Closed), _) => Step::Gone,
                (_, None) => Step::Continue,
            },
            happening = media.next() => {
                let replies = service::media::on(&mut media, happening).await;
                send_all(&mut socket, replies).await
            }
            incoming = socket.recv() => {
                last_heard = Instant::now();
                let session = session.as_mut();
                on_incoming(&mut socket, &state.services, &limiter, session, &mut media, incoming)
                    .await
            }
        };
        match step {
            Step::Continue => {}
            Step::Gone => break None,
            Step::Close(code) => break Some(code),
        }
    };
    media.close().await;
    if let Some(code) = close {
        socket_limits::close(&mut socket, code).await;
    }
}

async fn on_event(
    socket: &mut WebSocket,
    state: &AppState,
    lesson: &Lesson,
    who: &Who,
    event: Result<LessonEvent, RecvError>,
) -> Step {
    match (event, who) {
        // A lagging teacher missed some changes; the full list they get now covers them.
        (Ok(LessonEvent::PresenceChanged) | Err(RecvError::Lagged(_)), Who::Teacher { .. }) => {
            match send_presence(socket, state, lesson).await {
                Ok(()) => Step::Continue,
                Err(_) => Step::Gone,
            }
        }
        // Only pupils who may open a document hear of it (its name says whose it is).
        (Ok(LessonEvent::DocSettings { doc, read_only }), Who::Pupil(seat)) => {
            if !may_read_doc(state, seat, &doc) {
                return Step::Continue;
            }
            send_all(socket, vec![ServerMessage::DocSettings { doc, read_only }]).await
        }
        (Ok(LessonEvent::DocsAdded { docs }), Who::Pupil(seat)) => {
            let docs: Vec<String> = docs
                .into_iter()
                .filter(|d| may_read_doc(state, seat, d))
                .collect();
            if docs.is_empty() {
                return Step::Continue;
            }
            send_all(socket, vec![ServerMessage::DocsAdded { docs }]).await
        }
        (Err(RecvError::Closed), _) => Step::Gone,
        _ => Step::Continue,
    }
}

fn may_read_doc(state: &AppState, seat: &Seat, doc: &str) -> bool {
    access::pupil_may_read(&state.services, &Who::Pupil(seat.clone()), doc)
}

/// What a page hears before its connection closes because its grant ended (the close code
/// says it too; these are for pages that show the reason from the message).
fn farewell(why: Ended) -> Vec<ServerMessage> {
    match why {
        Ended::LessonEnded => vec![ServerMessage::LessonEnded],
        Ended::Removed => vec![ServerMessage::Removed],
        Ended::LoggedOut | Ended::CardReissued | Ended::Unpaired | Ended::Unshared => Vec::new(),
    }
}

type Limiter = governor::DefaultDirectRateLimiter;

async fn on_incoming(
    socket: &mut WebSocket,
    services: &Services,
    limiter: &Limiter,
    session: Option<&mut Session>,
    media: &mut MediaLink,
    incoming: Option<Result<Message, axum::Error>>,
) -> Step {
    match text_frame(incoming, limiter) {
        TextFrame::Step(step) => step,
        TextFrame::Refuse(code) => {
            let why = match code {
                CloseCode::RateLimited => "slow down: too many messages per second",
                _ => "binary frames are not accepted on /ws",
            };
            refuse(socket, code, why.into()).await
        }
        TextFrame::Text(text) => match ClientMessage::parse(text.as_str()) {
            Ok(ClientMessage::Ping { id }) => {
                send_all(socket, vec![ServerMessage::Pong { id }]).await
            }
            Ok(ClientMessage::Media(request)) => {
                let replies = service::media::request(services, media, request).await;
                send_all(socket, replies).await
            }
            Ok(ClientMessage::Messages(request)) => {
                let replies = match session {
                    Some(session) => session.request(services, request).await,
                    None => vec![ServerMessage::Refused {
                        request: request.name(),
                        client_id: None,
                        code: "forbidden",
                        message: "a classroom camera only sends media".into(),
                    }],
                };
                send_all(socket, replies).await
            }
            Err(reason) => refuse(socket, CloseCode::BadMessage, reason).await,
        },
    }
}

/// Tells the client why it is being closed, then names the close code.
async fn refuse(socket: &mut WebSocket, code: CloseCode, message: String) -> Step {
    let error = ServerMessage::Error {
        code: code.reason(),
        message,
    };
    let _ = send(socket, &error).await;
    Step::Close(code)
}

async fn send(socket: &mut WebSocket, message: &ServerMessage) -> Result<(), axum::Error> {
    socket.send(Message::Text(message.to_json().into())).await
}

async fn send_presence(
    socket: &mut WebSocket,
    state: &AppState,
    lesson: &Lesson,
) -> Result<(), axum::Error> {
    let participants = match service::lessons::presence(&state.services, lesson) {
        Ok(list) => list,
        Err(e) => {
            tracing::error!("reading presence failed: {e}");
            return Ok(());
        }
    };
    send(
        socket,
        &ServerMessage::Presence {
            lesson_id: lesson.id.clone(),
            participants,
        },
    )
    .await
}
