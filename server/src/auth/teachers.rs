//! Teacher accounts and the one-time links that create them.

use crate::ids::TeacherId;
use serde::{Deserialize, Serialize};

use super::tokens::{hash_token, random_token};
use super::{password, AuthError};
use crate::clock::{Clock, DAY_MS};
use crate::profile::{Profile, Settings};
use crate::store::{encode, Store, StoreExt, Tree};
use crate::validate;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Teacher {
    pub id: TeacherId,
    pub name: String,
    pub password_hash: String,
    /// Interface language the teacher chose (nb, nn, se, en).
    pub lang: Option<String>,
    pub created_ms: u64,
    /// The teacher's own settings; their language is `lang` (older records: the defaults).
    #[serde(default)]
    pub profile: Profile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Printed at first start; valid only while the box has no teacher.
    FirstTeacher,
    /// Made by a teacher or by `tavla teacher add`.
    Invite,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetupToken {
    pub kind: TokenKind,
    /// The name the invitation was made for, if any (the form starts with it).
    pub name: Option<String>,
    pub expires_ms: u64,
}

pub const INVITE_LIFETIME_MS: u64 = 7 * DAY_MS;

fn name_key(name: &str) -> String {
    format!("teacher-name/{}", name.to_lowercase())
}

/// The id of the teacher called `name` (case aside), if there is one.
pub fn id_by_name(store: &dyn Store, name: &str) -> Result<Option<TeacherId>, AuthError> {
    Ok(store
        .get(Tree::Teachers, name_key(name.trim()).as_bytes())?
        .and_then(|id| TeacherId::parse(&String::from_utf8_lossy(&id)).ok()))
}

pub fn get(store: &dyn Store, id: &str) -> Result<Option<Teacher>, AuthError> {
    Ok(store.get_json(Tree::Teachers, &format!("teacher/{id}"))?)
}

pub fn any_exists(store: &dyn Store) -> Result<bool, AuthError> {
    Ok(!store.scan_prefix(Tree::Teachers, b"teacher/")?.is_empty())
}

pub fn list(store: &dyn Store) -> Result<Vec<Teacher>, AuthError> {
    let mut all: Vec<Teacher> = store.scan_json(Tree::Teachers, "teacher/")?;
    all.sort_by_key(|t| t.created_ms);
    Ok(all)
}

/// Creates a teacher; the name is unique on the box, case-insensitively. Hashes the password:
/// call from a blocking task.
pub fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    name: &str,
    password: &str,
) -> Result<Teacher, AuthError> {
    let name = validate::person_name("name", name, validate::PERSON_NAME_MAX)?;
    let password = validate::password(password)?;
    let teacher = Teacher {
        id: TeacherId::random(),
        name,
        password_hash: password::hash(password).map_err(AuthError::Hash)?,
        lang: None,
        created_ms: clock.now_ms(),
        profile: Profile::default(),
    };
    if !store.insert_if_absent(
        Tree::Teachers,
        name_key(&teacher.name).as_bytes(),
        teacher.id.as_bytes(),
    )? {
        return Err(AuthError::NameTaken);
    }
    store.put_json(Tree::Teachers, &format!("teacher/{}", teacher.id), &teacher)?;
    store.flush()?;
    Ok(teacher)
}

/// Checks a login. Slow on purpose: call from a blocking task.
pub fn verify_login(store: &dyn Store, name: &str, password: &str) -> Result<Teacher, AuthError> {
    let id = store.get(Tree::Teachers, name_key(name.trim()).as_bytes())?;
    let teacher = match id {
        Some(id) => get(store, &String::from_utf8_lossy(&id))?,
        None => None,
    };
    match teacher {
        Some(t) if password::verify(password, &t.password_hash) => Ok(t),
        Some(_) => Err(AuthError::WrongCredentials),
        None => {
            password::verify_against_nothing(password);
            Err(AuthError::WrongCredentials)
        }
    }
}

pub fn set_lang(store: &dyn Store, id: &str, lang: &str) -> Result<(), AuthError> {
    if let Some(mut teacher) = get(store, id)? {
        teacher.lang = Some(lang.to_string());
        store.put_json(Tree::Teachers, &format!("teacher/{id}"), &teacher)?;
    }
    Ok(())
}

impl Teacher {
    /// The teacher's own settings, their language being the account's.
    pub fn settings(&self) -> Settings {
        Settings {
            lang: self.lang.clone(),
            ..self.profile.settings.clone()
        }
    }
}

/// Keeps a teacher's own settings; a language in them becomes the account's language (kept
/// there only). Answers with the teacher as saved, `None` if there is no such teacher.
pub fn set_profile(
    store: &dyn Store,
    id: &str,
    mut profile: Profile,
) -> Result<Option<Teacher>, AuthError> {
    let Some(mut teacher) = get(store, id)? else {
        return Ok(None);
    };
    if let Some(lang) = profile.settings.lang.take() {
        teacher.lang = Some(lang);
    }
    teacher.profile = profile;
    store.put_json(Tree::Teachers, &format!("teacher/{id}"), &teacher)?;
    Ok(Some(teacher))
}

