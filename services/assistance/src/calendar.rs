//! The holiday calendar (节假日安排) and working-day arithmetic (工作日计算) for the deadlines of
//! assistance cases.
//!
//! Deadlines of administrative procedures are counted in working days (工作日), which are not
//! simply Monday to Friday: each year the State Council General Office publishes which days are
//! off (法定节假日, with the weekdays moved to join them: 放假调休) and which weekend days are
//! worked instead (调休上班), in its notice 国务院办公厅关于<year>年部分节假日安排的通知. The
//! calendar is kept as data, loaded by an operator year by year:
//!
//! - [`HolidayCalendar`], stream `calendar-<yyyy>` (keyed by [`CalendarYear`]): [`LoadYear`]
//!   records a year's days off and make-up working days with the notice they come from
//!   ([`CalendarLoaded`]). A reload replaces the year's calendar with a new event; nothing is
//!   edited.
//! - [`WorkingCalendar`]: a pure value built from the loaded years, which answers whether a day
//!   is a working day and counts working days. A year never loaded counts weekends only
//!   ([`WorkingCalendar::is_loaded`] lets the service warn about it).
//! - [`seed`]: the notices for 2021 to 2026 (`data/holidays.csv`), for an operator to load.
//!
//! ## Counting rule
//!
//! 《中华人民共和国行政许可法》第八十二条: "本法规定的行政机关实施行政许可的期限以工作日计算，
//! 不含法定节假日" — administrative periods are counted in working days, without the official
//! holidays; 《中华人民共和国民法典》第二百零一条: "按照年、月、日计算期间的，开始的当日不计入，
//! 自下一日开始计算" — the day an event happens does not count, the period starts the next day.
//! So a period of `n` working days from day D ends on the `n`-th working day after D
//! ([`WorkingCalendar::add_working_days`]), whether D itself is a working day or not: an
//! application completed on a Friday before a holiday week starts its count on the first
//! working day after the holiday.

use std::collections::{BTreeMap, BTreeSet};

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{BoundedText, parse_date};
use time::{Date, Weekday};

use crate::ids::CalendarYear;

/// Longest notice reference ([`LoadYear::source`]) a command may give, in characters.
pub const SOURCE_MAX_CHARS: usize = 200;

/// Years a calendar may be loaded for (the range protobuf dates and [`time::Date`] share).
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// One year's official calendar, as last loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearCalendar {
    pub year: CalendarYear,
    /// Days off (法定节假日 and the days moved to join them), weekend days inside a holiday span
    /// included when the notice lists the span.
    pub holidays: BTreeSet<Date>,
    /// Weekend days that are working days (调休上班).
    pub working_days: BTreeSet<Date>,
    /// The notice, e.g. 国办发明电〔2025〕7号.
    pub source: BoundedText,
    /// The day it was loaded.
    pub loaded_on: Date,
}

impl From<&CalendarLoaded> for YearCalendar {
    fn from(e: &CalendarLoaded) -> Self {
        Self {
            year: e.year,
            holidays: e.holidays.iter().copied().collect(),
            working_days: e.working_days.iter().copied().collect(),
            source: e.source.clone(),
            loaded_on: e.loaded_on,
        }
    }
}

/// The calendar of one year; `Default` is a year never loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    current: Option<YearCalendar>,
    loads: u32,
}

impl HolidayCalendar {
    /// The calendar in force, `None` before the year is loaded.
    pub fn calendar(&self) -> Option<&YearCalendar> {
        self.current.as_ref()
    }

    /// How many times the year was loaded (1 for a year loaded once, more after reloads).
    pub fn loads(&self) -> u32 {
        self.loads
    }
}

/// What can be asked of a year's calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    LoadYear(LoadYear),
}

/// Load (or reload) a year's official calendar from the State Council General Office's notice.
/// Loading exactly the calendar in force again (same days, same source) does nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadYear {
    pub year: CalendarYear,
    /// Official days off (法定节假日 and the days moved to join them: 放假调休), in any order;
    /// duplicates count once.
    pub holidays: Vec<Date>,
    /// Weekend days that are working days (调休上班), in any order; duplicates count once.
    pub working_days: Vec<Date>,
    /// The notice, e.g. 国办发明电〔2025〕7号.
    pub source: BoundedText,
    /// Today: the day the operator loads it.
    pub loaded_on: Date,
}

