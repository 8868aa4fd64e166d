//! Benefit computation (救助金计算) as pure functions of the standards in force
//! ([`crate::policy::Standards`]) and a household's figures: each answers a [`Calculation`] — the
//! inputs, the standard versions used, the formula as a caseworker reads it and the monthly
//! amount — or the [`Refusal`] naming the rule that makes the household ineligible. ExplainBenefit
//! shows the calculation so a caseworker can tell a household why; the case events store it.
//!
//! | function | what | formula |
//! |---|---|---|
//! | [`difference`] | dibao, difference mode (差额) | standard × size − total income |
//! | [`tier`] | dibao, tier mode (分档) | band amount × size |
//! | [`dibao`] | dibao in the county's mode | one of the two above |
//! | [`single_person`] | single-person coverage (单人保) | standard − the member's own income |
//! | [`low_income`] | low-income recognition (低收入家庭认定) | standard < per-capita ≤ k × standard, amount 0 |
//! | [`tekun`] | extreme-poverty support (特困供养) | Σ per person (basic + care by self-care level) |
//!
//! **Money is integer fen, and there is one rounding rule**: a division that does not come out
//! even is rounded to the nearest fen, halves up (四舍五入; [`Rounding::HalfAwayFromZero`], which
//! for the non-negative amounts here is half up) — [`divide`], [`ROUNDING`]. It is used for an
//! annual standard's monthly equivalent (÷ 12) and for figures shown for display (a per-capita
//! income, k × standard). No eligibility decision or amount depends on a rounded figure:
//! comparisons with a per-capita income are made exactly, multiplied out over the household
//! (`total ≤ bound × size`), and the difference formula is computed as
//!
//! ```text
//! (standard − total ÷ size) × size  =  standard × size − total
//! ```
//!
//! so no fen is lost or invented when the total does not divide evenly.
//!
//! Incomes are monthly, in fen, not negative (the edge parses them with `Fen::non_negative`);
//! they are personal data: the formula text carries amounts only, never a name or id, and is
//! shown to the caseworker and stored in the case's events, never logged.

use minzheng_kit::aggregate::DomainError;
use minzheng_types::{Fen, Rounding};

use crate::{
    category::Category,
    ids::StandardVersion,
    policy::{InForce, LowIncomeMultiplier, SelfCare, Standards, TekunStandard, Tier},
};

/// The one rounding rule: to the nearest fen, halves up (四舍五入).
pub const ROUNDING: Rounding = Rounding::HalfAwayFromZero;

/// `amount ÷ divisor` under [`ROUNDING`]; `None` for a zero divisor.
pub fn divide(amount: Fen, divisor: i64) -> Option<Fen> {
    amount.checked_div(divisor, ROUNDING)
}

/// The most members a household may have in a computation.
pub const MAX_HOUSEHOLD_SIZE: u32 = 99;

/// The number of members a computation covers, 1..=[`MAX_HOUSEHOLD_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HouseholdSize(u32);

impl HouseholdSize {
    pub fn new(members: u32) -> Option<Self> {
        (1..=MAX_HOUSEHOLD_SIZE)
            .contains(&members)
            .then_some(Self(members))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A household's figures: members covered and their total monthly income (家庭月总收入).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Household {
    pub size: HouseholdSize,
    pub total_monthly_income: Fen,
}

impl Household {
    fn size(&self) -> i64 {
        i64::from(self.size.get())
    }

    /// The per-capita monthly income for display only (rounded by [`ROUNDING`]).
    pub fn per_capita_for_display(&self) -> Fen {
        divide(self.total_monthly_income, self.size()).unwrap_or(Fen::ZERO)
    }

    /// Whether the per-capita income is at most `bound` per person, exactly: `total ≤ bound ×
    /// size`.
    fn per_capita_at_most(&self, bound: Fen) -> bool {
        i128::from(self.total_monthly_income.fen()) <= i128::from(bound.fen()) * self.size_i128()
    }

