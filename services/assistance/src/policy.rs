//! A county's assistance standards as effective-dated policy (救助标准), stream
//! `policy-<county code>`: every standard is recorded with the day it takes effect and the
//! decision that set it, and none is ever edited in place. A change is a new version; which
//! version applies on a day is the one in force that day.
//!
//! The kinds of standard ([`Standard`]):
//!
//! | kind | what | per |
//! |---|---|---|
//! | [`DibaoStandard`] | the minimum living allowance standard (最低生活保障标准, 低保标准) | area (urban/rural), person and month or year |
//! | [`BenefitMode`] | how the dibao benefit is computed: difference mode (差额) or tier mode (分档) with a tier table per area | county |
//! | [`LowIncomeMultiplier`] | k, the low-income recognition standard (低收入家庭认定标准) = k × dibao standard, k in 1.5–2.0 | county |
//! | [`TekunStandard`] | the extreme-poverty support standards (特困人员救助供养标准): basic living (基本生活标准) and care (照料护理标准) | area, person and month |
//! | [`TemporaryAidLimit`] | what a township may pay at once from its reserve fund (临时救助先行救助额度) | county default or one township |
//! | [`HeatingAmounts`] | heating assistance (取暖救助) for a winter | household |
//!
//! The legal ground: 《社会救助暂行办法》(国务院令第649号) 第十条 — the dibao standard is set and
//! published by the province or the city (设区的市级) government and adjusted to the economy and
//! prices; 《国务院关于进一步健全特困人员救助供养制度的意见》(国发〔2016〕14号) — the extreme-poverty
//! basic living standard is set by the province or city (the provinces' rules put it at no less
//! than 1.3 times the local dibao standard: Henan's, Anhui's, Guizhou's), and the care standard
//! by the person's self-care ability; the plan
//! (本民发〔2022〕8号, chapter 2) — the low-income standard is 1.5 to 2 times the dibao standard,
//! and standards move with prices and incomes.
//!
//! Monthly standards (all but the temporary-aid limit and heating) take effect on the first day
//! of a month, because benefits are paid by the month. A version's number is its 1-based
//! ordinal in the county's stream ([`StandardVersion`]); every computed amount names the versions
//! it used ([`crate::benefit::Calculation`]). A new version changes amounts from its effective
//! day on, never before it: [`StandardRecorded::recomputation`] tells the case layer from which
//! day and for which areas and categories to re-compute the benefits in force.
//!
//! Back-dating (追溯执行): a raised dibao or extreme-poverty standard is often decided after the
//! day it applies from (a government raises the standard "自1月1日起执行" in March). Such a
//! standard may take effect up to [`BACK_DATING_MAX_MONTHS`] months before the month it is
//! recorded in, if it is not lower than the standard it replaces on that day: benefits are
//! re-computed from its day, and the months already listed for payment get the difference as
//! back pay (补发) in the next cycle ([`crate::payments`]). Nothing else is back-dated: a benefit
//! mode or multiplier changes who qualifies and how, which a past month's decisions did not
//! weigh; a lower standard would claw back what was paid, which is a decision about a household,
//! not a standard; the one-off amounts are paid when decided.

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{BoundedText, Fen, RegionCode, RegionLevel};
use time::{Date, Month};

use crate::{
    benefit,
    category::{Area, Category},
    ids::{StandardVersion, first_of_month},
};

/// Lowest value of the low-income multiplier k, in permille (1.5).
pub const MIN_LOW_INCOME_PERMILLE: u32 = 1500;
/// How many months before the month it is recorded in a raised dibao or extreme-poverty
/// standard may take effect (a year's back pay at most).
pub const BACK_DATING_MAX_MONTHS: u32 = 12;
/// Highest value of the low-income multiplier k, in permille (2.0).
pub const MAX_LOW_INCOME_PERMILLE: u32 = 2000;
/// The extreme-poverty basic living standard is at least `TEKUN_RATIO_TENTHS / 10` times the
/// dibao standard (1.3: the provinces' rules under 国发〔2016〕14号, which leaves the standard to
/// the province or city; Henan's, Anhui's and Guizhou's say 1.3倍).
pub const TEKUN_RATIO_TENTHS: i64 = 13;

/// Whether an amount is decided per month or per year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Month,
    Year,
}

/// The dibao standard (低保标准) of one area, per person, as decided (Benxi's rural standard is
/// decided per year: 5,400 元/person/year).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DibaoStandard {
    pub area: Area,
    pub amount: Fen,
    pub period: Period,
}

impl DibaoStandard {
    /// The standard per person per month: an annual amount ÷ 12 under the one rounding rule
    /// ([`crate::benefit::divide`]); `None` only on overflow, which a positive amount cannot
    /// cause.
    pub fn monthly(&self) -> Option<Fen> {
        match self.period {
            Period::Month => Some(self.amount),
            Period::Year => benefit::divide(self.amount, 12),
        }
    }
}

/// One band of a tier table (分档): a household whose per-capita monthly income is at most
/// `up_to` (inclusive), and above the previous band's bound, receives `amount` per person per
/// month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub up_to: Fen,
    pub amount: Fen,
}

/// How a county computes the dibao benefit (《社会救助暂行办法》第十二条, the difference; the plan,
/// chapter 2: "分档或根据家庭人均收入与低保标准的实际差额发放低保金").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BenefitMode {
    /// Difference mode (差额): (standard − per-capita income) × household size.
    Difference,
    /// Tier mode (分档): a band amount × household size, with one table per area, bands in
    /// increasing order of their bounds.
    Tiers { urban: Vec<Tier>, rural: Vec<Tier> },
}

impl BenefitMode {
    /// The tier table of `area`, `None` in difference mode.
    pub fn tiers(&self, area: Area) -> Option<&[Tier]> {
        match self {
            BenefitMode::Difference => None,
            BenefitMode::Tiers { urban, rural } => Some(match area {
                Area::Urban => urban,
                Area::Rural => rural,
            }),
        }
    }
}

/// The low-income multiplier k (低收入家庭认定标准 = k × 低保标准), in permille: 1500 is 1.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowIncomeMultiplier {
    pub permille: u32,
}

/// A person's ability to look after themselves (生活自理能力), which sets the care standard
/// (照料护理标准) of extreme-poverty support (国发〔2016〕14号: 照料护理标准根据特困人员生活自理能力
/// 和服务需求分类制定).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SelfCare {
    /// Able to look after themselves (具备生活自理能力).
    Able,
    /// Partly unable (部分丧失生活自理能力).
    PartiallyUnable,
    /// Fully unable (完全丧失生活自理能力).
    FullyUnable,
}