/// What happened to a year's calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Loaded(CalendarLoaded),
}

/// A year's calendar was loaded; it replaces whatever was loaded for the year before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarLoaded {
    pub year: CalendarYear,
    /// Ascending, without duplicates.
    pub holidays: Vec<Date>,
    /// Ascending, without duplicates.
    pub working_days: Vec<Date>,
    pub source: BoundedText,
    pub loaded_on: Date,
}

/// Why a calendar was not loaded. Dates are public; no message carries personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("a calendar can be loaded for the years 1 to 9999, not {year}")]
    YearOutOfRange { year: i32 },
    #[error("this is the calendar of {stream}, not of {command}")]
    OtherYear { stream: i32, command: i32 },
    #[error("{date} is not in {year}: a year's calendar lists only its own days")]
    DateOutsideYear { date: Date, year: i32 },
    #[error("{date} is listed both as a day off and as a working day")]
    HolidayAndWorkingDay { date: Date },
    #[error(
        "{date} is a {weekday}: a make-up working day (调休上班) is a Saturday or a Sunday; \
         weekdays are working days unless listed as days off"
    )]
    WorkingDayNotOnWeekend { date: Date, weekday: Weekday },
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::YearOutOfRange { .. } => "year_out_of_range",
            Error::OtherYear { .. } => "other_year",
            Error::DateOutsideYear { .. } => "date_outside_year",
            Error::HolidayAndWorkingDay { .. } => "holiday_and_working_day",
            Error::WorkingDayNotOnWeekend { .. } => "working_day_not_on_weekend",
        }
    }
}

impl Aggregate for HolidayCalendar {
    const CATEGORY: &'static str = "calendar";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Command::LoadYear(c) = command;
        let year = c.year.0;
        if !YEARS.contains(&year) {
            return Err(Error::YearOutOfRange { year });
        }
        if let Some(current) = &self.current
            && current.year != c.year
        {
            return Err(Error::OtherYear {
                stream: current.year.0,
                command: year,
            });
        }
        let holidays = days_of_year(&c.holidays, year)?;
        let working_days = days_of_year(&c.working_days, year)?;
        if let Some(date) = holidays.intersection(&working_days).next() {
            return Err(Error::HolidayAndWorkingDay { date: *date });
        }
        if let Some(date) = working_days.iter().find(|d| !is_weekend(**d)) {
            return Err(Error::WorkingDayNotOnWeekend {
                date: *date,
                weekday: date.weekday(),
            });
        }
        let unchanged = self.current.as_ref().is_some_and(|current| {
            current.holidays == holidays
                && current.working_days == working_days
                && current.source == c.source
        });
        if unchanged {
            return Ok(Vec::new());
        }
        Ok(vec![Event::Loaded(CalendarLoaded {
            year: c.year,
            holidays: holidays.into_iter().collect(),
            working_days: working_days.into_iter().collect(),
            source: c.source.clone(),
            loaded_on: c.loaded_on,
        })])
    }

    fn apply(mut self, event: &Event) -> Self {
        let Event::Loaded(e) = event;
        self.current = Some(YearCalendar::from(e));
        self.loads = self.loads.saturating_add(1);
        self
    }
}

/// The days as a set, each required to fall in `year`.
fn days_of_year(days: &[Date], year: i32) -> Result<BTreeSet<Date>, Error> {
    match days.iter().find(|d| d.year() != year) {
        Some(date) => Err(Error::DateOutsideYear { date: *date, year }),
        None => Ok(days.iter().copied().collect()),
    }
}

fn is_weekend(day: Date) -> bool {
    matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Working days (工作日) by the loaded calendars: Monday to Friday, except the loaded years' days
/// off, plus their make-up working days. A year never loaded counts weekends only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkingCalendar {
    years: BTreeMap<i32, Exceptions>,
}