    /// Whether the per-capita income is at most k × `standard`, exactly: `total × 1000 ≤ k‰ ×
    /// standard × size`.
    fn per_capita_at_most_k_times(&self, k: LowIncomeMultiplier, standard: Fen) -> bool {
        i128::from(self.total_monthly_income.fen()) * 1000
            <= i128::from(k.permille) * i128::from(standard.fen()) * self.size_i128()
    }

    fn size_i128(&self) -> i128 {
        i128::from(self.size.get())
    }

    fn inputs(&self) -> Inputs {
        Inputs {
            size: self.size.get(),
            total_monthly_income: self.total_monthly_income,
            per_capita_monthly_income: self.per_capita_for_display(),
            member_monthly_income: None,
            self_care: Vec::new(),
        }
    }
}

/// Single-person coverage (单人保): one member of a household, applying alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinglePersonApplicant {
    /// The whole household the member lives in.
    pub household: Household,
    /// The member's own monthly income.
    pub member_monthly_income: Fen,
    /// Whether the member is seriously ill (重病) or severely disabled (重度残疾), as assessed.
    pub seriously_ill_or_severely_disabled: bool,
}

/// Which formula a calculation applied; it also names the category
/// ([`Calculation::category`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Dibao, difference mode (差额).
    Difference,
    /// Dibao, tier mode (分档).
    Tier,
    /// Single-person coverage (单人保).
    SinglePerson,
    /// Low-income recognition (低收入家庭认定): no amount.
    LowIncome,
    /// Extreme-poverty support (特困供养).
    ExtremePoverty,
}

/// The figures a calculation used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// Members of the household (extreme poverty: persons supported).
    pub size: u32,
    /// The household's total monthly income (extreme poverty: zero).
    pub total_monthly_income: Fen,
    /// For display only: total ÷ size under [`ROUNDING`]; no decision rests on it.
    pub per_capita_monthly_income: Fen,
    /// Single-person coverage: the member's own monthly income.
    pub member_monthly_income: Option<Fen>,
    /// Extreme poverty: each supported person's self-care level.
    pub self_care: Vec<SelfCare>,
}

/// A computed monthly benefit and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calculation {
    pub method: Method,
    /// The standard versions used, each once.
    pub versions: Vec<StandardVersion>,
    pub inputs: Inputs,
    /// The formula with the figures, e.g. `(665.00 − 210.00) × 3 = 1365.00 元`.
    pub formula: String,
    /// The monthly amount (zero for a low-income recognition).
    pub monthly_amount: Fen,
}

impl Calculation {
    /// The category the calculation decides.
    pub fn category(&self) -> Category {
        match self.method {
            Method::Difference | Method::Tier => Category::Dibao,
            Method::SinglePerson => Category::SinglePerson,
            Method::LowIncome => Category::LowIncome,
            Method::ExtremePoverty => Category::Tekun,
        }
    }
}

/// Which standard a computation needed and found none of in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needed {
    Dibao,
    Mode,
    LowIncomeMultiplier,
    Tekun,
}

impl std::fmt::Display for Needed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Needed::Dibao => "dibao standard",
            Needed::Mode => "benefit mode",
            Needed::LowIncomeMultiplier => "low-income multiplier",
            Needed::Tekun => "extreme-poverty standard",
        })
    }
}

/// Why a household is not eligible, or cannot be computed. No message carries an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no {0} of the area is in force on the day")]
    StandardNotInForce(Needed),
    #[error("the income is not below the dibao standard")]
    IncomeNotBelowStandard,
    #[error("the per-capita income is above the last band of the tier table")]
    IncomeAboveTiers,
    #[error("single-person coverage is for a seriously ill or severely disabled member")]
    NotSeriouslyIllOrSeverelyDisabled,
    #[error(
        "the household's per-capita income is not above the dibao standard: the household \
         itself qualifies"
    )]
    HouseholdQualifiesItself,
    #[error("the household's per-capita income is above the low-income threshold")]
    AboveLowIncomeThreshold,
    #[error("the per-capita income is not above the dibao standard: apply for dibao")]
    IncomeNotAboveStandard,
    #[error("an income must not be negative")]
    NegativeIncome,
    #[error("extreme-poverty support needs at least one person")]
    NoPersons,
    #[error("the amount is too large")]
    AmountTooLarge,
}

