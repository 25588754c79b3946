//! Sessions: a random token in an HttpOnly cookie; the store keeps only its hash.

use serde::{Deserialize, Serialize};

use super::tokens::{cookie_value, hash_token, random_token};
use super::{Seat, Who};
use crate::clock::{Clock, DAY_MS};
use crate::ids::LessonId;
use crate::privacy::{Category, Held, Keeper, LessonKeeper, LessonScope, Subject};
use crate::store::{Store, StoreError, StoreExt, Tree};

pub const COOKIE_NAME: &str = "tavla_session";
pub const TEACHER_SESSION_MS: u64 = 7 * DAY_MS;

/// A signed-in session. `holder` is who it is for, stored in the same tagged form as [`Who`]
/// serializes to (`{"kind": "teacher", "teacher_id": …}`); `Who::Nobody` is never stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub holder: Who,
    pub created_ms: u64,
    pub expires_ms: u64,
}

impl Session {
    pub fn who(&self) -> Who {
        self.holder.clone()
    }
}

/// The secret a session cookie carries. Its text leaves this type only for the cookie, and
/// its `Debug` never shows it, so a token cannot end up in a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    fn random() -> Self {
        Self(random_token(32))
    }

    /// A token as a client sent it (it may name no session; [`lookup`] says).
    pub fn from_client(raw: &str) -> Self {
        Self(raw.to_string())
    }

    /// The text for the `Set-Cookie` header.
    pub fn cookie_value(&self) -> &str {
        &self.0
    }

    /// What the store (and a grant) keys the session by: a hash, so a copied store signs no
    /// one in.
    pub fn key(&self) -> String {
        hash_token(&self.0)
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

/// Starts a session and returns the token for the cookie.
pub fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    holder: Who,
    lifetime_ms: u64,
) -> Result<SessionToken, StoreError> {
    let token = SessionToken::random();
    let now = clock.now_ms();
    let session = Session {
        holder,
        created_ms: now,
        expires_ms: now + lifetime_ms,
    };
    store.put_json(Tree::Sessions, &token.key(), &session)?;
    Ok(token)
}

/// The live session for `token`, if any; expired sessions are removed on sight.
pub fn lookup(
    store: &dyn Store,
    clock: &dyn Clock,
    token: &SessionToken,
) -> Result<Option<Session>, StoreError> {
    let key = token.key();
    let Some(session) = store.get_json::<Session>(Tree::Sessions, &key)? else {
        return Ok(None);
    };
    if session.expires_ms <= clock.now_ms() {
        store.delete(Tree::Sessions, &key)?;
        return Ok(None);
    }
    Ok(Some(session))
}

pub fn revoke(store: &dyn Store, token: &SessionToken) -> Result<(), StoreError> {
    store.delete(Tree::Sessions, &token.key())
}

/// Ends every session that matches `pred` (a removed pupil, an ended lesson). Sessions are few
/// on one box (a few hundred), so a scan is fine.
pub fn revoke_where(
    store: &dyn Store,
    pred: impl Fn(&Session) -> bool,
) -> Result<usize, StoreError> {
    let mut revoked = 0;
    for (key, value) in store.scan_prefix(Tree::Sessions, b"")? {
        let matches = serde_json::from_slice::<Session>(&value)
            .map(|s| pred(&s))
            .unwrap_or(true); // an unreadable session is no use to anyone
        if matches {
            store.take(Tree::Sessions, &key)?;
            revoked += 1;
        }
    }
    Ok(revoked)
}

pub fn pupil_seat_matches(session: &Session, f: impl Fn(&Seat) -> bool) -> bool {
    matches!(&session.holder, Who::Pupil(seat) if f(seat))
}

/// A session that exists only for `lesson_id`: its pupils' and its classroom cameras'.
pub fn belongs_to_lesson(session: &Session, lesson_id: &LessonId) -> bool {
    match &session.holder {
        Who::Pupil(seat) => seat.lesson_id == lesson_id,
        Who::Camera { lesson_id: own, .. } => own == lesson_id,
        Who::Teacher { .. } | Who::Nobody | Who::PairedBox { .. } => false,
    }
}

