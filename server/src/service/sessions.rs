//! Signing out, and the grant an open connection holds for as long as it is open.

use super::Services;
use crate::auth::grants::{Ended, Grant, Holder, Revocation};
use crate::auth::sessions;
use crate::auth::tokens::hash_token;
use crate::auth::Who;
use crate::error::ApiError;

/// Ends the session `token` belongs to, and closes every connection it opened (4004).
pub fn log_out(s: &Services, token: Option<&str>) -> Result<(), ApiError> {
    let Some(token) = token else {
        return Ok(());
    };
    sessions::revoke(s.store.as_ref(), token)?;
    s.grants.revoke(
        &Revocation::Session {
            session_key: hash_token(token),
        },
        Ended::LoggedOut,
    );
    Ok(())
}

/// The grant for a connection `who` opens with the session `token`, following `lesson_id`
/// (a `/ws`) or not (a document). The session is looked up again after the grant is
/// registered: a use-case that ended it in between has either revoked this grant too or is
/// seen here, so no connection outlives the access it was opened with.
pub fn open_grant(
    s: &Services,
    who: &Who,
    token: Option<&str>,
    lesson_id: Option<&str>,
) -> Result<Grant, ApiError> {
    let token = token.ok_or(ApiError::Unauthenticated)?;
    let grant = s.grants.issue(Holder {
        who: who.clone(),
        session_key: hash_token(token),
        lesson_id: lesson_id.map(str::to_string),
    });
    match sessions::lookup(s.store.as_ref(), s.clock.as_ref(), token)? {
        Some(session) if session.who() == *who => Ok(grant),
        _ => Err(ApiError::Unauthenticated),
    }
}
