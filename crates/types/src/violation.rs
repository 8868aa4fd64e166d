//! Field violations: which input field broke which rule, collected so a form can show every
//! problem at once.
//!
//! A [`FieldViolation`] names the field by its dotted request path (`person.citizen_id`,
//! `members.2.income.fen`) and describes the rule in an English sentence fragment fit for a
//! caseworker ("must be 18 characters long, got 17"); together they read as
//! `person.citizen_id: must be 18 characters long, got 17`. [`Violations`] gathers them while a
//! request is parsed.
//!
//! This module does not know about gRPC: the service kit turns [`Violations`] into
//! `INVALID_ARGUMENT` with `google.rpc.BadRequest` details, one field violation each.

use std::fmt;

/// One input field that broke one rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldViolation {
    /// The dotted request path of the field, e.g. `person.citizen_id`.
    pub field: String,
    /// What rule the value broke, e.g. `must be 18 characters long, got 17`.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field` described by `description`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }

    /// A required field that is missing or empty.
    pub fn required(field: impl Into<String>) -> Self {
        Self::new(field, "is required")
    }
}

impl fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

impl std::error::Error for FieldViolation {}

/// Joins a parent path and a field name with a dot; an empty parent gives the bare name.
pub fn field_path(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_owned()
    } else {
        format!("{parent}.{field}")
    }
}

/// A collection of field violations, in the order they were found.
///
/// ```
/// use minzheng_types::{CitizenId, Fen, Violations};
///
/// let mut violations = Violations::new();
/// let id = violations.check("person.citizen_id", CitizenId::parse("123"));
/// let amount = violations.check("amount", Fen::parse_yuan_non_negative("665.5"));
/// assert!(id.is_none());
/// assert_eq!(amount, Some(Fen::new(66_550)));
/// let error = violations.into_result().unwrap_err();
/// assert_eq!(error.to_string(), "person.citizen_id: must be 18 characters long, got 3");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` broke the rule `description`.
    pub fn push(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Records a violation found elsewhere (e.g. by a conversion that already knows the path).
    pub fn add(&mut self, violation: FieldViolation) {
        self.0.push(violation);
    }

    /// Passes the value of a successful parse through; records a failed one against `field`,
    /// described by the error's `Display`, and returns `None`.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.push(field, error.to_string());
                None
            }
        }
    }

    /// Like [`Violations::check`] for a result whose error already is a [`FieldViolation`].
    pub fn record<T>(&mut self, result: Result<T, FieldViolation>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(violation) => {
                self.add(violation);
                None
            }
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many violations were recorded.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The violations, in the order found.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldViolation> {
        self.0.iter()
    }

    /// `Ok(())` when nothing was recorded, else `Err(self)`.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    /// The violations as a vector.
    pub fn into_vec(self) -> Vec<FieldViolation> {
        self.0
    }

    /// The end of parsing a request: every value parsed, or every violation recorded.
    ///
    /// `parsed` is what the field parsers returned (one `Option`, or a tuple of up to eight);
    /// each parser records why it gives `None`, so with no violation every value is there.
    /// A parser that gave `None` without saying why is a bug; it is reported as a violation of
    /// the request as a whole rather than a panic.
    ///
    /// ```
    /// use minzheng_types::{Fen, Violations};
    ///
    /// let mut violations = Violations::new();
    /// let amount = violations.check("amount", Fen::parse_yuan_non_negative("1.5"));
    /// let other = violations.check("other", Fen::parse_yuan_non_negative("2"));
    /// let (amount, other) = violations.finish((amount, other)).expect("both parsed");
    /// assert_eq!((amount, other), (Fen::new(150), Fen::new(200)));
    /// ```
    pub fn finish<P: Parsed>(self, parsed: P) -> Result<P::Value, Self> {
        self.into_result()?;
        parsed
            .complete()
            .ok_or_else(|| FieldViolation::new("request", "could not be parsed").into())
    }
}

/// The values field parsers return, complete when every one is there: see
/// [`Violations::finish`].
pub trait Parsed {
    /// The values, unwrapped.
    type Value;

