//! What both WebSockets (`/ws` and `/yjs/...`) enforce per connection the same way.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

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
pub fn is_invalid_utf8(error: &axum::Error) -> bool {
    let text = error.to_string().to_lowercase();
    text.contains("utf-8") || text.contains("utf8")
}

/// Read buffer per WebSocket. tungstenite's default (128 KiB) would cost a class of 1,000
/// idle connections over 100 MiB; frames here are small and longer ones are read in pieces.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