/// A loaded year's departures from the weekly rhythm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Exceptions {
    holidays: BTreeSet<Date>,
    working_days: BTreeSet<Date>,
}

impl WorkingCalendar {
    /// A calendar with no year loaded: weekends only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `year` as its year's calendar, replacing one taken before.
    pub fn insert(&mut self, year: &YearCalendar) {
        self.years.insert(
            year.year.0,
            Exceptions {
                holidays: year.holidays.clone(),
                working_days: year.working_days.clone(),
            },
        );
    }

    /// Whether a calendar for `year` was taken; without it, the year counts weekends only.
    pub fn is_loaded(&self, year: CalendarYear) -> bool {
        self.years.contains_key(&year.0)
    }

    /// The years taken, ascending.
    pub fn loaded_years(&self) -> impl Iterator<Item = CalendarYear> + '_ {
        self.years.keys().map(|y| CalendarYear(*y))
    }

    /// Whether `day` is a working day: a listed make-up working day, or a Monday to Friday not
    /// listed as a day off.
    pub fn is_working_day(&self, day: Date) -> bool {
        if let Some(year) = self.years.get(&day.year()) {
            if year.holidays.contains(&day) {
                return false;
            }
            if year.working_days.contains(&day) {
                return true;
            }
        }
        !is_weekend(day)
    }

    /// The last day of a period of `n` working days starting from `start`: the `n`-th working
    /// day after `start`, which itself never counts (see the [module docs](self) for the rule).
    /// `n == 0` is `start`. At the very end of the calendar the day stops at [`Date::MAX`].
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        let mut day = start;
        let mut left = n;
        while left > 0 {
            let Some(next) = day.next_day() else {
                return Date::MAX;
            };
            day = next;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// How many working days of a period starting from `from` have passed by `to`: the working
    /// days after `from` up to and including `to` (0 when `to` is not after `from`). The inverse
    /// of [`WorkingCalendar::add_working_days`]: `working_days_between(s, add_working_days(s, n))
    /// == n`.
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        let mut count = 0u32;
        let mut day = from;
        while day < to {
            let Some(next) = day.next_day() else { break };
            day = next;
            if self.is_working_day(day) {
                count = count.saturating_add(1);
            }
        }
        count
    }
}

impl<'a> FromIterator<&'a YearCalendar> for WorkingCalendar {
    fn from_iter<I: IntoIterator<Item = &'a YearCalendar>>(years: I) -> Self {
        let mut calendar = Self::new();
        for year in years {
            calendar.insert(year);
        }
        calendar
    }
}

/// The official calendars of 2021 to 2026 (`data/holidays.csv`, from the State Council General
/// Office's notices), one [`LoadYear`] per year, each with its notice's document number as
/// `source` and the notice's date as `loaded_on`.
///
/// Loading them is idempotent, but a reload replaces: an operator's later correction of a year
/// would be undone by loading the seed again, so load a seed year only when the year has no
/// calendar yet ([`HolidayCalendar::calendar`] is `None`).
pub fn seed() -> Vec<LoadYear> {
    parse_seed(SEED).unwrap_or_else(|error| panic!("data/holidays.csv: {error}"))
}

/// The seed data, embedded at build time.
const SEED: &str = include_str!("../data/holidays.csv");

/// A year of the seed as it is read, before it becomes a command.
#[derive(Default)]
struct SeedYear {
    notice: Option<(Date, BoundedText)>,
    holidays: Vec<Date>,
    working_days: Vec<Date>,
}