impl DomainError for Refusal {
    fn rule(&self) -> &str {
        match self {
            Refusal::StandardNotInForce(_) => "standard_not_in_force",
            Refusal::IncomeNotBelowStandard => "income_not_below_standard",
            Refusal::IncomeAboveTiers => "income_above_tiers",
            Refusal::NotSeriouslyIllOrSeverelyDisabled => "not_seriously_ill_or_severely_disabled",
            Refusal::HouseholdQualifiesItself => "household_qualifies_itself",
            Refusal::AboveLowIncomeThreshold => "above_low_income_threshold",
            Refusal::IncomeNotAboveStandard => "income_not_above_standard",
            Refusal::NegativeIncome => "negative_income",
            Refusal::NoPersons => "no_persons",
            Refusal::AmountTooLarge => "amount_too_large",
        }
    }
}

/// An amount as in a formula: yuan with two decimals, no unit.
fn yuan(amount: Fen) -> String {
    amount.to_yuan_string()
}

/// k as a decimal: 1500‰ is `1.5`, 1750‰ `1.75`, 2000‰ `2`.
fn multiplier_text(k: LowIncomeMultiplier) -> String {
    let whole = k.permille / 1000;
    let fraction = format!("{:03}", k.permille % 1000);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    }
}

/// k × standard for display only, under [`ROUNDING`].
fn threshold_for_display(k: LowIncomeMultiplier, standard: Fen) -> Fen {
    standard
        .checked_mul_div(i64::from(k.permille), 1000, ROUNDING)
        .unwrap_or(standard)
}

fn not_negative(incomes: &[Fen]) -> Result<(), Refusal> {
    if incomes.iter().any(|i| i.is_negative()) {
        return Err(Refusal::NegativeIncome);
    }
    Ok(())
}

fn needed<T: Clone>(value: &Option<InForce<T>>, what: Needed) -> Result<InForce<T>, Refusal> {
    value.clone().ok_or(Refusal::StandardNotInForce(what))
}

/// Dibao in the county's mode on the day of `standards`: [`difference`] or [`tier`] with the
/// area's table. The mode's version is named beside the standard's.
pub fn dibao(standards: &Standards, household: &Household) -> Result<Calculation, Refusal> {
    let mode = needed(&standards.mode, Needed::Mode)?;
    match mode.value.tiers(standards.area) {
        None => {
            let standard = needed(&standards.dibao, Needed::Dibao)?;
            let mut calculation = difference(&standard, household)?;
            calculation.versions.push(mode.version);
            Ok(calculation)
        }
        Some(tiers) => tier(mode.version, tiers, household),
    }
}

/// Dibao, difference mode (《社会救助暂行办法》第十二条: 按照共同生活的家庭成员人均收入低于当地最低
/// 生活保障标准的差额, 按月发给最低生活保障金): (standard − per-capita income) × size, computed exactly
/// as standard × size − total income; refused (`income_not_below_standard`) when that is zero or
/// less.
pub fn difference(standard: &InForce<Fen>, household: &Household) -> Result<Calculation, Refusal> {
    not_negative(&[household.total_monthly_income])?;
    let entitlement = standard
        .value
        .checked_mul(household.size())
        .ok_or(Refusal::AmountTooLarge)?;
    let amount = entitlement
        .checked_sub(household.total_monthly_income)
        .ok_or(Refusal::AmountTooLarge)?;
    if amount.fen() <= 0 {
        return Err(Refusal::IncomeNotBelowStandard);
    }
    let inputs = household.inputs();
    let even = household.total_monthly_income.fen() % household.size() == 0;
    let formula = if even {
        format!(
            "({} − {}) × {} = {amount}",
            yuan(standard.value),
            yuan(inputs.per_capita_monthly_income),
            inputs.size,
        )
    } else {
        format!(
            "{} × {} − {} = {amount} (standard × members − total income; the per-capita income \
             {} is rounded for display only)",
            yuan(standard.value),
            inputs.size,
            yuan(household.total_monthly_income),
            yuan(inputs.per_capita_monthly_income),
        )
    };
    Ok(Calculation {
        method: Method::Difference,
        versions: vec![standard.version],
        inputs,
        formula,
        monthly_amount: amount,
    })
}

