//! Subsidies for elderly persons (老年人补贴) as effective-dated policy, stream
//! `subsidy_policy-<city code>`, and the pure computation of what a person is entitled to for a
//! month.
//!
//! The three subsidies follow the State Council's notice on subsidies for elderly persons who
//! are of advanced age, disabled or in economic difficulty (财政部 民政部 全国老龄办《关于建立健全
//! 经济困难的高龄、失能等老年人补贴制度的通知》, 财社〔2014〕113号), whose amounts each city sets:
//!
//! - the **advanced-age allowance** (高龄津贴), by age band;
//! - the **nursing subsidy** (护理补贴), by assessed capacity level (GB/T 42195-2022, see
//!   [`crate::assessment`]), optionally only for low-income elderly (经济困难的失能老年人);
//! - the **service subsidy** (养老服务补贴) for low-income elderly aged 60 or more.
//!
//! # The standards
//!
//! A city's standards are recorded as versions ([`Standard`]), each effective from the first day
//! of a month, later than the last version's, and never edited in place: a change is a new
//! version, numbered 1, 2, … in the stream. [`SubsidyPolicy::in_force`] answers which version
//! applies on a day. Amounts are whole fen from 0 to 100,000 yuan a month
//! ([`MAX_MONTHLY`]); age bands start from 60 to 120 years and increase strictly; a level is
//! listed at most once ([`Standard::check_shape`], which the gRPC edge runs and the aggregate
//! runs again). Recorded events are history: [`Aggregate::apply`] never re-checks them, and the
//! computation below does not rely on their shape (a band is found by the greatest start, not
//! by position).
//!
//! # The month's entitlement ([`monthly`])
//!
//! - The standard applied is the one in force on the month's **first day**; when none is, every
//!   line is zero with version 0 and says so.
//! - A month is paid for a condition when the condition holds on **at least one day** of the
//!   month. The person must be alive on at least one day of it: a death ends the subsidies from
//!   the **next** month (died in March: March is paid, April is not; the explanation names the
//!   day of death).
//! - Advanced-age allowance: the age in completed years (周岁) reached by the month's **last**
//!   day, so the birthday's month is paid at the new age (a 29 February birthday is reached on
//!   1 March in common years, [`minzheng_types::age_on`]); the band with the greatest start not
//!   above that age; below the lowest band, nothing.
//! - Nursing subsidy: the level of the latest assessment made on or before the month's last day,
//!   provided its re-assessment is due **after** the month's first day (an assessment due on the
//!   first or earlier has expired, and pays nothing until the person is re-assessed); the amount
//!   the standard lists for that level (a level not listed gets nothing); when the standard says
//!   so (`nursing_requires_low_income`), low income must hold on a day of the month.
//! - Service subsidy: aged 60 or more by the month's last day, and low income on a day of the
//!   month.
//!
//! The conditions are judged on the month as a whole, as stated, even in the month of death (an
//! age or a low-income status reached after the day of death still counts for that month).
//!
//! Each line carries one English sentence ([`Line::explanation`]) naming the rule (with the
//! Chinese term), the facts and their days and the standard version, e.g. `advanced-age
//! allowance (高龄津贴): aged 85 on 2025-03-31, band from 80, standard v2 effective 2025-01-01:
//! 100.00 yuan`. It never contains a citizen id number or a birth date, since it may be shown and
//! logged; it does name ages, assessment levels, low-income periods and a death day.
//!
//! Amounts are added with checked arithmetic. With amounts capped at [`MAX_MONTHLY`] the total
//! cannot overflow; should a malformed stored standard make it do so, the total saturates at the
//! largest amount instead of panicking.

use std::fmt;

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{BoundedText, Fen, RegionCode, RegionLevel, add_days, age_on, format_date};
use time::Date;

use crate::assessment::Level;

/// The youngest age a band of the advanced-age allowance may start from.
pub const MIN_BAND_AGE: u8 = 60;
/// The oldest age a band of the advanced-age allowance may start from.
pub const MAX_BAND_AGE: u8 = 120;
/// The largest monthly amount of any subsidy, in yuan.
pub const MAX_MONTHLY_YUAN: i64 = 100_000;
/// The largest monthly amount of any subsidy: 100,000 yuan.
pub const MAX_MONTHLY: Fen = Fen::new(MAX_MONTHLY_YUAN * 100);
/// The longest `decided_by`, in characters.
pub const DECIDED_BY_MAX_CHARS: usize = 200;
/// The age from which the service subsidy is paid (to low-income elderly).
pub const SERVICE_MIN_AGE: u32 = 60;

/// One band of the advanced-age allowance (高龄津贴): from `from_age` (inclusive) up to the next
/// band's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeBand {
    /// The age in completed years from which the band applies.
    pub from_age: u8,
    pub monthly: Fen,
}

/// The nursing subsidy (护理补贴) for one capacity level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelAmount {
    pub level: Level,
    pub monthly: Fen,
}

/// One version of a city's subsidy standards; see the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standard {
    /// 1, 2, … in the city's stream.
    pub version: u32,
    /// The first day it applies: the first of a month.
    pub effective_from: Date,
    /// The advanced-age allowance by band, youngest first (strictly increasing `from_age`).
    pub advanced_age: Vec<AgeBand>,
    /// The nursing subsidy by level, each level at most once; a level not listed gets none.
    pub nursing: Vec<LevelAmount>,
    /// Whether the nursing subsidy is only for low-income elderly.
    pub nursing_requires_low_income: bool,
    /// The service subsidy for low-income elderly aged 60 or more.
    pub service_low_income: Fen,
    /// Who decided it and the document (e.g. "本溪市民政局 本民发〔2021〕8号").
    pub decided_by: BoundedText,
    /// The day it was recorded.
    pub recorded_on: Date,
}

/// A shape rule broken: the field's path (`advanced_age[1].from_age`) and the rule, in words.
pub type ShapeViolation = (String, String);

