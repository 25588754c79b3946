//! The one error type that reaches HTTP clients, and the WebSocket close-code table.
//! Clients get a stable `code` (the web client translates it) and a short English message;
//! internal details are logged, never sent.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::grants::Ended;
use crate::auth::AuthError;
use crate::lessons::LessonError;
use crate::store::StoreError;
use crate::validate::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("sign in first")]
    Unauthenticated,
    #[error("you may not do that")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("wrong name or password")]
    WrongCredentials,
    #[error("no lesson has that code")]
    WrongCode,
    #[error("the lesson has ended")]
    LessonEnded,
    #[error("no lesson is running for this class yet")]
    NoActiveLesson,
    #[error("this login card is not valid any more")]
    InvalidCard,
    #[error("this link is not valid (used, expired or mistyped)")]
    InvalidToken,
    #[error("the lesson is full")]
    LessonFull,
    #[error("the teacher removed you from this lesson")]
    RemovedFromLesson,
    /// A guest's name matches a pupil on the class list (`name`): that pupil should use
    /// their card, or confirm they are someone else.
    #[error("{0} is on the class list; sign in with your card")]
    OnClassList(String),
    #[error("the class has as many pupils as it may have")]
    RosterFull,
    #[error("that name is taken")]
    NameTaken,
    #[error("{0}")]
    Invalid(Invalid),
    #[error("the request body is not valid JSON for this call: {0}")]
    MalformedJson(String),
    #[error("the request body is too large")]
    TooLarge,
    #[error("send JSON with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("only PNG, JPEG, GIF, WebP images, PDF and plain text can be attached")]
    UnsupportedFile,
    #[error("there is no more room for files here; delete some or ask the teacher")]
    QuotaExceeded,
    #[error("the box's disk is nearly full; this cannot be stored now")]
    DiskFull,
    /// The store failed and is being reopened (see `store::Guarded`).
    #[error("the box cannot save right now; try again in a moment")]
    StoreUnavailable,
    #[error("too many attempts; wait a minute")]
    RateLimited { retry_after_secs: u64 },
    #[error("the request came from another site")]
    CrossOrigin,
    /// Pairing with another box failed: the code was wrong, used or expired there, or its
    /// answer did not prove it knew the code.
    #[error("the other box did not accept the pairing code (wrong, used or expired)")]
    PairingRefused,
    /// The other box could not be reached or refused the connection (not paired).
    #[error("the other box could not be reached: {0}")]
    BoxUnreachable(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        use ApiError::*;
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

    /// Stable machine-readable code; documented in docs/PROTOCOL.md and translated by the client.
    pub fn code(&self) -> &'static str {
        use ApiError::*;
        match self {
            Unauthenticated => "unauthenticated",
            Forbidden => "forbidden",
            NotFound => "not_found",
            WrongCredentials => "wrong_credentials",
            WrongCode => "wrong_code",
            LessonEnded => "lesson_ended",
            NoActiveLesson => "no_active_lesson",
            InvalidCard => "invalid_card",
            InvalidToken => "invalid_token",
            LessonFull => "lesson_full",
            RemovedFromLesson => "removed",
            OnClassList(_) => "on_class_list",
            RosterFull => "roster_full",
            NameTaken => "name_taken",
            Invalid(_) => "invalid_input",
            MalformedJson(_) => "malformed_json",
            TooLarge => "too_large",
            QuotaExceeded => "quota_exceeded",
            DiskFull => "disk_full",
            StoreUnavailable => "store_unavailable",
            UnsupportedMediaType => "unsupported_media_type",
            UnsupportedFile => "unsupported_file",
            RateLimited { .. } => "rate_limited",
            CrossOrigin => "cross_origin",
            PairingRefused => "pairing_refused",
            BoxUnreachable(_) => "box_unreachable",
            Internal(_) => "internal",
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                name: match &self {
                    ApiError::OnClassList(name) => Some(name),
                    _ => None,
                },
                field: match &self {
                    ApiError::Invalid(invalid) => Some(invalid.field),
                    _ => None,
                },
            },
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let ApiError::RateLimited { retry_after_secs } = self {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

impl From<crate::federation::FederationError> for ApiError {
    fn from(e: crate::federation::FederationError) -> Self {
        use crate::federation::FederationError::*;
        match e {
            Unreachable(_) | Refused(_) | BadAnswer(_) => ApiError::BoxUnreachable(e.to_string()),
            Identity(_) | Store(_) | DataDir(_) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Full => ApiError::DiskFull,
            StoreError::Unavailable(_) => ApiError::StoreUnavailable,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::WrongCredentials => ApiError::WrongCredentials,
            AuthError::NameTaken => ApiError::NameTaken,
            AuthError::InvalidToken => ApiError::InvalidToken,
            AuthError::Invalid(i) => ApiError::Invalid(i),
            AuthError::Store(s) => s.into(),
            AuthError::Hash(h) => ApiError::Internal(h),
        }
    }
}

impl From<LessonError> for ApiError {
    fn from(e: LessonError) -> Self {
        match e {
            LessonError::NotFound => ApiError::NotFound,
            LessonError::WrongCode => ApiError::WrongCode,
            LessonError::Ended => ApiError::LessonEnded,
            LessonError::NoActiveLesson => ApiError::NoActiveLesson,
            LessonError::InvalidCard => ApiError::InvalidCard,
            LessonError::InvalidLink => ApiError::InvalidToken,
            LessonError::Full => ApiError::LessonFull,
            LessonError::Removed => ApiError::RemovedFromLesson,
            LessonError::RosterFull(_) => ApiError::RosterFull,
            LessonError::Invalid(i) => ApiError::Invalid(i),
            LessonError::Store(s) => s.into(),
        }
    }
}

impl From<crate::docs::DocError> for ApiError {
    fn from(e: crate::docs::DocError) -> Self {
        use crate::docs::DocError;
        match e {
            DocError::NotFound => ApiError::NotFound,
            DocError::ReadOnly => ApiError::Forbidden,
            DocError::Store(s) => s.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::channels::ChannelError> for ApiError {
    fn from(e: crate::channels::ChannelError) -> Self {
        use crate::channels::ChannelError;
        match e {
            ChannelError::NotFound => ApiError::NotFound,
            ChannelError::Forbidden | ChannelError::ChatClosed | ChannelError::Muted => {
                ApiError::Forbidden
            }
            ChannelError::Invalid(i) => ApiError::Invalid(i),
            ChannelError::Store(s) => s.into(),
            ChannelError::Commit(c) => c.into(),
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(i: Invalid) -> Self {
        ApiError::Invalid(i)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
            _ => ApiError::MalformedJson(rejection.body_text()),
        }
    }
}

/// Why the server closes a WebSocket. The numbers are the protocol: docs/PROTOCOL.md lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCode {
    /// 1001: the server is shutting down; reconnect later.
    GoingAway,
    /// 1003: a binary frame where only JSON text is spoken.
    Unsupported,
    /// 1007: a text frame that is not UTF-8.
    InvalidText,
    /// 1009: a message over `ws_max_message_bytes`.
    TooBig,
    /// 4000: not valid JSON, or an unknown or malformed message type.
    BadMessage,
    /// 4001: the lesson ended; do not reconnect.
    LessonEnded,
    /// 4002: the teacher removed this pupil; do not reconnect.
    Removed,
    /// 4003: a write to a document that is read-only for this client.
    ReadOnly,
    /// 4004: the person logged out (on this or another page of the same sign-in); do not
    /// reconnect.
    LoggedOut,
    /// 4005: the pupil's login card was replaced; sign in again with the new card.
    CardReissued,
    /// 4006: awareness (cursor) state for a client id another connection speaks for.
    NotYours,
    /// 4008: too many messages per second.
    RateLimited,
    /// 4010: the client stopped answering pings.
    Timeout,
    /// 4013: the write would make the document larger than `max_doc_bytes`.
    DocTooLarge,
    /// 4014: the writer's room for documents is used up (their share of the box, of their
    /// device, of the lesson or of this document), or the disk is below its reserve.
    NoRoom,
    /// 4011: (a paired box's relay) this box unpaired the asking box.
    Unpaired,
    /// 4012: (a paired box's relay) the lesson's class is no longer shared with the asking box.
    Unshared,
    /// 1011: the server could not serve this connection (logged).
    Internal,
}

impl CloseCode {
    pub fn code(self) -> u16 {
        match self {
            CloseCode::GoingAway => 1001,
            CloseCode::Unsupported => 1003,
            CloseCode::InvalidText => 1007,
            CloseCode::TooBig => 1009,
            CloseCode::BadMessage => 4000,
            CloseCode::LessonEnded => 4001,
            CloseCode::Removed => 4002,
            CloseCode::ReadOnly => 4003,
            CloseCode::LoggedOut => 4004,
            CloseCode::CardReissued => 4005,
            CloseCode::NotYours => 4006,
            CloseCode::RateLimited => 4008,
            CloseCode::Timeout => 4010,
            CloseCode::DocTooLarge => 4013,
            CloseCode::NoRoom => 4014,
            CloseCode::Unpaired => 4011,
            CloseCode::Unshared => 4012,
            CloseCode::Internal => 1011,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::GoingAway => "server shutting down",
            CloseCode::Unsupported => "binary frames are not accepted here",
            CloseCode::InvalidText => "text frame is not UTF-8",
            CloseCode::TooBig => "message too large",
            CloseCode::BadMessage => "malformed message",
            CloseCode::LessonEnded => "lesson ended",
            CloseCode::Removed => "removed by the teacher",
            CloseCode::ReadOnly => "document is read-only",
            CloseCode::LoggedOut => "logged out",
            CloseCode::CardReissued => "login card replaced",
            CloseCode::NotYours => "awareness for another client",
            CloseCode::RateLimited => "too many messages",
            CloseCode::Timeout => "no answer to ping",
            CloseCode::DocTooLarge => "document too large",
            CloseCode::NoRoom => "no room for documents",
            CloseCode::Unpaired => "box unpaired",
            CloseCode::Unshared => "class no longer shared",
            CloseCode::Internal => "server error",
        }
    }
}

impl From<Ended> for CloseCode {
    fn from(why: Ended) -> Self {
        match why {
            Ended::LessonEnded => CloseCode::LessonEnded,
            Ended::Removed => CloseCode::Removed,
            Ended::LoggedOut => CloseCode::LoggedOut,
            Ended::CardReissued => CloseCode::CardReissued,
            Ended::Unpaired => CloseCode::Unpaired,
            Ended::Unshared => CloseCode::Unshared,
        }
    }
}
