//! Typed ids whose form carries meaning, parsed and built in one place.

use std::fmt;

/// A pupil's id in lessons. A pupil on the class list is `p-<pupil id>` in every lesson of
/// the class (so their own document and private thread follow them from lesson to lesson); a
/// guest who joined by code has a random id of that one lesson.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParticipantId(String);

const ROSTERED: &str = "p-";

impl ParticipantId {
    /// The id of a pupil on the class list.
    pub fn rostered(pupil_id: &str) -> Self {
        Self(format!("{ROSTERED}{pupil_id}"))
    }

    /// Takes an id as stored or sent; its form says whether it is a rostered pupil's.
    pub fn from_raw(raw: &str) -> Self {
        Self(raw.to_string())
    }

    /// The class-list pupil behind this id, if it is one.
    pub fn pupil_id(&self) -> Option<&str> {
        self.0.strip_prefix(ROSTERED).filter(|id| !id.is_empty())
    }

    pub fn is_rostered(&self) -> bool {
        self.pupil_id().is_some()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rostered_id_names_its_pupil_and_a_guest_id_none() {
        let ola = ParticipantId::rostered("7");
        assert_eq!(ola.as_str(), "p-7");
        assert_eq!(ParticipantId::from_raw("p-7"), ola);
        assert_eq!(ola.pupil_id(), Some("7"));
        assert_eq!(ParticipantId::from_raw("g3f9").pupil_id(), None);
        assert_eq!(ParticipantId::from_raw("p-").pupil_id(), None);
    }
}
