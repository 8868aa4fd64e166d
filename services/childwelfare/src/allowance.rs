//! The basic-living allowance (基本生活费) of orphans and de-facto unsupported children (孤儿,
//! 事实无人抚养儿童): a city's effective-dated standards, stream `allowance_policy-<city code>`,
//! which must rise at least 6% a year, and the pure computation of a child's month.
//!
//! This module is pure: no IO, no clock (its codec is [`crate::codec::allowance`]).
//!
//! # Who is covered ([`identify`])
//!
//! - An **orphan** (孤儿) is a minor who has lost both parents or whose birth parents cannot be
//!   found (失去父母、查找不到生父母的未满18周岁的未成年人), identified by the county-level civil
//!   affairs bureau (国务院办公厅《关于加强孤儿保障工作的意见》, 国办发〔2010〕54号).
//! - A **de-facto unsupported child** (事实无人抚养儿童) is a minor both of whose parents are
//!   severely disabled (重残), severely ill (重病), serving a sentence or in custody (服刑在押),
//!   in compulsory drug rehabilitation (强制隔离戒毒), under another measure restricting personal
//!   liberty (被执行其他限制人身自由的措施) or out of contact (失联); or one of whose parents is
//!   dead or declared missing (死亡或失踪) and the other in one of those situations (民政部等
//!   《关于进一步加强事实无人抚养儿童保障工作的意见》, 民发〔2019〕62号). The service's reading:
//!   a parent declared missing also counts as "out of contact" for the other parent's side, so
//!   both parents declared missing qualify.
//!
//! [`identify`] derives the basis from the two parents' situations, and a [`Child`] carries the
//! basis with the identification day, so every line names the facts that make the child
//! covered.
//!
//! # The standards and the 6% rule
//!
//! A version ([`Standard`]) gives two monthly amounts: **centralized care** (集中供养, in a
//! child-welfare institution) and **family care** (社会散居, with relatives or a foster family).
//! Versions take effect on the first of a month, each later than the last, and are never edited:
//! a change is a new version, numbered 1, 2, … ([`AllowancePolicy::in_force`] answers which
//! applies on a day). Amounts are whole fen from 0 to 100,000 yuan a month.
//!
//! Benxi's 2021–2025 plan asks the standards to rise at least 6% a year. The service reads this
//! as a year-on-year comparison made when a version is recorded ([`growth_target`]), for each of
//! the two amounts separately:
//!
//! - the **baseline** is the version in force on the day one year before the new version's
//!   effective day; the new amount must be at least the baseline's × 1.06 for each whole year
//!   from the baseline's effective day to the new one (compounded year by year, each year
//!   rounded up to the fen). With a version a year, that is 6% over last year's; after a gap of
//!   three years, 1.06³ over the amount of three years before.
//! - and, whatever the baseline, the new amount must not be below the last version's (a
//!   mid-year version may add less than 6%, but not cut).
//! - When no version was in force a year before (the city's first year), only the second rule
//!   applies: the first year's versions are the baseline of the next year's.
//!
//! A version short of the target is refused ([`Refusal::BelowGrowthTarget`], naming the amount
//! required) unless it carries an `override_reason`, which is then kept with it. Such a version
//! is flagged by [`AllowancePolicy::growth_below_target`] for the indicators, which recomputes
//! the rule over the history (so a version with a reason that met the target anyway is not
//! flagged). An accepted version is the next year's baseline, whether it met the target or not.
//!
//! # The month's allowance ([`monthly`])
//!
//! Both documents cover minors (未满18周岁); the months in which payment starts and ends are the
//! service's reading (not taken from either document), the same for every cause, and every month
//! is all or nothing:
//!
//! - The standard applied is the one in force on the month's **first day**; when none is, the
//!   amount is zero with version 0, and the line says so.
//! - Paid **from the month of identification** (identified on any day of it).
//! - Paid **through the month of the ending event**, nothing from the next month: the month of
//!   the **18th birthday** (age in completed years from the citizen id's birth date,
//!   [`minzheng_types::CitizenId::birth_date`], [`minzheng_types::age_on`]; a 29 February birth
//!   turns 18 on 1 March, since the 18th birthday always falls in a common year, so March is its
//!   last month), the month of **adoption** (收养登记), the month of **death**. The child was a
//!   minor, not yet adopted, alive on at least one day of that month, and a caseworker need not
//!   prorate; the month of the 18th birthday is paid even when the birthday is on the 1st, so
//!   the rule has no exception. The same for the month in which the child is **no longer
//!   covered** ([`Child::ceased_on`]: the parents' revised situations no longer make a basis,
//!   e.g. a parent released from prison), named "was no longer covered on …".
//! - The **care arrangement in force on the month's first day** decides the amount
//!   (centralized or family); in the month of identification, when no arrangement was in force
//!   on the first, the first one recorded in the month. With none recorded by the month's last
//!   day, nothing is paid and the line says so.
//!
//! Each line carries one English sentence ([`Line::explanation`]) naming the basis, the facts
//! and their days, the care and the standard version, e.g. `basic-living allowance (基本生活费):
//! orphan (孤儿) identified on 2025-01-10, family care (社会散居) from 2025-01-10, standard v1
//! effective 2025-01-01: 1200.00 yuan`. It never contains a citizen id number or a birth date.

use std::fmt;

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{
    BoundedText, Fen, RegionCode, RegionLevel, Rounding, add_days, add_years, age_on, format_date,
};
use time::{Date, Month};

/// The largest monthly amount, in yuan.
pub const MAX_MONTHLY_YUAN: i64 = 100_000;
/// The largest monthly amount: 100,000 yuan.
pub const MAX_MONTHLY: Fen = Fen::new(MAX_MONTHLY_YUAN * 100);
/// The longest `decided_by`, in characters.
pub const DECIDED_BY_MAX_CHARS: usize = 200;
/// The longest `override_reason`, in characters.
pub const OVERRIDE_REASON_MAX_CHARS: usize = 500;
/// The yearly growth the plan asks of the standards, in percent.
pub const GROWTH_TARGET_PERCENT: i64 = 6;
/// The age at which the allowance ends (with that birthday's month).
pub const END_AGE: u32 = 18;

