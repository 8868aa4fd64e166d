//! Conversions between the common messages (`minzheng.common.v1`) and `minzheng-types` values.
//!
//! Inbound, each function takes the dotted request path of the field and the message as prost
//! generated it (`&Option<M>` for a message field), and returns the parsed value or a
//! [`FieldViolation`] on the offending leaf field, e.g. `person.citizen_id`: "is required" when the
//! message or its value is missing, else the value type's own description of the rule that was
//! broken. Collect several with [`minzheng_types::Violations::record`]:
//!
//! ```
//! use minzheng_proto::{common::v1 as common, convert};
//! use minzheng_types::Violations;
//!
//! let person = Some(common::CitizenRef { citizen_id: "11010519491231002X".into() });
//! let amount = None;
//! let mut violations = Violations::new();
//! let id = violations.record(convert::citizen_id("person", &person));
//! let fen = violations.record(convert::money_non_negative("amount", &amount));
//! assert!(id.is_some() && fen.is_none());
//! assert_eq!(violations.to_string(), "amount.fen: is required");
//! ```
//!
//! Outbound, `From` implementations turn values back into messages.
//!
//! What this module does not decide: which fields a request requires (an optional field is the
//! caller's `if let Some(..)`), field limits such as a remark's length (the caller passes them),
//! and how violations become a gRPC status (the service kit's job).

use minzheng_types::{
    BoundedText, CitizenId, Fen, FieldViolation, RegionCode, RegionLevel, Sex, field_path,
};
use time::Month;

use crate::common::v1 as common;

/// The citizen identity number in `person` (a `CitizenRef` at path `parent`); violations are
/// reported on `{parent}.citizen_id`.
pub fn citizen_id(
    parent: &str,
    person: &Option<common::CitizenRef>,
) -> Result<CitizenId, FieldViolation> {
    // The path is made only for a violation: this runs for every id of every stored event read.
    let field = || field_path(parent, "citizen_id");
    match person {
        Some(person) if !person.citizen_id.is_empty() => CitizenId::parse(&person.citizen_id)
            .map_err(|e| FieldViolation::new(field(), e.to_string())),
        _ => Err(FieldViolation::required(field())),
    }
}

/// The region code in `region` (a `RegionCode` message at path `parent`); violations are reported
/// on `{parent}.code`. Only 12-digit codes are accepted.
pub fn region_code(
    parent: &str,
    region: &Option<common::RegionCode>,
) -> Result<RegionCode, FieldViolation> {
    let field = || field_path(parent, "code");
    match region {
        Some(region) if !region.code.is_empty() => {
            RegionCode::parse(&region.code).map_err(|e| FieldViolation::new(field(), e.to_string()))
        }
        _ => Err(FieldViolation::required(field())),
    }
}

/// An amount entered by a person or another system, refused when negative; violations are
/// reported on `{parent}.fen`. A present message with `fen: 0` is zero, not missing.
pub fn money_non_negative(
    parent: &str,
    money: &Option<common::Money>,
) -> Result<Fen, FieldViolation> {
    let field = || field_path(parent, "fen");
    match money {
        Some(money) => {
            Fen::non_negative(money.fen).map_err(|e| FieldViolation::new(field(), e.to_string()))
        }
        None => Err(FieldViolation::required(field())),
    }
}

/// An amount that may be negative (a correction, a difference); violations are reported on
/// `{parent}.fen`.
pub fn money(parent: &str, money: &Option<common::Money>) -> Result<Fen, FieldViolation> {
    match money {
        Some(money) => Ok(Fen::new(money.fen)),
        None => Err(FieldViolation::required(field_path(parent, "fen"))),
    }
}

