//! The service layer's error, free of any transport: what went wrong, a stable `code` (the web
//! client translates it) and a short English message; internal details are logged, never
//! sent. Each transport maps it in one table of its own: `http::errors` (status and JSON
//! body), the `/ws` refusals (their `code`), and the sockets' close codes
//! (`protocol::CloseCode`).

use crate::auth::AuthError;
use crate::lessons::LessonError;
use crate::store::StoreError;
use crate::validate::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
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

impl ServiceError {
    /// Stable machine-readable code; documented in docs/PROTOCOL.md and translated by the client.
    pub fn code(&self) -> &'static str {
        use ServiceError::*;
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

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Full => ServiceError::DiskFull,
            StoreError::Unavailable(_) => ServiceError::StoreUnavailable,
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<AuthError> for ServiceError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::WrongCredentials => ServiceError::WrongCredentials,
            AuthError::NameTaken => ServiceError::NameTaken,
            AuthError::InvalidToken => ServiceError::InvalidToken,
            AuthError::Invalid(i) => ServiceError::Invalid(i),
            AuthError::Store(s) => s.into(),
            AuthError::Hash(h) => ServiceError::Internal(h),
        }
    }
}

impl From<LessonError> for ServiceError {
    fn from(e: LessonError) -> Self {
        match e {
            LessonError::NotFound => ServiceError::NotFound,
            LessonError::WrongCode => ServiceError::WrongCode,
            LessonError::Ended => ServiceError::LessonEnded,
            LessonError::NoActiveLesson => ServiceError::NoActiveLesson,
            LessonError::InvalidCard => ServiceError::InvalidCard,
            LessonError::InvalidLink => ServiceError::InvalidToken,
            LessonError::Full => ServiceError::LessonFull,
            LessonError::Removed => ServiceError::RemovedFromLesson,
            LessonError::RosterFull(_) => ServiceError::RosterFull,
            LessonError::Invalid(i) => ServiceError::Invalid(i),
            LessonError::Store(s) => s.into(),
        }
    }
}

impl From<crate::docs::DocError> for ServiceError {
    fn from(e: crate::docs::DocError) -> Self {
        use crate::docs::DocError;
        match e {
            DocError::NotFound => ServiceError::NotFound,
            DocError::ReadOnly => ServiceError::Forbidden,
            DocError::Store(s) => s.into(),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<crate::channels::ChannelError> for ServiceError {
    fn from(e: crate::channels::ChannelError) -> Self {
        use crate::channels::ChannelError;
        match e {
            ChannelError::NotFound => ServiceError::NotFound,
            ChannelError::Forbidden | ChannelError::ChatClosed | ChannelError::Muted => {
                ServiceError::Forbidden
            }
            ChannelError::Invalid(i) => ServiceError::Invalid(i),
            ChannelError::Store(s) => s.into(),
            ChannelError::Commit(c) => c.into(),
        }
    }
}

impl From<Invalid> for ServiceError {
    fn from(i: Invalid) -> Self {
        ServiceError::Invalid(i)
    }
}