impl SelfCare {
    /// The level's name as a caseworker reads it.
    pub fn label(self) -> &'static str {
        match self {
            SelfCare::Able => "able to care for self (具备生活自理能力)",
            SelfCare::PartiallyUnable => "partially unable (部分丧失生活自理能力)",
            SelfCare::FullyUnable => "fully unable (完全丧失生活自理能力)",
        }
    }
}

/// Care standards (照料护理标准) per person per month, by self-care level. Zero is allowed (a
/// county may provide care in kind only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CareStandards {
    pub able: Fen,
    pub partially_unable: Fen,
    pub fully_unable: Fen,
}

impl CareStandards {
    pub fn for_level(&self, level: SelfCare) -> Fen {
        match level {
            SelfCare::Able => self.able,
            SelfCare::PartiallyUnable => self.partially_unable,
            SelfCare::FullyUnable => self.fully_unable,
        }
    }
}

/// The extreme-poverty support standards (特困人员救助供养标准) of one area, per person per month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TekunStandard {
    pub area: Area,
    /// The basic living standard (基本生活标准).
    pub basic: Fen,
    pub care: CareStandards,
}

/// What a township may pay at once from its reserve fund (备用金) before the county decides
/// (临时救助先行救助额度, 《国务院关于全面建立临时救助制度的通知》(国发〔2014〕47号)): the county-wide
/// default (`township` `None`) or one township's own limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporaryAidLimit {
    pub township: Option<RegionCode>,
    pub amount: Fen,
}

/// Heating assistance (取暖救助) for one winter, per household, by the household's assistance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatingAmounts {
    /// The year the winter starts (the 2025 winter is 2025-11 to 2026-03).
    pub winter: i32,
    pub dibao: Fen,
    pub tekun: Fen,
    pub low_income: Fen,
}

/// One standard as decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standard {
    Dibao(DibaoStandard),
    Mode(BenefitMode),
    LowIncomeMultiplier(LowIncomeMultiplier),
    Tekun(TekunStandard),
    TemporaryAidLimit(TemporaryAidLimit),
    Heating(HeatingAmounts),
}

/// What a standard is a version of: versions of one kind replace each other from their
/// effective day; versions of different kinds are independent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Dibao(Area),
    Mode,
    LowIncomeMultiplier,
    Tekun(Area),
    /// `None`: the county-wide default.
    TemporaryAidLimit(Option<RegionCode>),
    /// The year the winter starts.
    Heating(i32),
}

impl Standard {
    pub fn kind(&self) -> Kind {
        match self {
            Standard::Dibao(s) => Kind::Dibao(s.area),
            Standard::Mode(_) => Kind::Mode,
            Standard::LowIncomeMultiplier(_) => Kind::LowIncomeMultiplier,
            Standard::Tekun(s) => Kind::Tekun(s.area),
            Standard::TemporaryAidLimit(s) => Kind::TemporaryAidLimit(s.township),
            Standard::Heating(s) => Kind::Heating(s.winter),
        }
    }

    /// Whether the standard sets a monthly benefit, and so takes effect on the first of a month.
    pub fn is_monthly(&self) -> bool {
        !matches!(self, Standard::TemporaryAidLimit(_) | Standard::Heating(_))
    }
}

/// What can be asked of a county's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Record(RecordStandard),
}

/// Record a standard as decided: a new version of its kind from `effective_from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordStandard {
    /// The county-level division whose standard it is: the stream's key.
    pub county: RegionCode,
    pub standard: Standard,
    /// The first day it applies. Monthly standards: the first day of a month. Not before the
    /// first day of the month of `recorded_on`, except a raised dibao or extreme-poverty
    /// standard, up to [`BACK_DATING_MAX_MONTHS`] months before it (see the module).
    pub effective_from: Date,
    /// The decision's document reference (文号), e.g. 本政发〔2020〕12号.
    pub decided_by: BoundedText,
    /// Today.
    pub recorded_on: Date,
}

/// What happened to a county's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Recorded(StandardRecorded),
}

/// A standard was recorded as version `version` of the county's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardRecorded {
    pub version: StandardVersion,
    pub standard: Standard,
    pub effective_from: Date,
    pub decided_by: BoundedText,
    pub recorded_on: Date,
}

/// For the case layer: a newly recorded version changes the amounts of the benefits in force of
/// `categories` in `areas` from `from` on (and not before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recomputation {
    pub version: StandardVersion,
    pub from: Date,
    pub areas: Vec<Area>,
    pub categories: Vec<Category>,
}

const BOTH_AREAS: [Area; 2] = [Area::Urban, Area::Rural];

impl StandardRecorded {
    /// Which benefits this version re-computes and from which day; `None` for the one-off
    /// payments (temporary and heating assistance), which have no monthly benefit in force.
    pub fn recomputation(&self) -> Option<Recomputation> {
        let (areas, categories): (Vec<Area>, Vec<Category>) = match &self.standard {
            // Low-income recognition and single-person coverage compare with the standard too.
            Standard::Dibao(s) => (
                vec![s.area],
                vec![Category::Dibao, Category::SinglePerson, Category::LowIncome],
            ),
            Standard::Mode(_) => (BOTH_AREAS.to_vec(), vec![Category::Dibao]),
            Standard::LowIncomeMultiplier(_) => (
                BOTH_AREAS.to_vec(),
                vec![Category::SinglePerson, Category::LowIncome],
            ),
            Standard::Tekun(s) => (vec![s.area], vec![Category::Tekun]),
            Standard::TemporaryAidLimit(_) | Standard::Heating(_) => return None,
        };
        Some(Recomputation {
            version: self.version,
            from: self.effective_from,
            areas,
            categories,
        })
    }
}

/// A value of a standard with the version it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InForce<T> {
    pub value: T,
    pub version: StandardVersion,
    pub effective_from: Date,
}

impl<T> InForce<T> {
    fn of(recorded: &StandardRecorded, value: T) -> Self {
        Self {
            value,
            version: recorded.version,
            effective_from: recorded.effective_from,
        }
    }
}

/// Everything the benefit functions need for one area on one day, each value with its version;
/// `None` for a kind the county has not recorded in force on that day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standards {
    pub county: RegionCode,
    pub area: Area,
    pub day: Date,
    /// The dibao standard per person per month (an annual standard ÷ 12, see
    /// [`DibaoStandard::monthly`]).
    pub dibao: Option<InForce<Fen>>,
    pub mode: Option<InForce<BenefitMode>>,
    pub low_income_multiplier: Option<InForce<LowIncomeMultiplier>>,
    pub tekun: Option<InForce<TekunStandard>>,
}

