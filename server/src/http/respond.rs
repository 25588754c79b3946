//! Response shapes more than one handler sends: an answer that starts or ends a session
//! (its cookie), and a QR code as SVG.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use crate::auth::sessions;
use crate::error::ApiError;

/// The JSON answer `body` that also sets the cookie of the session `token` (made by the
/// service layer), lasting `lifetime_ms`.
pub fn with_session(token: &str, lifetime_ms: u64, body: Value) -> Response {
    with_cookie(
        Json(body).into_response(),
        &sessions::cookie(token, lifetime_ms),
    )
}

/// `response` with a `Set-Cookie` header.
pub fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `text` as a QR code in SVG. Codes carry secrets (cards) or links: no shared caches.
pub fn svg_response(text: &str) -> Result<Response, ApiError> {
    let svg = crate::qr::svg(text)
        .ok_or_else(|| ApiError::Internal("link too long for a QR code".into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}
