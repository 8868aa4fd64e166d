//! A county's verification thresholds as effective-dated policy (stream `thresholds-<county>`):
//! the limits the household verification flags against — properties, a vehicle's value,
//! financial assets in months of the dibao standard, a business's capital — and how old an
//! agency's data may be before it is stale. Each is recorded as a new version from a day, with
//! the decision that set it; none is ever edited.

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{BoundedText, Fen, RegionCode, RegionLevel};
use time::Date;

/// The limits, as one version records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    /// More properties than this in the household is flagged.
    pub max_properties: u32,
    /// A vehicle worth more than this is flagged.
    pub vehicle_value_limit: Fen,
    /// Deposits and securities per person above this many months of the dibao standard are
    /// flagged.
    pub financial_assets_limit_months: u32,
    /// A business with registered capital above this is flagged (zero: any business).
    pub business_capital_limit: Fen,
    /// An agency's data older than this many days is stale.
    pub max_source_age_days: u32,
}

/// Bounds of the settings.
pub const MAX_SOURCE_AGE_DAYS: u32 = 3650;
pub const MAX_FINANCIAL_MONTHS: u32 = 600;
pub const MAX_PROPERTIES: u32 = 100;

/// Records a new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordThresholds {
    pub county: RegionCode,
    pub thresholds: Thresholds,
    pub effective_from: Date,
    pub decided_by: BoundedText,
    /// Today.
    pub recorded_on: Date,
}

/// A recorded version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdsRecorded {
    pub county: RegionCode,
    /// 1-based ordinal in the county's stream.
    pub number: u32,
    pub thresholds: Thresholds,
    pub effective_from: Date,
    pub decided_by: BoundedText,
    pub recorded_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Recorded(ThresholdsRecorded),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Record(RecordThresholds),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("thresholds are set for county-level divisions")]
    NotACounty,
    #[error("this stream holds another county's thresholds")]
    WrongCounty,
    #[error("thresholds cannot take effect before the day they are recorded")]
    BackDated,
    #[error(
        "a new version cannot take effect before the latest version's first day ({0}): record \
         one from that day or later"
    )]
    BeforeLatest(Date),
    #[error("max_source_age_days must be 1 to {MAX_SOURCE_AGE_DAYS}")]
    SourceAge,
    #[error("financial_assets_limit_months must be 1 to {MAX_FINANCIAL_MONTHS}")]
    FinancialMonths,
    #[error("max_properties must be at most {MAX_PROPERTIES}")]
    Properties,
    #[error("limits must not be negative")]
    NegativeLimit,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotACounty => "not_a_county",
            Error::WrongCounty => "wrong_county",
            Error::BackDated => "back_dated",
            Error::BeforeLatest(_) => "before_latest_version",
            Error::SourceAge => "source_age_out_of_range",
            Error::FinancialMonths => "financial_months_out_of_range",
            Error::Properties => "properties_out_of_range",
            Error::NegativeLimit => "negative_limit",
        }
    }
}

/// A county's versions, in the order recorded.
#[derive(Debug, Clone, Default)]
pub struct CountyThresholds {
    pub county: Option<RegionCode>,
    pub versions: Vec<ThresholdsRecorded>,
}

impl CountyThresholds {
    /// The version in force on `day`: the latest recorded whose first day is on or before it.
    pub fn in_force(&self, day: Date) -> Option<&ThresholdsRecorded> {
        self.versions
            .iter()
            .filter(|v| v.effective_from <= day)
            .max_by_key(|v| (v.effective_from, v.number))
    }

    /// [`CountyThresholds::in_force`] among the versions recorded by `recorded_by` (their
    /// stream position): what the county's thresholds were as known then.
    pub fn in_force_as_known(
        &self,
        day: Date,
        known: impl Fn(&ThresholdsRecorded) -> bool,
    ) -> Option<&ThresholdsRecorded> {
        self.versions
            .iter()
            .filter(|v| v.effective_from <= day && known(v))
            .max_by_key(|v| (v.effective_from, v.number))
    }
}

