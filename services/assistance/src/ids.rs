//! The ids this service issues. None carries personal data; each keys a stream.
//!
//! | what | form | example | stream |
//! |---|---|---|---|
//! | case (an application and what follows it) | `<county 6 digits>-<category code>-<year>-<nnnnnn>` | `210502-DB-2026-000123` | `case-…` |
//! | payment cycle | `<county 6 digits>-<yyyymm>` | `210502-202607` | `cycle-…` |
//!
//! A county's standards are stream `policy-<county code>`, a township's reserve fund
//! `fund-<township code>`, a year's holiday calendar `calendar-<yyyy>`: region codes and years
//! key them.

use std::fmt;

use minzheng_types::{RegionCode, RegionLevel, StreamKey};
use time::{Date, Month};

use crate::category::Category;

/// Why a text is not one of the ids.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error(
        "must have the form <county 6 digits>-<category code>-<year>-<6 digits>, e.g. \
         210502-DB-2026-000123"
    )]
    Case,
    #[error("must have the form <county 6 digits>-<yyyymm>, e.g. 210502-202607")]
    Cycle,
}

/// An assistance case: the county that decides it, its category, the year it was filed and its
/// ordinal among that county's cases of the category that year.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId {
    county: RegionCode,
    category: Category,
    year: u16,
    ordinal: u32,
}

/// Most cases of one category one county can file in a year (six digits).
pub const MAX_CASE_ORDINAL: u32 = 999_999;

impl CaseId {
    /// `None` when `county` is not county-level, the year has not four digits or the ordinal is
    /// outside 1..=999999.
    pub fn new(county: RegionCode, category: Category, year: u16, ordinal: u32) -> Option<Self> {
        (county.level() == RegionLevel::County
            && (1000..=9999).contains(&year)
            && (1..=MAX_CASE_ORDINAL).contains(&ordinal))
        .then_some(Self {
            county,
            category,
            year,
            ordinal,
        })
    }

    /// Every case id filed under `county`, from the least to the greatest: the ids of a map
    /// ordered by case id that a county's own cases occupy, one run.
    pub fn filed_under(county: RegionCode) -> std::ops::RangeInclusive<CaseId> {
        let first = Self {
            county,
            category: Category::ALL[0],
            year: 0,
            ordinal: 0,
        };
        let last = Self {
            county,
            category: Category::ALL[Category::ALL.len() - 1],
            year: u16::MAX,
            ordinal: u32::MAX,
        };
        first..=last
    }

    pub fn parse(input: &str) -> Result<Self, FormError> {
        let mut parts = input.split('-');
        let (Some(county), Some(category), Some(year), Some(ordinal), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(FormError::Case);
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(county, 6) || !digits(year, 4) || !digits(ordinal, 6) {
            return Err(FormError::Case);
        }
        let county = RegionCode::parse(&format!("{county}000000")).map_err(|_| FormError::Case)?;
        let category = Category::from_code(category).ok_or(FormError::Case)?;
        let year = year.parse().map_err(|_| FormError::Case)?;
        let ordinal = ordinal.parse().map_err(|_| FormError::Case)?;
        Self::new(county, category, year, ordinal).ok_or(FormError::Case)
    }

    pub fn county(&self) -> RegionCode {
        self.county
    }

    pub fn category(&self) -> Category {
        self.category
    }

    pub fn year(&self) -> u16 {
        self.year
    }

    pub fn ordinal(&self) -> u32 {
        self.ordinal
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.county.to_string();
        write!(
            f,
            "{}-{}-{}-{:06}",
            &code[..6],
            self.category.code(),
            self.year,
            self.ordinal
        )
    }
}

impl fmt::Debug for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaseId({self})")
    }
}

impl StreamKey for CaseId {
    fn stream_key(&self) -> String {
        self.to_string()
    }
}

/// A county's payment cycle for one month (资金发放).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CycleId {
    county: RegionCode,
    month: Date,
}

impl CycleId {
    /// The cycle of `county` for the month containing `day`; `None` when `county` is not
    /// county-level.
    pub fn new(county: RegionCode, day: Date) -> Option<Self> {
        (county.level() == RegionLevel::County).then(|| Self {
            county,
            month: first_of_month(day),
        })
    }