/// Makes a one-time setup link token. A new first-teacher token replaces older ones, so only
/// the link printed last works.
pub fn issue_setup_token(
    store: &dyn Store,
    clock: &dyn Clock,
    kind: TokenKind,
    name: Option<String>,
) -> Result<String, AuthError> {
    if kind == TokenKind::FirstTeacher {
        for (key, value) in store.scan_prefix(Tree::SetupTokens, b"")? {
            let old: Option<SetupToken> = serde_json::from_slice(&value).ok();
            if old.is_none_or(|t| t.kind == TokenKind::FirstTeacher) {
                store.take(Tree::SetupTokens, &key)?;
            }
        }
    }
    let token = random_token(24);
    let record = SetupToken {
        kind,
        name,
        expires_ms: clock.now_ms() + INVITE_LIFETIME_MS,
    };
    store.put(
        Tree::SetupTokens,
        hash_token(&token).as_bytes(),
        &encode(&record)?,
    )?;
    store.flush()?;
    Ok(token)
}

/// What a setup link is for, without using it (the setup page shows the invited name).
pub fn peek_setup_token(
    store: &dyn Store,
    clock: &dyn Clock,
    token: &str,
) -> Result<SetupToken, AuthError> {
    let record: SetupToken = store
        .get_json(Tree::SetupTokens, &hash_token(token))?
        .ok_or(AuthError::InvalidToken)?;
    usable(store, clock, &record)?;
    Ok(record)
}

fn usable(store: &dyn Store, clock: &dyn Clock, record: &SetupToken) -> Result<(), AuthError> {
    if record.expires_ms <= clock.now_ms() {
        return Err(AuthError::InvalidToken);
    }
    if record.kind == TokenKind::FirstTeacher && any_exists(store)? {
        return Err(AuthError::InvalidToken);
    }
    Ok(())
}

/// Uses a setup link to create a teacher. The token is taken atomically: two tabs racing with
/// the same link make one account. Call from a blocking task.
pub fn redeem_setup_token(
    store: &dyn Store,
    clock: &dyn Clock,
    token: &str,
    name: &str,
    password: &str,
) -> Result<Teacher, AuthError> {
    // Validate before taking the token, so a typo in the form does not burn the link.
    validate::person_name("name", name, validate::PERSON_NAME_MAX)?;
    validate::password(password)?;
    peek_setup_token(store, clock, token)?;
    let record: SetupToken = store
        .take_json(Tree::SetupTokens, &hash_token(token))?
        .ok_or(AuthError::InvalidToken)?;
    usable(store, clock, &record)?;
    match create(store, clock, name, password) {
        Ok(teacher) => Ok(teacher),
        Err(e) => {
            // Give the link back so the person can try another name.
            store.put(
                Tree::SetupTokens,
                hash_token(token).as_bytes(),
                &encode(&record)?,
            )?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::MemoryStore;

    #[test]
    fn first_teacher_link_works_once_and_only_while_no_teacher_exists() {
        let store = MemoryStore::new();
        let clock = ManualClock::new();
        let old = issue_setup_token(&store, &clock, TokenKind::FirstTeacher, None).unwrap();
        let token = issue_setup_token(&store, &clock, TokenKind::FirstTeacher, None).unwrap();
        assert!(
            matches!(
                redeem_setup_token(&store, &clock, &old, "Kari", "passord123"),
                Err(AuthError::InvalidToken)
            ),
            "a newer first-teacher link replaces the old one"
        );
        assert!(matches!(
            redeem_setup_token(&store, &clock, &token, "Kari", "short"),
            Err(AuthError::Invalid(_))
        ));
        redeem_setup_token(&store, &clock, &token, "Kari", "passord123").unwrap();
        assert!(redeem_setup_token(&store, &clock, &token, "Per", "passord123").is_err());
        let another = issue_setup_token(&store, &clock, TokenKind::FirstTeacher, None).unwrap();
        assert!(redeem_setup_token(&store, &clock, &another, "Per", "passord123").is_err());
    }

    #[test]
    fn invites_expire_and_names_are_unique() {
        let store = MemoryStore::new();
        let clock = ManualClock::new();
        create(&store, &clock, "Kari", "passord123").unwrap();
        let invite = issue_setup_token(&store, &clock, TokenKind::Invite, None).unwrap();
        assert!(matches!(
            redeem_setup_token(&store, &clock, &invite, "kari", "passord123"),
            Err(AuthError::NameTaken)
        ));
        clock.advance(INVITE_LIFETIME_MS);
        assert!(matches!(
            redeem_setup_token(&store, &clock, &invite, "Per", "passord123"),
            Err(AuthError::InvalidToken)
        ));
    }

    #[test]
    fn login_checks_the_password() {
        let store = MemoryStore::new();
        let clock = ManualClock::new();
        create(&store, &clock, "Kari Nordmann", "passord123").unwrap();
        assert!(verify_login(&store, "kari nordmann", "passord123").is_ok());
        assert!(matches!(
            verify_login(&store, "Kari Nordmann", "feil"),
            Err(AuthError::WrongCredentials)
        ));
        assert!(matches!(
            verify_login(&store, "Ukjent", "passord123"),
            Err(AuthError::WrongCredentials)
        ));
    }
}