/// The sign-ins of a pupil on the class list: when each was made and when it runs out (never
/// the token, which only its device holds).
pub struct SignIns;

fn is_subjects(session: &Session, subject: &Subject) -> bool {
    pupil_seat_matches(session, |seat| {
        seat.class_id == subject.class_id && seat.participant_id == subject.participant.as_str()
    })
}

impl Keeper for SignIns {
    fn name(&self) -> &'static str {
        "sign-ins"
    }

    fn trees(&self) -> &'static [Tree] {
        &[Tree::Sessions]
    }

    fn holds(&self, store: &dyn Store, subject: &Subject) -> Result<Vec<Held>, StoreError> {
        Ok(store
            .scan_json::<Session>(Tree::Sessions, "")?
            .iter()
            .filter(|s| is_subjects(s, subject))
            .map(|s| Held::Record {
                category: Category::SignIns,
                value: serde_json::json!({
                    "signed_in_ms": s.created_ms,
                    "runs_out_ms": s.expires_ms,
                }),
            })
            .collect())
    }

    fn forget(&self, store: &dyn Store, subject: &Subject) -> Result<usize, StoreError> {
        revoke_where(store, |s| is_subjects(s, subject))
    }
}

/// The sign-ins made for an expired lesson (pupils', cameras'); they ran out long ago.
impl LessonKeeper for SignIns {
    fn name(&self) -> &'static str {
        "sign-ins"
    }

    fn forget_lesson(&self, store: &dyn Store, lesson: &LessonScope) -> Result<usize, StoreError> {
        revoke_where(store, |s| belongs_to_lesson(s, &lesson.lesson_id))
    }
}

/// Removes sessions that have run out (they no longer sign anyone in, but name who they were
/// for); returns how many.
pub fn remove_expired(store: &dyn Store, now_ms: u64) -> Result<usize, StoreError> {
    revoke_where(store, |s| s.expires_ms <= now_ms)
}

/// `Set-Cookie` value for a new session. Secure + HttpOnly + SameSite=Strict: the cookie never
/// travels over plain HTTP, is out of reach of scripts, and is not sent by other sites.
pub fn cookie(token: &SessionToken, lifetime_ms: u64) -> String {
    format!(
        "{COOKIE_NAME}={}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        token.cookie_value(),
        lifetime_ms / 1000
    )
}

pub fn clearing_cookie() -> String {
    format!("{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

/// The session token from a `Cookie` header, if present.
pub fn token_from_cookie_header(header: &str) -> Option<SessionToken> {
    cookie_value(header, COOKIE_NAME).map(SessionToken::from_client)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::MemoryStore;

    #[test]
    fn sessions_expire_and_are_found_only_by_their_token() {
        let store = MemoryStore::new();
        let clock = ManualClock::new();
        let holder = Who::Teacher {
            teacher_id: "t1".into(),
        };
        let token = create(&store, &clock, holder, 1000).unwrap();
        assert!(lookup(&store, &clock, &token).unwrap().is_some());
        let guess = SessionToken::from_client("guess");
        assert!(lookup(&store, &clock, &guess).unwrap().is_none());
        assert!(
            store
                .get(Tree::Sessions, token.cookie_value().as_bytes())
                .unwrap()
                .is_none(),
            "only the hash is a key"
        );
        clock.advance(1000);
        assert!(lookup(&store, &clock, &token).unwrap().is_none());
    }

    #[test]
    fn cookie_header_parsing() {
        assert_eq!(
            token_from_cookie_header("a=1; tavla_session=abc; b=2"),
            Some(SessionToken::from_client("abc"))
        );
        assert_eq!(
            format!("{:?}", SessionToken::from_client("abc")),
            "SessionToken(…)",
            "a token never shows in a log line"
        );
        assert_eq!(token_from_cookie_header("tavla_session="), None);
        assert_eq!(token_from_cookie_header("other=x"), None);
    }
}
