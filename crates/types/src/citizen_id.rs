//! Citizen identity numbers (公民身份号码) as defined by GB 11643-1999.
//!
//! An 18-character number: a 6-digit administrative region code (where the number was first
//! issued), an 8-digit birth date `YYYYMMDD`, a 3-digit sequence whose parity gives the sex (odd
//! male, even female) and a check character computed with ISO 7064 MOD 11-2. [`CitizenId::parse`]
//! checks all of it; a lowercase `x` check character is accepted and normalised to `X`.
//! Surrounding whitespace is not trimmed: the edge hands over exactly what the person typed, and a
//! stray space is reported as a wrong length rather than silently repaired.
//!
//! The number is personal data. `Debug` and `Display` print a masked form (`2105**********123X`:
//! the province and city digits and the last four characters), parse errors never quote the input,
//! and the full number is only reachable through [`CitizenId::expose`]. The type deliberately does
//! not implement `Serialize`/`Deserialize`: a struct that really must store the full number opts
//! in per field with `#[serde(with = "minzheng_types::citizen_id::serde_expose")]`, so every place
//! that writes it out is visible in review.
//!
//! What this module does not know: whether the region prefix still exists (regions are merged and
//! renamed, yet old numbers stay valid), whether the birth date lies in the future (no clock
//! here), and the legacy 15-digit form, which is refused with a message asking for conversion.

use std::fmt;
use std::str::FromStr;

use time::{Date, Month};

/// Weights of the first 17 characters in the ISO 7064 MOD 11-2 checksum, as listed in GB 11643.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for each remainder of the weighted sum modulo 11.
const CHECK_CHARACTERS: [u8; 11] = *b"10X98765432";

/// The length of a current citizen identity number, in characters.
pub const LENGTH: usize = 18;

/// A valid 18-character citizen identity number; see the [module documentation](self).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId {
    /// The number with an uppercase check character; always 18 ASCII characters.
    number: String,
    /// The birth date encoded in characters 7–14, decoded once at parse time.
    birth_date: Date,
}

/// The sex encoded in the parity of the sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sex {
    /// An odd sequence number.
    Male,
    /// An even sequence number.
    Female,
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sex::Male => "male",
            Sex::Female => "female",
        })
    }
}

/// Why a text is not a citizen identity number. Messages never quote the number itself.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CitizenIdError {
    /// Nothing was entered.
    #[error("is empty; enter the 18-character citizen identity number")]
    Empty,
    /// Fifteen digits: the pre-1999 form, which must be converted before use.
    #[error(
        "is a 15-digit legacy identity number; convert it to the 18-digit form (the holder's \
         current identity card shows it) and enter that"
    )]
    Legacy15,
    /// Neither 18 characters nor a legacy number.
    #[error("must be 18 characters long, got {actual}")]
    Length {
        /// The number of characters (not bytes) entered.
        actual: usize,
    },
    /// One of the first 17 characters is not an ASCII digit.
    #[error("character {position} must be a digit")]
    NonDigit {
        /// 1-based position of the first offending character.
        position: usize,
    },
    /// The 18th character is neither a digit nor `X`.
    #[error("the last character must be a digit or X")]
    CheckCharacterFormat,
    /// Characters 7–14 are not a real calendar date.
    #[error("characters 7 to 14 must be a real birth date written YYYYMMDD")]
    InvalidBirthDate,
    /// The birth year is before 1900, which GB 11643 numbers never carry.
    #[error("the birth year in characters 7 to 10 must be 1900 or later")]
    BirthYearBefore1900,
    /// The check character does not match the other 17: almost always a typing error.
    #[error(
        "the check character (the last one) does not match the rest of the number; check for a typing error"
    )]
    CheckCharacterMismatch,
}

/// Whether `text` contains a valid citizen id number (18 characters in a row that parse as one),
/// for refusing text that would become a key, which shows in event headers and logs.
pub fn contains_citizen_id(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(LENGTH)
        .any(|window| CitizenId::parse(&window.iter().collect::<String>()).is_ok())
}