/// Reads the seed's lines `year,kind,first,last,what` (see the file's header). The format has no
/// quoting (no field contains a comma), so a split is all it takes and the `csv` crate is not
/// needed here.
fn parse_seed(text: &str) -> Result<Vec<LoadYear>, String> {
    let mut years: BTreeMap<i32, SeedYear> = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |e: String| format!("line {}: {e}", index + 1);
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [year, kind, first, last, what] = fields[..] else {
            return Err(at(format!("expected 5 fields, found {}", fields.len())));
        };
        let year: i32 = year.parse().map_err(|_| at(format!("bad year {year:?}")))?;
        let date = |s: &str| parse_date(s).map_err(|e| at(format!("{s:?} {e}")));
        let entry = years.entry(year).or_default();
        match kind {
            "notice" => {
                let source =
                    BoundedText::parse(what, SOURCE_MAX_CHARS).map_err(|e| at(e.to_string()))?;
                entry.notice = Some((date(first)?, source));
            }
            "holiday" => entry
                .holidays
                .extend(span(date(first)?, date(last)?).map_err(at)?),
            "working" => entry
                .working_days
                .extend(span(date(first)?, date(last)?).map_err(at)?),
            other => return Err(at(format!("unknown kind {other:?}"))),
        }
    }
    years
        .into_iter()
        .map(|(year, seed)| {
            let (loaded_on, source) = seed.notice.ok_or(format!("{year} has no notice row"))?;
            Ok(LoadYear {
                year: CalendarYear(year),
                holidays: seed.holidays,
                working_days: seed.working_days,
                source,
                loaded_on,
            })
        })
        .collect()
}