/// The calendar date in `date` (a `Date` message at path `field`); violations are reported on
/// `field` itself, since a date is wrong as a whole. An absent message or one with every part
/// zero is missing; a partial date is refused.
pub fn date(field: &str, date: &Option<common::Date>) -> Result<time::Date, FieldViolation> {
    let Some(date) = date else {
        return Err(FieldViolation::required(field));
    };
    if (date.year, date.month, date.day) == (0, 0, 0) {
        return Err(FieldViolation::required(field));
    }
    if date.year == 0 || date.month == 0 || date.day == 0 {
        return Err(FieldViolation::new(
            field,
            "must give the year, the month and the day",
        ));
    }
    if !(1..=9999).contains(&date.year) {
        return Err(FieldViolation::new(
            field,
            "the year must be between 1 and 9999",
        ));
    }
    let not_a_date = || FieldViolation::new(field, "is not a real calendar date");
    let month = u8::try_from(date.month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(not_a_date)?;
    let day = u8::try_from(date.day).map_err(|_| not_a_date())?;
    time::Date::from_calendar_date(date.year, month, day).map_err(|_| not_a_date())
}

/// Required free text of at most `max_chars` characters; see [`BoundedText`]. Violations are
/// reported on `field`.
pub fn bounded_text(
    field: &str,
    text: &str,
    max_chars: usize,
) -> Result<BoundedText, FieldViolation> {
    BoundedText::parse(text, max_chars).map_err(|e| match e {
        minzheng_types::TextError::Empty => FieldViolation::required(field),
        other => FieldViolation::new(field, other.to_string()),
    })
}

/// Optional free text: empty or whitespace-only is `None`; otherwise as [`bounded_text`].
pub fn optional_text(
    field: &str,
    text: &str,
    max_chars: usize,
) -> Result<Option<BoundedText>, FieldViolation> {
    BoundedText::parse_optional(text, max_chars)
        .map_err(|e| FieldViolation::new(field, e.to_string()))
}

impl From<&CitizenId> for common::CitizenRef {
    fn from(id: &CitizenId) -> Self {
        Self {
            citizen_id: id.expose().to_owned(),
        }
    }
}

impl From<RegionCode> for common::RegionCode {
    fn from(code: RegionCode) -> Self {
        Self {
            code: code.to_string(),
        }
    }
}

impl From<Fen> for common::Money {
    fn from(amount: Fen) -> Self {
        Self { fen: amount.fen() }
    }
}

impl From<time::Date> for common::Date {
    fn from(date: time::Date) -> Self {
        Self {
            year: date.year(),
            month: i32::from(u8::from(date.month())),
            day: i32::from(date.day()),
        }
    }
}

impl From<Sex> for common::Sex {
    fn from(sex: Sex) -> Self {
        match sex {
            Sex::Male => common::Sex::Male,
            Sex::Female => common::Sex::Female,
        }
    }
}

impl From<RegionLevel> for common::RegionLevel {
    fn from(level: RegionLevel) -> Self {
        match level {
            RegionLevel::Province => common::RegionLevel::Province,
            RegionLevel::City => common::RegionLevel::City,
            RegionLevel::County => common::RegionLevel::County,
            RegionLevel::Township => common::RegionLevel::Township,
            RegionLevel::Village => common::RegionLevel::Village,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const ID: &str = "11010519491231002X";

    fn person(id: &str) -> Option<common::CitizenRef> {
        Some(common::CitizenRef {
            citizen_id: id.to_owned(),
        })
    }

    fn violation(field: &str, description: &str) -> FieldViolation {
        FieldViolation::new(field, description)
    }

    #[test]
    fn citizen_id_parses_or_names_the_leaf_field() {
        let id = citizen_id("person", &person("11010519491231002x")).expect("valid");
        assert_eq!(id.expose(), ID);
        assert_eq!(
            citizen_id("person", &None),
            Err(FieldViolation::required("person.citizen_id"))
        );
        assert_eq!(
            citizen_id("person", &person("")),
            Err(FieldViolation::required("person.citizen_id"))
        );
        let wrong = citizen_id("applicant", &person("110105194912310021")).expect_err("bad check");
        assert_eq!(wrong.field, "applicant.citizen_id");
        assert_eq!(
            wrong.description,
            minzheng_types::CitizenIdError::CheckCharacterMismatch.to_string()
        );
        assert!(!wrong.to_string().contains("110105194912310021"));
        assert_eq!(
            citizen_id("", &None).expect_err("missing").field,
            "citizen_id"
        );
    }

    #[test]
    fn region_code_parses_or_names_the_leaf_field() {
        let region = Some(common::RegionCode {
            code: "210502001000".to_owned(),
        });
        let code = region_code("region", &region).expect("valid");
        assert_eq!(code.level(), RegionLevel::Township);
        assert_eq!(
            region_code("region", &None),
            Err(FieldViolation::required("region.code"))
        );
        let short = Some(common::RegionCode {
            code: "210502".to_owned(),
        });
        assert_eq!(
            region_code("region", &short),
            Err(violation(
                "region.code",
                "must be 12 digits long, got 6 characters"
            ))
        );
    }

    #[test]
    fn money_refuses_negatives_only_where_asked() {
        let minus = Some(common::Money { fen: -1 });
        let zero = Some(common::Money { fen: 0 });
        assert_eq!(
            money_non_negative("amount", &minus),
            Err(violation("amount.fen", "must not be negative"))
        );
        assert_eq!(money_non_negative("amount", &zero), Ok(Fen::ZERO));
        assert_eq!(
            money_non_negative("amount", &None),
            Err(FieldViolation::required("amount.fen"))
        );
        assert_eq!(money("delta", &minus), Ok(Fen::new(-1)));
        assert_eq!(
            money("delta", &None),
            Err(FieldViolation::required("delta.fen"))
        );
    }

    #[test]
    fn dates_must_be_whole_and_real() {
        let make = |year, month, day| Some(common::Date { year, month, day });
        assert_eq!(
            date("birth_date", &make(2024, 2, 29)),
            Ok(date!(2024 - 02 - 29))
        );
        assert_eq!(
            date("birth_date", &None),
            Err(FieldViolation::required("birth_date"))
        );
        assert_eq!(
            date("birth_date", &make(0, 0, 0)),
            Err(FieldViolation::required("birth_date"))
        );
        assert_eq!(
            date("birth_date", &make(2024, 0, 1)),
            Err(violation(
                "birth_date",
                "must give the year, the month and the day"
            ))
        );
        for (year, month, day) in [(2023, 2, 29), (2024, 13, 1), (2024, 1, 300), (2024, -1, 1)] {
            assert_eq!(
                date("birth_date", &make(year, month, day)),
                Err(violation("birth_date", "is not a real calendar date")),
                "{year}-{month}-{day}"
            );
        }
        assert_eq!(
            date("birth_date", &make(10_000, 1, 1)),
            Err(violation(
                "birth_date",
                "the year must be between 1 and 9999"
            ))
        );
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        let text = bounded_text("name", " 张三 ", 4).expect("valid");
        assert_eq!(text.as_str(), "张三");
        assert_eq!(
            bounded_text("name", "  ", 4),
            Err(FieldViolation::required("name"))
        );
        assert_eq!(
            bounded_text("name", "张三李四王五", 4),
            Err(violation(
                "name",
                "must be at most 4 characters long, got 6"
            ))
        );
        assert_eq!(optional_text("remark", "", 4), Ok(None));
        assert_eq!(
            optional_text("remark", "a\u{7}", 4).map(|t| t.is_some()),
            Err(violation(
                "remark",
                "contains a control character at position 2; only line breaks and tabs are allowed"
            ))
        );
    }

    #[test]
    fn values_convert_back_to_messages_that_parse_again() {
        let id = CitizenId::parse(ID).expect("valid");
        let message = common::CitizenRef::from(&id);
        assert_eq!(message.citizen_id, ID);
        assert_eq!(citizen_id("p", &Some(message)), Ok(id.clone()));

        let code = RegionCode::parse("419001000000").expect("valid");
        let message = common::RegionCode::from(code);
        assert_eq!(message.code, "419001000000");
        assert_eq!(region_code("r", &Some(message)), Ok(code));

        let amount = Fen::new(66_550);
        assert_eq!(common::Money::from(amount).fen, 66_550);

        let day = date!(1949 - 12 - 31);
        let message = common::Date::from(day);
        assert_eq!((message.year, message.month, message.day), (1949, 12, 31));
        assert_eq!(date("d", &Some(message)), Ok(day));

        assert_eq!(common::Sex::from(id.sex()), common::Sex::Female);
        assert_eq!(common::Sex::from(Sex::Male), common::Sex::Male);
        assert_eq!(
            common::RegionLevel::from(code.level()),
            common::RegionLevel::County
        );
        let all: Vec<i32> = RegionLevel::ALL
            .into_iter()
            .map(|level| common::RegionLevel::from(level) as i32)
            .collect();
        assert_eq!(all, [1, 2, 3, 4, 5]);
    }
}