/// Dibao, tier mode (分档): the first band whose bound the per-capita income does not exceed,
/// compared exactly (`total ≤ bound × size`); its amount × size. Above the last band: refused
/// (`income_above_tiers`). `tiers` are in increasing order of bound (the policy's rule).
pub fn tier(
    version: StandardVersion,
    tiers: &[Tier],
    household: &Household,
) -> Result<Calculation, Refusal> {
    not_negative(&[household.total_monthly_income])?;
    let (index, band) = tiers
        .iter()
        .enumerate()
        .find(|(_, t)| household.per_capita_at_most(t.up_to))
        .ok_or(Refusal::IncomeAboveTiers)?;
    let amount = band
        .amount
        .checked_mul(household.size())
        .ok_or(Refusal::AmountTooLarge)?;
    let inputs = household.inputs();
    let formula = format!(
        "per-capita income {} ≤ {} (band {}; exactly: total {} ≤ {} × {}): {} × {} = {amount}",
        yuan(inputs.per_capita_monthly_income),
        yuan(band.up_to),
        index + 1,
        yuan(household.total_monthly_income),
        yuan(band.up_to),
        inputs.size,
        yuan(band.amount),
        inputs.size,
    );
    Ok(Calculation {
        method: Method::Tier,
        versions: vec![version],
        inputs,
        formula,
        monthly_amount: amount,
    })
}

/// Single-person coverage (单人保), 《最低生活保障审核确认办法》(民发〔2021〕57号) 第八条: a seriously ill
/// or severely disabled member of a household on the dibao margin (低保边缘家庭: not eligible itself,
/// per-capita income above the standard and — in our configuration — at most k × the standard)
/// is covered as a one-person household: standard − the member's own income, refused
/// (`income_not_below_standard`) when that is zero or less.
pub fn single_person(
    standards: &Standards,
    applicant: &SinglePersonApplicant,
) -> Result<Calculation, Refusal> {
    let household = &applicant.household;
    not_negative(&[
        household.total_monthly_income,
        applicant.member_monthly_income,
    ])?;
    let standard = needed(&standards.dibao, Needed::Dibao)?;
    let k = needed(
        &standards.low_income_multiplier,
        Needed::LowIncomeMultiplier,
    )?;
    if !applicant.seriously_ill_or_severely_disabled {
        return Err(Refusal::NotSeriouslyIllOrSeverelyDisabled);
    }
    if household.per_capita_at_most(standard.value) {
        return Err(Refusal::HouseholdQualifiesItself);
    }
    if !household.per_capita_at_most_k_times(k.value, standard.value) {
        return Err(Refusal::AboveLowIncomeThreshold);
    }
    let amount = standard
        .value
        .checked_sub(applicant.member_monthly_income)
        .ok_or(Refusal::AmountTooLarge)?;
    if amount.fen() <= 0 {
        return Err(Refusal::IncomeNotBelowStandard);
    }
    let mut inputs = household.inputs();
    inputs.member_monthly_income = Some(applicant.member_monthly_income);
    let formula = format!(
        "({} − {}) × 1 = {amount} (single-person coverage; the household's per-capita income {} \
         is above {} and at most {} × {} = {})",
        yuan(standard.value),
        yuan(applicant.member_monthly_income),
        yuan(inputs.per_capita_monthly_income),
        yuan(standard.value),
        multiplier_text(k.value),
        yuan(standard.value),
        yuan(threshold_for_display(k.value, standard.value)),
    );
    Ok(Calculation {
        method: Method::SinglePerson,
        versions: vec![standard.version, k.version],
        inputs,
        formula,
        monthly_amount: amount,
    })
}

