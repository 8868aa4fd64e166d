//! Domain-neutral value types, parsed once at the edge of the system.
//!
//! Every type here follows "parse, don't validate": its constructor checks everything, so a
//! function that receives a [`CitizenId`], [`RegionCode`], [`Fen`] or [`BoundedText`] never
//! checks it again. Parse errors implement `Display` with an English message fit to show a
//! caseworker next to the offending form field; [`FieldViolation`] and [`Violations`] carry those
//! messages together with the dotted request path of the field.
//!
//! This crate deliberately knows nothing of protobuf, gRPC, storage or any particular
//! civil-affairs programme: it holds values and their rules, not workflows. It has no clock
//! either, so checks that need "today" (a birth date in the future, an age limit) belong to the
//! caller, which passes the date in.

pub mod citizen_id;
pub mod date;
pub mod id;
pub mod key;
pub mod money;
pub mod region;
pub mod text;
pub mod violation;

pub use citizen_id::{CitizenId, CitizenIdError, Sex, contains_citizen_id};
pub use date::{
    DateError, add_days, add_months, add_years, age_on, days_between, format_date, parse_date,
};
pub use id::IdError;
pub use key::StreamKey;
pub use money::{Fen, MoneyError, Rounding, Yuan};
pub use region::{RegionCode, RegionCodeError, RegionLevel};
pub use text::{BoundedText, TextError};
pub use violation::{FieldViolation, Parsed, Violations, field_path};