impl Standard {
    /// The shape rules, for the gRPC edge: the first of a month, bands from 60 to 120 and
    /// strictly increasing, levels listed once, amounts from 0 to 100,000 yuan, `decided_by` at
    /// most 200 characters. Every broken rule is listed, with the field path of the request.
    pub fn check_shape(&self) -> Result<(), Vec<ShapeViolation>> {
        check_shape(
            self.effective_from,
            &self.advanced_age,
            &self.nursing,
            self.service_low_income,
            &self.decided_by,
        )
    }

    /// The band that applies at `age`: the greatest start not above it.
    pub fn band_for(&self, age: u32) -> Option<&AgeBand> {
        self.advanced_age
            .iter()
            .filter(|band| u32::from(band.from_age) <= age)
            .max_by_key(|band| band.from_age)
    }

    /// The nursing subsidy listed for `level`, `None` when the level is not listed.
    pub fn nursing_for(&self, level: Level) -> Option<Fen> {
        self.nursing
            .iter()
            .find(|listed| listed.level == level)
            .map(|listed| listed.monthly)
    }

    /// "standard v2 effective 2025-01-01".
    fn words(&self) -> String {
        format!(
            "standard v{} effective {}",
            self.version,
            format_date(self.effective_from)
        )
    }
}

fn check_shape(
    effective_from: Date,
    advanced_age: &[AgeBand],
    nursing: &[LevelAmount],
    service_low_income: Fen,
    decided_by: &BoundedText,
) -> Result<(), Vec<ShapeViolation>> {
    let mut violations = Vec::new();
    let mut violation = |field: String, rule: String| violations.push((field, rule));
    let amount_rule = || format!("must be from 0 to {MAX_MONTHLY_YUAN}.00 yuan");
    let amount_ok = |amount: Fen| !amount.is_negative() && amount <= MAX_MONTHLY;
    if effective_from.day() != 1 {
        violation(
            "effective_from".to_owned(),
            "must be the first day of a month".to_owned(),
        );
    }
    for (index, band) in advanced_age.iter().enumerate() {
        if !(MIN_BAND_AGE..=MAX_BAND_AGE).contains(&band.from_age) {
            violation(
                format!("advanced_age[{index}].from_age"),
                format!("must be from {MIN_BAND_AGE} to {MAX_BAND_AGE}"),
            );
        }
        if let Some(previous) = index.checked_sub(1).and_then(|i| advanced_age.get(i))
            && band.from_age <= previous.from_age
        {
            violation(
                format!("advanced_age[{index}].from_age"),
                format!(
                    "must be greater than the previous band's ({}): bands are listed youngest \
                     first",
                    previous.from_age
                ),
            );
        }
        if !amount_ok(band.monthly) {
            violation(format!("advanced_age[{index}].monthly"), amount_rule());
        }
    }
    for (index, listed) in nursing.iter().enumerate() {
        if let Some(first) = nursing[..index]
            .iter()
            .position(|l| l.level == listed.level)
        {
            violation(
                format!("nursing[{index}].level"),
                format!("lists a level already listed in nursing[{first}]"),
            );
        }
        if !amount_ok(listed.monthly) {
            violation(format!("nursing[{index}].monthly"), amount_rule());
        }
    }
    if !amount_ok(service_low_income) {
        violation("service_low_income".to_owned(), amount_rule());
    }
    if decided_by.char_count() > DECIDED_BY_MAX_CHARS {
        violation(
            "decided_by".to_owned(),
            format!("must be at most {DECIDED_BY_MAX_CHARS} characters long"),
        );
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// What can be asked of a city's subsidy policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Record(Record),
}

/// Record a new version of the standards: a [`Standard`] without its version, which the
/// aggregate numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The city-level division: the stream's key.
    pub city: RegionCode,
    /// The first of a month, later than the last version's.
    pub effective_from: Date,
    pub advanced_age: Vec<AgeBand>,
    pub nursing: Vec<LevelAmount>,
    pub nursing_requires_low_income: bool,
    pub service_low_income: Fen,
    pub decided_by: BoundedText,
    /// Today.
    pub recorded_on: Date,
}

impl Record {
    /// The same rules as [`Standard::check_shape`], before the version is known.
    pub fn check_shape(&self) -> Result<(), Vec<ShapeViolation>> {
        check_shape(
            self.effective_from,
            &self.advanced_age,
            &self.nursing,
            self.service_low_income,
            &self.decided_by,
        )
    }

    /// The standard this command records as `version`.
    pub fn standard(&self, version: u32) -> Standard {
        Standard {
            version,
            effective_from: self.effective_from,
            advanced_age: self.advanced_age.clone(),
            nursing: self.nursing.clone(),
            nursing_requires_low_income: self.nursing_requires_low_income,
            service_low_income: self.service_low_income,
            decided_by: self.decided_by.clone(),
            recorded_on: self.recorded_on,
        }
    }
}

/// What happened to a city's subsidy policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    StandardRecorded(StandardRecorded),
}

/// A version of the standards was recorded (`SubsidyStandardRecorded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardRecorded {
    /// The city-level division the standards apply in.
    pub city: RegionCode,
    pub standard: Standard,
}

/// A rule that refused to record a standard. No message carries personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("subsidy standards are recorded for a city-level division")]
    NotACity,
    #[error("this subsidy policy stream belongs to another city")]
    WrongCity,
    #[error(
        "a new version must take effect after the last version, which took effect on {}",
        format_date(*last)
    )]
    NotAfterLastVersion { last: Date },
    /// A shape rule ([`Standard::check_shape`]) broken; the first one found.
    #[error("the standard is malformed: {field} {rule}")]
    InvalidStandard { field: String, rule: String },
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotACity => "not_a_city",
            Error::WrongCity => "wrong_city",
            Error::NotAfterLastVersion { .. } => "not_after_last_version",
            Error::InvalidStandard { .. } => "invalid_standard",
        }
    }
}

