//! The few words the server writes itself (the readable page of a pupil's data export), taken
//! from the web client's language files so every visible string lives in one place.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The languages the box speaks; the first is the default.
pub const LANGUAGES: [&str; 4] = ["nb", "nn", "se", "en"];

const FILES: [(&str, &str); 4] = [
    ("nb", include_str!("../../web-client/src/i18n/nb.json")),
    ("nn", include_str!("../../web-client/src/i18n/nn.json")),
    ("se", include_str!("../../web-client/src/i18n/se.json")),
    ("en", include_str!("../../web-client/src/i18n/en.json")),
];

type Table = HashMap<String, String>;

fn tables() -> &'static HashMap<&'static str, Table> {
    static TABLES: OnceLock<HashMap<&'static str, Table>> = OnceLock::new();
    TABLES.get_or_init(|| {
        FILES
            .iter()
            .map(|(lang, json)| (*lang, serde_json::from_str(json).unwrap_or_default()))
            .collect()
    })
}

/// A supported language for `raw` (an `?lang=` value), or the default.
pub fn language(raw: Option<&str>) -> &'static str {
    LANGUAGES
        .iter()
        .find(|l| Some(**l) == raw)
        .copied()
        .unwrap_or(LANGUAGES[0])
}

/// The text of `key` in `lang`, with `{name}`-style placeholders filled from `args`; falls back
/// to bokmål, then to the key itself (a test checks every key the server uses exists).
pub fn text(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    let tables = tables();
    let found = tables
        .get(lang)
        .and_then(|t| t.get(key))
        .or_else(|| tables.get(LANGUAGES[0]).and_then(|t| t.get(key)));
    let mut out = found.cloned().unwrap_or_else(|| key.to_string());
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Whether every language file has `key` (tests).
pub fn has(key: &str) -> bool {
    LANGUAGES
        .iter()
        .all(|lang| tables().get(lang).is_some_and(|t| t.contains_key(key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_file_is_read_and_placeholders_are_filled() {
        for lang in LANGUAGES {
            assert!(tables()[lang].len() > 100, "{lang}");
        }
        assert_eq!(language(Some("nn")), "nn");
        assert_eq!(language(Some("xx")), "nb");
        assert_eq!(text("en", "no.such.key", &[]), "no.such.key");
    }
}
