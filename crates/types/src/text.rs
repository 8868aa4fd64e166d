//! Free text with a length limit: names, addresses, remarks.
//!
//! [`BoundedText::parse`] trims surrounding whitespace, turns Windows line endings (`\r\n`) into
//! `\n` (browsers submit text areas that way), and then requires the text to be non-empty, at most
//! the given number of **characters** (Unicode scalar values, not bytes: `张三` is 2 characters and
//! 6 bytes) and free of control characters other than line feed and tab. Characters that reorder
//! text on screen (the Unicode bidirectional overrides and isolates) are refused too: they can
//! make a name or remark display differently from what is stored.
//!
//! Free text often is personal data (a name, an address, a remark about a family), so `Debug`
//! prints only the length, and there is no `Display`: read the text with
//! [`BoundedText::as_str`]. The limit itself is the caller's (each field has its own), so it is
//! not part of the type.
//!
//! What it does not do: Unicode normalisation, spelling, or checking that a name looks like a
//! name.

use std::fmt;

/// Non-empty, trimmed, length-limited text; see the [module documentation](self).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BoundedText(String);

/// Why a text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty, or only whitespace.
    #[error("must not be empty")]
    Empty,
    /// Longer than allowed.
    #[error("must be at most {max} characters long, got {actual}")]
    TooLong {
        /// The limit, in characters.
        max: usize,
        /// The length after trimming, in characters.
        actual: usize,
    },
    /// A control character other than line feed or tab.
    #[error(
        "contains a control character at position {position}; only line breaks and tabs are allowed"
    )]
    ControlCharacter {
        /// 1-based character position in the trimmed text.
        position: usize,
    },
    /// A character that changes the display direction of text.
    #[error("contains an invisible text-direction character at position {position}")]
    DirectionCharacter {
        /// 1-based character position in the trimmed text.
        position: usize,
    },
}

impl BoundedText {
    /// Trims, normalises line endings and checks the text; see the [module documentation](self).
    pub fn parse(input: &str, max_chars: usize) -> Result<Self, TextError> {
        let text = input.trim().replace("\r\n", "\n");
        if text.is_empty() {
            return Err(TextError::Empty);
        }
        let mut length = 0;
        for (index, c) in text.chars().enumerate() {
            length += 1;
            if c.is_control() && c != '\n' && c != '\t' {
                return Err(TextError::ControlCharacter {
                    position: index + 1,
                });
            }
            if is_direction_control(c) {
                return Err(TextError::DirectionCharacter {
                    position: index + 1,
                });
            }
        }
        if length > max_chars {
            return Err(TextError::TooLong {
                max: max_chars,
                actual: length,
            });
        }
        Ok(Self(text))
    }

    /// Like [`BoundedText::parse`], but empty or whitespace-only text is `None` rather than an
    /// error: for optional fields such as a remark.
    pub fn parse_optional(input: &str, max_chars: usize) -> Result<Option<Self>, TextError> {
        match Self::parse(input, max_chars) {
            Ok(text) => Ok(Some(text)),
            Err(TextError::Empty) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, by value.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The length in characters.
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

/// The bidirectional embedding, override and isolate characters (and the marks), which render
/// invisibly but reorder what is shown.
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl fmt::Debug for BoundedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BoundedText({} chars)", self.char_count())
    }
}

impl AsRef<str> for BoundedText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<BoundedText> for String {
    fn from(text: BoundedText) -> Self {
        text.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        let name = BoundedText::parse("张三丰", 3).expect("three characters fit");
        assert_eq!(name.as_str(), "张三丰");
        assert_eq!(name.char_count(), 3);
        assert_eq!(
            BoundedText::parse("张三丰", 2),
            Err(TextError::TooLong { max: 2, actual: 3 })
        );
    }

    #[test]
    fn trims_and_normalises_line_endings() {
        let text = BoundedText::parse("  第一行\r\n第二行\t尾 \n", 100).expect("valid");
        assert_eq!(text.as_str(), "第一行\n第二行\t尾");
        assert_eq!(BoundedText::parse(" \t\n ", 10), Err(TextError::Empty));
        assert_eq!(BoundedText::parse("", 10), Err(TextError::Empty));
        // Full-width spaces are whitespace too.
        assert_eq!(BoundedText::parse("\u{3000}", 10), Err(TextError::Empty));
    }

    #[test]
    fn refuses_control_and_direction_characters() {
        assert_eq!(
            BoundedText::parse("a\u{0}b", 10),
            Err(TextError::ControlCharacter { position: 2 })
        );
        assert_eq!(
            BoundedText::parse("a\rb", 10),
            Err(TextError::ControlCharacter { position: 2 })
        );
        assert_eq!(
            BoundedText::parse("ab\u{1b}[31m", 10),
            Err(TextError::ControlCharacter { position: 3 })
        );
        assert_eq!(
            BoundedText::parse("张\u{202E}三", 10),
            Err(TextError::DirectionCharacter { position: 2 })
        );
    }

    #[test]
    fn optional_text_treats_blank_as_absent() {
        assert_eq!(BoundedText::parse_optional("  ", 5), Ok(None));
        assert_eq!(
            BoundedText::parse_optional(" ok ", 5).map(|t| t.map(BoundedText::into_string)),
            Ok(Some("ok".to_owned()))
        );
        assert!(BoundedText::parse_optional("toolong", 5).is_err());
    }

    #[test]
    fn debug_shows_only_the_length() {
        let text = BoundedText::parse("张三", 10).expect("valid");
        assert_eq!(format!("{text:?}"), "BoundedText(2 chars)");
    }

    proptest! {
        #[test]
        fn accepted_text_keeps_its_promises(input in "\\PC{0,40}", max in 0usize..40) {
            if let Ok(text) = BoundedText::parse(&input, max) {
                let s = text.as_str();
                prop_assert!(!s.is_empty());
                prop_assert_eq!(s.trim(), s);
                prop_assert!(s.chars().count() <= max);
                prop_assert!(s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'));
                prop_assert_eq!(BoundedText::parse(s, max), Ok(text.clone()));
            }
        }

        #[test]
        fn printable_text_within_the_limit_is_accepted(input in "[a-z张三李四王五]{1,20}") {
            let length = input.chars().count();
            prop_assert!(BoundedText::parse(&input, length).is_ok());
            let too_long = BoundedText::parse(&input, length - 1).is_err();
            prop_assert!(too_long);
        }
    }
}