/// A rule that refused to record a standard. No message carries personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("standards are recorded for a county-level division")]
    NotACounty,
    #[error("this policy stream belongs to another county")]
    OtherCounty,
    #[error("a monthly standard takes effect on the first day of a month")]
    NotFirstOfMonth,
    #[error(
        "a standard cannot take effect before the first day of the month in which it is \
         recorded, except a dibao or extreme-poverty standard, at most {BACK_DATING_MAX_MONTHS} \
         months before it"
    )]
    BackDated,
    #[error(
        "a standard taking effect before the month in which it is recorded may not be lower \
         than the standard it replaces on that day (back pay only pays more; recovering an \
         overpayment is a decision about a household)"
    )]
    BackDatedDecrease,
    #[error("amounts of a standard must be positive (care standards: zero or more)")]
    AmountNotPositive,
    #[error("the low-income multiplier must be between 1.5 and 2.0 (1500 to 2000 permille)")]
    MultiplierOutOfRange,
    #[error("a tier table needs at least one band")]
    TierTableEmpty,
    #[error("tier bounds must be zero or more and strictly increasing")]
    TierBoundsNotIncreasing,
    #[error(
        "no dibao standard of the area is in force on that day to compare the extreme-poverty \
         standard with"
    )]
    NoDibaoStandard,
    #[error(
        "the extreme-poverty basic living standard must be at least 1.3 times the dibao \
         standard in force on its effective day"
    )]
    TekunBelowRatio,
    #[error("the township is not a township-level division of this county")]
    TownshipOutsideCounty,
    #[error("the amount is too large")]
    AmountTooLarge,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotACounty => "not_a_county",
            Error::OtherCounty => "other_county",
            Error::NotFirstOfMonth => "not_first_of_month",
            Error::BackDated => "back_dated",
            Error::BackDatedDecrease => "back_dated_decrease",
            Error::AmountNotPositive => "amount_not_positive",
            Error::MultiplierOutOfRange => "multiplier_out_of_range",
            Error::TierTableEmpty => "tier_table_empty",
            Error::TierBoundsNotIncreasing => "tier_bounds_not_increasing",
            Error::NoDibaoStandard => "no_dibao_standard",
            Error::TekunBelowRatio => "tekun_below_dibao_ratio",
            Error::TownshipOutsideCounty => "township_outside_county",
            Error::AmountTooLarge => "amount_too_large",
        }
    }
}

/// A county's policy: every version recorded, in order. `Default` is a county with none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    county: Option<RegionCode>,
    versions: Vec<StandardRecorded>,
}

impl Policy {
    /// Every version, in the order recorded (for the listing RPC).
    pub fn versions(&self) -> &[StandardRecorded] {
        &self.versions
    }

    /// The county, once a standard is recorded.
    pub fn county(&self) -> Option<RegionCode> {
        self.county
    }

    /// The version of `kind` in force on `day`: the greatest `effective_from` on or before it;
    /// of two from the same day, the later recorded.
    pub fn in_force(&self, kind: Kind, day: Date) -> Option<&StandardRecorded> {
        self.versions
            .iter()
            .filter(|v| v.standard.kind() == kind && v.effective_from <= day)
            .max_by_key(|v| (v.effective_from, v.version.number))
    }

    /// The standards of `area` in force on `day`; `None` before any standard is recorded.
    pub fn standards(&self, day: Date, area: Area) -> Option<Standards> {
        let county = self.county?;
        Some(Standards {
            county,
            area,
            day,
            dibao: self.dibao_monthly(area, day),
            mode: self
                .in_force(Kind::Mode, day)
                .and_then(|v| match &v.standard {
                    Standard::Mode(m) => Some(InForce::of(v, m.clone())),
                    _ => None,
                }),
            low_income_multiplier: self.in_force(Kind::LowIncomeMultiplier, day).and_then(|v| {
                match &v.standard {
                    Standard::LowIncomeMultiplier(k) => Some(InForce::of(v, *k)),
                    _ => None,
                }
            }),
            tekun: self
                .in_force(Kind::Tekun(area), day)
                .and_then(|v| match &v.standard {
                    Standard::Tekun(t) => Some(InForce::of(v, t.clone())),
                    _ => None,
                }),
        })
    }

    /// What `township` may pay at once on `day`: its own limit in force, else the county's.
    pub fn temporary_aid_limit(&self, township: RegionCode, day: Date) -> Option<InForce<Fen>> {
        let limit = |kind| {
            self.in_force(kind, day).and_then(|v| match &v.standard {
                Standard::TemporaryAidLimit(l) => Some(InForce::of(v, l.amount)),
                _ => None,
            })
        };
        limit(Kind::TemporaryAidLimit(Some(township)))
            .or_else(|| limit(Kind::TemporaryAidLimit(None)))
    }

    /// The heating amounts of the winter starting in `winter`, as in force on `day`.
    pub fn heating(&self, winter: i32, day: Date) -> Option<InForce<HeatingAmounts>> {
        self.in_force(Kind::Heating(winter), day)
            .and_then(|v| match &v.standard {
                Standard::Heating(h) => Some(InForce::of(v, h.clone())),
                _ => None,
            })
    }

    fn dibao_monthly(&self, area: Area, day: Date) -> Option<InForce<Fen>> {
        let v = self.in_force(Kind::Dibao(area), day)?;
        match &v.standard {
            Standard::Dibao(s) => s.monthly().map(|monthly| InForce::of(v, monthly)),
            _ => None,
        }
    }

    /// Whether `c` raises (or keeps) a dibao or extreme-poverty standard over the one in force
    /// on its day: what may reach back over months already listed for payment, whose difference
    /// is then paid as back pay. Every other change (a lower standard, a mode, a multiplier)
    /// would leave those months overpaid or decided on rules they were not decided on.
    pub fn raises(&self, c: &RecordStandard) -> bool {
        matches!(c.standard, Standard::Dibao(_) | Standard::Tekun(_))
            && self
                .in_force(c.standard.kind(), c.effective_from)
                .is_none_or(|replaced| not_lower(&c.standard, &replaced.standard))
    }

    /// Whether `c` records exactly what is already in force of its kind from the same day.
    pub fn already_in_force(&self, c: &RecordStandard) -> bool {
        self.in_force(c.standard.kind(), c.effective_from)
            .is_some_and(|v| v.effective_from == c.effective_from && v.standard == c.standard)
    }

    /// The provincial rule under 国发〔2016〕14号 ([`TEKUN_RATIO_TENTHS`]): basic ≥ 1.3 × the
    /// dibao standard in force on `day`, exactly:
    /// `basic × 10 ≥ dibao × 13` in whole fen.
    fn check_tekun_ratio(&self, t: &TekunStandard, day: Date) -> Result<(), Error> {
        let dibao = self
            .dibao_monthly(t.area, day)
            .ok_or(Error::NoDibaoStandard)?;
        let basic = i128::from(t.basic.fen()) * 10;
        let floor = i128::from(dibao.value.fen()) * i128::from(TEKUN_RATIO_TENTHS);
        if basic < floor {
            return Err(Error::TekunBelowRatio);
        }
        Ok(())
    }

