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

/// Characters that change how the text around them is shown without being seen, or that show
/// as nothing: bidirectional overrides and isolates (a name could show reversed, or push a
/// "(lærer)" into place), invisible spaces and marks, fillers that look blank (Hangul filler,
/// the blank Braille pattern) and tag characters. Zero-width (non-)joiners stay: some scripts
/// need them.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
            | '\u{061C}' | '\u{FEFF}' | '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}'
            | '\u{17B4}' | '\u{17B5}' | '\u{180E}' | '\u{2800}' | '\u{3164}' | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// A title or label someone types (a version's label, a copy's title, a box's name): trimmed,
/// 1..=`max` characters, at least one letter or digit, no control characters and nothing
/// invisible (see [`is_invisible`]).
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
    if trimmed.chars().any(is_invisible) {
        return Err(invalid(
            field,
            "must not contain invisible formatting characters",
        ));
    }
    if !trimmed.chars().any(char::is_alphanumeric) {
        return Err(invalid(field, "must contain a letter or a digit"));
    }
    Ok(trimmed.to_string())
}

/// Punctuation a person's or a class's name may hold besides letters, marks and digits.
const NAME_PUNCTUATION: &[char] = &[
    ' ', '-', '\'', '\u{2019}', '.', ',', '(', ')', '&', '/', '+', ':', '\u{2013}',
];

/// A person's or a class's name, which others must be able to tell apart from every other:
/// [`name`], and by the Unicode identifier profile (UTS #39) only characters recommended for
/// identifiers (with a few punctuation marks names use), and each word in one script, so a
/// Cyrillic "А" cannot pass for a Latin one ("Аda" posing as "Ada").
pub fn person_name(field: &'static str, raw: &str, max: usize) -> Result<String, Invalid> {
    use unicode_security::{GeneralSecurityProfile, MixedScript};
    let name = name(field, raw, max)?;
    if !name
        .chars()
        .all(|c| c.identifier_allowed() || NAME_PUNCTUATION.contains(&c))
    {
        return Err(invalid(
            field,
            "may only hold letters, digits and the punctuation names use",
        ));
    }
    if !name.split_whitespace().all(|word| word.is_single_script()) {
        return Err(invalid(
            field,
            "must not mix scripts within a word (letters that look alike)",
        ));
    }
    Ok(name)
}

/// What a name looks like, for telling whether two names could be mistaken for each other:
/// the UTS #39 confusable skeleton of its words, lowercased.
pub fn looks_like(name: &str) -> String {
    let words = name.split_whitespace().collect::<Vec<_>>().join(" ");
    unicode_security::skeleton(&words.to_lowercase())
        .collect::<String>()
        .to_lowercase()
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
        assert!(
            name("label", "Før prøven!", 60).is_ok(),
            "a label may say more"
        );
    }

    /// Hardening round two, finding 9: what passed as a name before.
    #[test]
    fn a_persons_name_is_visible_single_script_and_made_for_names() {
        for blank_or_sneaky in [
            "\u{3164}",
            "\u{2800}\u{2800}",
            "Ada\u{E0041}",
            "\u{0301}\u{0301}",
            "\u{0410}da",
            "Ola \u{0410}da",
            "Ada 🙂",
        ] {
            assert!(
                person_name("name", blank_or_sneaky, 60).is_err(),
                "{blank_or_sneaky:?}"
            );
        }
        for real in [
            "Áŋŋá Čáhppes",
            "Anne-Marie O'Brien",
            "Åse Ødegård",
            "Đuro Šimić",
            "Мария Иванова",
            "علي",
            "7B (norsk)",
            "Naturfag 8. trinn – gruppe 2",
        ] {
            assert_eq!(person_name("name", real, 60).as_deref(), Ok(real), "{real}");
        }
        assert_eq!(
            looks_like("\u{0410}da  Nordmann"),
            looks_like("ada nordmann")
        );
        // A whole word in another script that looks the same passes as a name, and is caught
        // by what it looks like.
        let cyrillic_ola = "\u{041E}\u{04CF}\u{0430} Hansen";
        assert!(person_name("name", cyrillic_ola, 60).is_ok());
        assert_eq!(looks_like(cyrillic_ola), looks_like("Ola Hansen"));
        assert_ne!(looks_like("Ada"), looks_like("Ida"));
    }
}
