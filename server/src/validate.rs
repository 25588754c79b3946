//! Checks on names people type, shared by every module that stores one.

/// Why an input was refused; `field` names the JSON field for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    pub field: &'static str,
    pub reason: &'static str,
}

pub fn invalid(field: &'static str, reason: &'static str) -> Invalid {
    Invalid { field, reason }
}

/// Characters that change how the text around them is shown without being seen: bidirectional
/// overrides and isolates (a name could show reversed, or push a "(lærer)" into place), and
/// invisible spaces and marks. Zero-width (non-)joiners stay: some scripts need them.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
            | '\u{061C}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// A person's or a class's name: trimmed, 1..=`max` characters, no control characters and no
/// invisible formatting (bidirectional overrides, zero-width spaces).
pub fn name(field: &'static str, raw: &str, max: usize) -> Result<String, Invalid> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(invalid(field, "is too long"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    if trimmed.chars().any(is_invisible_format) {
        return Err(invalid(
            field,
            "must not contain invisible formatting characters",
        ));
    }
    Ok(trimmed.to_string())
}

/// One id inside a document or thread name (`lesson.<id>.class`): letters, digits and dashes,
/// at most 40, so names split on `.` cannot be smuggled into each other.
pub fn is_id(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 40
        && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

pub const PERSON_NAME_MAX: usize = 60;
pub const CLASS_NAME_MAX: usize = 40;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 200;

pub fn password(raw: &str) -> Result<&str, Invalid> {
    let len = raw.chars().count();
    if len < PASSWORD_MIN {
        return Err(invalid("password", "must be at least 8 characters"));
    }
    if len > PASSWORD_MAX {
        return Err(invalid("password", "is too long"));
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Åse Ánde ", 60).unwrap(), "Åse Ánde");
        assert!(name("name", "   ", 60).is_err());
        assert!(name("name", "a\u{7}b", 60).is_err());
        for sneaky in [
            "Ada\u{202E}rerøl",
            "Ada\u{2066}x\u{2069}",
            "A\u{200B}da",
            "\u{FEFF}Ada",
        ] {
            assert!(name("name", sneaky, 60).is_err(), "{sneaky:?}");
        }
        assert!(
            name("name", "Áŋŋá Čáhppes", 60).is_ok(),
            "Northern Sami letters"
        );
        assert!(name("name", &"x".repeat(61), 60).is_err());
        assert!(
            name("name", &"ø".repeat(60), 60).is_ok(),
            "counted in characters, not bytes"
        );
    }
}