    fn check_county(&self, county: RegionCode) -> Result<(), Error> {
        if county.level() != RegionLevel::County {
            return Err(Error::NotACounty);
        }
        match self.county {
            Some(own) if own != county => Err(Error::OtherCounty),
            _ => Ok(()),
        }
    }
}

/// Positive amounts only.
fn positive(amounts: &[Fen]) -> Result<(), Error> {
    if amounts.iter().all(|a| a.fen() > 0) {
        Ok(())
    } else {
        Err(Error::AmountNotPositive)
    }
}

/// A tier table: at least one band, bounds zero or more and strictly increasing, amounts
/// positive.
fn check_tiers(tiers: &[Tier]) -> Result<(), Error> {
    if tiers.is_empty() {
        return Err(Error::TierTableEmpty);
    }
    if tiers.first().is_some_and(|t| t.up_to.is_negative())
        || tiers.windows(2).any(|pair| pair[0].up_to >= pair[1].up_to)
    {
        return Err(Error::TierBoundsNotIncreasing);
    }
    positive(&tiers.iter().map(|t| t.amount).collect::<Vec<_>>())
}

/// The rules a standard's values obey on their own (the ratio to dibao needs the state).
fn check_values(county: RegionCode, standard: &Standard) -> Result<(), Error> {
    match standard {
        Standard::Dibao(s) => {
            positive(&[s.amount])?;
            s.monthly().map(|_| ()).ok_or(Error::AmountTooLarge)
        }
        Standard::Mode(BenefitMode::Difference) => Ok(()),
        Standard::Mode(BenefitMode::Tiers { urban, rural }) => {
            check_tiers(urban)?;
            check_tiers(rural)
        }
        Standard::LowIncomeMultiplier(k) => {
            if (MIN_LOW_INCOME_PERMILLE..=MAX_LOW_INCOME_PERMILLE).contains(&k.permille) {
                Ok(())
            } else {
                Err(Error::MultiplierOutOfRange)
            }
        }
        Standard::Tekun(t) => {
            positive(&[t.basic])?;
            let care = [t.care.able, t.care.partially_unable, t.care.fully_unable];
            if care.iter().any(|c| c.is_negative()) {
                return Err(Error::AmountNotPositive);
            }
            Ok(())
        }
        Standard::TemporaryAidLimit(l) => {
            if let Some(township) = l.township
                && (township.level() != RegionLevel::Township || !county.contains(township))
            {
                return Err(Error::TownshipOutsideCounty);
            }
            positive(&[l.amount])
        }
        Standard::Heating(h) => positive(&[h.dibao, h.tekun, h.low_income]),
    }
}

/// When a standard may take effect: monthly ones on a first of a month; none before the first
/// day of the month it is recorded in, but a dibao or extreme-poverty standard up to
/// [`BACK_DATING_MAX_MONTHS`] months before it.
fn check_effective_day(c: &RecordStandard) -> Result<(), Error> {
    if c.standard.is_monthly() && c.effective_from.day() != 1 {
        return Err(Error::NotFirstOfMonth);
    }
    if c.effective_from >= first_of_month(c.recorded_on) {
        return Ok(());
    }
    let earliest = (0..BACK_DATING_MAX_MONTHS).fold(first_of_month(c.recorded_on), |day, _| {
        first_of_month(day.previous_day().unwrap_or(day))
    });
    match c.standard {
        Standard::Dibao(_) | Standard::Tekun(_) if c.effective_from >= earliest => Ok(()),
        _ => Err(Error::BackDated),
    }
}

/// Whether `new` is at least `old`, amount by amount: a dibao standard per month, an
/// extreme-poverty standard's basic and each care amount. Other kinds are never compared.
fn not_lower(new: &Standard, old: &Standard) -> bool {
    match (new, old) {
        (Standard::Dibao(new), Standard::Dibao(old)) => new.monthly() >= old.monthly(),
        (Standard::Tekun(new), Standard::Tekun(old)) => {
            new.basic >= old.basic
                && new.care.able >= old.care.able
                && new.care.partially_unable >= old.care.partially_unable
                && new.care.fully_unable >= old.care.fully_unable
        }
        _ => false,
    }
}

impl Aggregate for Policy {
    const CATEGORY: &'static str = "policy";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Command::Record(c) = command;
        self.check_county(c.county)?;
        if self.already_in_force(c) {
            return Ok(Vec::new());
        }
        check_effective_day(c)?;
        check_values(c.county, &c.standard)?;
        // Only dibao and extreme-poverty standards get this far back-dated (check_effective_day).
        if c.effective_from < first_of_month(c.recorded_on) && !self.raises(c) {
            return Err(Error::BackDatedDecrease);
        }
        if let Standard::Tekun(t) = &c.standard {
            self.check_tekun_ratio(t, c.effective_from)?;
        }
        // Four billion versions of one county's policy cannot happen; saturate rather than fail.
        let number = u32::try_from(self.versions.len())
            .map_or(u32::MAX, |recorded| recorded.saturating_add(1));
        Ok(vec![Event::Recorded(StandardRecorded {
            version: StandardVersion {
                county: c.county,
                number,
            },
            standard: c.standard.clone(),
            effective_from: c.effective_from,
            decided_by: c.decided_by.clone(),
            recorded_on: c.recorded_on,
        })])
    }

    fn apply(mut self, event: &Event) -> Self {
        let Event::Recorded(e) = event;
        self.county = Some(e.version.county);
        self.versions.push(e.clone());
        self
    }
}

/// The document reference the seed records as its decision: the standards are Benxi's end-2020
/// figures as the plan reports them (`DOMAIN.md` §1, from ../shared/plan: 本溪市民政局、市发展改革委
/// 《本溪市民政事业发展第十四个五年规划》(本民发〔2022〕8号), 第一章 第二节).
pub const BENXI_2020_SEED_SOURCE: &str =
    "本民发〔2022〕8号《本溪市民政事业发展第十四个五年规划》所载2020年末标准（初始数据）";

/// The day the seed takes effect (and is recorded).
pub const BENXI_2020_SEED_DAY: Date = match Date::from_calendar_date(2021, Month::January, 1) {
    Ok(day) => day,
    Err(_) => panic!("a valid date"),
};