/// How a child is cared for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Care {
    /// 集中供养: in a child-welfare institution.
    Centralized,
    /// 社会散居: with relatives, a guardian or a foster family.
    Family,
}

impl Care {
    /// Both, in the order of a standard's amounts.
    pub const ALL: [Care; 2] = [Care::Centralized, Care::Family];

    /// "family care (社会散居)".
    pub fn label(self) -> &'static str {
        match self {
            Care::Centralized => "centralized care (集中供养)",
            Care::Family => "family care (社会散居)",
        }
    }

    /// The request field of the amount.
    fn field(self) -> &'static str {
        match self {
            Care::Centralized => "centralized",
            Care::Family => "family",
        }
    }
}

/// One version of a city's allowance standard; see the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standard {
    /// 1, 2, … in the city's stream.
    pub version: u32,
    /// The first day it applies: the first of a month.
    pub effective_from: Date,
    /// Monthly, for centralized care (集中供养).
    pub centralized: Fen,
    /// Monthly, for family care (社会散居).
    pub family: Fen,
    /// Who decided it and the document (e.g. "本溪市民政局 本溪市财政局 本民发〔2025〕3号").
    pub decided_by: BoundedText,
    /// Why it was accepted below the 6% growth target, when it is.
    pub override_reason: Option<BoundedText>,
    /// The day it was recorded.
    pub recorded_on: Date,
}

impl Standard {
    /// The monthly amount for `care`.
    pub fn amount(&self, care: Care) -> Fen {
        match care {
            Care::Centralized => self.centralized,
            Care::Family => self.family,
        }
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

/// Record a new version: a [`Standard`] without its version, which the policy numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The city-level division: the stream's key.
    pub city: RegionCode,
    /// The first of a month, later than the last version's.
    pub effective_from: Date,
    pub centralized: Fen,
    pub family: Fen,
    pub decided_by: BoundedText,
    /// Required to record a version below the growth target; kept with it.
    pub override_reason: Option<BoundedText>,
    /// Today.
    pub recorded_on: Date,
}

impl Record {
    /// The shape rules, for the gRPC edge (the policy runs them again): the first of a month,
    /// amounts from 0 to 100,000 yuan, `decided_by` at most 200 and `override_reason` at most 500
    /// characters. Every broken rule, as (field path, rule).
    pub fn check_shape(&self) -> Result<(), Vec<(String, String)>> {
        let mut violations = Vec::new();
        if self.effective_from.day() != 1 {
            violations.push((
                "effective_from".to_owned(),
                "must be the first day of a month".to_owned(),
            ));
        }
        for care in Care::ALL {
            let amount = self.amount(care);
            if amount.is_negative() || amount > MAX_MONTHLY {
                violations.push((
                    care.field().to_owned(),
                    format!("must be from 0 to {MAX_MONTHLY_YUAN}.00 yuan"),
                ));
            }
        }
        if self.decided_by.char_count() > DECIDED_BY_MAX_CHARS {
            violations.push((
                "decided_by".to_owned(),
                format!("must be at most {DECIDED_BY_MAX_CHARS} characters long"),
            ));
        }
        if self
            .override_reason
            .as_ref()
            .is_some_and(|reason| reason.char_count() > OVERRIDE_REASON_MAX_CHARS)
        {
            violations.push((
                "override_reason".to_owned(),
                format!("must be at most {OVERRIDE_REASON_MAX_CHARS} characters long"),
            ));
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }

    /// The monthly amount for `care`.
    pub fn amount(&self, care: Care) -> Fen {
        match care {
            Care::Centralized => self.centralized,
            Care::Family => self.family,
        }
    }

    /// The standard this command records as `version`.
    pub fn standard(&self, version: u32) -> Standard {
        Standard {
            version,
            effective_from: self.effective_from,
            centralized: self.centralized,
            family: self.family,
            decided_by: self.decided_by.clone(),
            override_reason: self.override_reason.clone(),
            recorded_on: self.recorded_on,
        }
    }
}

/// What can be asked of a city's allowance policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Record(Record),
}

/// What happened to a city's allowance policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    StandardRecorded(StandardRecorded),
}

/// A version of the standard was recorded (`AllowanceStandardRecorded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardRecorded {
    pub city: RegionCode,
    pub standard: Standard,
}

/// Why an amount misses the growth target: what it had to reach and against which version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortfall {
    pub care: Care,
    pub amount: Fen,
    /// The least amount the rule asks.
    pub required: Fen,
    /// The version the requirement comes from.
    pub baseline_version: u32,
}

/// A rule that refused to record a standard. No message carries personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("allowance standards are recorded for a city-level division")]
    NotACity,
    #[error("this allowance policy stream belongs to another city")]
    WrongCity,
    /// A shape rule ([`Record::check_shape`]) broken; the first one found.
    #[error("the standard is malformed: {field} {rule}")]
    InvalidStandard { field: String, rule: String },
    #[error(
        "a new version must take effect after the last version, which took effect on {}",
        format_date(*last)
    )]
    NotAfterLastVersion { last: Date },
    #[error(
        "the {} amount of {} yuan is below the {} yuan the 6% yearly growth target asks \
         (against version {}); give an override reason to record it anyway",
        .0.care.field(),
        .0.amount.yuan(),
        .0.required.yuan(),
        .0.baseline_version
    )]
    BelowGrowthTarget(Shortfall),
}

impl DomainError for Refusal {
    fn rule(&self) -> &str {
        match self {
            Refusal::NotACity => "not_a_city",
            Refusal::WrongCity => "wrong_city",
            Refusal::InvalidStandard { .. } => "invalid_standard",
            Refusal::NotAfterLastVersion { .. } => "not_after_last_version",
            Refusal::BelowGrowthTarget(_) => "below_growth_target",
        }
    }
}

