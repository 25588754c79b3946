//! Classes and rosters. Each rostered pupil has a login card: a QR code with a personal secret.

use crate::ids::{ClassId, PupilId, TeacherId};
use serde::{Deserialize, Serialize};

use super::LessonError;
use crate::auth::tokens::{constant_time_eq, hash_token, random_token};
use crate::clock::Clock;
use crate::profile::Profile;
use crate::store::{Store, StoreExt, Tree};
use crate::validate;

pub const MAX_ROSTER: usize = 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Class {
    pub id: ClassId,
    pub name: String,
    pub teacher_id: TeacherId,
    pub created_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pupil {
    pub id: PupilId,
    pub class_id: ClassId,
    pub name: String,
    /// Kept (not only hashed) so the teacher can print a lost card again; the data dir is 0700.
    pub card_secret: String,
    pub created_ms: u64,
    /// The pupil's own settings (older records have none: the defaults).
    #[serde(default)]
    pub profile: Profile,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CardRef {
    class_id: ClassId,
    pupil_id: PupilId,
}

pub(super) fn class_key(id: &str) -> String {
    format!("class/{id}")
}

pub(super) fn pupil_key(class_id: &str, pupil_id: &str) -> String {
    format!("pupil/{class_id}/{pupil_id}")
}

pub(super) fn card_key(secret: &str) -> String {
    format!("card/{}", hash_token(secret))
}

pub fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    teacher_id: &TeacherId,
    name: &str,
    roster: &[String],
) -> Result<(Class, Vec<Pupil>), LessonError> {
    let class = Class {
        id: ClassId::random(),
        name: validate::person_name("name", name, validate::CLASS_NAME_MAX)?,
        teacher_id: teacher_id.clone(),
        created_ms: clock.now_ms(),
    };
    let names = validate_names(roster, 0)?;
    store.put_json(Tree::Classes, &class_key(&class.id), &class)?;
    let pupils = insert_pupils(store, clock, &class.id, names)?;
    store.flush()?;
    Ok((class, pupils))
}

fn validate_names(raw: &[String], existing: usize) -> Result<Vec<String>, LessonError> {
    if existing + raw.len() > MAX_ROSTER {
        return Err(LessonError::RosterFull(MAX_ROSTER));
    }
    raw.iter()
        .map(|n| validate::person_name("roster", n, validate::PERSON_NAME_MAX).map_err(Into::into))
        .collect()
}

fn insert_pupils(
    store: &dyn Store,
    clock: &dyn Clock,
    class_id: &ClassId,
    names: Vec<String>,
) -> Result<Vec<Pupil>, LessonError> {
    // Keep the order the teacher typed: each pupil sorts after everyone already on the roster.
    let after_existing = roster(store, class_id)?
        .last()
        .map_or(0, |p| p.created_ms + 1);
    let first_ms = clock.now_ms().max(after_existing);
    let mut pupils = Vec::with_capacity(names.len());
    for (i, name) in names.into_iter().enumerate() {
        let pupil = Pupil {
            id: PupilId::random(),
            class_id: class_id.clone(),
            name,
            card_secret: random_token(18),
            created_ms: first_ms + i as u64,
            profile: Profile::default(),
        };
        save_card(store, &pupil)?;
        store.put_json(Tree::Classes, &pupil_key(class_id, &pupil.id), &pupil)?;
        pupils.push(pupil);
    }
    Ok(pupils)
}

fn save_card(store: &dyn Store, pupil: &Pupil) -> Result<(), LessonError> {
    let card = CardRef {
        class_id: pupil.class_id.clone(),
        pupil_id: pupil.id.clone(),
    };
    store.put_json(Tree::Classes, &card_key(&pupil.card_secret), &card)?;
    Ok(())
}

/// Takes in a class a paired box sent, as `teacher_id`'s here, unless the class is here already.
/// Returns whether it was new.
pub fn take_copy(
    store: &dyn Store,
    class: &Class,
    teacher_id: &TeacherId,
) -> Result<bool, LessonError> {
    let copy = Class {
        teacher_id: teacher_id.clone(),
        ..class.clone()
    };
    Ok(store.insert_if_absent(
        Tree::Classes,
        class_key(&class.id).as_bytes(),
        &crate::store::encode(&copy)?,
    )?)
}

/// Takes in a pupil a paired box sent (their card works here too), unless they are here
/// already.
pub fn take_pupil_copy(store: &dyn Store, pupil: &Pupil) -> Result<(), LessonError> {
    let key = pupil_key(&pupil.class_id, &pupil.id);
    if store.get(Tree::Classes, key.as_bytes())?.is_none() {
        save_card(store, pupil)?;
        store.put_json(Tree::Classes, &key, pupil)?;
    }
    Ok(())
}

pub fn get(store: &dyn Store, id: &str) -> Result<Class, LessonError> {
    store
        .get_json(Tree::Classes, &class_key(id))?
        .ok_or(LessonError::NotFound)
}

/// Every class on the box, by name (the command line finds a class by its name).
pub fn all(store: &dyn Store) -> Result<Vec<Class>, LessonError> {
    let mut classes: Vec<Class> = store.scan_json(Tree::Classes, "class/")?;
    classes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(classes)
}

pub fn list_for_teacher(
    store: &dyn Store,
    teacher_id: &TeacherId,
) -> Result<Vec<Class>, LessonError> {
    let mut classes = all(store)?;
    classes.retain(|c| c.teacher_id == teacher_id);
    Ok(classes)
}

pub fn roster(store: &dyn Store, class_id: &ClassId) -> Result<Vec<Pupil>, LessonError> {
    let mut pupils: Vec<Pupil> = store.scan_json(Tree::Classes, &format!("pupil/{class_id}/"))?;
    pupils.sort_by_key(|p| p.created_ms);
    Ok(pupils)
}

pub fn add_pupils(
    store: &dyn Store,
    clock: &dyn Clock,
    class_id: &ClassId,
    names: &[String],
) -> Result<Vec<Pupil>, LessonError> {
    let existing = roster(store, class_id)?.len();
    let names = validate_names(names, existing)?;
    let pupils = insert_pupils(store, clock, class_id, names)?;
    store.flush()?;
    Ok(pupils)
}

pub fn get_pupil(
    store: &dyn Store,
    class_id: &ClassId,
    pupil_id: &PupilId,
) -> Result<Pupil, LessonError> {
    store
        .get_json(Tree::Classes, &pupil_key(class_id, pupil_id))?
        .ok_or(LessonError::NotFound)
}

/// Letters and digits nobody confuses when copying a code off a card (no 0/O, 1/I/L).
const CARD_CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in a card's typed code.
pub const CARD_CODE_LEN: usize = 8;

/// The code printed on a pupil's card beside its QR code, for a device without a camera (typed
/// with the pupil's name at join). Derived from the card's secret, so a new card has a new
/// code and a paired box's copy of the card has the same one; 31^8 codes, and joining is
/// rate-limited per device.
pub fn card_code(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("tavla card code\0{secret}").as_bytes());
    digest
        .iter()
        .take(CARD_CODE_LEN)
        .map(|b| CARD_CODE_ALPHABET[usize::from(*b) % CARD_CODE_ALPHABET.len()] as char)
        .collect()
}

