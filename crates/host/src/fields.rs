//! Field parsers for request messages, as methods on [`Violations`]: each parses one field of
//! a common message into its value, or records a violation named by the field's path (and the
//! rule it broke) and gives `None`. A handler parses every field, then
//! [`Violations::finish`] gives every value or INVALID_ARGUMENT naming every bad field:
//!
//! ```ignore
//! let mut violations = Violations::new();
//! let registry = violations.region("registry", &body.registry);
//! let day = violations.date("day", &body.day);
//! let id = violations.id("appointment_id", &body.appointment_id, AppointmentId::parse);
//! let (registry, day, id) = violations.finish((registry, day, id))?;
//! ```
//!
//! Parsers of a service's own messages take `&mut Violations` the same way and live in its
//! `grpc` module.

use std::fmt::Display;

use minzheng_proto::{common::v1 as common, convert};
use minzheng_types::{BoundedText, CitizenId, FieldViolation, RegionCode, RegionLevel, Violations};
use time::Date;

/// The field parsers; `use minzheng_host::fields::Fields as _` to call them on [`Violations`].
pub trait Fields {
    /// Required text of at most `max` characters.
    fn text(&mut self, field: &str, value: &str, max: usize) -> Option<BoundedText>;

    /// A required date.
    fn date(&mut self, field: &str, value: &Option<common::Date>) -> Option<Date>;

    /// A date, or `default` when absent (e.g. today for a query's `as_of`).
    fn date_or(&mut self, field: &str, value: &Option<common::Date>, default: Date)
    -> Option<Date>;

    /// An optional date: absent (or proto3's all-zero empty message) is `Some(None)`.
    fn optional_date(&mut self, field: &str, value: &Option<common::Date>) -> Option<Option<Date>>;

    /// A required citizen id number; a violation never quotes it.
    fn citizen(&mut self, field: &str, value: &Option<common::CitizenRef>) -> Option<CitizenId>;

    /// A required division code.
    fn region(&mut self, field: &str, value: &Option<common::RegionCode>) -> Option<RegionCode>;

    /// A required identifier, parsed by `parse` (e.g. `AppointmentId::parse`); empty is
    /// "is required", a malformed one is described by the parser's error.
    fn id<T, E: Display>(
        &mut self,
        field: &str,
        value: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T>;

    /// A required division code of one of `levels`; a violation names the levels and gives
    /// `example`.
    fn region_at(
        &mut self,
        field: &str,
        value: &Option<common::RegionCode>,
        levels: &[RegionLevel],
        example: &str,
    ) -> Option<RegionCode>;

    /// The date of a fact: given, and not after `today`.
    fn past_date(&mut self, field: &str, value: &Option<common::Date>, today: Date)
    -> Option<Date>;

    /// A known value of an enum field (`parsed`), or a violation naming the `values` allowed.
    fn known<T>(&mut self, field: &str, parsed: Option<T>, values: &str) -> Option<T>;
}

/// "township-level", as the violations name a level.
pub fn level_name(level: RegionLevel) -> &'static str {
    match level {
        RegionLevel::Province => "province-level",
        RegionLevel::City => "city-level",
        RegionLevel::County => "county-level",
        RegionLevel::Township => "township-level",
        RegionLevel::Village => "village-level",
    }
}

impl Fields for Violations {
    fn text(&mut self, field: &str, value: &str, max: usize) -> Option<BoundedText> {
        self.record(convert::bounded_text(field, value, max))
    }

    fn date(&mut self, field: &str, value: &Option<common::Date>) -> Option<Date> {
        self.record(convert::date(field, value))
    }

    fn date_or(
        &mut self,
        field: &str,
        value: &Option<common::Date>,
        default: Date,
    ) -> Option<Date> {
        match value {
            None => Some(default),
            Some(_) => self.date(field, value),
        }
    }

    fn optional_date(&mut self, field: &str, value: &Option<common::Date>) -> Option<Option<Date>> {
        match value {
            None => Some(None),
            Some(d) if (d.year, d.month, d.day) == (0, 0, 0) => Some(None),
            Some(_) => self.date(field, value).map(Some),
        }
    }

    fn citizen(&mut self, field: &str, value: &Option<common::CitizenRef>) -> Option<CitizenId> {
        self.record(convert::citizen_id(field, value))
    }

    fn region(&mut self, field: &str, value: &Option<common::RegionCode>) -> Option<RegionCode> {
        self.record(convert::region_code(field, value))
    }

    fn id<T, E: Display>(
        &mut self,
        field: &str,
        value: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        if value.is_empty() {
            self.add(FieldViolation::required(field));
            return None;
        }
        self.check(field, parse(value))
    }

    fn region_at(
        &mut self,
        field: &str,
        value: &Option<common::RegionCode>,
        levels: &[RegionLevel],
        example: &str,
    ) -> Option<RegionCode> {
        let code = self.region(field, value)?;
        if levels.contains(&code.level()) {
            return Some(code);
        }
        let names: Vec<&str> = levels.iter().map(|l| level_name(*l)).collect();
        self.add(FieldViolation::new(
            minzheng_types::field_path(field, "code"),
            format!("must be a {} division, e.g. {example}", names.join(" or ")),
        ));
        None
    }

    fn past_date(
        &mut self,
        field: &str,
        value: &Option<common::Date>,
        today: Date,
    ) -> Option<Date> {
        let day = self.date(field, value)?;
        if day > today {
            self.push(field, format!("must not be after today ({today})"));
            return None;
        }
        Some(day)
    }

    fn known<T>(&mut self, field: &str, parsed: Option<T>, values: &str) -> Option<T> {
        if parsed.is_none() {
            self.push(field, format!("must be {values}"));
        }
        parsed
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn every_bad_field_is_named_and_good_ones_parse() {
        let mut violations = Violations::new();
        let text = violations.text("name", "", 10);
        let day = violations.date("day", &Some(date!(2025 - 02 - 28).into()));
        let default = violations.date_or("as_of", &None, date!(2025 - 07 - 01));
        let none = violations.optional_date(
            "ended_on",
            &Some(common::Date {
                year: 0,
                month: 0,
                day: 0,
            }),
        );
        let citizen = violations.citizen(
            "citizen",
            &Some(common::CitizenRef {
                citizen_id: "110105194912310021".into(),
            }),
        );
        let region = violations.region(
            "registry",
            &Some(common::RegionCode {
                code: "210502000000".into(),
            }),
        );
        let missing = violations.id("appointment_id", "", |v: &str| Ok::<_, String>(v.len()));
        let bad = violations.id("marriage_id", "x", |_: &str| {
            Err::<usize, _>("is not an id")
        });
        assert!(text.is_none() && citizen.is_none() && missing.is_none() && bad.is_none());
        assert_eq!(day, Some(date!(2025 - 02 - 28)));
        assert_eq!(default, Some(date!(2025 - 07 - 01)));
        assert_eq!(none, Some(None));
        assert_eq!(
            region.map(|r| r.to_string()).as_deref(),
            Some("210502000000")
        );
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "citizen.citizen_id",
                "appointment_id",
                "marriage_id"
            ]
        );
        assert!(!violations.to_string().contains("110105194912310021"));
    }
}