/// The least amount for `care` a version effective from `effective_from` must have after the
/// `earlier` versions (oldest first), and the version that asks it; `None` for a city's first
/// version. See the [module documentation](self#the-standards-and-the-6-rule).
pub fn growth_target(earlier: &[Standard], effective_from: Date, care: Care) -> Option<(Fen, u32)> {
    let last = earlier.last()?;
    let mut target = (last.amount(care), last.version);
    if let Some(year_before) = add_years(effective_from, -1)
        && let Some(baseline) = earlier
            .iter()
            .rev()
            .find(|standard| standard.effective_from <= year_before)
    {
        let years = age_on(baseline.effective_from, effective_from);
        let mut required = baseline.amount(care);
        for _ in 0..years {
            // Past the largest amount every new amount falls short: stop compounding.
            if required > MAX_MONTHLY {
                break;
            }
            required = required
                .checked_mul_div(100 + GROWTH_TARGET_PERCENT, 100, Rounding::Ceiling)
                .unwrap_or(Fen::new(i64::MAX));
        }
        if required > target.0 {
            target = (required, baseline.version);
        }
    }
    Some(target)
}

/// The first amount of a version below its growth target, if any.
fn shortfall(earlier: &[Standard], effective_from: Date, amounts: [Fen; 2]) -> Option<Shortfall> {
    Care::ALL
        .into_iter()
        .zip(amounts)
        .find_map(|(care, amount)| {
            let (required, baseline_version) = growth_target(earlier, effective_from, care)?;
            (amount < required).then_some(Shortfall {
                care,
                amount,
                required,
                baseline_version,
            })
        })
}

/// A city's allowance standards: every version, in the order recorded. `Default` is a city with
/// none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowancePolicy {
    city: Option<RegionCode>,
    versions: Vec<Standard>,
}

impl AllowancePolicy {
    /// The city, once a version is recorded.
    pub fn city(&self) -> Option<RegionCode> {
        self.city
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> &[Standard] {
        &self.versions
    }

    /// The last version recorded.
    pub fn latest(&self) -> Option<&Standard> {
        self.versions.last()
    }

    /// The version in force on `day`: the latest whose `effective_from` is on or before it.
    pub fn in_force(&self, day: Date) -> Option<&Standard> {
        self.versions
            .iter()
            .rev()
            .find(|standard| standard.effective_from <= day)
    }

    /// The versions recorded below the growth target (with an override reason), for the
    /// indicators.
    pub fn growth_below_target(&self) -> Vec<u32> {
        self.versions
            .iter()
            .enumerate()
            .filter(|(index, standard)| {
                shortfall(
                    &self.versions[..*index],
                    standard.effective_from,
                    [standard.centralized, standard.family],
                )
                .is_some()
            })
            .map(|(_, standard)| standard.version)
            .collect()
    }

    /// Checks `record` against the rules and the history; the event it would record.
    pub fn record(&self, record: &Record) -> Result<StandardRecorded, Refusal> {
        if record.city.level() != RegionLevel::City {
            return Err(Refusal::NotACity);
        }
        if self.city.is_some_and(|city| city != record.city) {
            return Err(Refusal::WrongCity);
        }
        if let Err(violations) = record.check_shape()
            && let Some((field, rule)) = violations.into_iter().next()
        {
            return Err(Refusal::InvalidStandard { field, rule });
        }
        let last = self.latest();
        if let Some(last) = last
            && record.effective_from <= last.effective_from
        {
            return Err(Refusal::NotAfterLastVersion {
                last: last.effective_from,
            });
        }
        if record.override_reason.is_none()
            && let Some(short) = shortfall(
                &self.versions,
                record.effective_from,
                [record.centralized, record.family],
            )
        {
            return Err(Refusal::BelowGrowthTarget(short));
        }
        let version = last.map_or(1, |last| last.version.saturating_add(1));
        Ok(StandardRecorded {
            city: record.city,
            standard: record.standard(version),
        })
    }
}

impl Aggregate for AllowancePolicy {
    const CATEGORY: &'static str = "allowance_policy";
    type Command = Command;
    type Event = Event;
    type Error = Refusal;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Refusal> {
        let Command::Record(record) = command;
        Ok(vec![Event::StandardRecorded(self.record(record)?)])
    }

    /// Recorded events are history, never re-checked.
    fn apply(mut self, event: &Event) -> Self {
        let Event::StandardRecorded(recorded) = event;
        self.city.get_or_insert(recorded.city);
        self.versions.push(recorded.standard.clone());
        self
    }
}

/// A parent's situation, as the identification records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParentSituation {
    /// None of the situations below: able to support the child.
    Able,
    /// 死亡 (including declared dead).
    Dead,
    /// 查找不到: a birth parent who cannot be found (an abandoned child).
    NotFound,
    /// 宣告失踪.
    DeclaredMissing,
    /// 重残: disability of grade 1 or 2.
    SevereDisability,
    /// 重病.
    SevereIllness,
    /// 服刑在押.
    Imprisoned,
    /// 强制隔离戒毒.
    CompulsoryDrugRehabilitation,
    /// 被执行其他限制人身自由的措施.
    OtherRestrictionOfLiberty,
    /// 失联: out of contact.
    OutOfContact,
}

impl ParentSituation {
    fn gone(self) -> bool {
        matches!(self, ParentSituation::Dead | ParentSituation::NotFound)
    }

    /// Unable to support the child under 民发〔2019〕62号 (a declared missing parent counts as
    /// out of contact).
    fn unable(self) -> bool {
        matches!(
            self,
            ParentSituation::DeclaredMissing
                | ParentSituation::SevereDisability
                | ParentSituation::SevereIllness
                | ParentSituation::Imprisoned
                | ParentSituation::CompulsoryDrugRehabilitation
                | ParentSituation::OtherRestrictionOfLiberty
                | ParentSituation::OutOfContact
        )
    }
}

/// Why a child is covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Basis {
    /// 孤儿: both parents dead or not found.
    Orphan,
    /// 事实无人抚养儿童.
    DeFactoUnsupported,
}

impl Basis {
    /// "orphan (孤儿)".
    pub fn label(self) -> &'static str {
        match self {
            Basis::Orphan => "orphan (孤儿)",
            Basis::DeFactoUnsupported => "de-facto unsupported child (事实无人抚养儿童)",
        }
    }
}