/// A city's subsidy standards: every version, in the order recorded. `Default` is a city with
/// none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubsidyPolicy {
    city: Option<RegionCode>,
    versions: Vec<Standard>,
}

impl SubsidyPolicy {
    /// The city, once a version is recorded.
    pub fn city(&self) -> Option<RegionCode> {
        self.city
    }

    /// Every version, oldest first (for the listing RPC).
    pub fn versions(&self) -> &[Standard] {
        &self.versions
    }

    /// The last version recorded.
    pub fn latest(&self) -> Option<&Standard> {
        self.versions.last()
    }

    /// The version in force on `day`: the latest recorded whose `effective_from` is on or
    /// before it.
    pub fn in_force(&self, day: Date) -> Option<&Standard> {
        self.versions
            .iter()
            .rev()
            .find(|standard| standard.effective_from <= day)
    }
}

impl Aggregate for SubsidyPolicy {
    const CATEGORY: &'static str = "subsidy_policy";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Command::Record(record) = command;
        if record.city.level() != RegionLevel::City {
            return Err(Error::NotACity);
        }
        if self.city.is_some_and(|city| city != record.city) {
            return Err(Error::WrongCity);
        }
        if let Err(violations) = record.check_shape()
            && let Some((field, rule)) = violations.into_iter().next()
        {
            return Err(Error::InvalidStandard { field, rule });
        }
        let last = self.latest();
        if let Some(last) = last
            && record.effective_from <= last.effective_from
        {
            return Err(Error::NotAfterLastVersion {
                last: last.effective_from,
            });
        }
        // Versions take effect on strictly later firsts of months, so a stream holds far fewer
        // than u32::MAX of them; saturating only keeps this free of a panic.
        let version = last.map_or(1, |last| last.version.saturating_add(1));
        Ok(vec![Event::StandardRecorded(StandardRecorded {
            city: record.city,
            standard: record.standard(version),
        })])
    }

    fn apply(mut self, event: &Event) -> Self {
        let Event::StandardRecorded(recorded) = event;
        self.city.get_or_insert(recorded.city);
        self.versions.push(recorded.standard.clone());
        self
    }
}

/// A capacity assessment, as far as the nursing subsidy needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssessedLevel {
    pub level: Level,
    pub assessed_on: Date,
    /// The day a re-assessment is due: the assessment pays for no month starting on or after it.
    pub reassessment_due_on: Date,
}

/// A period of low-income status (低保, 特困 or low income): from `from` up to, not including,
/// `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    /// The first day without; `None` while it lasts.
    pub until: Option<Date>,
}

impl Period {
    /// Whether the period covers at least one day from `first` to `last` (inclusive).
    fn overlaps(&self, first: Date, last: Date) -> bool {
        let start = self.from.max(first);
        start <= last && self.until.is_none_or(|until| start < until)
    }

    /// "low income from 2024-01-01" or "low income from 2024-01-01 to 2025-03-14".
    fn words(&self) -> String {
        match self.until {
            None => format!("low income from {}", format_date(self.from)),
            Some(until) => format!(
                "low income from {} to {}",
                format_date(self.from),
                format_date(add_days(until, -1).unwrap_or(until))
            ),
        }
    }
}

/// What the computation needs to know of a person. PERSONAL DATA: `Debug` hides the birth date
/// and shows only how many assessments and periods there are.
#[derive(Clone, Copy)]
pub struct Facts<'a> {
    pub birth_date: Date,
    /// Every assessment, in the order recorded (of two on one day, the later recorded counts).
    pub assessments: &'a [AssessedLevel],
    /// Every period of low-income status.
    pub low_income: &'a [Period],
    pub died_on: Option<Date>,
}

impl fmt::Debug for Facts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Facts")
            .field("birth_date", &"<hidden>")
            .field("assessments", &self.assessments.len())
            .field("low_income", &self.low_income.len())
            .field("died", &self.died_on.is_some())
            .finish()
    }
}

/// Which subsidy a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// 高龄津贴.
    AdvancedAge,
    /// 护理补贴.
    Nursing,
    /// 养老服务补贴, for low-income elderly.
    Service,
}

impl Kind {
    /// Every kind, in the order of a month's lines.
    pub const ALL: [Kind; 3] = [Kind::AdvancedAge, Kind::Nursing, Kind::Service];

    /// The subsidy's name as an explanation starts with it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::AdvancedAge => "advanced-age allowance (高龄津贴)",
            Kind::Nursing => "nursing subsidy (护理补贴)",
            Kind::Service => "service subsidy (养老服务补贴)",
        }
    }
}

/// One subsidy for a month, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: Kind,
    /// Zero when not granted.
    pub amount: Fen,
    /// The standard version applied; 0 when none was in force.
    pub standard_version: u32,
    /// The rule, the facts and their days, the version, in one English sentence.
    pub explanation: String,
}

/// A person's entitlement for one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Monthly {
    /// The first of the month.
    pub month: Date,
    /// One line per [`Kind`], in [`Kind::ALL`] order.
    pub lines: Vec<Line>,
    pub total: Fen,
}