/// A card code as printed: `ABCD-EFGH`.
pub fn shown_card_code(secret: &str) -> String {
    let code = card_code(secret);
    format!("{}-{}", &code[..4], &code[4..])
}

/// Whether `typed` (any case, spaces and dashes aside) is the code of `pupil`'s card.
pub fn card_code_matches(pupil: &Pupil, typed: &str) -> bool {
    let typed: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect();
    constant_time_eq(&card_code(&pupil.card_secret), &typed)
}

/// Gives the pupil a new card; the old one stops working at once.
pub fn reissue_card(
    store: &dyn Store,
    class_id: &ClassId,
    pupil_id: &PupilId,
) -> Result<Pupil, LessonError> {
    let mut pupil = get_pupil(store, class_id, pupil_id)?;
    store.delete(Tree::Classes, &card_key(&pupil.card_secret))?;
    pupil.card_secret = random_token(18);
    save_card(store, &pupil)?;
    store.put_json(Tree::Classes, &pupil_key(class_id, pupil_id), &pupil)?;
    store.flush()?;
    Ok(pupil)
}

/// Keeps the pupil's own settings.
pub fn set_profile(
    store: &dyn Store,
    class_id: &ClassId,
    pupil_id: &PupilId,
    profile: Profile,
) -> Result<Pupil, LessonError> {
    let mut pupil = get_pupil(store, class_id, pupil_id)?;
    pupil.profile = profile;
    store.put_json(Tree::Classes, &pupil_key(class_id, pupil_id), &pupil)?;
    store.flush()?;
    Ok(pupil)
}