/// The basis the two parents' situations make, `None` when they make none; see the [module
/// documentation](self#who-is-covered-identify).
pub fn identify(father: ParentSituation, mother: ParentSituation) -> Option<Basis> {
    if father.gone() && mother.gone() {
        return Some(Basis::Orphan);
    }
    let covers = |one: ParentSituation, other: ParentSituation| {
        (one.gone() || one.unable()) && other.unable()
    };
    (covers(father, mother) || covers(mother, father)).then_some(Basis::DeFactoUnsupported)
}

/// A care arrangement from a day on (until the next one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CareFrom {
    pub from: Date,
    pub care: Care,
}

/// What the computation needs to know of a child. PERSONAL DATA: `Debug` hides the birth date.
#[derive(Clone, Copy)]
pub struct Child<'a> {
    /// From the citizen id ([`minzheng_types::CitizenId::birth_date`]).
    pub birth_date: Date,
    pub basis: Basis,
    pub identified_on: Date,
    /// Every arrangement, in the order recorded (of two from one day, the later counts).
    pub care: &'a [CareFrom],
    pub adopted_on: Option<Date>,
    pub died_on: Option<Date>,
    /// The day the coverage ended because the facts no longer make a basis.
    pub ceased_on: Option<Date>,
}

impl fmt::Debug for Child<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("birth_date", &"<hidden>")
            .field("basis", &self.basis)
            .field("identified_on", &self.identified_on)
            .field("care", &self.care)
            .field("adopted_on", &self.adopted_on)
            .field("died_on", &self.died_on)
            .field("ceased_on", &self.ceased_on)
            .finish()
    }
}

/// A child's allowance for one month, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The first of the month.
    pub month: Date,
    /// Zero when not paid.
    pub amount: Fen,
    /// The standard version applied; 0 when none was in force.
    pub standard_version: u32,
    /// The arrangement that decided the amount, when one did.
    pub care: Option<Care>,
    /// The basis, the facts and their days, the version, in one English sentence.
    pub explanation: String,
}

const LABEL: &str = "basic-living allowance (基本生活费)";

/// What `child` is paid for the month of `month` (any day of it) under `policy`; see the
/// [module documentation](self#the-months-allowance-monthly) for the rules.
pub fn monthly(child: &Child<'_>, policy: &AllowancePolicy, month: Date) -> Line {
    let first = month.replace_day(1).unwrap_or(month);
    let last = month
        .replace_day(month.month().length(month.year()))
        .unwrap_or(month);
    let Some(standard) = policy.in_force(first) else {
        return Line {
            month: first,
            amount: Fen::ZERO,
            standard_version: 0,
            care: None,
            explanation: format!(
                "{LABEL}: no allowance standard was in force on {}: {} yuan",
                format_date(first),
                Fen::ZERO.yuan()
            ),
        };
    };
    let line = |amount: Fen, care: Option<Care>, facts: String| Line {
        month: first,
        amount,
        standard_version: standard.version,
        care,
        explanation: format!(
            "{LABEL}: {} identified on {}, {facts}, {}: {} yuan",
            child.basis.label(),
            format_date(child.identified_on),
            standard.words(),
            amount.yuan()
        ),
    };
    if child.identified_on > last {
        return line(
            Fen::ZERO,
            None,
            "after this month, and the allowance is paid from the month of identification"
                .to_owned(),
        );
    }
    let mut ending = Vec::new();
    for (event, day) in [
        ("died", child.died_on),
        ("was adopted", child.adopted_on),
        ("was no longer covered", child.ceased_on),
    ] {
        match day {
            Some(day) if day < first => {
                let facts = format!(
                    "{event} on {}, before this month, and the allowance ends with that month",
                    format_date(day)
                );
                return line(Fen::ZERO, None, facts);
            }
            Some(day) if day <= last => {
                ending.push(format!(
                    "{event} on {}, so this is the last month paid",
                    format_date(day)
                ));
            }
            _ => {}
        }
    }
    let previous_day = add_days(first, -1).unwrap_or(first);
    if age_on(child.birth_date, previous_day) >= END_AGE {
        return line(
            Fen::ZERO,
            None,
            format!(
                "turned {END_AGE} before this month, and the allowance ends with the month of \
                 the {END_AGE}th birthday"
            ),
        );
    }
    if age_on(child.birth_date, last) >= END_AGE {
        ending.push(format!(
            "turns {END_AGE} this month, so this is the last month paid"
        ));
    }
    let arrangement = child
        .care
        .iter()
        .filter(|arrangement| arrangement.from <= first)
        .max_by_key(|arrangement| arrangement.from)
        .or_else(|| {
            child
                .care
                .iter()
                .rev()
                .filter(|arrangement| arrangement.from <= last)
                .min_by_key(|arrangement| arrangement.from)
        });
    let Some(arrangement) = arrangement else {
        return line(
            Fen::ZERO,
            None,
            format!(
                "but no care arrangement was recorded on or before {}",
                format_date(last)
            ),
        );
    };
    let mut facts = format!(
        "{} from {}",
        arrangement.care.label(),
        format_date(arrangement.from)
    );
    for end in ending {
        facts.push_str(", ");
        facts.push_str(&end);
    }
    line(
        standard.amount(arrangement.care),
        Some(arrangement.care),
        facts,
    )
}

/// The day a child born on `birth` turns 18: the birthday in the 18th year, 1 March for a
/// 29 February birth (the 18th year is always a common year).
pub fn eighteenth_birthday(birth: Date) -> Option<Date> {
    let year = birth.year().checked_add(18)?;
    Date::from_calendar_date(year, birth.month(), birth.day())
        .or_else(|_| Date::from_calendar_date(year, Month::March, 1))
        .ok()
}

#[cfg(test)]
mod tests {
    use minzheng_types::CitizenId;
    use time::macros::date;

    use super::*;

    fn city() -> RegionCode {
        RegionCode::parse("210500000000").expect("valid")
    }