/// What `facts` entitle the person to for the month of `month` (any day of it) under `policy`;
/// see the [module documentation](self) for the rules.
pub fn monthly(facts: &Facts<'_>, policy: &SubsidyPolicy, month: Date) -> Monthly {
    let (first, last) = month_bounds(month);
    let lines: [Line; 3] = match policy.in_force(first) {
        None => Kind::ALL.map(|kind| Line {
            kind,
            amount: Fen::ZERO,
            standard_version: 0,
            explanation: format!(
                "{}: no subsidy standard was in force on {}: {} yuan",
                kind.label(),
                format_date(first),
                Fen::ZERO.yuan()
            ),
        }),
        Some(standard) => match facts.died_on.filter(|died_on| *died_on < first) {
            Some(died_on) => Kind::ALL.map(|kind| {
                line(
                    kind,
                    standard,
                    Fen::ZERO,
                    &format!(
                        "the person died on {}, before this month, and subsidies end with the \
                         month of death",
                        format_date(died_on)
                    ),
                )
            }),
            None => {
                let month = MonthFacts {
                    first,
                    last,
                    age: age_on(facts.birth_date, last),
                    low_income: facts
                        .low_income
                        .iter()
                        .filter(|period| period.overlaps(first, last))
                        .min_by_key(|period| period.from),
                };
                [
                    advanced_age(&month, standard),
                    nursing(&month, facts, standard),
                    service(&month, standard),
                ]
            }
        },
    };
    let total = Fen::checked_sum(lines.iter().map(|line| line.amount)).unwrap_or_else(|| {
        Fen::new(
            lines
                .iter()
                .fold(0i64, |total, line| total.saturating_add(line.amount.fen())),
        )
    });
    Monthly {
        month: first,
        lines: lines.into(),
        total,
    }
}

/// The facts of one month the three rules share.
struct MonthFacts<'a> {
    first: Date,
    last: Date,
    /// Completed years on the month's last day.
    age: u32,
    /// The earliest low-income period that covers a day of the month.
    low_income: Option<&'a Period>,
}

/// The first and the last day of the month of `day`.
fn month_bounds(day: Date) -> (Date, Date) {
    let first = day.replace_day(1).unwrap_or(day);
    let last = day
        .replace_day(day.month().length(day.year()))
        .unwrap_or(day);
    (first, last)
}

/// A line under `standard`: "<label>: <facts>, standard vN effective D: <amount> yuan".
fn line(kind: Kind, standard: &Standard, amount: Fen, facts: &str) -> Line {
    Line {
        kind,
        amount,
        standard_version: standard.version,
        explanation: format!(
            "{}: {facts}, {}: {} yuan",
            kind.label(),
            standard.words(),
            amount.yuan()
        ),
    }
}

fn advanced_age(month: &MonthFacts<'_>, standard: &Standard) -> Line {
    let age = format!("aged {} on {}", month.age, format_date(month.last));
    let (amount, facts) = match standard.band_for(month.age) {
        Some(band) => (band.monthly, format!("{age}, band from {}", band.from_age)),
        None => match standard.advanced_age.iter().map(|band| band.from_age).min() {
            Some(lowest) => (
                Fen::ZERO,
                format!("{age}, below the lowest band (from {lowest})"),
            ),
            None => (
                Fen::ZERO,
                format!("{age}, but the standard lists no age band"),
            ),
        },
    };
    line(Kind::AdvancedAge, standard, amount, &facts)
}

fn nursing(month: &MonthFacts<'_>, facts: &Facts<'_>, standard: &Standard) -> Line {
    let Some(assessment) = facts
        .assessments
        .iter()
        .filter(|a| a.assessed_on <= month.last)
        .max_by_key(|a| a.assessed_on)
    else {
        return line(
            Kind::Nursing,
            standard,
            Fen::ZERO,
            &format!(
                "no capacity assessment on or before {}",
                format_date(month.last)
            ),
        );
    };
    let assessed = format!(
        "assessed on {} with {}",
        format_date(assessment.assessed_on),
        level_words(assessment.level)
    );
    if assessment.reassessment_due_on <= month.first {
        let facts = format!(
            "{assessed}, but its re-assessment was due on {} and an expired assessment pays \
             nothing until the person is re-assessed",
            format_date(assessment.reassessment_due_on)
        );
        return line(Kind::Nursing, standard, Fen::ZERO, &facts);
    }
    let assessed = format!(
        "{assessed} (re-assessment due {})",
        format_date(assessment.reassessment_due_on)
    );
    let Some(amount) = standard.nursing_for(assessment.level) else {
        let facts = format!("{assessed}, a level for which the standard lists no amount");
        return line(Kind::Nursing, standard, Fen::ZERO, &facts);
    };
    if !standard.nursing_requires_low_income {
        return line(Kind::Nursing, standard, amount, &assessed);
    }
    match month.low_income {
        Some(period) => {
            let facts = format!("{assessed}, {}", period.words());
            line(Kind::Nursing, standard, amount, &facts)
        }
        None => {
            let facts = format!(
                "{assessed}, but the standard pays it only to low-income elderly and there was \
                 no low income on any day of the month"
            );
            line(Kind::Nursing, standard, Fen::ZERO, &facts)
        }
    }
}

fn service(month: &MonthFacts<'_>, standard: &Standard) -> Line {
    let age = format!("aged {} on {}", month.age, format_date(month.last));
    if month.age < SERVICE_MIN_AGE {
        let facts = format!("{age}, under {SERVICE_MIN_AGE}");
        return line(Kind::Service, standard, Fen::ZERO, &facts);
    }
    match month.low_income {
        Some(period) => {
            let facts = format!("{age}, {}", period.words());
            line(Kind::Service, standard, standard.service_low_income, &facts)
        }
        None => {
            let facts = format!("{age}, but no low income on any day of the month");
            line(Kind::Service, standard, Fen::ZERO, &facts)
        }
    }
}