    pub fn parse(input: &str) -> Result<Self, FormError> {
        let (county, month) = input.split_once('-').ok_or(FormError::Cycle)?;
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(county, 6) || !digits(month, 6) {
            return Err(FormError::Cycle);
        }
        let county = RegionCode::parse(&format!("{county}000000")).map_err(|_| FormError::Cycle)?;
        let year: i32 = month[..4].parse().map_err(|_| FormError::Cycle)?;
        let number: u8 = month[4..].parse().map_err(|_| FormError::Cycle)?;
        let month = Month::try_from(number).map_err(|_| FormError::Cycle)?;
        let first = Date::from_calendar_date(year, month, 1).map_err(|_| FormError::Cycle)?;
        Self::new(county, first).ok_or(FormError::Cycle)
    }

    pub fn county(&self) -> RegionCode {
        self.county
    }

    /// The first day of the month the cycle pays.
    pub fn month(&self) -> Date {
        self.month
    }
}

impl fmt::Display for CycleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.county.to_string();
        write!(
            f,
            "{}-{:04}{:02}",
            &code[..6],
            self.month.year(),
            u8::from(self.month.month())
        )
    }
}

impl fmt::Debug for CycleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CycleId({self})")
    }
}

impl StreamKey for CycleId {
    fn stream_key(&self) -> String {
        self.to_string()
    }
}

/// A county's payment ledger (`ledger-<county 6 digits>`, see [`crate::ledger`]): the order in
/// which its payment cycles were generated.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct LedgerId(RegionCode);

impl LedgerId {
    /// The ledger of `cycle`'s county.
    pub fn of(cycle: CycleId) -> Self {
        Self(cycle.county)
    }
}

impl StreamKey for LedgerId {
    fn stream_key(&self) -> String {
        self.0.to_string()[..6].to_owned()
    }
}

/// One recorded version of a county's standards (`policy-<county code>`, version `number`):
/// what every computed amount names, shown as `210502/7`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StandardVersion {
    pub county: RegionCode,
    /// The version's ordinal in the county's policy stream, from 1.
    pub number: u32,
}

impl fmt::Display for StandardVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", &self.county.to_string()[..6], self.number)
    }
}

impl fmt::Debug for StandardVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StandardVersion({self})")
    }
}

/// A calendar year keys the holiday calendar's stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CalendarYear(pub i32);

impl StreamKey for CalendarYear {
    fn stream_key(&self) -> String {
        format!("{:04}", self.0)
    }
}

/// The first day of the month containing `day`.
pub fn first_of_month(day: Date) -> Date {
    day.replace_day(1).expect("every month has a first day")
}

/// The first day of the month after the one containing `day`.
pub fn next_month(day: Date) -> Date {
    let first = first_of_month(day);
    let (year, month) = match first.month() {
        Month::December => (first.year() + 1, Month::January),
        other => (first.year(), other.next()),
    };
    Date::from_calendar_date(year, month, 1).expect("every month has a first day")
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn case_ids_round_trip_and_refuse_other_shapes() {
        let id = CaseId::parse("210502-DB-2026-000123").expect("valid");
        assert_eq!(id.to_string(), "210502-DB-2026-000123");
        assert_eq!(id.county().to_string(), "210502000000");
        assert_eq!(id.category(), Category::Dibao);
        assert_eq!(id.stream_key(), "210502-DB-2026-000123");
        for bad in [
            "",
            "210502-DB-2026-123",
            "210502-XX-2026-000123",
            "210500-DB-2026-000123",
            "210502-DB-2026-000000",
            "210502-DB-2026-000123-1",
            "210502199001010014",
        ] {
            assert_eq!(CaseId::parse(bad), Err(FormError::Case), "{bad:?}");
        }
    }

    #[test]
    fn cycle_ids_name_a_county_and_a_month() {
        let county = RegionCode::parse("210502000000").expect("valid");
        let id = CycleId::new(county, date!(2026 - 07 - 15)).expect("county");
        assert_eq!(id.to_string(), "210502-202607");
        assert_eq!(id.month(), date!(2026 - 07 - 01));
        assert_eq!(CycleId::parse("210502-202607"), Ok(id));
        for bad in ["210502-202613", "210502-2026", "210500-202607", "x"] {
            assert_eq!(CycleId::parse(bad), Err(FormError::Cycle), "{bad:?}");
        }
    }
}