fn check(c: &RecordThresholds) -> Result<(), Error> {
    let t = &c.thresholds;
    if c.county.level() != RegionLevel::County {
        return Err(Error::NotACounty);
    }
    if c.effective_from < c.recorded_on {
        return Err(Error::BackDated);
    }
    if !(1..=MAX_SOURCE_AGE_DAYS).contains(&t.max_source_age_days) {
        return Err(Error::SourceAge);
    }
    if !(1..=MAX_FINANCIAL_MONTHS).contains(&t.financial_assets_limit_months) {
        return Err(Error::FinancialMonths);
    }
    if t.max_properties > MAX_PROPERTIES {
        return Err(Error::Properties);
    }
    if t.vehicle_value_limit.is_negative() || t.business_capital_limit.is_negative() {
        return Err(Error::NegativeLimit);
    }
    Ok(())
}

impl Aggregate for CountyThresholds {
    const CATEGORY: &'static str = "thresholds";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Command::Record(c) = command;
        if self.county.is_some_and(|county| county != c.county) {
            return Err(Error::WrongCounty);
        }
        check(c)?;
        if let Some(latest) = self.versions.iter().map(|v| v.effective_from).max()
            && c.effective_from < latest
        {
            return Err(Error::BeforeLatest(latest));
        }
        let number = u32::try_from(self.versions.len())
            .map_or(u32::MAX, |recorded| recorded.saturating_add(1));
        Ok(vec![Event::Recorded(ThresholdsRecorded {
            county: c.county,
            number,
            thresholds: c.thresholds.clone(),
            effective_from: c.effective_from,
            decided_by: c.decided_by.clone(),
            recorded_on: c.recorded_on,
        })])
    }

    fn apply(mut self, event: &Event) -> Self {
        let Event::Recorded(e) = event;
        self.county = Some(e.county);
        self.versions.push(e.clone());
        self
    }
}

/// Defaults the embedded mode records for Benxi's counties (placeholders an operator replaces:
/// the plan gives no figures): one property, a vehicle worth 100,000 元, 24 months of the dibao
/// standard per person in deposits and securities, any registered business, data up to 90 days
/// old.
pub fn development_defaults() -> Thresholds {
    Thresholds {
        max_properties: 1,
        vehicle_value_limit: Fen::new(10_000_000),
        financial_assets_limit_months: 24,
        business_capital_limit: Fen::ZERO,
        max_source_age_days: crate::verification::DEFAULT_MAX_SOURCE_AGE_DAYS,
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;

    fn county() -> RegionCode {
        RegionCode::parse("210502000000").expect("valid")
    }

    fn record(from: Date, on: Date) -> Command {
        Command::Record(RecordThresholds {
            county: county(),
            thresholds: development_defaults(),
            effective_from: from,
            decided_by: BoundedText::parse("本民发〔2026〕1号", 100).expect("valid"),
            recorded_on: on,
        })
    }

    fn recorded(number: u32, from: Date, on: Date) -> Event {
        let Command::Record(c) = record(from, on);
        Event::Recorded(ThresholdsRecorded {
            county: c.county,
            number,
            thresholds: c.thresholds,
            effective_from: from,
            decided_by: c.decided_by,
            recorded_on: on,
        })
    }

    #[test]
    fn versions_are_numbered_and_the_one_in_force_is_the_latest_started() {
        let (jan, mar, jul) = (
            date!(2026 - 01 - 01),
            date!(2026 - 03 - 01),
            date!(2026 - 07 - 01),
        );
        let state = given::<CountyThresholds>([recorded(1, jan, jan)])
            .when(record(jul, mar))
            .then([recorded(2, jul, mar)]);
        assert_eq!(
            state.in_force(date!(2026 - 06 - 30)).map(|v| v.number),
            Some(1)
        );
        assert_eq!(state.in_force(jul).map(|v| v.number), Some(2));
        assert!(state.in_force(date!(2025 - 12 - 31)).is_none());
    }

    #[test]
    fn a_version_is_never_back_dated_nor_put_before_the_latest() {
        given::<CountyThresholds>([])
            .when(record(date!(2026 - 01 - 01), date!(2026 - 01 - 02)))
            .then_refused("back_dated");
        let jul = date!(2026 - 07 - 01);
        given::<CountyThresholds>([recorded(1, jul, date!(2026 - 01 - 02))])
            .when(record(date!(2026 - 03 - 01), date!(2026 - 01 - 02)))
            .then_refused("before_latest_version");
    }

    #[test]
    fn limits_out_of_range_are_refused() {
        let mut command = record(date!(2026 - 01 - 01), date!(2026 - 01 - 01));
        let Command::Record(c) = &mut command;
        c.thresholds.max_source_age_days = 0;
        given::<CountyThresholds>([])
            .when(command)
            .then_refused("source_age_out_of_range");
    }
}