/// Every day from `first` to `last`, both included.
fn span(first: Date, last: Date) -> Result<Vec<Date>, String> {
    if last < first {
        return Err(format!("{last} is before {first}"));
    }
    Ok(std::iter::successors(Some(first), |d| d.next_day().filter(|n| *n <= last)).collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    pub(crate) fn source(text: &str) -> BoundedText {
        BoundedText::parse(text, SOURCE_MAX_CHARS).expect("valid")
    }

    /// 2025's National Day and Mid-Autumn Festival (国办发明电〔2024〕12号): 10-01 to 10-08 off,
    /// 09-28 (Sunday) and 10-11 (Saturday) worked.
    fn load_2025(loaded_on: Date) -> LoadYear {
        LoadYear {
            year: CalendarYear(2025),
            holidays: span(date!(2025 - 10 - 01), date!(2025 - 10 - 08)).expect("span"),
            working_days: vec![date!(2025 - 10 - 11), date!(2025 - 09 - 28)],
            source: source("国办发明电〔2024〕12号"),
            loaded_on,
        }
    }

    pub(crate) fn loaded_2025(loaded_on: Date) -> Event {
        Event::Loaded(CalendarLoaded {
            year: CalendarYear(2025),
            holidays: span(date!(2025 - 10 - 01), date!(2025 - 10 - 08)).expect("span"),
            working_days: vec![date!(2025 - 09 - 28), date!(2025 - 10 - 11)],
            source: source("国办发明电〔2024〕12号"),
            loaded_on,
        })
    }

    fn load(c: LoadYear) -> Command {
        Command::LoadYear(c)
    }

    /// The working calendar of every seed year.
    pub(crate) fn seeded() -> WorkingCalendar {
        let years: Vec<YearCalendar> = seed()
            .into_iter()
            .map(|c| {
                let events = HolidayCalendar::default()
                    .handle(&load(c))
                    .expect("the seed loads");
                let [Event::Loaded(e)] = &events[..] else {
                    panic!("one event per seed year")
                };
                YearCalendar::from(e)
            })
            .collect();
        years.iter().collect()
    }

    #[test]
    fn a_year_is_loaded_with_its_days_sorted_and_counted_once() {
        let mut command = load_2025(date!(2024 - 11 - 13));
        command.holidays.push(date!(2025 - 10 - 03));
        let state = given::<HolidayCalendar>([])
            .when(load(command))
            .then([loaded_2025(date!(2024 - 11 - 13))]);
        let calendar = state.calendar().expect("loaded");
        assert_eq!(calendar.holidays.len(), 8);
        assert_eq!(calendar.source.as_str(), "国办发明电〔2024〕12号");
        assert_eq!(state.loads(), 1);
    }

    #[test]
    fn loading_what_is_loaded_does_nothing() {
        // Also on another day: the content is the same.
        given::<HolidayCalendar>([loaded_2025(date!(2024 - 11 - 13))])
            .when(load(load_2025(date!(2025 - 01 - 02))))
            .then([]);
    }

    #[test]
    fn a_reload_replaces_the_years_calendar() {
        let mut corrected = load_2025(date!(2025 - 01 - 02));
        corrected.holidays.push(date!(2025 - 01 - 01));
        corrected.source = source("国办发明电〔2024〕12号（更正）");
        let state = given::<HolidayCalendar>([loaded_2025(date!(2024 - 11 - 13))])
            .when(load(corrected.clone()))
            .then([Event::Loaded(CalendarLoaded {
                year: CalendarYear(2025),
                holidays: std::iter::once(date!(2025 - 01 - 01))
                    .chain(span(date!(2025 - 10 - 01), date!(2025 - 10 - 08)).expect("span"))
                    .collect(),
                working_days: vec![date!(2025 - 09 - 28), date!(2025 - 10 - 11)],
                source: corrected.source.clone(),
                loaded_on: date!(2025 - 01 - 02),
            })]);
        assert_eq!(state.loads(), 2);
        let calendar = state.calendar().expect("loaded");
        assert!(calendar.holidays.contains(&date!(2025 - 01 - 01)));
        assert_eq!(calendar.loaded_on, date!(2025 - 01 - 02));
        // The same days from another notice is a reload too.
        let mut renamed = load_2025(date!(2025 - 01 - 02));
        renamed.source = source("another notice");
        let events = given::<HolidayCalendar>([loaded_2025(date!(2024 - 11 - 13))])
            .when(load(renamed))
            .outcome()
            .clone()
            .expect("reloaded");
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn every_date_is_inside_the_year() {
        let mut command = load_2025(date!(2024 - 11 - 13));
        command.holidays.push(date!(2024 - 12 - 31));
        let refusal = given::<HolidayCalendar>([])
            .when(load(command))
            .then_refused("date_outside_year");
        assert_eq!(
            refusal.to_string(),
            "2024-12-31 is not in 2025: a year's calendar lists only its own days"
        );
        let mut command = load_2025(date!(2024 - 11 - 13));
        command.working_days.push(date!(2026 - 01 - 04));
        given::<HolidayCalendar>([])
            .when(load(command))
            .then_refused("date_outside_year");
    }

    #[test]
    fn no_day_is_both_off_and_worked() {
        let mut command = load_2025(date!(2024 - 11 - 13));
        command.working_days.push(date!(2025 - 10 - 04));
        given::<HolidayCalendar>([])
            .when(load(command))
            .then_refused("holiday_and_working_day");
    }

    #[test]
    fn a_make_up_working_day_is_a_saturday_or_sunday() {
        let mut command = load_2025(date!(2024 - 11 - 13));
        command.working_days.push(date!(2025 - 10 - 10));
        let refusal = given::<HolidayCalendar>([])
            .when(load(command))
            .then_refused("working_day_not_on_weekend");
        assert!(refusal.to_string().starts_with("2025-10-10 is a Friday"));
    }

    #[test]
    fn a_year_stream_takes_only_its_year_and_a_year_of_four_digits() {
        let mut command = load_2025(date!(2024 - 11 - 13));
        command.year = CalendarYear(2026);
        command.holidays.clear();
        command.working_days.clear();
        given::<HolidayCalendar>([loaded_2025(date!(2024 - 11 - 13))])
            .when(load(command.clone()))
            .then_refused("other_year");
        for year in [0, 10_000] {
            command.year = CalendarYear(year);
            given::<HolidayCalendar>([])
                .when(load(command.clone()))
                .then_refused("year_out_of_range");
        }
    }

    #[test]
    fn every_seed_year_loads_without_refusal() {
        let seed = seed();
        assert_eq!(
            seed.iter().map(|c| c.year.0).collect::<Vec<_>>(),
            (2021..=2026).collect::<Vec<_>>()
        );
        for command in seed {
            let year = command.year;
            let state = given::<HolidayCalendar>([]).when(load(command.clone()));
            assert!(state.outcome().is_ok(), "{year:?}: {:?}", state.outcome());
            // And loading it again changes nothing.
            let events = state.outcome().clone().expect("loaded");
            given::<HolidayCalendar>(events)
                .when(load(command))
                .then([]);
        }
        let calendar = seeded();
        assert!(calendar.loaded_years().eq((2021..=2026).map(CalendarYear)));
    }

    #[test]
    fn the_seed_holds_each_notices_days() {
        let seed = seed();
        let year = |y: i32| seed.iter().find(|c| c.year.0 == y).expect("seeded");
        // Each notice's days off: 2021 3+7+3+5+3+3+7, 2022 3+7+3+5+3+3+7, 2023 2 (of 3, one in
        // 2022)+7+1+5+3+8, 2024 1+8+3+5+1+3+7, 2025 1+8+3+5+3+8, 2026 3+9+3+5+3+3+7.
        let days_off = [
            (2021, 31),
            (2022, 31),
            (2023, 26),
            (2024, 28),
            (2025, 28),
            (2026, 33),
        ];
        let make_up = [
            (2021, 7),
            (2022, 7),
            (2023, 7),
            (2024, 8),
            (2025, 5),
            (2026, 6),
        ];
        for ((y, off), (_, worked)) in days_off.into_iter().zip(make_up) {
            assert_eq!(year(y).holidays.len(), off, "{y} days off");
            assert_eq!(year(y).working_days.len(), worked, "{y} make-up days");
        }
        assert_eq!(year(2025).source.as_str(), "国办发明电〔2024〕12号");
        assert_eq!(year(2025).loaded_on, date!(2024 - 11 - 12));
        assert_eq!(year(2021).source.as_str(), "国办发明电〔2020〕27号");
    }

    #[test]
    fn seed_lines_that_are_malformed_are_reported_with_their_line() {
        for (text, expected) in [
            (
                "2025,holiday,2025-10-01\n",
                "line 1: expected 5 fields, found 3",
            ),
            (
                "#\n2025,party,2025-10-01,2025-10-01,x\n",
                "line 2: unknown kind \"party\"",
            ),
            (
                "2025,holiday,2025-10-08,2025-10-01,x\n",
                "line 1: 2025-10-01 is before 2025-10-08",
            ),
            (
                "2025,holiday,2025-10-01,2025-10-01,x\n",
                "2025 has no notice row",
            ),
        ] {
            assert_eq!(parse_seed(text).map(|_| ()), Err(expected.to_owned()));
        }
    }

    #[test]
    fn weekdays_work_and_weekends_rest_in_a_year_never_loaded() {
        let calendar = WorkingCalendar::new();
        assert!(!calendar.is_loaded(CalendarYear(2031)));
        // 2031-01-01 is a Wednesday: New Year's Day, but nobody loaded 2031.
        assert!(calendar.is_working_day(date!(2031 - 01 - 01)));
        assert!(!calendar.is_working_day(date!(2031 - 01 - 04)));
        assert!(!calendar.is_working_day(date!(2031 - 01 - 05)));
        // Friday 2031-01-03 + 1 working day: Monday.
        assert_eq!(
            calendar.add_working_days(date!(2031 - 01 - 03), 1),
            date!(2031 - 01 - 06)
        );
        // 30 working days are six weeks when no holiday is known.
        assert_eq!(
            calendar.add_working_days(date!(2031 - 01 - 06), 30),
            date!(2031 - 02 - 17)
        );
    }

    #[test]
    fn the_national_day_week_of_2025_is_off_and_its_make_up_days_are_worked() {
        let calendar = seeded();
        assert!(calendar.is_loaded(CalendarYear(2025)));
        for day in span(date!(2025 - 10 - 01), date!(2025 - 10 - 08)).expect("span") {
            assert!(!calendar.is_working_day(day), "{day}");
        }
        assert!(
            calendar.is_working_day(date!(2025 - 09 - 28)),
            "a Sunday worked"
        );
        assert!(
            calendar.is_working_day(date!(2025 - 10 - 11)),
            "a Saturday worked"
        );
        assert!(calendar.is_working_day(date!(2025 - 10 - 09)));
        assert!(
            !calendar.is_working_day(date!(2025 - 10 - 12)),
            "an ordinary Sunday"
        );
        // Filed on Friday 09-26: Sunday 09-28 and Monday 09-29 count, then 09-30, then the
        // week off, then 10-09.
        assert_eq!(
            calendar.add_working_days(date!(2025 - 09 - 26), 3),
            date!(2025 - 09 - 30)
        );
        assert_eq!(
            calendar.add_working_days(date!(2025 - 09 - 26), 4),
            date!(2025 - 10 - 09)
        );
        // Filed during the holiday: the count starts on the first working day after it.
        assert_eq!(
            calendar.add_working_days(date!(2025 - 10 - 03), 1),
            date!(2025 - 10 - 09)
        );
        assert_eq!(
            calendar.working_days_between(date!(2025 - 09 - 26), date!(2025 - 10 - 11)),
            6
        );
    }

    /// The rule test the issue asks for: the 30-working-day deadline across a holiday.
    #[test]
    fn the_30_working_day_deadline_runs_across_the_spring_festival() {
        let calendar = seeded();
        // An application complete on Monday 2026-02-02. Working days after it: 02-03..02-06
        // (4), 02-09..02-13 (5, 9), Saturday 02-14 worked (10), 02-15..02-23 off (春节),
        // 02-24..02-27 (14), Saturday 02-28 worked (15), 03-02..03-06 (20), 03-09..03-13 (25),
        // 03-16..03-20 (30).
        let deadline = calendar.add_working_days(date!(2026 - 02 - 02), 30);
        assert_eq!(deadline, date!(2026 - 03 - 20));
        assert_eq!(
            calendar.working_days_between(date!(2026 - 02 - 02), deadline),
            30
        );
        // Without the holiday calendar the deadline would be four working days earlier: six
        // weekdays off (02-16..02-20, 02-23), two Saturdays worked.
        assert_eq!(
            WorkingCalendar::new().add_working_days(date!(2026 - 02 - 02), 30),
            date!(2026 - 03 - 16)
        );
        // A step completed on the deadline is in time; one more day is overdue.
        assert_eq!(
            calendar.working_days_between(date!(2026 - 02 - 02), date!(2026 - 03 - 21)),
            30
        );
        assert_eq!(
            calendar.working_days_between(date!(2026 - 02 - 02), date!(2026 - 03 - 23)),
            31
        );
    }

    #[test]
    fn a_period_spans_a_loaded_and_an_unloaded_year() {
        let mut calendar = WorkingCalendar::new();
        calendar.insert(&YearCalendar::from(
            &match loaded_2025(date!(2024 - 11 - 13)) {
                Event::Loaded(e) => e,
            },
        ));
        assert!(calendar.is_loaded(CalendarYear(2025)));
        assert!(!calendar.is_loaded(CalendarYear(2026)));
        // 2026-01-01 (New Year's Day) counts as a working day here: 2026 was not loaded.
        assert_eq!(
            calendar.add_working_days(date!(2025 - 12 - 31), 1),
            date!(2026 - 01 - 01)
        );
        // With 2026 loaded: 01-01..01-03 off, and Sunday 01-04 worked.
        assert_eq!(
            seeded().add_working_days(date!(2025 - 12 - 31), 1),
            date!(2026 - 01 - 04)
        );
    }

    #[test]
    fn counting_stops_at_the_ends_of_the_calendar() {
        let calendar = WorkingCalendar::new();
        assert_eq!(calendar.add_working_days(Date::MAX, 1), Date::MAX);
        assert_eq!(
            calendar.add_working_days(date!(2025 - 10 - 01), 0),
            date!(2025 - 10 - 01)
        );
        assert_eq!(
            calendar.working_days_between(date!(2025 - 10 - 10), date!(2025 - 10 - 01)),
            0
        );
        assert_eq!(calendar.working_days_between(Date::MAX, Date::MAX), 0);
    }

    proptest! {
        #[test]
        fn counting_inverts_adding(
            offset in 0i64..3000,
            n in 0u32..400,
        ) {
            let calendar = seeded();
            let start = minzheng_types::add_days(date!(2020 - 06 - 01), offset).expect("in range");
            let end = calendar.add_working_days(start, n);
            prop_assert_eq!(calendar.working_days_between(start, end), n);
            prop_assert!(n == 0 || calendar.is_working_day(end));
            prop_assert!(end >= start);
        }
    }
}