/// Low-income household recognition (低收入家庭认定; the plan: 按照低保标准的1.5-2倍确定低收入家庭认定
/// 标准): standard < per-capita income ≤ k × standard, compared exactly (`total × 1000 ≤ k‰ ×
/// standard × size`). Recognition only: the amount is zero.
pub fn low_income(standards: &Standards, household: &Household) -> Result<Calculation, Refusal> {
    not_negative(&[household.total_monthly_income])?;
    let standard = needed(&standards.dibao, Needed::Dibao)?;
    let k = needed(
        &standards.low_income_multiplier,
        Needed::LowIncomeMultiplier,
    )?;
    if household.per_capita_at_most(standard.value) {
        return Err(Refusal::IncomeNotAboveStandard);
    }
    if !household.per_capita_at_most_k_times(k.value, standard.value) {
        return Err(Refusal::AboveLowIncomeThreshold);
    }
    let inputs = household.inputs();
    let formula = format!(
        "{} < per-capita income {} ≤ {} × {} = {} (exactly: total {} × 1000 ≤ {} × {} × {}): \
         low-income household, no monthly amount ({})",
        yuan(standard.value),
        yuan(inputs.per_capita_monthly_income),
        multiplier_text(k.value),
        yuan(standard.value),
        yuan(threshold_for_display(k.value, standard.value)),
        yuan(household.total_monthly_income),
        k.value.permille,
        yuan(standard.value),
        inputs.size,
        Fen::ZERO,
    );
    Ok(Calculation {
        method: Method::LowIncome,
        versions: vec![standard.version, k.version],
        inputs,
        formula,
        monthly_amount: Fen::ZERO,
    })
}

/// Extreme-poverty support (特困人员救助供养, 国发〔2016〕14号: 基本生活标准 + 照料护理标准): for each
/// supported person, the basic living standard plus the care standard of their self-care level.
pub fn tekun(standards: &Standards, persons: &[SelfCare]) -> Result<Calculation, Refusal> {
    let standard = needed(&standards.tekun, Needed::Tekun)?;
    tekun_amount(&standard, persons)
}

/// [`tekun`] with the standard given.
pub fn tekun_amount(
    standard: &InForce<TekunStandard>,
    persons: &[SelfCare],
) -> Result<Calculation, Refusal> {
    let size = i64::try_from(persons.len()).map_err(|_| Refusal::AmountTooLarge)?;
    if size == 0 {
        return Err(Refusal::NoPersons);
    }
    let t = &standard.value;
    let basic = t.basic.checked_mul(size).ok_or(Refusal::AmountTooLarge)?;
    let mut terms = vec![format!("{} × {size} (basic living)", yuan(t.basic))];
    let mut amount = basic;
    for level in [
        SelfCare::Able,
        SelfCare::PartiallyUnable,
        SelfCare::FullyUnable,
    ] {
        let count = persons.iter().filter(|p| **p == level).count();
        if count == 0 {
            continue;
        }
        let count = i64::try_from(count).map_err(|_| Refusal::AmountTooLarge)?;
        let care = t.care.for_level(level);
        amount = care
            .checked_mul(count)
            .and_then(|c| amount.checked_add(c))
            .ok_or(Refusal::AmountTooLarge)?;
        terms.push(format!(
            "{} × {count} (care, {})",
            yuan(care),
            level.label()
        ));
    }
    Ok(Calculation {
        method: Method::ExtremePoverty,
        versions: vec![standard.version],
        inputs: Inputs {
            size: u32::try_from(size).map_err(|_| Refusal::AmountTooLarge)?,
            total_monthly_income: Fen::ZERO,
            per_capita_monthly_income: Fen::ZERO,
            member_monthly_income: None,
            self_care: persons.to_vec(),
        },
        formula: format!("{} = {amount}", terms.join(" + ")),
        monthly_amount: amount,
    })
}
