//! Classes, their rosters and login cards; lessons, join codes, participants; who is online.

pub mod classes;
pub mod lesson;
pub mod presence;

use crate::store::StoreError;
use crate::validate::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum LessonError {
    #[error("not found")]
    NotFound,
    #[error("no lesson has that code")]
    WrongCode,
    #[error("the lesson has ended")]
    Ended,
    #[error("no lesson is running for this class")]
    NoActiveLesson,
    #[error("the login card is not valid")]
    InvalidCard,
    #[error("the lesson is full")]
    Full,
    #[error("a class may have at most {0} pupils")]
    RosterFull(usize),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Store(#[from] StoreError),
}