/// The pupil a card belongs to. Looked up by the secret's hash, then compared in constant time.
pub fn pupil_by_card(store: &dyn Store, secret: &str) -> Result<Pupil, LessonError> {
    let card: CardRef = store
        .get_json(Tree::Classes, &card_key(secret))?
        .ok_or(LessonError::InvalidCard)?;
    let pupil =
        get_pupil(store, &card.class_id, &card.pupil_id).map_err(|_| LessonError::InvalidCard)?;
    if constant_time_eq(&pupil.card_secret, secret) {
        Ok(pupil)
    } else {
        Err(LessonError::InvalidCard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::lessons::privacy::Roster;
    use crate::privacy::{Keeper, Subject};
    use crate::store::MemoryStore;

    #[test]
    fn cards_sign_in_their_pupil_until_reissued() {
        let store = MemoryStore::new();
        let clock = ManualClock::new();
        let roster = vec!["Ada".to_string(), "Bjørn".to_string()];
        let (class, pupils) = create(&store, &clock, &"t1".into(), "7B", &roster).unwrap();
        assert_eq!(roster_names(&store, &class.id), ["Ada", "Bjørn"]);
        let ada = &pupils[0];
        assert_eq!(pupil_by_card(&store, &ada.card_secret).unwrap().id, ada.id);
        let renewed = reissue_card(&store, &class.id, &ada.id).unwrap();
        assert!(matches!(
            pupil_by_card(&store, &ada.card_secret),
            Err(LessonError::InvalidCard)
        ));
        assert_eq!(
            pupil_by_card(&store, &renewed.card_secret).unwrap().id,
            ada.id
        );
        // The typed code is the card's: it changes with the card.
        assert!(card_code_matches(
            &renewed,
            &shown_card_code(&renewed.card_secret).to_lowercase()
        ));
        assert!(!card_code_matches(&renewed, &card_code(&ada.card_secret)));
        // Deleting the pupil (the class list's part of it) ends the card too.
        let subject = Subject::new(&class.id, &ada.id, &ada.name, Vec::new(), String::new());
        assert_eq!(Roster.forget(&store, &subject).unwrap(), 2);
        assert!(pupil_by_card(&store, &renewed.card_secret).is_err());
        assert_eq!(roster_names(&store, &class.id), ["Bjørn"]);
    }

    #[test]
    fn roster_size_is_bounded() {
        let store = MemoryStore::new();
        let clock = ManualClock::new();
        let too_many: Vec<String> = (0..=MAX_ROSTER).map(|i| format!("P{i}")).collect();
        assert!(matches!(
            create(&store, &clock, &"t1".into(), "7B", &too_many),
            Err(LessonError::RosterFull(_))
        ));
    }

    fn roster_names(store: &dyn Store, class_id: &ClassId) -> Vec<String> {
        roster(store, class_id)
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect()
    }
}
