//! Shared documents: Yjs-compatible rooms (yrs), the hub that loads, fans out and unloads them,
//! the persistence worker, and the naming and ownership of documents. No web framework here.

pub mod access;
mod bounds;
pub mod copies;
pub mod export;
pub mod history;
pub mod hub;
pub mod listing;
pub mod name;
pub mod persist;
pub mod privacy;
pub mod quota;
pub mod room;

use crate::lessons::LessonError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error("this document is read-only for you")]
    ReadOnly,
    #[error("the document would grow past its size limit")]
    TooLarge,
    /// A share of the room documents may take is used up (see [`quota`]).
    #[error("no room: {0} is used up")]
    NoRoom(quota::Scope),
    #[error("awareness for a client id this connection does not speak for")]
    NotYours,
    #[error("no such document")]
    NotFound,
    #[error("stored document is damaged: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Lessons, classes and groups a document names are looked up while listing; anything missing
/// is a missing document.
impl From<LessonError> for DocError {
    fn from(e: LessonError) -> Self {
        match e {
            LessonError::Store(e) => DocError::Store(e),
            _ => DocError::NotFound,
        }
    }
}
