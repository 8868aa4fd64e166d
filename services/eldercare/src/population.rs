//! A county's elderly population (persons aged 60 or more), stream `population-<county code>`:
//! the figures reported by the statistics bureau or the household registration, each true as
//! of a day — the denominators of the plan's per-elderly indicators.
//!
//! Rules: the county is county-level; a figure for a day already reported replaces it only by a
//! new event (both are kept; the later one counts).

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{BoundedText, RegionCode, RegionLevel};
use time::Date;

/// Longest source text.
pub const SOURCE_MAX_CHARS: usize = 200;

/// One reported figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub county: RegionCode,
    pub persons: u32,
    pub as_of: Date,
    pub source: BoundedText,
}

/// A county's figures; `Default` is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Population {
    figures: Vec<Reported>,
}

impl Population {
    /// The figure true on `day`: the latest as of it (the last reported for that day).
    pub fn on(&self, day: Date) -> Option<&Reported> {
        self.figures
            .iter()
            .filter(|f| f.as_of <= day)
            .max_by_key(|f| f.as_of)
    }

    pub fn figures(&self) -> &[Reported] {
        &self.figures
    }
}

/// What happened: a figure was reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Reported(Reported),
}

/// A rule that refused a figure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("an elderly population is reported for a county-level division")]
    NotACounty,
    #[error("the command is for another county than this stream's")]
    WrongCounty,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotACounty => "not_a_county",
            Error::WrongCounty => "wrong_county",
        }
    }
}

impl Aggregate for Population {
    const CATEGORY: &'static str = "population";
    type Command = Reported;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Reported) -> Result<Vec<Event>, Error> {
        if command.county.level() != RegionLevel::County {
            return Err(Error::NotACounty);
        }
        if self
            .figures
            .first()
            .is_some_and(|f| f.county != command.county)
        {
            return Err(Error::WrongCounty);
        }
        Ok(vec![Event::Reported(command.clone())])
    }

    fn apply(mut self, Event::Reported(event): &Event) -> Self {
        // Kept in as_of order, a later report of the same day after the earlier one.
        let at = self.figures.partition_point(|f| f.as_of <= event.as_of);
        self.figures.insert(at, event.clone());
        self
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;

    fn reported(persons: u32, as_of: Date) -> Reported {
        Reported {
            county: RegionCode::parse("210502000000").expect("valid"),
            persons,
            as_of,
            source: BoundedText::parse("统计局", 200).expect("valid"),
        }
    }

    #[test]
    fn the_figure_on_a_day_is_the_latest_as_of_it() {
        let given = given::<Population>([
            Event::Reported(reported(100, date!(2021 - 12 - 31))),
            Event::Reported(reported(90, date!(2020 - 12 - 31))),
            Event::Reported(reported(101, date!(2021 - 12 - 31))),
        ]);
        let population = given.state();
        assert_eq!(population.on(date!(2020 - 12 - 30)), None);
        assert_eq!(
            population.on(date!(2021 - 06 - 01)).map(|f| f.persons),
            Some(90)
        );
        assert_eq!(
            population.on(date!(2022 - 06 - 01)).map(|f| f.persons),
            Some(101)
        );
        let mut city = reported(1, date!(2022 - 01 - 01));
        city.county = RegionCode::parse("210500000000").expect("valid");
        given.when(city).then_refused("not_a_county");
    }
}