/// A capacity level in words: "severely impaired capacity".
fn level_words(level: Level) -> &'static str {
    match level {
        Level::Intact => "intact capacity",
        Level::Mild => "mildly impaired capacity",
        Level::Moderate => "moderately impaired capacity",
        Level::Severe => "severely impaired capacity",
        Level::Complete => "complete loss of capacity",
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;

    fn city() -> RegionCode {
        RegionCode::parse("210500000000").expect("valid")
    }

    fn yuan(amount: i64) -> Fen {
        Fen::from_yuan(amount).expect("small")
    }

    fn decided_by() -> BoundedText {
        BoundedText::parse("本溪市民政局 本民发〔2021〕8号", DECIDED_BY_MAX_CHARS).expect("valid")
    }

    fn band(from_age: u8, monthly: i64) -> AgeBand {
        AgeBand {
            from_age,
            monthly: yuan(monthly),
        }
    }

    fn level(level: Level, monthly: i64) -> LevelAmount {
        LevelAmount {
            level,
            monthly: yuan(monthly),
        }
    }

    /// Bands 80/90/100 at 100/200/500 yuan; nursing for moderate, severe and complete at
    /// 200/300/400 yuan (none for intact and mild), for everyone; service 150 yuan.
    fn record(effective_from: Date) -> Record {
        Record {
            city: city(),
            effective_from,
            advanced_age: vec![band(80, 100), band(90, 200), band(100, 500)],
            nursing: vec![
                level(Level::Moderate, 200),
                level(Level::Severe, 300),
                level(Level::Complete, 400),
            ],
            nursing_requires_low_income: false,
            service_low_income: yuan(150),
            decided_by: decided_by(),
            recorded_on: date!(2024 - 12 - 15),
        }
    }

    fn recorded(version: u32, record: &Record) -> Event {
        Event::StandardRecorded(StandardRecorded {
            city: record.city,
            standard: record.standard(version),
        })
    }

    fn policy(records: &[Record]) -> SubsidyPolicy {
        records
            .iter()
            .zip(1..)
            .fold(SubsidyPolicy::default(), |policy, (record, version)| {
                policy.apply(&recorded(version, record))
            })
    }

    fn one_standard() -> SubsidyPolicy {
        policy(&[record(date!(2025 - 01 - 01))])
    }

    fn facts<'a>(
        birth_date: Date,
        assessments: &'a [AssessedLevel],
        low_income: &'a [Period],
    ) -> Facts<'a> {
        Facts {
            birth_date,
            assessments,
            low_income,
            died_on: None,
        }
    }

    fn amounts(monthly: &Monthly) -> [i64; 3] {
        [0, 1, 2].map(|i| monthly.lines[i].amount.fen() / 100)
    }

    // The policy aggregate.

    #[test]
    fn versions_are_numbered_in_order_and_the_one_in_force_is_found_by_day() {
        let first = record(date!(2024 - 01 - 01));
        let second = Record {
            advanced_age: vec![band(80, 120)],
            ..record(date!(2025 - 07 - 01))
        };
        let state = given::<SubsidyPolicy>([])
            .when(Command::Record(first.clone()))
            .then([recorded(1, &first)]);
        assert_eq!(state.city(), Some(city()));
        let state = given::<SubsidyPolicy>([recorded(1, &first)])
            .when(Command::Record(second.clone()))
            .then([recorded(2, &second)]);
        assert_eq!(
            state
                .versions()
                .iter()
                .map(|s| s.version)
                .collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(state.latest().map(|s| s.version), Some(2));
        for (day, version) in [
            (date!(2023 - 12 - 31), None),
            (date!(2024 - 01 - 01), Some(1)),
            (date!(2025 - 06 - 30), Some(1)),
            (date!(2025 - 07 - 01), Some(2)),
            (date!(2040 - 01 - 01), Some(2)),
        ] {
            assert_eq!(state.in_force(day).map(|s| s.version), version, "{day}");
        }
        assert_eq!(
            SubsidyPolicy::default().in_force(date!(2025 - 01 - 01)),
            None
        );
    }

    #[test]
    fn a_new_version_takes_effect_after_the_last_one() {
        let history = [recorded(1, &record(date!(2025 - 01 - 01)))];
        for effective_from in [date!(2025 - 01 - 01), date!(2024 - 12 - 01)] {
            let refusal = given::<SubsidyPolicy>(history.clone())
                .when(Command::Record(record(effective_from)))
                .then_refused("not_after_last_version");
            assert_eq!(
                refusal.to_string(),
                "a new version must take effect after the last version, which took effect on \
                 2025-01-01"
            );
        }
        given::<SubsidyPolicy>(history)
            .when(Command::Record(record(date!(2025 - 02 - 01))))
            .then([recorded(2, &record(date!(2025 - 02 - 01)))]);
    }

    #[test]
    fn standards_are_a_citys_and_the_streams_own() {
        for code in ["210502000000", "210000000000", "210502001000"] {
            given::<SubsidyPolicy>([])
                .when(Command::Record(Record {
                    city: RegionCode::parse(code).expect("valid"),
                    ..record(date!(2025 - 01 - 01))
                }))
                .then_refused("not_a_city");
        }
        given::<SubsidyPolicy>([recorded(1, &record(date!(2025 - 01 - 01)))])
            .when(Command::Record(Record {
                city: RegionCode::parse("210200000000").expect("valid"),
                ..record(date!(2025 - 02 - 01))
            }))
            .then_refused("wrong_city");
    }

    #[test]
    fn a_malformed_standard_is_refused_by_the_aggregate_too() {
        let refusal = given::<SubsidyPolicy>([])
            .when(Command::Record(record(date!(2025 - 01 - 02))))
            .then_refused("invalid_standard");
        assert_eq!(
            refusal.to_string(),
            "the standard is malformed: effective_from must be the first day of a month"
        );
    }

    #[test]
    fn the_shape_check_names_every_broken_rule_by_field_path() {
        let good = record(date!(2025 - 01 - 01));
        assert_eq!(good.check_shape(), Ok(()));
        assert_eq!(good.standard(1).check_shape(), Ok(()));
        let at_the_limits = Record {
            advanced_age: vec![band(60, 0), band(120, MAX_MONTHLY_YUAN)],
            service_low_income: MAX_MONTHLY,
            nursing: vec![],
            ..good.clone()
        };
        assert_eq!(at_the_limits.check_shape(), Ok(()));

        let bad = Record {
            effective_from: date!(2025 - 01 - 31),
            advanced_age: vec![
                band(80, 100),
                band(80, 100),
                band(59, 100),
                AgeBand {
                    from_age: 121,
                    monthly: Fen::new(-1),
                },
            ],
            nursing: vec![
                level(Level::Severe, 300),
                LevelAmount {
                    level: Level::Mild,
                    monthly: Fen::new(MAX_MONTHLY.fen() + 1),
                },
                level(Level::Severe, 200),
            ],
            service_low_income: Fen::new(-100),
            ..good
        };
        let fields: Vec<String> = bad
            .check_shape()
            .expect_err("malformed")
            .into_iter()
            .map(|(field, _)| field)
            .collect();
        assert_eq!(
            fields,
            [
                "effective_from",
                "advanced_age[1].from_age",
                "advanced_age[2].from_age",
                "advanced_age[2].from_age",
                "advanced_age[3].from_age",
                "advanced_age[3].monthly",
                "nursing[1].monthly",
                "nursing[2].level",
                "service_low_income",
            ]
        );
        let violations = bad.standard(3).check_shape().expect_err("malformed");
        assert!(violations.contains(&(
            "nursing[2].level".to_owned(),
            "lists a level already listed in nursing[0]".to_owned()
        )));
        assert!(violations.contains(&(
            "advanced_age[3].monthly".to_owned(),
            "must be from 0 to 100000.00 yuan".to_owned()
        )));
    }

    // The month's entitlement.

    #[test]
    fn the_explanation_names_the_rule_the_facts_and_the_version() {
        let policy = policy(&[record(date!(2024 - 01 - 01)), record(date!(2025 - 01 - 01))]);
        let month = monthly(
            &facts(date!(1940 - 02 - 10), &[], &[]),
            &policy,
            date!(2025 - 03 - 17),
        );
        assert_eq!(month.month, date!(2025 - 03 - 01));
        assert_eq!(
            month.lines[0].explanation,
            "advanced-age allowance (高龄津贴): aged 85 on 2025-03-31, band from 80, standard \
             v2 effective 2025-01-01: 100.00 yuan"
        );
        assert_eq!(
            month.lines[1].explanation,
            "nursing subsidy (护理补贴): no capacity assessment on or before 2025-03-31, \
             standard v2 effective 2025-01-01: 0.00 yuan"
        );
        assert_eq!(
            month.lines[2].explanation,
            "service subsidy (养老服务补贴): aged 85 on 2025-03-31, but no low income on any \
             day of the month, standard v2 effective 2025-01-01: 0.00 yuan"
        );
        assert_eq!(
            month.lines.iter().map(|l| l.kind).collect::<Vec<_>>(),
            Kind::ALL
        );
        assert!(month.lines.iter().all(|l| l.standard_version == 2));
        assert_eq!(month.total, yuan(100));
    }

    #[test]
    fn the_advanced_age_band_is_reached_in_the_birthday_month() {
        let policy = one_standard();
        for (birth, month, age, expected) in [
            (date!(1945 - 03 - 15), date!(2025 - 02 - 28), 79, 0),
            (date!(1945 - 03 - 15), date!(2025 - 03 - 01), 80, 100),
            (date!(1945 - 03 - 31), date!(2025 - 03 - 01), 80, 100),
            (date!(1945 - 04 - 01), date!(2025 - 03 - 31), 79, 0),
            (date!(1945 - 03 - 15), date!(2035 - 02 - 01), 89, 100),
            (date!(1945 - 03 - 15), date!(2035 - 03 - 01), 90, 200),
            (date!(1945 - 03 - 15), date!(2045 - 02 - 01), 99, 200),
            (date!(1945 - 03 - 15), date!(2045 - 03 - 01), 100, 500),
            (date!(1945 - 03 - 15), date!(2055 - 03 - 01), 110, 500),
            // A 29 February birthday: on the day in leap years, on 1 March in common years.
            (date!(1948 - 02 - 29), date!(2028 - 01 - 01), 79, 0),
            (date!(1948 - 02 - 29), date!(2028 - 02 - 01), 80, 100),
            (date!(1944 - 02 - 29), date!(2034 - 02 - 01), 89, 100),
            (date!(1944 - 02 - 29), date!(2034 - 03 - 01), 90, 200),
        ] {
            let result = monthly(&facts(birth, &[], &[]), &policy, month);
            let line = &result.lines[0];
            assert_eq!(line.kind, Kind::AdvancedAge);
            assert_eq!(line.amount, yuan(expected), "born {birth}, {month}");
            assert!(
                line.explanation.contains(&format!("aged {age} on ")),
                "{}",
                line.explanation
            );
        }
        let young = monthly(
            &facts(date!(1945 - 03 - 15), &[], &[]),
            &policy,
            date!(2025 - 02 - 01),
        );
        assert!(
            young.lines[0]
                .explanation
                .contains("aged 79 on 2025-02-28, below the lowest band (from 80)"),
            "{}",
            young.lines[0].explanation
        );
    }

    #[test]
    fn nursing_pays_the_listed_amount_of_the_level_with_low_income_when_required() {
        let assessed = |level| {
            [AssessedLevel {
                level,
                assessed_on: date!(2024 - 06 - 01),
                reassessment_due_on: date!(2025 - 06 - 01),
            }]
        };
        let low_income = [Period {
            from: date!(2024 - 01 - 01),
            until: None,
        }];
        for (level, requires_low_income, has_low_income, expected) in [
            (Level::Intact, false, false, 0),
            (Level::Intact, false, true, 0),
            (Level::Intact, true, true, 0),
            (Level::Mild, false, false, 0),
            (Level::Mild, true, true, 0),
            (Level::Moderate, false, false, 200),
            (Level::Moderate, false, true, 200),
            (Level::Moderate, true, false, 0),
            (Level::Moderate, true, true, 200),
            (Level::Severe, false, false, 300),
            (Level::Severe, false, true, 300),
            (Level::Severe, true, false, 0),
            (Level::Severe, true, true, 300),
            (Level::Complete, false, false, 400),
            (Level::Complete, false, true, 400),
            (Level::Complete, true, false, 0),
            (Level::Complete, true, true, 400),
        ] {
            let policy = policy(&[Record {
                nursing_requires_low_income: requires_low_income,
                ..record(date!(2025 - 01 - 01))
            }]);
            let assessments = assessed(level);
            let periods: &[Period] = if has_low_income { &low_income } else { &[] };
            let result = monthly(
                &facts(date!(1950 - 06 - 01), &assessments, periods),
                &policy,
                date!(2025 - 03 - 01),
            );
            let line = &result.lines[1];
            assert_eq!(line.kind, Kind::Nursing);
            assert_eq!(
                line.amount,
                yuan(expected),
                "{level:?}, requires {requires_low_income}, low income {has_low_income}: {}",
                line.explanation
            );
        }

        let policy = policy(&[Record {
            nursing_requires_low_income: true,
            ..record(date!(2025 - 01 - 01))
        }]);
        let assessments = assessed(Level::Severe);
        let paid = monthly(
            &facts(date!(1950 - 06 - 01), &assessments, &low_income),
            &policy,
            date!(2025 - 03 - 01),
        );
        assert_eq!(
            paid.lines[1].explanation,
            "nursing subsidy (护理补贴): assessed on 2024-06-01 with severely impaired capacity \
             (re-assessment due 2025-06-01), low income from 2024-01-01, standard v1 effective \
             2025-01-01: 300.00 yuan"
        );
        let refused = monthly(
            &facts(date!(1950 - 06 - 01), &assessments, &[]),
            &policy,
            date!(2025 - 03 - 01),
        );
        assert!(
            refused.lines[1]
                .explanation
                .contains("only to low-income elderly"),
            "{}",
            refused.lines[1].explanation
        );
        let mild = assessed(Level::Mild);
        let unlisted = monthly(
            &facts(date!(1950 - 06 - 01), &mild, &low_income),
            &policy,
            date!(2025 - 03 - 01),
        );
        assert!(
            unlisted.lines[1]
                .explanation
                .contains("mildly impaired capacity (re-assessment due 2025-06-01), a level for which the standard lists no amount"),
            "{}",
            unlisted.lines[1].explanation
        );
    }

    #[test]
    fn the_latest_assessment_of_the_month_counts_and_an_expired_one_pays_nothing() {
        let policy = one_standard();
        let birth = date!(1950 - 06 - 01);
        let old = AssessedLevel {
            level: Level::Severe,
            assessed_on: date!(2024 - 03 - 01),
            reassessment_due_on: date!(2025 - 03 - 01),
        };
        let nursing = |assessments: &[AssessedLevel], month: Date| {
            monthly(&facts(birth, assessments, &[]), &policy, month).lines[1].clone()
        };
        // Due on 1 March: February is paid, March is not.
        assert_eq!(nursing(&[old], date!(2025 - 02 - 01)).amount, yuan(300));
        let expired = nursing(&[old], date!(2025 - 03 - 01));
        assert_eq!(expired.amount, Fen::ZERO);
        assert_eq!(
            expired.explanation,
            "nursing subsidy (护理补贴): assessed on 2024-03-01 with severely impaired capacity, \
             but its re-assessment was due on 2025-03-01 and an expired assessment pays nothing \
             until the person is re-assessed, standard v1 effective 2025-01-01: 0.00 yuan"
        );
        // Due on 2 March: valid on 1 March, so March is paid.
        let due_on_the_second = AssessedLevel {
            reassessment_due_on: date!(2025 - 03 - 02),
            ..old
        };
        assert_eq!(
            nursing(&[due_on_the_second], date!(2025 - 03 - 01)).amount,
            yuan(300)
        );
        // Re-assessed late in March: the new level pays for March, and not before.
        let again = AssessedLevel {
            level: Level::Complete,
            assessed_on: date!(2025 - 03 - 31),
            reassessment_due_on: date!(2026 - 03 - 31),
        };
        assert_eq!(
            nursing(&[old, again], date!(2025 - 03 - 01)).amount,
            yuan(400)
        );
        assert_eq!(
            nursing(&[old, again], date!(2025 - 02 - 01)).amount,
            yuan(300)
        );
        // An assessment after the month does not count.
        let later = nursing(&[again], date!(2025 - 02 - 01));
        assert_eq!(later.amount, Fen::ZERO);
        assert!(
            later
                .explanation
                .contains("no capacity assessment on or before 2025-02-28")
        );
    }

    #[test]
    fn the_service_subsidy_needs_age_60_and_low_income_on_a_day_of_the_month() {
        let policy = one_standard();
        let always = Period {
            from: date!(2020 - 01 - 01),
            until: None,
        };
        for (birth, month, periods, expected) in [
            (
                date!(1965 - 03 - 15),
                date!(2025 - 02 - 01),
                vec![always],
                0,
            ),
            (
                date!(1965 - 03 - 15),
                date!(2025 - 03 - 01),
                vec![always],
                150,
            ),
            (date!(1965 - 03 - 15), date!(2025 - 03 - 01), vec![], 0),
            // Low income from the month's last day.
            (
                date!(1950 - 01 - 01),
                date!(2025 - 03 - 01),
                vec![Period {
                    from: date!(2025 - 03 - 31),
                    until: None,
                }],
                150,
            ),
            // Ended on the month's first day (the first day without): not in the month.
            (
                date!(1950 - 01 - 01),
                date!(2025 - 03 - 01),
                vec![Period {
                    from: date!(2024 - 01 - 01),
                    until: Some(date!(2025 - 03 - 01)),
                }],
                0,
            ),
            // Ended on the second: held on the first.
            (
                date!(1950 - 01 - 01),
                date!(2025 - 03 - 01),
                vec![Period {
                    from: date!(2024 - 01 - 01),
                    until: Some(date!(2025 - 03 - 02)),
                }],
                150,
            ),
            // Starts after the month.
            (
                date!(1950 - 01 - 01),
                date!(2025 - 03 - 01),
                vec![Period {
                    from: date!(2025 - 04 - 01),
                    until: None,
                }],
                0,
            ),
        ] {
            let result = monthly(&facts(birth, &[], &periods), &policy, month);
            let line = &result.lines[2];
            assert_eq!(line.kind, Kind::Service);
            assert_eq!(line.amount, yuan(expected), "{}", line.explanation);
        }
        let ended = [Period {
            from: date!(2024 - 01 - 01),
            until: Some(date!(2025 - 03 - 15)),
        }];
        let result = monthly(
            &facts(date!(1950 - 01 - 01), &[], &ended),
            &policy,
            date!(2025 - 03 - 01),
        );
        assert_eq!(
            result.lines[2].explanation,
            "service subsidy (养老服务补贴): aged 75 on 2025-03-31, low income from 2024-01-01 \
             to 2025-03-14, standard v1 effective 2025-01-01: 150.00 yuan"
        );
        let young = monthly(
            &facts(date!(1965 - 03 - 15), &[], &[always]),
            &policy,
            date!(2025 - 02 - 01),
        );
        assert!(
            young.lines[2]
                .explanation
                .contains("aged 59 on 2025-02-28, under 60"),
            "{}",
            young.lines[2].explanation
        );
    }

    #[test]
    fn a_death_ends_the_subsidies_from_the_next_month() {
        let policy = one_standard();
        let assessments = [AssessedLevel {
            level: Level::Severe,
            assessed_on: date!(2024 - 06 - 01),
            reassessment_due_on: date!(2025 - 06 - 01),
        }];
        let low_income = [Period {
            from: date!(2020 - 01 - 01),
            until: None,
        }];
        let facts = Facts {
            died_on: Some(date!(2025 - 03 - 10)),
            ..facts(date!(1940 - 01 - 01), &assessments, &low_income)
        };
        let march = monthly(&facts, &policy, date!(2025 - 03 - 01));
        assert_eq!(amounts(&march), [100, 300, 150]);
        assert_eq!(march.total, yuan(550));
        let april = monthly(&facts, &policy, date!(2025 - 04 - 30));
        assert_eq!(april.month, date!(2025 - 04 - 01));
        assert_eq!(amounts(&april), [0, 0, 0]);
        assert_eq!(april.total, Fen::ZERO);
        assert_eq!(april.lines.len(), 3);
        for line in &april.lines {
            assert_eq!(line.standard_version, 1);
            assert_eq!(
                line.explanation,
                format!(
                    "{}: the person died on 2025-03-10, before this month, and subsidies end \
                     with the month of death, standard v1 effective 2025-01-01: 0.00 yuan",
                    line.kind.label()
                )
            );
        }
        // Died on the month's last day: that month is paid.
        let on_the_last_day = Facts {
            died_on: Some(date!(2025 - 03 - 31)),
            ..facts
        };
        assert_eq!(
            amounts(&monthly(&on_the_last_day, &policy, date!(2025 - 03 - 01))),
            [100, 300, 150]
        );
        assert_eq!(
            amounts(&monthly(&on_the_last_day, &policy, date!(2025 - 04 - 01))),
            [0, 0, 0]
        );
    }

    #[test]
    fn no_standard_in_force_pays_nothing_and_says_so() {
        let low_income = [Period {
            from: date!(2020 - 01 - 01),
            until: None,
        }];
        let facts = facts(date!(1930 - 01 - 01), &[], &low_income);
        for policy in [SubsidyPolicy::default(), one_standard()] {
            let result = monthly(&facts, &policy, date!(2024 - 12 - 31));
            assert_eq!(result.month, date!(2024 - 12 - 01));
            assert_eq!(result.total, Fen::ZERO);
            assert_eq!(
                result.lines.iter().map(|l| l.kind).collect::<Vec<_>>(),
                Kind::ALL
            );
            for line in &result.lines {
                assert_eq!(line.amount, Fen::ZERO);
                assert_eq!(line.standard_version, 0);
                assert_eq!(
                    line.explanation,
                    format!(
                        "{}: no subsidy standard was in force on 2024-12-01: 0.00 yuan",
                        line.kind.label()
                    )
                );
            }
        }
    }

    #[test]
    fn a_new_standard_applies_from_its_month() {
        let policy = policy(&[
            record(date!(2025 - 01 - 01)),
            Record {
                advanced_age: vec![band(80, 120), band(90, 250)],
                service_low_income: yuan(180),
                ..record(date!(2025 - 07 - 01))
            },
        ]);
        let low_income = [Period {
            from: date!(2020 - 01 - 01),
            until: None,
        }];
        let facts = facts(date!(1935 - 07 - 20), &[], &low_income);
        for (day, version, expected) in [
            (date!(2025 - 06 - 01), 1, [100, 0, 150]),
            (date!(2025 - 06 - 30), 1, [100, 0, 150]),
            (date!(2025 - 07 - 01), 2, [250, 0, 180]),
            (date!(2025 - 07 - 31), 2, [250, 0, 180]),
        ] {
            let result = monthly(&facts, &policy, day);
            assert_eq!(amounts(&result), expected, "{day}");
            assert!(result.lines.iter().all(|l| l.standard_version == version));
            assert_eq!(
                result.total,
                Fen::checked_sum(result.lines.iter().map(|l| l.amount)).expect("small")
            );
        }
    }

    #[test]
    fn nothing_personal_shows_in_debug_or_explanations() {
        let facts = facts(date!(1940 - 02 - 10), &[], &[]);
        let debug = format!("{facts:?}");
        assert!(!debug.contains("1940"), "{debug}");
        let result = monthly(&facts, &one_standard(), date!(2025 - 03 - 01));
        for line in &result.lines {
            assert!(!line.explanation.contains("1940"), "{}", line.explanation);
            assert!(!minzheng_types::contains_citizen_id(&line.explanation));
        }
    }
}
