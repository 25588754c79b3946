//! Devices a teacher signed in on before. A successful sign-in leaves a long-lived cookie on the
//! device whose hash is kept with the teacher; her right password from such a device gets in
//! even while strangers' wrong guesses (from as many addresses as they like) slow her name
//! down. Only guessing is slowed: the cookie proves an earlier sign-in, never a password.
//!
//! Key layout in `Tree::Teachers`: `device/<teacher id>/<sha256(token)>` → when it was given.

use crate::clock::DAY_MS;
use crate::ids::TeacherId;
use crate::store::{Store, StoreError, Tree};

use super::tokens::{cookie_value, hash_token, random_token};

pub const COOKIE_NAME: &str = "tavla_device";
/// How long a device is remembered after its last sign-in.
pub const LIFETIME_MS: u64 = 400 * DAY_MS;
/// Devices remembered per teacher; the oldest goes first.
const MAX_DEVICES: usize = 20;

fn prefix(teacher_id: &TeacherId) -> String {
    format!("device/{teacher_id}/")
}

/// Remembers a new device for the teacher (forgetting her oldest past `MAX_DEVICES` and any
/// older than [`LIFETIME_MS`]); returns the token for its cookie.
pub fn remember(
    store: &dyn Store,
    teacher_id: &TeacherId,
    now_ms: u64,
) -> Result<String, StoreError> {
    let token = random_token(32);
    let mut known: Vec<(Vec<u8>, u64)> = store
        .scan_prefix(Tree::Teachers, prefix(teacher_id).as_bytes())?
        .into_iter()
        .map(|(key, at)| {
            let at = <[u8; 8]>::try_from(at).map_or(0, u64::from_be_bytes);
            (key, at)
        })
        .collect();
    known.sort_by_key(|(_, at)| *at);
    let too_many = known.len().saturating_sub(MAX_DEVICES - 1);
    for (i, (key, at)) in known.iter().enumerate() {
        if i < too_many || now_ms.saturating_sub(*at) > LIFETIME_MS {
            store.take(Tree::Teachers, key)?;
        }
    }
    let key = format!("{}{}", prefix(teacher_id), hash_token(&token));
    store.put(Tree::Teachers, key.as_bytes(), &now_ms.to_be_bytes())?;
    Ok(token)
}

/// Whether `token` (from the device's cookie) is one the teacher signed in with before.
pub fn is_known(
    store: &dyn Store,
    teacher_id: &TeacherId,
    token: &str,
    now_ms: u64,
) -> Result<bool, StoreError> {
    let key = format!("{}{}", prefix(teacher_id), hash_token(token));
    Ok(store
        .get(Tree::Teachers, key.as_bytes())?
        .and_then(|at| <[u8; 8]>::try_from(at).ok())
        .is_some_and(|at| now_ms.saturating_sub(u64::from_be_bytes(at)) <= LIFETIME_MS))
}

pub fn cookie(token: &str) -> String {
    format!(
        "{COOKIE_NAME}={token}; Path=/api/login; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        LIFETIME_MS / 1000
    )
}

/// The device token from a `Cookie` header, if present.
pub fn token_from_cookie_header(header: &str) -> Option<&str> {
    cookie_value(header, COOKIE_NAME).filter(|token| token.len() <= 128)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn a_device_is_known_to_its_teacher_only_for_its_lifetime_and_the_oldest_goes() {
        let store = MemoryStore::new();
        let (kari, nils) = (TeacherId::random(), TeacherId::random());
        let token = remember(&store, &kari, 1).unwrap();
        assert!(is_known(&store, &kari, &token, 2).unwrap());
        assert!(
            !is_known(&store, &nils, &token, 2).unwrap(),
            "Kari's device only"
        );
        assert!(!is_known(&store, &kari, "guessed", 2).unwrap());
        assert!(!is_known(&store, &kari, &token, LIFETIME_MS + 2).unwrap());
        for at in 2..=(MAX_DEVICES as u64 + 1) {
            remember(&store, &kari, at).unwrap();
        }
        assert!(
            !is_known(&store, &kari, &token, 30).unwrap(),
            "the oldest went"
        );
        let kept = store
            .scan_prefix(Tree::Teachers, prefix(&kari).as_bytes())
            .unwrap();
        assert_eq!(kept.len(), MAX_DEVICES);
        assert_eq!(
            token_from_cookie_header(&format!("a=b; {COOKIE_NAME}={token}")),
            Some(token.as_str())
        );
    }
}