    fn yuan(amount: i64) -> Fen {
        Fen::from_yuan(amount).expect("small")
    }

    fn text(input: &str) -> BoundedText {
        BoundedText::parse(input, OVERRIDE_REASON_MAX_CHARS).expect("valid")
    }

    /// Centralized 1,500 and family 1,200 yuan, no override.
    fn record(effective_from: Date) -> Record {
        amounts(effective_from, yuan(1500), yuan(1200))
    }

    fn amounts(effective_from: Date, centralized: Fen, family: Fen) -> Record {
        Record {
            city: city(),
            effective_from,
            centralized,
            family,
            decided_by: text("本溪市民政局 本溪市财政局 本民发〔2025〕3号"),
            override_reason: None,
            recorded_on: date!(2024 - 12 - 15),
        }
    }

    fn recorded(version: u32, record: &Record) -> Event {
        Event::StandardRecorded(StandardRecorded {
            city: record.city,
            standard: record.standard(version),
        })
    }

    /// Given these recorded versions (numbered 1, 2, …).
    fn given(records: &[Record]) -> AllowancePolicy {
        records
            .iter()
            .zip(1..)
            .fold(AllowancePolicy::default(), |policy, (record, version)| {
                policy.apply(&recorded(version, record))
            })
    }

    /// When `record` is asked, then it is recorded as the next version: the new state.
    fn then_recorded(policy: AllowancePolicy, record: &Record) -> AllowancePolicy {
        let version = u32::try_from(policy.versions().len()).expect("small") + 1;
        let events = policy
            .handle(&Command::Record(record.clone()))
            .expect("recorded");
        assert_eq!(events, [recorded(version, record)]);
        events.iter().fold(policy, AllowancePolicy::apply)
    }

    /// When `record` is asked, then it is refused by `rule`: the refusal.
    fn then_refused(policy: &AllowancePolicy, record: &Record, rule: &str) -> Refusal {
        let refusal = policy
            .handle(&Command::Record(record.clone()))
            .expect_err("refused");
        assert_eq!(refusal.rule(), rule, "{refusal}");
        refusal
    }

    // The policy.

    #[test]
    fn versions_are_numbered_in_order_and_the_one_in_force_is_found_by_day() {
        let state = then_recorded(AllowancePolicy::default(), &record(date!(2024 - 01 - 01)));
        assert_eq!(state.city(), Some(city()));
        let state = then_recorded(
            state,
            &amounts(date!(2025 - 07 - 01), yuan(1590), yuan(1272)),
        );
        for (day, version) in [
            (date!(2023 - 12 - 31), None),
            (date!(2024 - 01 - 01), Some(1)),
            (date!(2025 - 06 - 30), Some(1)),
            (date!(2025 - 07 - 01), Some(2)),
            (date!(2040 - 01 - 01), Some(2)),
        ] {
            assert_eq!(state.in_force(day).map(|s| s.version), version, "{day}");
        }
        assert_eq!(state.latest().map(|s| s.version), Some(2));
        assert_eq!(
            AllowancePolicy::default().in_force(date!(2025 - 01 - 01)),
            None
        );
        assert_eq!(AllowancePolicy::CATEGORY, "allowance_policy");
    }

    #[test]
    fn the_growth_rule_at_exactly_six_percent_just_under_and_with_an_override() {
        let history = given(&[record(date!(2025 - 01 - 01))]);
        let next = date!(2026 - 01 - 01);
        // 1,500 × 1.06 = 1,590 and 1,200 × 1.06 = 1,272: exactly 6% is enough.
        let exactly = amounts(next, yuan(1590), yuan(1272));
        let state = then_recorded(history.clone(), &exactly);
        assert!(state.growth_below_target().is_empty());

        let under = amounts(next, yuan(1590), Fen::new(127_199));
        let refusal = then_refused(&history, &under, "below_growth_target");
        assert_eq!(
            refusal,
            Refusal::BelowGrowthTarget(Shortfall {
                care: Care::Family,
                amount: Fen::new(127_199),
                required: yuan(1272),
                baseline_version: 1,
            })
        );
        assert_eq!(
            refusal.to_string(),
            "the family amount of 1271.99 yuan is below the 1272.00 yuan the 6% yearly growth \
             target asks (against version 1); give an override reason to record it anyway"
        );
        let centralized_under = amounts(next, Fen::new(158_999), yuan(1300));
        assert!(matches!(
            then_refused(&history, &centralized_under, "below_growth_target"),
            Refusal::BelowGrowthTarget(Shortfall {
                care: Care::Centralized,
                ..
            })
        ));

        let overridden = Record {
            override_reason: Some(text("财政困难，市政府常务会议决定 2026 年维持原标准")),
            ..amounts(next, yuan(1500), yuan(1200))
        };
        let state = then_recorded(history.clone(), &overridden);
        assert_eq!(state.growth_below_target(), [2]);
        assert!(
            state
                .latest()
                .and_then(|s| s.override_reason.as_ref())
                .is_some()
        );
        // A reason given where none was needed is kept, and the version is not flagged.
        let needless = Record {
            override_reason: Some(text("提前说明")),
            ..exactly
        };
        assert!(
            then_recorded(history, &needless)
                .growth_below_target()
                .is_empty()
        );
    }

    #[test]
    fn the_target_is_rounded_up_to_the_fen() {
        let history = given(&[amounts(
            date!(2025 - 01 - 01),
            Fen::new(100_001),
            yuan(1000),
        )]);
        // 1,000.01 × 1.06 = 1,060.0106: 1,060.02 is required.
        assert_eq!(
            growth_target(history.versions(), date!(2026 - 01 - 01), Care::Centralized),
            Some((Fen::new(106_002), 1))
        );
        then_refused(
            &history,
            &amounts(date!(2026 - 01 - 01), Fen::new(106_001), yuan(1060)),
            "below_growth_target",
        );
        then_recorded(
            history,
            &amounts(date!(2026 - 01 - 01), Fen::new(106_002), yuan(1060)),
        );
    }