    /// The values when every one is there.
    fn complete(self) -> Option<Self::Value>;
}

impl<T> Parsed for Option<T> {
    type Value = T;

    fn complete(self) -> Option<T> {
        self
    }
}

macro_rules! parsed_tuple {
    ($($name:ident),+) => {
        impl<$($name),+> Parsed for ($(Option<$name>,)+) {
            type Value = ($($name,)+);

            #[allow(non_snake_case)]
            fn complete(self) -> Option<Self::Value> {
                let ($($name,)+) = self;
                Some(($($name?,)+))
            }
        }
    };
}

parsed_tuple!(A);
parsed_tuple!(A, B);
parsed_tuple!(A, B, C);
parsed_tuple!(A, B, C, D);
parsed_tuple!(A, B, C, D, E);
parsed_tuple!(A, B, C, D, E, F);
parsed_tuple!(A, B, C, D, E, F, G);
parsed_tuple!(A, B, C, D, E, F, G, H);

impl From<FieldViolation> for Violations {
    fn from(violation: FieldViolation) -> Self {
        Self(vec![violation])
    }
}

impl IntoIterator for Violations {
    type Item = FieldViolation;
    type IntoIter = std::vec::IntoIter<FieldViolation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a FieldViolation;
    type IntoIter = std::slice::Iter<'a, FieldViolation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, violation) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CitizenId, RegionCode, TextError};

    #[test]
    fn finish_gives_every_value_or_every_violation() {
        let mut violations = Violations::new();
        let region = violations.check("region.code", RegionCode::parse("210502000000"));
        let id = violations.check("person.citizen_id", CitizenId::parse("1"));
        let text = violations.check::<(), _>("remark", Err(TextError::Empty));
        let error = violations
            .finish((region, id, text))
            .expect_err("two bad fields");
        let fields: Vec<&str> = error.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["person.citizen_id", "remark"]);

        let mut violations = Violations::new();
        let region = violations.check("region.code", RegionCode::parse("210502000000"));
        let (region,) = Violations::new().finish((region,)).expect("parsed");
        assert_eq!(region.to_string(), "210502000000");
        // A parser that gave nothing without saying why is reported, not unwrapped.
        let error = violations.finish(None::<u8>).expect_err("nothing parsed");
        assert_eq!(error.to_string(), "request: could not be parsed");
    }

    #[test]
    fn collects_every_violation_in_order() {
        let mut violations = Violations::new();
        let id = violations.check("person.citizen_id", CitizenId::parse("110105491231002"));
        let region = violations.check("region.code", RegionCode::parse("210502001000"));
        let text = violations.check::<(), _>("remark", Err(TextError::Empty));
        violations.push("members", "must list at least one person");
        violations.record::<()>(Err(FieldViolation::required("amount.fen")));
        assert!(id.is_none() && text.is_none());
        assert!(region.is_some());
        assert_eq!(violations.len(), 4);
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            ["person.citizen_id", "remark", "members", "amount.fen"]
        );
        assert_eq!(
            violations.iter().next().map(|v| v.description.clone()),
            Some(crate::CitizenIdError::Legacy15.to_string())
        );
        let error = violations
            .into_result()
            .expect_err("violations were recorded");
        assert!(
            error
                .to_string()
                .starts_with("person.citizen_id: is a 15-digit legacy")
        );
        assert!(error.to_string().ends_with("; amount.fen: is required"));
    }

    #[test]
    fn no_violations_is_ok() {
        let mut violations = Violations::new();
        assert_eq!(
            violations.check("amount", crate::Fen::non_negative(5)),
            Some(crate::Fen::new(5))
        );
        assert!(violations.is_empty());
        assert_eq!(violations.into_result(), Ok(()));
    }

    #[test]
    fn paths_join_with_dots() {
        assert_eq!(field_path("person", "citizen_id"), "person.citizen_id");
        assert_eq!(field_path("", "citizen_id"), "citizen_id");
        assert_eq!(
            FieldViolation::required("a.b").to_string(),
            "a.b: is required"
        );
    }
}
