//! Response shapes more than one handler sends: an answer that starts or ends a session
//! (its cookie), and a QR code as SVG.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::auth::sessions::{self, SessionToken};
use crate::error::ServiceError;

/// The JSON answer `body` that also sets the cookie of the session `token` (made by the
/// service layer), lasting `lifetime_ms`.
pub fn with_session(token: &SessionToken, lifetime_ms: u64, body: impl Serialize) -> Response {
    with_cookie(
        Json(body).into_response(),
        &sessions::cookie(token, lifetime_ms),
    )
}

/// The answer of a call that only needs to say it was done: `{"ok": true}`.
#[derive(Serialize)]
pub struct Done {
    ok: bool,
}

pub fn done() -> Json<Done> {
    Json(Done { ok: true })
}

/// `response` with a `Set-Cookie` header.
pub fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `text` as a QR code in SVG. Codes carry secrets (cards) or links: no shared caches.
pub fn svg_response(text: &str) -> Result<Response, ServiceError> {
    let svg = crate::qr::svg(text)
        .ok_or_else(|| ServiceError::Internal("link too long for a QR code".into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}
