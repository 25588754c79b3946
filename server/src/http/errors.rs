//! How a service error answers over HTTP: its status code (the one table of them) and the JSON
//! body every failed call sends. Internal details go to the log, never to the client.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ServiceError;

impl ServiceError {
    /// The HTTP status for each error.
    pub fn status(&self) -> StatusCode {
        use ServiceError::*;
        match self {
            Unauthenticated | WrongCredentials | InvalidCard | InvalidToken => {
                StatusCode::UNAUTHORIZED
            }
            Forbidden | CrossOrigin | RemovedFromLesson | PairingRefused => StatusCode::FORBIDDEN,
            BoxUnreachable(_) => StatusCode::BAD_GATEWAY,
            NotFound | WrongCode => StatusCode::NOT_FOUND,
            LessonEnded => StatusCode::GONE,
            NoActiveLesson | LessonFull | RosterFull | NameTaken | OnClassList(_) => {
                StatusCode::CONFLICT
            }
            Invalid(_) | MalformedJson(_) => StatusCode::BAD_REQUEST,
            TooLarge | QuotaExceeded => StatusCode::PAYLOAD_TOO_LARGE,
            DiskFull => StatusCode::INSUFFICIENT_STORAGE,
            StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            UnsupportedMediaType | UnsupportedFile => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// What every failed call answers: `{"error": {"code", "message", "field"?, "name"?}}`.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    /// Stable; the web client translates it.
    code: &'static str,
    /// Short English, for people reading the API.
    message: String,
    /// The class-list name a guest's typed name matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    /// The JSON field that was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        if let ServiceError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                name: match &self {
                    ServiceError::OnClassList(name) => Some(name),
                    _ => None,
                },
                field: match &self {
                    ServiceError::Invalid(invalid) => Some(invalid.field),
                    _ => None,
                },
            },
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let ServiceError::RateLimited { retry_after_secs } = self {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

impl From<JsonRejection> for ServiceError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ServiceError::TooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ServiceError::UnsupportedMediaType,
            _ => ServiceError::MalformedJson(rejection.body_text()),
        }
    }
}
