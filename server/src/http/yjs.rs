//! `/yjs/{doc}`: the y-websocket endpoint. Binary y-protocols frames in and out, so an
//! unmodified `WebsocketProvider` (npm `y-websocket`) can edit Tavla's documents.

use std::sync::Arc;

use axum::body::Bytes;
use futures_util::SinkExt;
use tracing::Instrument;

use super::socket_limits::{self, is_oversized, message_limiter};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use super::extract::{Caller, ClientIp};
use super::origin_matches_host;
use super::state::AppState;
use crate::auth::grants::Grant;
use crate::auth::Who;
use crate::docs::access::Resolved;
use crate::docs::hub::{DocConnection, Incoming, WRITE_BATCH};
use crate::docs::quota::Payer;
use crate::docs::room::Person;
use crate::docs::DocError;
use crate::error::ServiceError;
use crate::protocol::CloseCode;
use crate::service;

pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    Path(doc): Path<String>,
    ws: WebSocketUpgrade,
) -> Result<Response, ServiceError> {
    if !origin_matches_host(&headers, &uri) {
        return Err(ServiceError::CrossOrigin);
    }
    if caller.who == Who::Nobody {
        return Err(ServiceError::Unauthenticated);
    }
    // The grant first, then the checks (see `ws::upgrade`).
    let grant =
        service::sessions::open_grant(&state.services, &caller.who, caller.token.as_ref(), None)?;
    let (resolved, person, payer) =
        service::docs::open_live(&state.services, &caller.who, &doc, Some(ip))?;
    let tracked = state.tasks.clone();
    let max = state.config.limits.doc_max_frame_bytes;
    // Every line the connection logs, across all its awaits, carries its span.
    let span = tracing::info_span!("doc", doc = %resolved.name, role = ?caller.who.role());
    Ok(socket_limits::limited(ws, max).on_upgrade(move |socket| {
        let connection = connection(socket, state, caller.who, resolved, (person, payer), grant);
        tracked.track_future(connection.instrument(span))
    }))
}

async fn connection(
    mut socket: WebSocket,
    state: Arc<AppState>,
    who: Who,
    resolved: Resolved,
    (person, payer): (Person, Payer),
    mut grant: Grant,
) {
    let name = resolved.name.to_string();
    let (mut doc, greeting) =
        match state
            .services
            .docs
            .connect(&name, resolved.settings.read_only, person, payer)
        {
            Ok(pair) => pair,
            Err(e) => {
                tracing::error!("opening the document failed: {e}");
                socket_limits::close(&mut socket, CloseCode::Internal).await;
                return;
            }
        };
    for frame in greeting {
        if socket.send(Message::Binary(frame.into())).await.is_err() {
            return;
        }
    }
    let limiter = message_limiter(state.config.limits.doc_messages_per_second);
    let code = loop {
        tokio::select! {
            // Withdrawn access wins over a frame that is ready: nothing from this connection
            // is applied, stored or passed on once its grant ended.
            biased;
            why = grant.revoked() => break Some(CloseCode::from(why)),
            _ = state.shutdown.cancelled() => break Some(CloseCode::GoingAway),
            outgoing = doc.next() => match outgoing {
                Incoming::Frame(frame) | Incoming::CatchUp(frame) => {
                    if write_batch(&mut socket, &mut doc, frame).await.is_err() {
                        break None;
                    }
                }
                Incoming::Closed => break None,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Ok(Message::Close(_))) => break None,
                Some(Err(e)) => break is_oversized(&e).then_some(CloseCode::TooBig),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Text(_))) => break Some(CloseCode::Unsupported),
                Some(Ok(Message::Binary(frame))) => {
                    if limiter.check().is_err() {
                        break Some(CloseCode::RateLimited);
                    }
                    match handle_frame(&who, &resolved, &mut doc, &frame) {
                        Ok(replies) => {
                            for reply in replies {
                                if socket.send(Message::Binary(reply.into())).await.is_err() {
                                    break;
                                }
                            }
                        }
                        Err(code) => break Some(code),
                    }
                }
            },
        }
    };
    if let Some(code) = code {
        tracing::info!(close_code = code.code(), "closing document connection");
        socket_limits::close(&mut socket, code).await;
    }
}

/// Writes `first` and whatever else is already waiting, then flushes once: under load, many
/// small frames share one TLS record and one system call.
async fn write_batch(
    socket: &mut WebSocket,
    doc: &mut DocConnection,
    first: Bytes,
) -> Result<(), axum::Error> {
    socket.feed(Message::Binary(first)).await?;
    for _ in 1..WRITE_BATCH {
        match doc.ready() {
            Some(Incoming::Frame(frame) | Incoming::CatchUp(frame)) => {
                socket.feed(Message::Binary(frame)).await?
            }
            Some(Incoming::Closed) | None => break,
        }
    }
    socket.flush().await
}

/// Applies one frame; the teacher may have made the document read-only since we connected.
fn handle_frame(
    who: &Who,
    resolved: &Resolved,
    doc: &mut DocConnection,
    frame: &[u8],
) -> Result<Vec<Vec<u8>>, CloseCode> {
    let may_write = service::docs::may_write_now(who, resolved, doc.doc.is_read_only());
    doc.receive(frame, may_write).map_err(|e| match e {
        DocError::ReadOnly => CloseCode::ReadOnly,
        DocError::TooLarge => CloseCode::DocTooLarge,
        DocError::NoRoom(scope) => {
            tracing::info!(%scope, "document write refused: no room");
            CloseCode::NoRoom
        }
        DocError::NotYours => CloseCode::NotYours,
        DocError::Malformed(reason) => {
            tracing::info!(%reason, "malformed document frame");
            CloseCode::BadMessage
        }
        other => {
            tracing::error!("document error: {other}");
            CloseCode::Internal
        }
    })
}