    #[test]
    fn the_target_compounds_over_whole_years_since_the_baseline() {
        let history = given(&[amounts(date!(2025 - 01 - 01), yuan(1000), yuan(1000))]);
        for (effective_from, required) in [
            // Within the first year: no baseline, only no cut.
            (date!(2025 - 02 - 01), 100_000),
            (date!(2025 - 12 - 01), 100_000),
            (date!(2026 - 01 - 01), 106_000),
            (date!(2026 - 12 - 01), 106_000),
            (date!(2027 - 01 - 01), 112_360),
            // 1,123.60 × 1.06 = 1,191.016, rounded up.
            (date!(2028 - 01 - 01), 119_102),
        ] {
            assert_eq!(
                growth_target(history.versions(), effective_from, Care::Family),
                Some((Fen::new(required), 1)),
                "{effective_from}"
            );
        }
        assert_eq!(
            growth_target(&[], date!(2025 - 01 - 01), Care::Family),
            None
        );
        let cut = amounts(date!(2025 - 07 - 01), yuan(1000), Fen::new(99_999));
        then_refused(&history, &cut, "below_growth_target");
    }

    #[test]
    fn a_mid_year_version_may_add_less_but_the_anniversary_measures_from_a_year_before() {
        let state = given(&[
            amounts(date!(2025 - 01 - 01), yuan(1000), yuan(1000)),
            amounts(date!(2025 - 07 - 01), yuan(1030), yuan(1030)),
        ]);
        assert!(state.growth_below_target().is_empty());
        // January 2026: v1 was in force on 2025-01-01, so 1,060 (and not below v2's 1,030).
        assert_eq!(
            growth_target(state.versions(), date!(2026 - 01 - 01), Care::Family),
            Some((yuan(1060), 1))
        );
        let state = then_recorded(
            state,
            &amounts(date!(2026 - 01 - 01), yuan(1060), yuan(1060)),
        );
        // July 2026: v2 was in force on 2025-07-01: 1,030 × 1.06 = 1,091.80.
        assert_eq!(
            growth_target(state.versions(), date!(2026 - 07 - 01), Care::Family),
            Some((Fen::new(109_180), 2))
        );
        // After an overridden freeze, the next year measures from the frozen version.
        let frozen = given(&[
            amounts(date!(2025 - 01 - 01), yuan(1000), yuan(1000)),
            Record {
                override_reason: Some(text("冻结")),
                ..amounts(date!(2026 - 01 - 01), yuan(1000), yuan(1000))
            },
        ]);
        assert_eq!(frozen.growth_below_target(), [2]);
        assert_eq!(
            growth_target(frozen.versions(), date!(2027 - 01 - 01), Care::Family),
            Some((yuan(1060), 2))
        );
    }

