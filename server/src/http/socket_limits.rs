//! What the WebSockets (`/ws`, `/yjs/...` and a paired box's relay) enforce per connection the
//! same way, and the parts of their loops they share.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use futures_util::SinkExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use crate::protocol::CloseCode;
use crate::protocol::ServerMessage;

pub const PING_EVERY: Duration = Duration::from_secs(20);
/// A connection silent this long (no pong, no message) is closed: a pupil shows as absent, a
/// paired box asks again.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(50);

/// What a socket loop does next.
pub enum Step {
    Continue,
    /// The other side went away; nothing more to send.
    Gone,
    /// Close with this code.
    Close(CloseCode),
}

/// A frame read from a JSON socket (`/ws`, a paired box's relay), after the checks both make
/// the same way (its size, UTF-8, binary frames, the rate).
pub enum TextFrame {
    /// Text to act on.
    Text(Utf8Bytes),
    /// Nothing to act on: go on, or the other side went away, or close.
    Step(Step),
    /// A frame the client should not have sent (binary, or over the rate): refuse with this.
    Refuse(CloseCode),
}

/// Sorts what `socket.recv()` gave; a text frame counts against `limiter`.
pub fn text_frame(
    incoming: Option<Result<Message, axum::Error>>,
    limiter: &DefaultDirectRateLimiter,
) -> TextFrame {
    match incoming {
        None | Some(Ok(Message::Close(_))) => TextFrame::Step(Step::Gone),
        Some(Err(e)) if is_oversized(&e) => TextFrame::Step(Step::Close(CloseCode::TooBig)),
        Some(Err(e)) if is_invalid_utf8(&e) => TextFrame::Step(Step::Close(CloseCode::InvalidText)),
        Some(Err(_)) => TextFrame::Step(Step::Gone),
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => TextFrame::Step(Step::Continue),
        Some(Ok(Message::Binary(_))) => TextFrame::Refuse(CloseCode::Unsupported),
        Some(Ok(Message::Text(_))) if limiter.check().is_err() => {
            TextFrame::Refuse(CloseCode::RateLimited)
        }
        Some(Ok(Message::Text(text))) => TextFrame::Text(text),
    }
}

/// An upgrade with the read buffer and message limits every socket here has.
pub fn limited(ws: WebSocketUpgrade, max_message_bytes: usize) -> WebSocketUpgrade {
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(max_message_bytes)
        .max_frame_size(max_message_bytes)
}

/// At each ping tick: a connection silent for [`SILENCE_LIMIT`] is closed, else pinged.
pub async fn ping(socket: &mut WebSocket, last_heard: Instant) -> Step {
    if last_heard.elapsed() > SILENCE_LIMIT {
        Step::Close(CloseCode::Timeout)
    } else if socket
        .send(Message::Ping(Default::default()))
        .await
        .is_err()
    {
        Step::Gone
    } else {
        Step::Continue
    }
}

/// Sends messages in one go (one flush), as a sync's history can be long.
pub async fn send_all(socket: &mut WebSocket, messages: Vec<ServerMessage>) -> Step {
    if messages.is_empty() {
        return Step::Continue;
    }
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

/// Closes with `code`: its number and reason in the close frame, logged. A client already
/// gone misses nothing.
pub async fn close(socket: &mut WebSocket, code: CloseCode) {
    tracing::info!(close_code = code.code(), "closing connection");
    let frame = CloseFrame {
        code: code.code(),
        reason: code.reason().into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// `per_second` frames a second, with bursts of twice that.
pub fn message_limiter(per_second: u32) -> DefaultDirectRateLimiter {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
    RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
}

/// Whether a read error is tungstenite refusing a message over the size limit (it reports that
/// as an error before the handler sees the message), so the close can say 1009.
pub fn is_oversized(error: &axum::Error) -> bool {
    let text = error.to_string().to_lowercase();
    text.contains("too long") || text.contains("too big")
}

/// Whether a read error is a text frame that is not UTF-8 (closed with 1007).
fn is_invalid_utf8(error: &axum::Error) -> bool {
    let text = error.to_string().to_lowercase();
    text.contains("utf-8") || text.contains("utf8")
}

/// Read buffer per WebSocket. tungstenite's default (128 KiB) would cost a class of 1,000
/// idle connections over 100 MiB; frames here are small and longer ones are read in pieces.
const READ_BUFFER_BYTES: usize = 4 * 1024;