/// Benxi's end-2020 standards for `county`, for the embedded mode: urban dibao 665 元/person/
/// month, rural 5,400 元/person/year, difference mode, effective 2021-01-01.
///
/// Placeholders an operator replaces (the plan gives no figure): k = 1.5 (the plan's lower
/// bound), an extreme-poverty basic living standard of exactly 1.3 × the dibao standard per
/// area (rounded up to the fen: the legal minimum) and care standards of 0. No heating amounts
/// or temporary-aid limits are seeded.
pub fn benxi_2020_seed(county: RegionCode) -> Vec<RecordStandard> {
    let urban = DibaoStandard {
        area: Area::Urban,
        amount: Fen::new(66_500),
        period: Period::Month,
    };
    let rural = DibaoStandard {
        area: Area::Rural,
        amount: Fen::new(540_000),
        period: Period::Year,
    };
    let tekun = |dibao: &DibaoStandard| {
        let monthly = dibao.monthly().unwrap_or(Fen::ZERO);
        Standard::Tekun(TekunStandard {
            area: dibao.area,
            basic: monthly
                .checked_mul_div(TEKUN_RATIO_TENTHS, 10, minzheng_types::Rounding::Ceiling)
                .unwrap_or(monthly),
            care: CareStandards {
                able: Fen::ZERO,
                partially_unable: Fen::ZERO,
                fully_unable: Fen::ZERO,
            },
        })
    };
    let (urban_tekun, rural_tekun) = (tekun(&urban), tekun(&rural));
    // The dibao standards come first: the extreme-poverty standards are checked against them.
    let standards = vec![
        Standard::Dibao(urban),
        Standard::Dibao(rural),
        Standard::Mode(BenefitMode::Difference),
        Standard::LowIncomeMultiplier(LowIncomeMultiplier {
            permille: MIN_LOW_INCOME_PERMILLE,
        }),
        urban_tekun,
        rural_tekun,
    ];
    let decided_by = BoundedText::parse(BENXI_2020_SEED_SOURCE, 200).expect("a valid reference");
    standards
        .into_iter()
        .map(|standard| RecordStandard {
            county,
            standard,
            effective_from: BENXI_2020_SEED_DAY,
            decided_by: decided_by.clone(),
            recorded_on: BENXI_2020_SEED_DAY,
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;

    /// 平山区, Benxi.
    pub(crate) fn county() -> RegionCode {
        RegionCode::parse("210502000000").expect("valid")
    }

    pub(crate) fn fen(fen: i64) -> Fen {
        Fen::new(fen)
    }

    pub(crate) fn decision(reference: &str) -> BoundedText {
        BoundedText::parse(reference, 200).expect("valid")
    }

    pub(crate) fn urban_dibao(amount: i64) -> Standard {
        Standard::Dibao(DibaoStandard {
            area: Area::Urban,
            amount: fen(amount),
            period: Period::Month,
        })
    }

    pub(crate) fn tekun_standard(area: Area, basic: i64) -> Standard {
        Standard::Tekun(TekunStandard {
            area,
            basic: fen(basic),
            care: CareStandards {
                able: fen(0),
                partially_unable: fen(10_000),
                fully_unable: fen(30_000),
            },
        })
    }

    pub(crate) fn record(standard: Standard, effective_from: Date, recorded_on: Date) -> Command {
        Command::Record(RecordStandard {
            county: county(),
            standard,
            effective_from,
            decided_by: decision("本政发〔2021〕12号"),
            recorded_on,
        })
    }

    pub(crate) fn recorded(
        number: u32,
        standard: Standard,
        effective_from: Date,
        recorded_on: Date,
    ) -> Event {
        Event::Recorded(StandardRecorded {
            version: StandardVersion {
                county: county(),
                number,
            },
            standard,
            effective_from,
            decided_by: decision("本政发〔2021〕12号"),
            recorded_on,
        })
    }

    /// The events of Benxi's seed, recorded through the aggregate (versions 1 to 6: urban and
    /// rural dibao, mode, k, urban and rural tekun).
    pub(crate) fn seed_events() -> Vec<Event> {
        let mut policy = Policy::default();
        let mut events = Vec::new();
        for c in benxi_2020_seed(county()) {
            let new = policy
                .handle(&Command::Record(c))
                .expect("the seed obeys the rules");
            for event in new {
                policy = policy.apply(&event);
                events.push(event);
            }
        }
        events
    }

    /// The urban dibao standard raised to 700 元 from 2021-07-01 (version 7).
    pub(crate) fn raised_to_700() -> Event {
        recorded(
            7,
            urban_dibao(70_000),
            date!(2021 - 07 - 01),
            date!(2021 - 06 - 20),
        )
    }

    fn version(number: u32) -> StandardVersion {
        StandardVersion {
            county: county(),
            number,
        }
    }

    // DOMAIN.md §1 and the plan (本民发〔2022〕8号, 第一章 第二节): urban 665 元/person/month, rural 5,400
    // 元/person/year at the end of 2020; placeholders k = 1.5, tekun basic = 1.3 × dibao.
    #[test]
    fn the_seed_records_benxis_end_2020_standards() {
        let state = given::<Policy>(seed_events());
        assert_eq!(state.state().versions().len(), 6);
        let standards = |area| {
            state
                .state()
                .standards(date!(2021 - 01 - 01), area)
                .expect("recorded")
        };
        let urban = standards(Area::Urban);
        let rural = standards(Area::Rural);
        assert_eq!(urban.dibao.as_ref().map(|d| d.value), Some(fen(66_500)));
        // 5,400 元 a year is 450 元 a month.
        assert_eq!(rural.dibao.as_ref().map(|d| d.value), Some(fen(45_000)));
        assert_eq!(
            (
                urban.dibao.map(|d| d.version),
                rural.dibao.map(|d| d.version)
            ),
            (Some(version(1)), Some(version(2)))
        );
        assert_eq!(
            urban.mode.map(|m| (m.value, m.version)),
            Some((BenefitMode::Difference, version(3)))
        );
        assert_eq!(
            urban.low_income_multiplier.map(|k| k.value.permille),
            Some(1500)
        );
        // 1.3 × 665.00 = 864.50 and 1.3 × 450.00 = 585.00.
        assert_eq!(urban.tekun.map(|t| t.value.basic), Some(fen(86_450)));
        assert_eq!(rural.tekun.map(|t| t.value.basic), Some(fen(58_500)));
        // Nothing before the effective day.
        let before = state
            .state()
            .standards(date!(2020 - 12 - 31), Area::Urban)
            .expect("recorded");
        assert_eq!(before.dibao, None);
        assert_eq!(before.mode, None);
        assert!(state.state().versions().iter().all(|v| {
            v.effective_from == BENXI_2020_SEED_DAY
                && v.decided_by.as_str() == BENXI_2020_SEED_SOURCE
        }));
    }

    #[test]
    fn a_recorded_standard_is_a_numbered_version_of_the_county() {
        given::<Policy>([])
            .when(record(
                urban_dibao(66_500),
                date!(2021 - 01 - 01),
                date!(2020 - 12 - 20),
            ))
            .then([recorded(
                1,
                urban_dibao(66_500),
                date!(2021 - 01 - 01),
                date!(2020 - 12 - 20),
            )]);
        given::<Policy>(seed_events())
            .when(record(
                urban_dibao(70_000),
                date!(2021 - 07 - 01),
                date!(2021 - 06 - 20),
            ))
            .then([raised_to_700()]);
    }

    // Benefits are paid by the month: a monthly standard takes effect on the first of a month.
    #[test]
    fn monthly_standards_take_effect_on_the_first_of_a_month() {
        given::<Policy>(seed_events())
            .when(record(
                urban_dibao(70_000),
                date!(2021 - 07 - 02),
                date!(2021 - 06 - 20),
            ))
            .then_refused("not_first_of_month");
        given::<Policy>(seed_events())
            .when(record(
                Standard::LowIncomeMultiplier(LowIncomeMultiplier { permille: 1600 }),
                date!(2021 - 07 - 15),
                date!(2021 - 06 - 20),
            ))
            .then_refused("not_first_of_month");
        // The one-off payments' standards may start on any day.
        given::<Policy>(seed_events())
            .when(record(
                Standard::TemporaryAidLimit(TemporaryAidLimit {
                    township: None,
                    amount: fen(100_000),
                }),
                date!(2021 - 07 - 15),
                date!(2021 - 07 - 15),
            ))
            .then([recorded(
                7,
                Standard::TemporaryAidLimit(TemporaryAidLimit {
                    township: None,
                    amount: fen(100_000),
                }),
                date!(2021 - 07 - 15),
                date!(2021 - 07 - 15),
            )]);
    }

    // Back-dating (追溯执行): a government often raises the standard after the day it applies
    // from. A raised dibao or extreme-poverty standard may take effect up to 12 months before
    // the month it is recorded in; the months already paid get the difference (补发).
    #[test]
    fn a_raised_dibao_or_tekun_standard_may_take_effect_up_to_a_year_before_it_is_recorded() {
        given::<Policy>(seed_events())
            .when(record(
                urban_dibao(70_000),
                date!(2021 - 03 - 01),
                date!(2021 - 07 - 20),
            ))
            .then([recorded(
                7,
                urban_dibao(70_000),
                date!(2021 - 03 - 01),
                date!(2021 - 07 - 20),
            )]);
        // Twelve months before July 2022 is July 2021; June 2021 is a month too far.
        let seed_and_raise = || {
            let mut events = seed_events();
            events.push(recorded(
                7,
                urban_dibao(68_000),
                date!(2021 - 06 - 01),
                date!(2021 - 06 - 01),
            ));
            events
        };
        given::<Policy>(seed_and_raise())
            .when(record(
                urban_dibao(70_000),
                date!(2021 - 07 - 01),
                date!(2022 - 07 - 31),
            ))
            .then([recorded(
                8,
                urban_dibao(70_000),
                date!(2021 - 07 - 01),
                date!(2022 - 07 - 31),
            )]);
        given::<Policy>(seed_and_raise())
            .when(record(
                urban_dibao(70_000),
                date!(2021 - 06 - 01),
                date!(2022 - 07 - 31),
            ))
            .then_refused("back_dated");
        given::<Policy>(seed_events())
            .when(record(
                tekun_standard(Area::Urban, 90_000),
                date!(2021 - 05 - 01),
                date!(2021 - 07 - 02),
            ))
            .then([recorded(
                7,
                tekun_standard(Area::Urban, 90_000),
                date!(2021 - 05 - 01),
                date!(2021 - 07 - 02),
            )]);
    }

    // Back pay only pays more: a back-dated standard lower than the one it replaces on its day
    // would claw back what was paid, which is a decision about a household, not a standard.
    #[test]
    fn a_back_dated_standard_is_not_lower_than_the_one_it_replaces_on_its_day() {
        given::<Policy>(seed_events())
            .when(record(
                urban_dibao(66_000),
                date!(2021 - 06 - 01),
                date!(2021 - 07 - 01),
            ))
            .then_refused("back_dated_decrease");
        let mut lower_care = tekun_standard(Area::Urban, 90_000);
        if let Standard::Tekun(t) = &mut lower_care {
            t.care.fully_unable = fen(29_999);
        }
        let mut with_care = seed_events();
        with_care.push(recorded(
            7,
            tekun_standard(Area::Urban, 90_000),
            date!(2021 - 02 - 01),
            date!(2021 - 02 - 01),
        ));
        given::<Policy>(with_care)
            .when(record(
                lower_care,
                date!(2021 - 06 - 01),
                date!(2021 - 07 - 01),
            ))
            .then_refused("back_dated_decrease");
        // Compared with the version in force on its own day, not with a later one: a raise to
        // 680 from March, recorded after one to 690 from June, replaces 665 from March to May.
        let mut events = seed_events();
        events.push(recorded(
            7,
            urban_dibao(69_000),
            date!(2021 - 06 - 01),
            date!(2021 - 06 - 01),
        ));
        given::<Policy>(events)
            .when(record(
                urban_dibao(68_000),
                date!(2021 - 03 - 01),
                date!(2021 - 06 - 15),
            ))
            .then([recorded(
                8,
                urban_dibao(68_000),
                date!(2021 - 03 - 01),
                date!(2021 - 06 - 15),
            )]);
        // The same figure again from its own day is not a decrease (and records nothing new).
        given::<Policy>(seed_events())
            .when(record(
                urban_dibao(66_500),
                date!(2021 - 01 - 01),
                date!(2021 - 07 - 01),
            ))
            .then([]);
    }

    // What changes who qualifies and how (the benefit mode, the multiplier k) and the one-off
    // amounts are never back-dated.
    #[test]
    fn only_dibao_and_tekun_standards_are_back_dated() {
        for standard in [
            Standard::Heating(heating(2021, 50_000)),
            Standard::Mode(BenefitMode::Difference),
            Standard::LowIncomeMultiplier(LowIncomeMultiplier { permille: 1800 }),
            Standard::TemporaryAidLimit(TemporaryAidLimit {
                township: None,
                amount: fen(100_000),
            }),
        ] {
            let effective = if standard.is_monthly() {
                date!(2021 - 06 - 01)
            } else {
                date!(2021 - 06 - 30)
            };
            given::<Policy>(seed_events())
                .when(record(standard, effective, date!(2021 - 07 - 01)))
                .then_refused("back_dated");
        }
        // The first of the month of recording is not back-dated.
        given::<Policy>(seed_events())
            .when(record(
                Standard::LowIncomeMultiplier(LowIncomeMultiplier { permille: 1800 }),
                date!(2021 - 07 - 01),
                date!(2021 - 07 - 31),
            ))
            .then([recorded(
                7,
                Standard::LowIncomeMultiplier(LowIncomeMultiplier { permille: 1800 }),
                date!(2021 - 07 - 01),
                date!(2021 - 07 - 31),
            )]);
    }

    fn heating(winter: i32, dibao: i64) -> HeatingAmounts {
        HeatingAmounts {
            winter,
            dibao: fen(dibao),
            tekun: fen(60_000),
            low_income: fen(30_000),
        }
    }

    #[test]
    fn amounts_are_positive() {
        let day = date!(2021 - 07 - 01);
        for standard in [
            urban_dibao(0),
            urban_dibao(-1),
            tekun_standard(Area::Urban, 0),
            Standard::Heating(heating(2021, 0)),
            Standard::TemporaryAidLimit(TemporaryAidLimit {
                township: None,
                amount: fen(0),
            }),
            Standard::Mode(BenefitMode::Tiers {
                urban: vec![Tier {
                    up_to: fen(20_000),
                    amount: fen(0),
                }],
                rural: vec![Tier {
                    up_to: fen(20_000),
                    amount: fen(10_000),
                }],
            }),
        ] {
            given::<Policy>(seed_events())
                .when(record(standard, day, day))
                .then_refused("amount_not_positive");
        }
    }

    // The plan (第二章): 按照低保标准的1.5-2倍确定低收入家庭认定标准.
    #[test]
    fn the_low_income_multiplier_is_between_one_and_a_half_and_two() {
        let day = date!(2021 - 07 - 01);
        let k = |permille| Standard::LowIncomeMultiplier(LowIncomeMultiplier { permille });
        for permille in [1499, 2001, 0] {
            given::<Policy>(seed_events())
                .when(record(k(permille), day, day))
                .then_refused("multiplier_out_of_range");
        }
        for permille in [1500, 2000] {
            given::<Policy>([])
                .when(record(k(permille), day, day))
                .then([recorded(1, k(permille), day, day)]);
        }
    }

    fn tiers(urban: &[(i64, i64)]) -> Standard {
        let table = |rows: &[(i64, i64)]| {
            rows.iter()
                .map(|(up_to, amount)| Tier {
                    up_to: fen(*up_to),
                    amount: fen(*amount),
                })
                .collect::<Vec<_>>()
        };
        Standard::Mode(BenefitMode::Tiers {
            urban: table(urban),
            rural: table(&[(20_000, 25_000), (45_000, 10_000)]),
        })
    }

    // Tier mode (分档): ordered bands, bounds strictly increasing, amounts positive.
    #[test]
    fn a_tier_table_has_strictly_increasing_bounds() {
        let day = date!(2021 - 07 - 01);
        given::<Policy>(seed_events())
            .when(record(tiers(&[]), day, day))
            .then_refused("tier_table_empty");
        for bad in [
            &[(30_000, 30_000), (30_000, 15_000)][..],
            &[(40_000, 30_000), (30_000, 15_000)][..],
            &[(-1, 30_000)][..],
        ] {
            given::<Policy>(seed_events())
                .when(record(tiers(bad), day, day))
                .then_refused("tier_bounds_not_increasing");
        }
        let good = tiers(&[(0, 40_000), (30_000, 30_000), (66_500, 15_000)]);
        given::<Policy>(seed_events())
            .when(record(good.clone(), day, day))
            .then([recorded(7, good, day, day)]);
    }

    // The provinces' rule under 国发〔2016〕14号 (特困人员基本生活标准……不低于当地最低生活保障标准的
    // 1.3倍), checked exactly:
    // basic × 10 ≥ dibao × 13.
    #[test]
    fn the_tekun_basic_standard_is_at_least_1_3_times_dibao_on_its_effective_day() {
        let day = date!(2021 - 07 - 01);
        // 1.3 × 665.00 = 864.50 exactly.
        given::<Policy>(seed_events())
            .when(record(tekun_standard(Area::Urban, 86_449), day, day))
            .then_refused("tekun_below_dibao_ratio");
        given::<Policy>(seed_events())
            .when(record(tekun_standard(Area::Urban, 86_450), day, day))
            .then([recorded(7, tekun_standard(Area::Urban, 86_450), day, day)]);
        // Against the rural standard's monthly equivalent: 1.3 × 450.00 = 585.00.
        given::<Policy>(seed_events())
            .when(record(tekun_standard(Area::Rural, 58_499), day, day))
            .then_refused("tekun_below_dibao_ratio");
        // 1.3 × 665.01 = 864.513: 864.51 is below, 864.52 is not.
        let mut events = seed_events();
        events.push(recorded(7, urban_dibao(66_501), day, day));
        given::<Policy>(events.clone())
            .when(record(tekun_standard(Area::Urban, 86_451), day, day))
            .then_refused("tekun_below_dibao_ratio");
        given::<Policy>(events)
            .when(record(tekun_standard(Area::Urban, 86_452), day, day))
            .then([recorded(8, tekun_standard(Area::Urban, 86_452), day, day)]);
    }

    #[test]
    fn the_tekun_ratio_is_checked_against_the_dibao_standard_of_its_own_effective_day() {
        let events = || {
            let mut events = seed_events();
            events.push(raised_to_700());
            events
        };
        // Before the raise 864.50 is enough; from the raise on 910.00 is needed.
        given::<Policy>(events())
            .when(record(
                tekun_standard(Area::Urban, 86_450),
                date!(2021 - 06 - 01),
                date!(2021 - 06 - 20),
            ))
            .then([recorded(
                8,
                tekun_standard(Area::Urban, 86_450),
                date!(2021 - 06 - 01),
                date!(2021 - 06 - 20),
            )]);
        given::<Policy>(events())
            .when(record(
                tekun_standard(Area::Urban, 90_999),
                date!(2021 - 07 - 01),
                date!(2021 - 06 - 20),
            ))
            .then_refused("tekun_below_dibao_ratio");
        // Without a dibao standard in force the ratio cannot be checked.
        given::<Policy>([])
            .when(record(
                tekun_standard(Area::Urban, 100_000),
                date!(2021 - 07 - 01),
                date!(2021 - 07 - 01),
            ))
            .then_refused("no_dibao_standard");
    }

    fn township_limit(township: &str, amount: i64) -> Standard {
        Standard::TemporaryAidLimit(TemporaryAidLimit {
            township: Some(RegionCode::parse(township).expect("valid")),
            amount: fen(amount),
        })
    }

    // 国发〔2014〕47号: townships may pay temporary aid at once from a reserve fund, up to a limit;
    // a township's own limit is for a township of the county.
    #[test]
    fn a_township_limit_is_for_a_township_of_the_county() {
        let day = date!(2021 - 07 - 15);
        for outside in ["210503001000", "210502001001", "210500000000"] {
            given::<Policy>(seed_events())
                .when(record(township_limit(outside, 50_000), day, day))
                .then_refused("township_outside_county");
        }
        let default = Standard::TemporaryAidLimit(TemporaryAidLimit {
            township: None,
            amount: fen(100_000),
        });
        let mut events = seed_events();
        events.push(recorded(7, default, day, day));
        let state = given::<Policy>(events)
            .when(record(township_limit("210502001000", 200_000), day, day))
            .then([recorded(
                8,
                township_limit("210502001000", 200_000),
                day,
                day,
            )]);
        let township = |code| RegionCode::parse(code).expect("valid");
        assert_eq!(
            state
                .temporary_aid_limit(township("210502001000"), day)
                .map(|l| (l.value, l.version)),
            Some((fen(200_000), version(8)))
        );
        assert_eq!(
            state
                .temporary_aid_limit(township("210502002000"), day)
                .map(|l| (l.value, l.version)),
            Some((fen(100_000), version(7)))
        );
        assert_eq!(
            state.temporary_aid_limit(township("210502002000"), date!(2021 - 07 - 14)),
            None
        );
    }

    #[test]
    fn standards_are_a_county_levels_and_stay_in_their_county() {
        let day = date!(2021 - 07 - 01);
        let mut command = record(urban_dibao(66_500), day, day);
        let Command::Record(c) = &mut command;
        c.county = RegionCode::parse("210500000000").expect("valid");
        given::<Policy>([])
            .when(command.clone())
            .then_refused("not_a_county");
        let Command::Record(c) = &mut command;
        c.county = RegionCode::parse("210503000000").expect("valid");
        given::<Policy>(seed_events())
            .when(command)
            .then_refused("other_county");
    }

    // Recording exactly what is already in force from the same day records nothing; any change
    // is a new version.
    #[test]
    fn recording_what_is_already_in_force_from_the_same_day_records_nothing() {
        let seed = benxi_2020_seed(county());
        for c in seed {
            given::<Policy>(seed_events())
                .when(Command::Record(RecordStandard {
                    recorded_on: date!(2021 - 01 - 20),
                    ..c
                }))
                .then([]);
        }
        // The same value from another day is a new version.
        given::<Policy>(seed_events())
            .when(record(
                urban_dibao(66_500),
                date!(2021 - 07 - 01),
                date!(2021 - 06 - 20),
            ))
            .then([recorded(
                7,
                urban_dibao(66_500),
                date!(2021 - 07 - 01),
                date!(2021 - 06 - 20),
            )]);
    }

    // A standard raised from a day applies from that day, never before it.
    #[test]
    fn a_standard_raised_from_a_day_is_in_force_from_that_day_only() {
        let mut events = seed_events();
        events.push(raised_to_700());
        let state = given::<Policy>(events);
        let policy = state.state();
        let before = policy
            .standards(date!(2021 - 06 - 30), Area::Urban)
            .expect("recorded");
        let from = policy
            .standards(date!(2021 - 07 - 01), Area::Urban)
            .expect("recorded");
        assert_eq!(
            before.dibao.map(|d| (d.value, d.version)),
            Some((fen(66_500), version(1)))
        );
        assert_eq!(
            from.dibao.map(|d| (d.value, d.version, d.effective_from)),
            Some((fen(70_000), version(7), date!(2021 - 07 - 01)))
        );
        // The rest is unchanged, and so is the other area.
        assert_eq!(from.mode.map(|m| m.version), Some(version(3)));
        assert_eq!(
            policy
                .standards(date!(2021 - 07 - 01), Area::Rural)
                .and_then(|s| s.dibao)
                .map(|d| d.version),
            Some(version(2))
        );
        let Event::Recorded(raise) = raised_to_700();
        assert_eq!(
            raise.recomputation(),
            Some(Recomputation {
                version: version(7),
                from: date!(2021 - 07 - 01),
                areas: vec![Area::Urban],
                categories: vec![Category::Dibao, Category::SinglePerson, Category::LowIncome],
            })
        );
    }

    #[test]
    fn of_two_versions_from_the_same_day_the_later_is_in_force() {
        let day = date!(2021 - 07 - 01);
        let mut events = seed_events();
        events.push(recorded(7, urban_dibao(70_000), day, day));
        let state = given::<Policy>(events)
            .when(record(urban_dibao(68_000), day, day))
            .then([recorded(8, urban_dibao(68_000), day, day)]);
        assert_eq!(
            state
                .in_force(Kind::Dibao(Area::Urban), day)
                .map(|v| v.version),
            Some(version(8))
        );
        // A version recorded later but effective earlier does not replace a later one.
        let earlier = date!(2021 - 08 - 01);
        let mut events = seed_events();
        events.push(recorded(
            7,
            urban_dibao(70_000),
            date!(2021 - 09 - 01),
            earlier,
        ));
        events.push(recorded(8, urban_dibao(68_000), earlier, earlier));
        let state = given::<Policy>(events);
        let dibao = |day| {
            state
                .state()
                .in_force(Kind::Dibao(Area::Urban), day)
                .map(|v| v.version.number)
        };
        assert_eq!(
            (
                dibao(date!(2021 - 07 - 31)),
                dibao(earlier),
                dibao(date!(2021 - 09 - 01))
            ),
            (Some(1), Some(8), Some(7))
        );
    }

    #[test]
    fn heating_amounts_are_per_winter() {
        let day = date!(2021 - 10 - 15);
        let mut events = seed_events();
        events.push(recorded(
            7,
            Standard::Heating(heating(2021, 50_000)),
            day,
            day,
        ));
        let state = given::<Policy>(events);
        assert_eq!(
            state
                .state()
                .heating(2021, day)
                .map(|h| (h.value, h.version)),
            Some((heating(2021, 50_000), version(7)))
        );
        assert_eq!(state.state().heating(2022, day), None);
        assert_eq!(state.state().heating(2021, date!(2021 - 10 - 14)), None);
    }

    #[test]
    fn each_kind_names_what_it_recomputes() {
        let recomputation = |standard: Standard| {
            StandardRecorded {
                version: version(9),
                standard,
                effective_from: date!(2022 - 01 - 01),
                decided_by: decision("x"),
                recorded_on: date!(2021 - 12 - 20),
            }
            .recomputation()
            .map(|r| (r.areas, r.categories))
        };
        assert_eq!(
            recomputation(Standard::Mode(BenefitMode::Difference)),
            Some((vec![Area::Urban, Area::Rural], vec![Category::Dibao]))
        );
        assert_eq!(
            recomputation(Standard::LowIncomeMultiplier(LowIncomeMultiplier {
                permille: 1800
            })),
            Some((
                vec![Area::Urban, Area::Rural],
                vec![Category::SinglePerson, Category::LowIncome]
            ))
        );
        assert_eq!(
            recomputation(tekun_standard(Area::Rural, 60_000)),
            Some((vec![Area::Rural], vec![Category::Tekun]))
        );
        assert_eq!(recomputation(Standard::Heating(heating(2021, 1))), None);
        assert_eq!(recomputation(township_limit("210502001000", 1)), None);
    }
}