    #[test]
    fn the_shape_the_order_and_the_city_are_checked() {
        let history = given(&[record(date!(2025 - 01 - 01))]);
        for effective_from in [date!(2025 - 01 - 01), date!(2024 - 12 - 01)] {
            let refusal = then_refused(&history, &record(effective_from), "not_after_last_version");
            assert_eq!(
                refusal.to_string(),
                "a new version must take effect after the last version, which took effect on \
                 2025-01-01"
            );
        }
        let refusal = then_refused(
            &AllowancePolicy::default(),
            &record(date!(2025 - 01 - 02)),
            "invalid_standard",
        );
        assert_eq!(
            refusal.to_string(),
            "the standard is malformed: effective_from must be the first day of a month"
        );
        let bad = Record {
            centralized: Fen::new(-1),
            family: Fen::new(MAX_MONTHLY.fen() + 1),
            decided_by: text(&"局".repeat(DECIDED_BY_MAX_CHARS + 1)),
            override_reason: Some(
                BoundedText::parse(&"因".repeat(OVERRIDE_REASON_MAX_CHARS + 1), 1000)
                    .expect("valid"),
            ),
            ..record(date!(2025 - 01 - 31))
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
                "centralized",
                "family",
                "decided_by",
                "override_reason"
            ]
        );
        let at_the_limits = amounts(date!(2025 - 01 - 01), Fen::ZERO, MAX_MONTHLY);
        assert_eq!(at_the_limits.check_shape(), Ok(()));
        for code in ["210502000000", "210000000000"] {
            then_refused(
                &AllowancePolicy::default(),
                &Record {
                    city: RegionCode::parse(code).expect("valid"),
                    ..record(date!(2025 - 01 - 01))
                },
                "not_a_city",
            );
        }
        then_refused(
            &history,
            &Record {
                city: RegionCode::parse("210200000000").expect("valid"),
                ..record(date!(2026 - 01 - 01))
            },
            "wrong_city",
        );
    }

    // Identification.

    #[test]
    fn the_parents_situations_make_the_basis() {
        use ParentSituation::*;
        for (father, mother, basis) in [
            (Dead, Dead, Some(Basis::Orphan)),
            (NotFound, NotFound, Some(Basis::Orphan)),
            (Dead, NotFound, Some(Basis::Orphan)),
            (Imprisoned, SevereIllness, Some(Basis::DeFactoUnsupported)),
            (
                SevereDisability,
                OutOfContact,
                Some(Basis::DeFactoUnsupported),
            ),
            (
                CompulsoryDrugRehabilitation,
                OtherRestrictionOfLiberty,
                Some(Basis::DeFactoUnsupported),
            ),
            (Dead, Imprisoned, Some(Basis::DeFactoUnsupported)),
            (SevereIllness, Dead, Some(Basis::DeFactoUnsupported)),
            (
                DeclaredMissing,
                SevereDisability,
                Some(Basis::DeFactoUnsupported),
            ),
            (
                DeclaredMissing,
                DeclaredMissing,
                Some(Basis::DeFactoUnsupported),
            ),
            (Dead, DeclaredMissing, Some(Basis::DeFactoUnsupported)),
            (Dead, Able, None),
            (Able, Imprisoned, None),
            (Able, Able, None),
            (NotFound, Able, None),
        ] {
            assert_eq!(identify(father, mother), basis, "{father:?} {mother:?}");
            assert_eq!(identify(mother, father), basis, "{mother:?} {father:?}");
        }
    }

    // The month's allowance.

    const FAMILY_FROM_MARCH: [CareFrom; 1] = [CareFrom {
        from: date!(2025 - 03 - 10),
        care: Care::Family,
    }];

    fn child(birth_date: Date) -> Child<'static> {
        Child {
            birth_date,
            basis: Basis::Orphan,
            identified_on: date!(2025 - 03 - 10),
            care: &FAMILY_FROM_MARCH,
            adopted_on: None,
            died_on: None,
            ceased_on: None,
        }
    }

    fn one_standard() -> AllowancePolicy {
        given(&[record(date!(2025 - 01 - 01))])
    }

    fn paid(child: &Child<'_>, policy: &AllowancePolicy, month: Date) -> i64 {
        monthly(child, policy, month).amount.fen() / 100
    }

    #[test]
    fn the_explanation_names_the_basis_the_facts_and_the_version() {
        let line = monthly(
            &child(date!(2015 - 06 - 01)),
            &one_standard(),
            date!(2025 - 04 - 17),
        );
        assert_eq!(
            line,
            Line {
                month: date!(2025 - 04 - 01),
                amount: yuan(1200),
                standard_version: 1,
                care: Some(Care::Family),
                explanation: "basic-living allowance (基本生活费): orphan (孤儿) identified on \
                              2025-03-10, family care (社会散居) from 2025-03-10, standard v1 \
                              effective 2025-01-01: 1200.00 yuan"
                    .to_owned(),
            }
        );
    }

    #[test]
    fn paid_from_the_month_of_identification() {
        let policy = one_standard();
        let child = child(date!(2015 - 06 - 01));
        assert_eq!(paid(&child, &policy, date!(2025 - 02 - 01)), 0);
        assert!(
            monthly(&child, &policy, date!(2025 - 02 - 01))
                .explanation
                .contains("identified on 2025-03-10, after this month, and the allowance is paid from the month of identification")
        );
        // Identified on the 10th, care from the 10th: the month's first arrangement decides.
        assert_eq!(paid(&child, &policy, date!(2025 - 03 - 01)), 1200);
        assert_eq!(paid(&child, &policy, date!(2025 - 03 - 31)), 1200);
    }

    #[test]
    fn the_care_in_force_on_the_first_day_decides_the_amount() {
        let policy = one_standard();
        let care = [
            CareFrom {
                from: date!(2025 - 03 - 10),
                care: Care::Family,
            },
            CareFrom {
                from: date!(2025 - 05 - 02),
                care: Care::Centralized,
            },
            CareFrom {
                from: date!(2025 - 07 - 01),
                care: Care::Family,
            },
        ];
        let child = Child {
            care: &care,
            ..child(date!(2015 - 06 - 01))
        };
        for (month, expected, care) in [
            (date!(2025 - 04 - 01), 1200, Care::Family),
            (date!(2025 - 05 - 01), 1200, Care::Family),
            (date!(2025 - 06 - 01), 1500, Care::Centralized),
            (date!(2025 - 07 - 01), 1200, Care::Family),
        ] {
            let line = monthly(&child, &policy, month);
            assert_eq!(line.amount, yuan(expected), "{month}");
            assert_eq!(line.care, Some(care));
        }
        let none = Child { care: &[], ..child };
        let line = monthly(&none, &policy, date!(2025 - 04 - 01));
        assert_eq!(line.amount, Fen::ZERO);
        assert!(
            line.explanation
                .contains("but no care arrangement was recorded on or before 2025-04-30"),
            "{}",
            line.explanation
        );
    }

    #[test]
    fn the_month_of_the_18th_birthday_is_the_last_paid() {
        let policy = one_standard();
        for (birth, month, expected) in [
            (date!(2008 - 06 - 15), date!(2026 - 05 - 01), 1200),
            (date!(2008 - 06 - 15), date!(2026 - 06 - 01), 1200),
            (date!(2008 - 06 - 15), date!(2026 - 07 - 01), 0),
            // Born on the first: the birthday's month is still paid.
            (date!(2008 - 06 - 01), date!(2026 - 06 - 01), 1200),
            (date!(2008 - 06 - 01), date!(2026 - 07 - 01), 0),
            (date!(2008 - 05 - 31), date!(2026 - 05 - 01), 1200),
            (date!(2008 - 05 - 31), date!(2026 - 06 - 01), 0),
            // 29 February: 18 on 1 March (2026 is a common year), so March is the last.
            (date!(2008 - 02 - 29), date!(2026 - 02 - 01), 1200),
            (date!(2008 - 02 - 29), date!(2026 - 03 - 01), 1200),
            (date!(2008 - 02 - 29), date!(2026 - 04 - 01), 0),
            (date!(2008 - 03 - 01), date!(2026 - 03 - 01), 1200),
            (date!(2008 - 03 - 01), date!(2026 - 04 - 01), 0),
        ] {
            assert_eq!(
                paid(&child(birth), &policy, month),
                expected,
                "born {birth}, {month}"
            );
        }
        let last = monthly(
            &child(date!(2008 - 02 - 29)),
            &policy,
            date!(2026 - 03 - 01),
        );
        assert!(
            last.explanation.ends_with(
                "family care (社会散居) from 2025-03-10, turns 18 this month, so this is the last \
                 month paid, standard v1 effective 2025-01-01: 1200.00 yuan"
            ),
            "{}",
            last.explanation
        );
        let after = monthly(
            &child(date!(2008 - 02 - 29)),
            &policy,
            date!(2026 - 04 - 01),
        );
        assert!(
            after.explanation.contains(
                "turned 18 before this month, and the allowance ends with the month of the 18th \
                 birthday"
            ),
            "{}",
            after.explanation
        );
        assert_eq!(after.standard_version, 1);
        assert_eq!(after.care, None);
        assert_eq!(
            eighteenth_birthday(date!(2008 - 02 - 29)),
            Some(date!(2026 - 03 - 01))
        );
        assert_eq!(
            eighteenth_birthday(date!(2008 - 06 - 15)),
            Some(date!(2026 - 06 - 15))
        );
    }

    #[test]
    fn the_birth_date_comes_from_the_citizen_id() {
        let id = CitizenId::from_parts("210502", date!(2008 - 02 - 29), 12).expect("valid");
        let child = child(id.birth_date());
        assert_eq!(paid(&child, &one_standard(), date!(2026 - 03 - 01)), 1200);
        assert_eq!(paid(&child, &one_standard(), date!(2026 - 04 - 01)), 0);
    }

    #[test]
    fn adoption_and_death_end_the_allowance_after_their_month() {
        let policy = one_standard();
        let base = child(date!(2015 - 06 - 01));
        for (adopted_on, died_on, month, expected, says) in [
            (
                Some(date!(2025 - 06 - 30)),
                None,
                date!(2025 - 06 - 01),
                1200,
                "was adopted on 2025-06-30, so this is the last month paid",
            ),
            (
                Some(date!(2025 - 06 - 01)),
                None,
                date!(2025 - 06 - 01),
                1200,
                "was adopted on 2025-06-01, so this is the last month paid",
            ),
            (
                Some(date!(2025 - 06 - 30)),
                None,
                date!(2025 - 07 - 01),
                0,
                "was adopted on 2025-06-30, before this month, and the allowance ends with that month",
            ),
            (
                None,
                Some(date!(2025 - 06 - 10)),
                date!(2025 - 06 - 01),
                1200,
                "died on 2025-06-10, so this is the last month paid",
            ),
            (
                None,
                Some(date!(2025 - 06 - 10)),
                date!(2025 - 07 - 01),
                0,
                "died on 2025-06-10, before this month, and the allowance ends with that month",
            ),
            (
                None,
                Some(date!(2025 - 05 - 31)),
                date!(2025 - 05 - 01),
                1200,
                "died on 2025-05-31, so this is the last month paid",
            ),
            (
                Some(date!(2025 - 04 - 02)),
                Some(date!(2025 - 08 - 03)),
                date!(2025 - 09 - 01),
                0,
                "died on 2025-08-03, before this month",
            ),
        ] {
            let child = Child {
                adopted_on,
                died_on,
                ..base
            };
            let line = monthly(&child, &policy, month);
            assert_eq!(line.amount, yuan(expected), "{}", line.explanation);
            assert!(line.explanation.contains(says), "{}", line.explanation);
        }
        // Adopted and turning 18 in one month: both named, one payment.
        let both = Child {
            adopted_on: Some(date!(2026 - 06 - 03)),
            ..child(date!(2008 - 06 - 15))
        };
        let line = monthly(&both, &policy, date!(2026 - 06 - 01));
        assert_eq!(line.amount, yuan(1200));
        assert!(line.explanation.contains(
            "was adopted on 2026-06-03, so this is the last month paid, turns 18 this month"
        ));
    }

    #[test]
    fn a_cessation_ends_the_allowance_after_its_month() {
        let policy = one_standard();
        let ceased = Child {
            ceased_on: Some(date!(2025 - 06 - 10)),
            ..child(date!(2015 - 06 - 01))
        };
        for (month, expected, says) in [
            (
                date!(2025 - 05 - 01),
                1200,
                "family care (社会散居) from 2025-03-10, standard v1",
            ),
            (
                date!(2025 - 06 - 01),
                1200,
                "was no longer covered on 2025-06-10, so this is the last month paid",
            ),
            (
                date!(2025 - 07 - 01),
                0,
                "was no longer covered on 2025-06-10, before this month, and the allowance ends \
                 with that month",
            ),
        ] {
            let line = monthly(&ceased, &policy, month);
            assert_eq!(line.amount, yuan(expected), "{}", line.explanation);
            assert!(line.explanation.contains(says), "{}", line.explanation);
        }
    }

    #[test]
    fn no_standard_in_force_pays_nothing_and_says_so() {
        let child = Child {
            identified_on: date!(2024 - 06 - 01),
            care: &[CareFrom {
                from: date!(2024 - 06 - 01),
                care: Care::Centralized,
            }],
            ..child(date!(2015 - 06 - 01))
        };
        for policy in [AllowancePolicy::default(), one_standard()] {
            let line = monthly(&child, &policy, date!(2024 - 12 - 31));
            assert_eq!(
                line,
                Line {
                    month: date!(2024 - 12 - 01),
                    amount: Fen::ZERO,
                    standard_version: 0,
                    care: None,
                    explanation: "basic-living allowance (基本生活费): no allowance standard was \
                                  in force on 2024-12-01: 0.00 yuan"
                        .to_owned(),
                }
            );
        }
        assert_eq!(paid(&child, &one_standard(), date!(2025 - 01 - 01)), 1500);
    }

    #[test]
    fn a_new_standard_applies_from_its_month() {
        let policy = given(&[
            record(date!(2025 - 01 - 01)),
            amounts(date!(2026 - 01 - 01), yuan(1590), yuan(1272)),
        ]);
        let child = child(date!(2015 - 06 - 01));
        assert_eq!(paid(&child, &policy, date!(2025 - 12 - 31)), 1200);
        let line = monthly(&child, &policy, date!(2026 - 01 - 01));
        assert_eq!((line.amount, line.standard_version), (yuan(1272), 2));
    }

    #[test]
    fn nothing_personal_shows_in_debug_or_explanations() {
        let child = Child {
            basis: Basis::DeFactoUnsupported,
            ..child(date!(2008 - 02 - 29))
        };
        let debug = format!("{child:?}");
        assert!(!debug.contains("2008"), "{debug}");
        for month in [
            date!(2025 - 03 - 01),
            date!(2026 - 03 - 01),
            date!(2026 - 04 - 01),
        ] {
            let line = monthly(&child, &one_standard(), month);
            assert!(
                line.explanation
                    .contains("de-facto unsupported child (事实无人抚养儿童)")
            );
            assert!(!line.explanation.contains("2008"), "{}", line.explanation);
            assert!(!minzheng_types::contains_citizen_id(&line.explanation));
        }
    }
}
