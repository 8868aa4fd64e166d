//! Decoding stored events: the shape checks every service's event codec repeats, in one place.
//!
//! A stored event is history. A service's codec turns a stored payload back into its domain
//! event by parsing every value again into its type (codes, dates, ids, texts, known enum
//! values), so that bytes that do not describe such values are reported as
//! [`CodecError::Invalid`]. It does not check the rules commands check (how long a period is,
//! how ids relate, what a capacity may be): those are decided when deciding, so a changed law
//! never makes stored history unreadable. [`Decoder`] carries the event type into each error.
//! Text is decoded with a generous limit ([`STORED_TEXT_MAX_CHARS`]) rather than the request
//! edge's, for the same reason.

use minzheng_kit::aggregate::CodecError;
use minzheng_proto::{common::v1 as common, convert};
use minzheng_types::{BoundedText, CitizenId, Fen, RegionCode};
use prost::Message;
use time::Date;

/// The longest text a stored event may carry, in characters.
pub const STORED_TEXT_MAX_CHARS: usize = 100_000;

/// Parses the values of one stored event, reporting failures against its type.
#[derive(Debug, Clone, Copy)]
pub struct Decoder<'a> {
    event_type: &'a str,
}

impl<'a> Decoder<'a> {
    /// A decoder for an event of `event_type`, refusing any schema version but `supported`.
    pub fn new(
        event_type: &'a str,
        schema_version: u32,
        supported: u32,
    ) -> Result<Self, CodecError> {
        if schema_version != supported {
            return Err(CodecError::UnsupportedVersion {
                event_type: event_type.to_owned(),
                schema_version,
            });
        }
        Ok(Self { event_type })
    }

    /// The error for a value that is not what the domain allows.
    pub fn invalid(&self, reason: impl Into<String>) -> CodecError {
        CodecError::Invalid {
            event_type: self.event_type.to_owned(),
            reason: reason.into(),
        }
    }

    /// The protobuf message in `payload`.
    pub fn message<M: Message + Default>(&self, payload: &[u8]) -> Result<M, CodecError> {
        M::decode(payload).map_err(|e| self.invalid(e.to_string()))
    }

    /// A required region code.
    pub fn code(
        &self,
        field: &str,
        code: &Option<common::RegionCode>,
    ) -> Result<RegionCode, CodecError> {
        convert::region_code(field, code).map_err(|v| self.invalid(v.to_string()))
    }

    /// Region codes (a repeated field), each required to be a code.
    pub fn codes(
        &self,
        field: &str,
        codes: &[common::RegionCode],
    ) -> Result<Vec<RegionCode>, CodecError> {
        codes
            .iter()
            .map(|c| self.code(field, &Some(c.clone())))
            .collect()
    }

    /// A required date.
    pub fn date(&self, field: &str, date: &Option<common::Date>) -> Result<Date, CodecError> {
        convert::date(field, date).map_err(|v| self.invalid(v.to_string()))
    }

    /// An optional date: absent (or all zero) is `None`.
    pub fn optional_date(
        &self,
        field: &str,
        date: &Option<common::Date>,
    ) -> Result<Option<Date>, CodecError> {
        match date {
            None => Ok(None),
            Some(d) if (d.year, d.month, d.day) == (0, 0, 0) => Ok(None),
            Some(_) => self.date(field, date).map(Some),
        }
    }

    /// A required citizen id number; the error never quotes it.
    pub fn citizen(
        &self,
        field: &str,
        citizen: &Option<common::CitizenRef>,
    ) -> Result<CitizenId, CodecError> {
        convert::citizen_id(field, citizen).map_err(|v| self.invalid(v.to_string()))
    }

    /// A required amount, not negative.
    pub fn money(&self, field: &str, money: &Option<common::Money>) -> Result<Fen, CodecError> {
        convert::money_non_negative(field, money).map_err(|v| self.invalid(v.to_string()))
    }

    /// Required text.
    pub fn text(&self, field: &str, text: &str) -> Result<BoundedText, CodecError> {
        BoundedText::parse(text, STORED_TEXT_MAX_CHARS)
            .map_err(|e| self.invalid(format!("{field}: {e}")))
    }

    /// Optional text: empty is `None`.
    pub fn optional_text(
        &self,
        field: &str,
        text: &str,
    ) -> Result<Option<BoundedText>, CodecError> {
        BoundedText::parse_optional(text, STORED_TEXT_MAX_CHARS)
            .map_err(|e| self.invalid(format!("{field}: {e}")))
    }

    /// Any value parsed by `parse`, its error reported on `field`.
    pub fn parse<T, E: std::fmt::Display>(
        &self,
        field: &str,
        result: Result<T, E>,
    ) -> Result<T, CodecError> {
        result.map_err(|e| self.invalid(format!("{field}: {e}")))
    }
}

/// An optional text as its message field: empty when absent.
pub fn optional_text(text: Option<&BoundedText>) -> String {
    text.map_or_else(String::new, |t| t.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_event_type_and_field_and_never_the_citizen_id() {
        let d = Decoder::new("minzheng.x.v1.Thing", 1, 1).expect("supported");
        let bad = Some(common::CitizenRef {
            citizen_id: "110105194912310021".into(),
        });
        let error = d.citizen("party", &bad).expect_err("wrong check digit");
        let message = error.to_string();
        assert!(message.contains("minzheng.x.v1.Thing"), "{message}");
        assert!(message.contains("party.citizen_id"), "{message}");
        assert!(!message.contains("110105194912310021"), "{message}");
        assert!(matches!(
            Decoder::new("minzheng.x.v1.Thing", 2, 1),
            Err(CodecError::UnsupportedVersion { .. })
        ));
        assert_eq!(d.optional_date("d", &None).ok(), Some(None));
        assert!(d.text("t", "").is_err());
        assert_eq!(d.optional_text("t", "").ok(), Some(None));
    }
}