impl CitizenId {
    /// Parses and checks an 18-character number; see the [module documentation](self).
    pub fn parse(input: &str) -> Result<Self, CitizenIdError> {
        let length = input.chars().count();
        if length == 0 {
            return Err(CitizenIdError::Empty);
        }
        if length == 15 && input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CitizenIdError::Legacy15);
        }
        if length != LENGTH {
            return Err(CitizenIdError::Length { actual: length });
        }
        for (index, c) in input.chars().enumerate() {
            if index < LENGTH - 1 {
                if !c.is_ascii_digit() {
                    return Err(CitizenIdError::NonDigit {
                        position: index + 1,
                    });
                }
            } else if !(c.is_ascii_digit() || c == 'X' || c == 'x') {
                return Err(CitizenIdError::CheckCharacterFormat);
            }
        }
        // Every character is ASCII now, so byte offsets equal character offsets.
        let bytes = input.as_bytes();
        let birth_date = decode_birth_date(&bytes[6..14])?;
        let expected = check_character_of(&bytes[..17]);
        if bytes[17].to_ascii_uppercase() != expected {
            return Err(CitizenIdError::CheckCharacterMismatch);
        }
        Ok(Self {
            number: input.to_ascii_uppercase(),
            birth_date,
        })
    }

    /// Builds the number for a region prefix, birth date and sequence, computing the check
    /// character. Meant for test data and for converting records that store the parts separately;
    /// `region_prefix` must be 6 digits and `sequence` at most 999, else the result is the error
    /// [`CitizenId::parse`] gives for the assembled text.
    pub fn from_parts(
        region_prefix: &str,
        birth_date: Date,
        sequence: u16,
    ) -> Result<Self, CitizenIdError> {
        let first17 = format!(
            "{region_prefix}{:04}{:02}{:02}{sequence:03}",
            birth_date.year(),
            u8::from(birth_date.month()),
            birth_date.day()
        );
        let check = if first17.len() == 17 && first17.bytes().all(|b| b.is_ascii_digit()) {
            char::from(check_character_of(first17.as_bytes()))
        } else {
            // Let `parse` describe what is wrong with the parts.
            '0'
        };
        Self::parse(&format!("{first17}{check}"))
    }

    /// The full number with an uppercase `X`. This is the only way to read it: use it to store or
    /// transmit the number, never to log it.
    pub fn expose(&self) -> &str {
        &self.number
    }

    /// The birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// The sex encoded in the parity of the 3-digit sequence (characters 15–17).
    pub fn sex(&self) -> Sex {
        if (self.number.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The 6-digit region code where the number was first issued (a GB/T 2260 county-level code,
    /// possibly one that no longer exists).
    pub fn region_prefix(&self) -> &str {
        &self.number[..6]
    }

    /// The masked form used by `Debug` and `Display`: the first four and the last four
    /// characters, with the birth date and the rest hidden.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.number[..4], &self.number[14..])
    }
}

/// Decodes `YYYYMMDD` (already known to be ASCII digits).
fn decode_birth_date(digits: &[u8]) -> Result<Date, CitizenIdError> {
    let year = decimal(&digits[..4]) as i32;
    let month = decimal(&digits[4..6]) as u8;
    let day = decimal(&digits[6..8]) as u8;
    let month = Month::try_from(month).map_err(|_| CitizenIdError::InvalidBirthDate)?;
    let date =
        Date::from_calendar_date(year, month, day).map_err(|_| CitizenIdError::InvalidBirthDate)?;
    if year < 1900 {
        return Err(CitizenIdError::BirthYearBefore1900);
    }
    Ok(date)
}

/// The value of a short run of ASCII digits.
fn decimal(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
}

/// The ISO 7064 MOD 11-2 check character of 17 ASCII digits.
fn check_character_of(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARACTERS[(sum % 11) as usize]
}

impl fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CitizenId").field(&self.masked()).finish()
    }
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl FromStr for CitizenId {
    type Err = CitizenIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for CitizenId {
    type Error = CitizenIdError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

/// Opt-in serde support that writes the full number, for the rare struct that must persist it:
/// `#[serde(with = "minzheng_types::citizen_id::serde_expose")]`. Deserializing parses and
/// checks the number like [`CitizenId::parse`].
pub mod serde_expose {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use super::CitizenId;

    /// Writes the full number as a string.
    pub fn serialize<S: Serializer>(id: &CitizenId, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(id.expose())
    }

    /// Reads and checks a number from a string.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<CitizenId, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        CitizenId::parse(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    /// The first 17 characters of the sample number built by [`sample`].
    const SAMPLE_FIRST17: &str = "21050219900307123";

    fn sample() -> CitizenId {
        CitizenId::from_parts("210502", date!(1990 - 03 - 07), 123).expect("valid parts")
    }

    #[test]
    fn parses_a_known_valid_number() {
        // 11010519491231002X is the example printed in GB 11643-1999 itself.
        let id = CitizenId::parse("11010519491231002X").expect("standard's example is valid");
        assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.region_prefix(), "110105");
        assert_eq!(id.expose(), "11010519491231002X");
    }

    #[test]
    fn from_parts_computes_the_check_character() {
        let id = sample();
        assert_eq!(id.expose().len(), 18);
        assert_eq!(&id.expose()[..17], SAMPLE_FIRST17);
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.birth_date(), date!(1990 - 03 - 07));
        assert!(CitizenId::from_parts("2105", date!(1990 - 03 - 07), 1).is_err());
        assert!(CitizenId::from_parts("210502", date!(1990 - 03 - 07), 1000).is_err());
        assert_eq!(
            CitizenId::from_parts("210502", date!(1899 - 12 - 31), 1),
            Err(CitizenIdError::BirthYearBefore1900)
        );
    }

    #[test]
    fn lowercase_x_is_normalised() {
        let upper = CitizenId::parse("11010519491231002X").expect("valid");
        let lower = CitizenId::parse("11010519491231002x").expect("lowercase x is accepted");
        assert_eq!(lower.expose(), "11010519491231002X");
        assert_eq!(upper, lower);
    }

    #[test]
    fn each_kind_of_error_has_its_own_message() {
        assert_eq!(CitizenId::parse(""), Err(CitizenIdError::Empty));
        assert_eq!(
            CitizenId::parse("110105491231002"),
            Err(CitizenIdError::Legacy15)
        );
        assert!(
            CitizenIdError::Legacy15
                .to_string()
                .contains("convert it to the 18-digit form")
        );
        assert_eq!(
            CitizenId::parse("1101051949123100"),
            Err(CitizenIdError::Length { actual: 16 })
        );
        assert_eq!(
            CitizenId::parse(" 11010519491231002X"),
            Err(CitizenIdError::Length { actual: 19 })
        );
        // Full-width digits are counted as characters, not bytes.
        assert_eq!(
            CitizenId::parse("１１０１０５１９４９１２３１００２Ｘ"),
            Err(CitizenIdError::NonDigit { position: 1 })
        );
        assert_eq!(
            CitizenId::parse("1101051949123100AX"),
            Err(CitizenIdError::NonDigit { position: 17 })
        );
        assert_eq!(
            CitizenId::parse("11010519491231002Y"),
            Err(CitizenIdError::CheckCharacterFormat)
        );
        assert_eq!(
            CitizenId::parse("110105194902300021"),
            Err(CitizenIdError::InvalidBirthDate)
        );
        assert_eq!(
            CitizenId::parse("110105194913010021"),
            Err(CitizenIdError::InvalidBirthDate)
        );
        assert_eq!(
            CitizenId::parse("110105189912310021"),
            Err(CitizenIdError::BirthYearBefore1900)
        );
        assert_eq!(
            CitizenId::parse("110105194912310021"),
            Err(CitizenIdError::CheckCharacterMismatch)
        );
    }

    #[test]
    fn debug_and_display_mask_the_number() {
        let id = CitizenId::parse("11010519491231002X").expect("valid");
        assert_eq!(id.to_string(), "1101**********002X");
        let debug = format!("{id:?}");
        assert_eq!(debug, "CitizenId(\"1101**********002X\")");
        assert!(!debug.contains("19491231"));
        let nested = format!("{:?}", Some(&id));
        assert!(!nested.contains("11010519491231002X"));
    }

    #[test]
    fn error_messages_never_quote_the_input() {
        let inputs = [
            "110105194912310021",
            "1101051949123100AX",
            "110105194902300021",
        ];
        for input in inputs {
            let message = CitizenId::parse(input).expect_err("invalid").to_string();
            assert!(!message.contains(input), "{message}");
            assert!(!message.contains("19491231"), "{message}");
        }
    }

    #[test]
    fn serde_writes_the_full_number_only_through_the_explicit_helper() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Record {
            #[serde(with = "serde_expose")]
            id: CitizenId,
        }
        let record = Record { id: sample() };
        let json = serde_json::to_string(&record).expect("serializes");
        assert_eq!(json, format!("{{\"id\":\"{}\"}}", sample().expose()));
        let back: Record = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back.id, sample());
        let bad = serde_json::from_str::<Record>("{\"id\":\"110105194912310021\"}");
        assert!(bad.is_err());
    }

    /// Valid birth dates: 1900-01-01 up to 2099-12-31.
    fn birth_dates() -> impl Strategy<Value = Date> {
        let first = date!(1900 - 01 - 01).to_julian_day();
        let last = date!(2099 - 12 - 31).to_julian_day();
        (first..=last).prop_map(|day| Date::from_julian_day(day).expect("in range"))
    }

    fn valid_ids() -> impl Strategy<Value = CitizenId> {
        ("[1-8][0-9]{5}", birth_dates(), 0u16..=999).prop_map(|(region, birth, sequence)| {
            CitizenId::from_parts(&region, birth, sequence).expect("generated parts are valid")
        })
    }

    proptest! {
        #[test]
        fn any_valid_number_round_trips(id in valid_ids()) {
            let reparsed = CitizenId::parse(id.expose()).expect("its own text parses");
            prop_assert_eq!(&reparsed, &id);
            let lower = CitizenId::parse(&id.expose().to_ascii_lowercase()).expect("lowercase parses");
            prop_assert_eq!(&lower, &id);
        }

        #[test]
        fn parts_are_recovered(region in "[1-8][0-9]{5}", birth in birth_dates(), sequence in 0u16..=999) {
            let id = CitizenId::from_parts(&region, birth, sequence).expect("valid parts");
            prop_assert_eq!(id.region_prefix(), region.as_str());
            prop_assert_eq!(id.birth_date(), birth);
            let expected = if sequence % 2 == 1 { Sex::Male } else { Sex::Female };
            prop_assert_eq!(id.sex(), expected);
        }

        /// MOD 11-2 detects every single-character substitution, so changing any one character
        /// to any other allowed character is refused.
        #[test]
        fn changing_any_one_character_is_rejected(id in valid_ids(), position in 0usize..18, offset in 1u8..11) {
            let mut bytes = id.expose().as_bytes().to_vec();
            let alphabet: &[u8] = if position == 17 { b"0123456789X" } else { b"0123456789" };
            let current = alphabet.iter().position(|&c| c == bytes[position]).expect("in alphabet");
            let replacement = alphabet[(current + usize::from(offset)) % alphabet.len()];
            prop_assume!(replacement != bytes[position]);
            bytes[position] = replacement;
            let changed = String::from_utf8(bytes).expect("ascii");
            prop_assert!(CitizenId::parse(&changed).is_err(), "accepted a changed number");
        }

        #[test]
        fn masked_forms_hide_the_birth_date(id in valid_ids()) {
            let shown = format!("{id} {id:?}");
            let birth = &id.expose()[6..14];
            prop_assert!(!shown.contains(birth));
            prop_assert!(!shown.contains(id.expose()));
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,24}") {
            let _ = CitizenId::parse(&text);
        }
    }

    #[test]
    fn finds_a_citizen_id_inside_text() {
        assert!(contains_citizen_id("11010519491231002X"));
        assert!(contains_citizen_id("BX-11010519491231002x-1"));
        assert!(!contains_citizen_id("BX-11010519491231002Y-1"));
        assert!(!contains_citizen_id("BX-2025-0001"));
        assert!(!contains_citizen_id(""));
    }
}
