//! Typed ids, parsed once where they enter (a URL path, a JSON body, a stored record, a
//! document name) and carried as their own types from there on, so a class id can never be
//! passed where a lesson id is meant and no module re-checks or re-splits a string.
//!
//! Every record id is letters, digits and dashes, 1..=40 characters ([`validate::is_id`]):
//! it is used inside store keys (`pupil/<class>/<pupil>`) and document names
//! (`lesson.<lesson>.class`), which split on `/` and `.`, so an id can never reach into
//! another key or name.
//!
//! The same ids on every box: a record copied to a paired box keeps its id, so a class, a pupil,
//! a lesson and every document name built from them mean the same thing on every box of the
//! school. Ids are 72 random bits made where the record is created; two boxes making the same id
//! is as unlikely as guessing a 22-digit number, so no box needs to ask another before making
//! one. Messages, whose numbers are a box's own, carry their origin (box id and number) instead.

use std::borrow::Borrow;
use std::fmt;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::validate::{self, Invalid};

/// A short random id for records (not a secret): 18 hex digits. The typed ids below use it;
/// records without a type of their own (uploads, versions, copies) too.
pub fn random_record_id() -> String {
    let mut buf = [0u8; 9];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks an id that came from outside (a path, a body, a stored record).
            pub fn parse(raw: &str) -> Result<Self, Invalid> {
                if validate::is_id(raw) {
                    Ok(Self(raw.to_string()))
                } else {
                    Err(validate::invalid($field, "is not a valid id"))
                }
            }

            /// A new random id for a new record.
            pub fn random() -> Self {
                Self(random_record_id())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(raw: String) -> Result<Self, Invalid> {
                if validate::is_id(&raw) {
                    Ok(Self(raw))
                } else {
                    Err(validate::invalid($field, "is not a valid id"))
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<&$name> for $name {
            fn eq(&self, other: &&$name) -> bool {
                self.0 == other.0
            }
        }

        impl PartialEq<$name> for &$name {
            fn eq(&self, other: &$name) -> bool {
                self.0 == other.0
            }
        }

        /// Tests write ids as literals; a wrong literal is a bug in the test.
        #[cfg(test)]
        impl From<&str> for $name {
            fn from(raw: &str) -> Self {
                Self::parse(raw).expect("a valid id in a test")
            }
        }

        /// Read-only access to the text, for store keys and names built from it; a plain
        /// `&str` never turns back into an id without [`Self::parse`].
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
    };
}

record_id!(
    /// A teacher account on this box.
    TeacherId,
    "teacher_id"
);
record_id!(
    /// A class (its roster, its lessons).
    ClassId,
    "class_id"
);
record_id!(
    /// A pupil on a class list; the same pupil in every lesson of the class.
    PupilId,
    "pupil_id"
);
record_id!(
    /// One lesson: from "start lesson" to its end.
    LessonId,
    "lesson_id"
);
record_id!(
    /// A group inside one lesson.
    GroupId,
    "group_id"
);
record_id!(
    /// A classroom box, as paired boxes know it: the first 16 hex digits of the SHA-256 of its
    /// box-to-box certificate (`service::boxes::federation::identity`), so the id cannot be
    /// claimed by another box without that certificate's key.
    BoxId,
    "box_id"
);

/// For a record field that older versions stored as `""` when it had no id: reads `""` as
/// `None` (use with `#[serde(default, deserialize_with = "ids::empty_is_none")]`).
pub fn empty_is_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<String, Error = Invalid>,
{
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(raw) if raw.is_empty() => Ok(None),
        Some(raw) => T::try_from(raw).map(Some).map_err(serde::de::Error::custom),
    }
}

/// A pupil's id in lessons. A pupil on the class list is `p-<pupil id>` in every lesson of
/// the class (so their own document and private thread follow them from lesson to lesson); a
/// guest who joined by code has a random id of that one lesson (`g-<random>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ParticipantId(String);

const ROSTERED: &str = "p-";
const GUEST: &str = "g-";

impl ParticipantId {
    /// The id of a pupil on the class list.
    pub fn rostered(pupil_id: &PupilId) -> Self {
        Self(format!("{ROSTERED}{pupil_id}"))
    }

    /// A new guest's id.
    pub fn new_guest() -> Self {
        Self(format!("{GUEST}{}", random_record_id()))
    }

    /// Checks an id that came from outside; its form says whether it is a rostered pupil's.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if validate::is_id(raw) {
            Ok(Self(raw.to_string()))
        } else {
            Err(validate::invalid("participant_id", "is not a valid id"))
        }
    }

    /// The class-list pupil behind this id, if it is one.
    pub fn pupil_id(&self) -> Option<PupilId> {
        self.0
            .strip_prefix(ROSTERED)
            .and_then(|id| PupilId::parse(id).ok())
    }

    pub fn is_rostered(&self) -> bool {
        self.pupil_id().is_some()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ParticipantId {
    type Error = Invalid;
    fn try_from(raw: String) -> Result<Self, Invalid> {
        Self::parse(&raw)
    }
}

impl From<ParticipantId> for String {
    fn from(id: ParticipantId) -> String {
        id.0
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for ParticipantId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for ParticipantId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ParticipantId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for ParticipantId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<&ParticipantId> for ParticipantId {
    fn eq(&self, other: &&ParticipantId) -> bool {
        self.0 == other.0
    }
}

impl PartialEq<ParticipantId> for &ParticipantId {
    fn eq(&self, other: &ParticipantId) -> bool {
        self.0 == other.0
    }
}

#[cfg(test)]
impl From<&str> for ParticipantId {
    fn from(raw: &str) -> Self {
        Self::parse(raw).expect("a valid id in a test")
    }
}

impl std::ops::Deref for ParticipantId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rostered_id_names_its_pupil_and_a_guest_id_none() {
        let seven = PupilId::parse("7").unwrap();
        let ola = ParticipantId::rostered(&seven);
        assert_eq!(ola.as_str(), "p-7");
        assert_eq!(ParticipantId::parse("p-7").unwrap(), ola);
        assert_eq!(ola.pupil_id(), Some(seven));
        assert_eq!(ParticipantId::parse("g3f9").unwrap().pupil_id(), None);
        assert_eq!(ParticipantId::parse("p-").unwrap().pupil_id(), None);
        assert!(!ParticipantId::new_guest().is_rostered());
    }

    #[test]
    fn ids_that_could_reach_into_a_key_or_a_name_are_refused() {
        for bad in ["", "a/b", "a.b", "../x", "a b", "ø", &"x".repeat(41)] {
            assert!(ClassId::parse(bad).is_err(), "{bad:?}");
            assert!(ParticipantId::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(LessonId::parse("3f-a9").unwrap().as_str(), "3f-a9");
        let err = PupilId::parse("a/b").unwrap_err();
        assert_eq!(err.field, "pupil_id");
    }

    #[test]
    fn stored_and_sent_ids_are_plain_strings_and_checked_when_read() {
        let id = LessonId::random();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<LessonId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<LessonId>("\"a.b\"").is_err());
    }
}
