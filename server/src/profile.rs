//! A person's own settings for how Tavla looks and speaks to them. A pupil's are kept with
//! their class-list entry, so they follow the pupil to any device they sign in on with their
//! card, and the teacher of the class sees them (to know who reads with a larger text or has it
//! read aloud); a teacher's with their account.

use serde::{Deserialize, Serialize};

use crate::clock::DAY_MS;
use crate::i18n::LANGUAGES;
use crate::validate::{invalid, Invalid};

/// How large the page's text is, on top of the browser's own zoom.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSize {
    #[default]
    Normal,
    Large,
    Largest,
}

/// What the pupil sets and sees. Unknown fields are refused, so a typo is not silently lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The interface language (one of [`LANGUAGES`]); none: the browser's.
    pub lang: Option<String>,
    pub text_size: TextSize,
    pub high_contrast: bool,
    pub reduced_motion: bool,
    /// The bundled dyslexia-friendly font for the page and documents.
    pub dyslexia_font: bool,
    /// "Read aloud" buttons on documents and messages (the browser's own speech synthesis).
    pub read_aloud: bool,
    /// "I am at home today": the next sign-in today counts as from home. Only for the day it
    /// was said (see [`Profile::as_of`]).
    pub at_home_today: bool,
}

impl Settings {
    pub fn validated(self) -> Result<Self, Invalid> {
        match &self.lang {
            Some(lang) if !LANGUAGES.contains(&lang.as_str()) => {
                Err(invalid("lang", "is not a supported language"))
            }
            _ => Ok(self),
        }
    }
}

/// The settings as stored: with the day "at home today" was said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub settings: Settings,
    /// Days since 1970 (the box's clock, UTC) when the settings were saved.
    pub saved_day: u64,
}

impl Profile {
    pub fn saved_at(settings: Settings, now_ms: u64) -> Self {
        Self {
            settings,
            saved_day: now_ms / DAY_MS,
        }
    }

    /// The settings as they hold at `now_ms`: "at home today" lapses when the day is over.
    pub fn as_of(&self, now_ms: u64) -> Settings {
        let mut settings = self.settings.clone();
        settings.at_home_today &= self.saved_day == now_ms / DAY_MS;
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_home_today_lapses_the_next_day() {
        let settings = Settings {
            at_home_today: true,
            high_contrast: true,
            ..Settings::default()
        };
        let profile = Profile::saved_at(settings, 5 * DAY_MS + 1000);
        assert!(profile.as_of(5 * DAY_MS + 2000).at_home_today);
        let tomorrow = profile.as_of(6 * DAY_MS + 1);
        assert!(!tomorrow.at_home_today);
        assert!(tomorrow.high_contrast, "the other settings stay");
    }

    #[test]
    fn only_known_languages_and_fields_are_taken() {
        let lang = |l: &str| Settings {
            lang: Some(l.into()),
            ..Settings::default()
        };
        assert!(lang("se").validated().is_ok());
        assert!(lang("de").validated().is_err());
        assert!(serde_json::from_str::<Settings>(r#"{"text_size":"huge"}"#).is_err());
        assert!(serde_json::from_str::<Settings>(r#"{"colour":"red"}"#).is_err());
        assert_eq!(
            serde_json::from_str::<Settings>("{}").ok(),
            Some(Settings::default())
        );
    }
}
