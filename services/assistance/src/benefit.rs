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
    policy::{
        HeatingAmounts, InForce, LowIncomeMultiplier, SelfCare, Standards, TekunStandard, Tier,
    },
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
    /// Temporary assistance (临时救助): an amount paid once.
    Temporary,
    /// Heating assistance (取暖救助): the winter's amount, paid once.
    Heating,
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
    /// The monthly amount (zero for a low-income recognition); for temporary and heating
    /// assistance, the amount paid once.
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
            Method::Temporary => Category::Temporary,
            Method::Heating => Category::Heating,
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
    #[error("temporary assistance grants at most the amount asked for")]
    MoreThanRequested,
    #[error(
        "the amount is above what the township may pay at once (先行救助); transfer the \
         application to the county"
    )]
    AboveTownshipLimit,
    #[error("the township has no temporary-aid limit in force; transfer to the county")]
    NoTownshipLimit,
    #[error("heating assistance is for dibao, extreme-poverty and low-income households")]
    NoHeatingForCategory,
    #[error("no heating amounts are in force for that winter")]
    NoHeatingAmounts,
    #[error("temporary assistance must grant more than nothing")]
    NothingGranted,
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
            Refusal::MoreThanRequested => "more_than_requested",
            Refusal::AboveTownshipLimit => "above_township_limit",
            Refusal::NoHeatingForCategory => "no_heating_for_category",
            Refusal::NoTownshipLimit => "no_township_limit",
            Refusal::NoHeatingAmounts => "no_heating_amounts",
            Refusal::NothingGranted => "nothing_granted",
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

/// Temporary assistance (临时救助, 《社会救助暂行办法》第四十七条、第四十九条): the amount the
/// caseworker or the county grants, at most what the household asked for; paid at once by the
/// township (先行救助, 国发〔2014〕47号), also at most the township's limit in force (`limit`).
pub fn temporary(
    granted: Fen,
    requested: Fen,
    limit: Option<&InForce<Fen>>,
) -> Result<Calculation, Refusal> {
    if granted.fen() <= 0 {
        return Err(Refusal::NothingGranted);
    }
    if granted > requested {
        return Err(Refusal::MoreThanRequested);
    }
    let mut versions = Vec::new();
    let formula = match limit {
        Some(limit) if granted > limit.value => return Err(Refusal::AboveTownshipLimit),
        Some(limit) => {
            versions.push(limit.version);
            format!(
                "{} 元 (asked {} 元; township limit {} 元)",
                yuan(granted),
                yuan(requested),
                yuan(limit.value)
            )
        }
        None => format!("{} 元 (asked {} 元)", yuan(granted), yuan(requested)),
    };
    Ok(Calculation {
        method: Method::Temporary,
        versions,
        inputs: Inputs {
            size: 0,
            total_monthly_income: Fen::ZERO,
            per_capita_monthly_income: Fen::ZERO,
            member_monthly_income: None,
            self_care: Vec::new(),
        },
        formula,
        monthly_amount: granted,
    })
}

/// Heating assistance (取暖救助) for a winter: the amount per household the county set for the
/// category of the household's case in force.
pub fn heating(
    amounts: Option<&InForce<HeatingAmounts>>,
    case_category: Category,
) -> Result<Calculation, Refusal> {
    let amounts = amounts.ok_or(Refusal::NoHeatingAmounts)?;
    let amount = match case_category {
        Category::Dibao | Category::SinglePerson => amounts.value.dibao,
        Category::Tekun => amounts.value.tekun,
        Category::LowIncome => amounts.value.low_income,
        Category::Temporary | Category::Heating => return Err(Refusal::NoHeatingForCategory),
    };
    Ok(Calculation {
        method: Method::Heating,
        versions: vec![amounts.version],
        inputs: Inputs {
            size: 0,
            total_monthly_income: Fen::ZERO,
            per_capita_monthly_income: Fen::ZERO,
            member_monthly_income: None,
            self_care: Vec::new(),
        },
        formula: format!(
            "winter {}: {} 元 per {} household",
            amounts.value.winter,
            yuan(amount),
            case_category
        ),
        monthly_amount: amount,
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

/// `calculation` again, with the same method and figures, under `standards` (a standard that
/// took effect from an earlier day: the months between were computed with the figures they
/// had then, and only the standard changes). One-off amounts are decided, not computed from a
/// standard: returned as they are. Single-person coverage was granted to a seriously ill or
/// severely disabled member, which it assumes.
pub fn reapply(calculation: &Calculation, standards: &Standards) -> Result<Calculation, Refusal> {
    let inputs = &calculation.inputs;
    let household = || {
        Ok::<_, Refusal>(Household {
            size: HouseholdSize::new(inputs.size).ok_or(Refusal::NoPersons)?,
            total_monthly_income: inputs.total_monthly_income,
        })
    };
    match calculation.method {
        Method::Difference | Method::Tier => dibao(standards, &household()?),
        Method::SinglePerson => single_person(
            standards,
            &SinglePersonApplicant {
                household: household()?,
                member_monthly_income: inputs.member_monthly_income.unwrap_or(Fen::ZERO),
                seriously_ill_or_severely_disabled: true,
            },
        ),
        Method::LowIncome => low_income(standards, &household()?),
        Method::ExtremePoverty => tekun(standards, &inputs.self_care),
        Method::Temporary | Method::Heating => Ok(calculation.clone()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;
    use crate::{
        category::Area,
        policy::{
            BenefitMode, CareStandards, Policy,
            tests::{county, fen, raised_to_700, seed_events},
        },
    };

    fn version(number: u32) -> StandardVersion {
        StandardVersion {
            county: county(),
            number,
        }
    }

    fn in_force<T>(value: T, number: u32) -> InForce<T> {
        InForce {
            value,
            version: version(number),
            effective_from: date!(2021 - 01 - 01),
        }
    }

    pub(crate) fn household(size: u32, total: i64) -> Household {
        Household {
            size: HouseholdSize::new(size).expect("a size"),
            total_monthly_income: fen(total),
        }
    }

    /// Urban standards: dibao 665.00 (version 1), difference mode (3), k = `permille` (4),
    /// tekun basic 864.50 with care 0 / 100.00 / 300.00 (5).
    pub(crate) fn standards(dibao: i64, permille: u32) -> Standards {
        Standards {
            county: county(),
            area: Area::Urban,
            day: date!(2021 - 01 - 01),
            dibao: Some(in_force(fen(dibao), 1)),
            mode: Some(in_force(BenefitMode::Difference, 3)),
            low_income_multiplier: Some(in_force(LowIncomeMultiplier { permille }, 4)),
            tekun: Some(in_force(
                TekunStandard {
                    area: Area::Urban,
                    basic: fen(86_450),
                    care: CareStandards {
                        able: fen(0),
                        partially_unable: fen(10_000),
                        fully_unable: fen(30_000),
                    },
                },
                5,
            )),
        }
    }

    fn rule<T: std::fmt::Debug>(result: Result<T, Refusal>) -> String {
        result.expect_err("refused").rule().to_owned()
    }

    // A standard back-dated over months already computed: each month keeps its own figures
    // (household, income, self-care) and only the standard changes.
    #[test]
    fn reapplying_a_calculation_keeps_its_figures_and_takes_the_new_standard() {
        let old = standards(66_500, 1500);
        let new = standards(70_000, 1500);
        let dibao_then = dibao(&old, &household(3, 63_000)).expect("eligible");
        let dibao_now = reapply(&dibao_then, &new).expect("still eligible");
        assert_eq!(dibao_now.monthly_amount, fen(147_000)); // (700 − 210) × 3
        assert_eq!(dibao_now.inputs, dibao_then.inputs);
        let member = SinglePersonApplicant {
            household: household(2, 150_000),
            member_monthly_income: fen(20_000),
            seriously_ill_or_severely_disabled: true,
        };
        let single_then = single_person(&old, &member).expect("eligible");
        assert_eq!(
            reapply(&single_then, &new)
                .expect("still on the margin")
                .monthly_amount,
            fen(50_000) // 700 − 200
        );
        let persons = [SelfCare::Able, SelfCare::FullyUnable];
        let tekun_then = tekun(&old, &persons).expect("supported");
        assert_eq!(
            reapply(&tekun_then, &new).expect("supported"),
            tekun_then,
            "the dibao standard does not move the extreme-poverty one"
        );
        // A household the new standard would cover itself is refused single-person coverage:
        // the caller keeps the month as it was.
        assert_eq!(
            rule(reapply(&single_then, &standards(76_000, 1500))),
            "household_qualifies_itself"
        );
    }

    // The one rounding rule: to the nearest fen, halves up (四舍五入).
    #[test]
    fn divisions_round_to_the_nearest_fen_halves_up() {
        for (amount, divisor, expected) in [
            (540_000, 12, 45_000), // 5,400 元 a year is 450 元 a month
            (100_001, 12, 8_333),  // 83.334…
            (100_002, 12, 8_334),  // 83.335: half up
            (100_005, 12, 8_334),  // 83.3375
            (63_001, 3, 21_000),   // 210.0033…
            (63_002, 3, 21_001),   // 210.0066…
        ] {
            assert_eq!(
                divide(fen(amount), divisor),
                Some(fen(expected)),
                "{amount} ÷ {divisor}"
            );
        }
        assert_eq!(divide(fen(1), 0), None);
    }

    // 《社会救助暂行办法》第十二条: the difference between the standard and the per-capita income,
    // times the household; computed as standard × size − total income.
    #[test]
    fn difference_mode_pays_the_gap_to_the_standard_for_every_member() {
        let standard = in_force(fen(66_500), 1);
        for (size, total, amount, formula) in [
            (3, 63_000, 136_500, "(665.00 − 210.00) × 3 = 1365.00 元"),
            (1, 0, 66_500, "(665.00 − 0.00) × 1 = 665.00 元"),
            (2, 100_000, 33_000, "(665.00 − 500.00) × 2 = 330.00 元"),
            // A per-capita income that does not divide evenly: 630.01 ÷ 3 = 210.0033…; the
            // amount is exact (1995.00 − 630.01), not (665.00 − 210.00) × 3.
            (
                3,
                63_001,
                136_499,
                "665.00 × 3 − 630.01 = 1364.99 元 (standard × members − total income; the \
                 per-capita income 210.00 is rounded for display only)",
            ),
            // 630.02 ÷ 3 = 210.0066… shows as 210.01; (665.00 − 210.01) × 3 would be 1364.97.
            (
                3,
                63_002,
                136_498,
                "665.00 × 3 − 630.02 = 1364.98 元 (standard × members − total income; the \
                 per-capita income 210.01 is rounded for display only)",
            ),
            // One fen below the line for the household, though the per-capita income shows as
            // the standard itself: 1994.99 ÷ 3 = 664.9966….
            (
                3,
                199_499,
                1,
                "665.00 × 3 − 1994.99 = 0.01 元 (standard × members − total income; the \
                 per-capita income 665.00 is rounded for display only)",
            ),
        ] {
            let calculation = difference(&standard, &household(size, total)).expect("eligible");
            assert_eq!(calculation.monthly_amount, fen(amount), "{size} × {total}");
            assert_eq!(calculation.formula, formula);
            assert_eq!(calculation.method, Method::Difference);
            assert_eq!(calculation.versions, vec![version(1)]);
            assert_eq!(calculation.category(), Category::Dibao);
        }
    }

    #[test]
    fn difference_mode_refuses_an_income_at_or_above_the_standard() {
        let standard = in_force(fen(66_500), 1);
        for (size, total) in [(3, 199_500), (3, 199_501), (1, 66_500), (1, 1_000_000)] {
            assert_eq!(
                rule(difference(&standard, &household(size, total))),
                "income_not_below_standard",
                "{size} × {total}"
            );
        }
        assert_eq!(
            rule(difference(&standard, &household(1, -1))),
            "negative_income"
        );
    }

    fn table() -> Vec<Tier> {
        vec![
            Tier {
                up_to: fen(20_000),
                amount: fen(30_000),
            },
            Tier {
                up_to: fen(40_000),
                amount: fen(15_000),
            },
        ]
    }

    // Tier mode (分档): the band containing the per-capita income, compared exactly.
    #[test]
    fn tier_mode_pays_the_band_amount_for_every_member() {
        for (size, total, band, amount) in [
            (3, 0, 1, 90_000),
            // Exactly on the first bound: 600.00 ÷ 3 = 200.00 is in band 1.
            (3, 60_000, 1, 90_000),
            // One fen above it: 200.0033… is in band 2 (shown as 200.00).
            (3, 60_001, 2, 45_000),
            // Exactly on the last bound.
            (3, 120_000, 2, 45_000),
            (1, 40_000, 2, 15_000),
        ] {
            let calculation =
                tier(version(3), &table(), &household(size, total)).expect("in a band");
            assert_eq!(calculation.monthly_amount, fen(amount), "{size} × {total}");
            assert!(
                calculation.formula.contains(&format!("(band {band};")),
                "{}",
                calculation.formula
            );
            assert_eq!(calculation.method, Method::Tier);
            assert_eq!(calculation.versions, vec![version(3)]);
        }
        let on_bound = tier(version(3), &table(), &household(3, 60_000)).expect("band 1");
        assert_eq!(
            on_bound.formula,
            "per-capita income 200.00 ≤ 200.00 (band 1; exactly: total 600.00 ≤ 200.00 × 3): \
             300.00 × 3 = 900.00 元"
        );
    }

    #[test]
    fn tier_mode_refuses_an_income_above_the_last_band() {
        // 400.0033… per person.
        assert_eq!(
            rule(tier(version(3), &table(), &household(3, 120_001))),
            "income_above_tiers"
        );
        assert_eq!(
            rule(tier(version(3), &table(), &household(1, 40_001))),
            "income_above_tiers"
        );
    }

    #[test]
    fn dibao_follows_the_countys_mode_and_names_both_versions() {
        let difference_mode =
            dibao(&standards(66_500, 1500), &household(3, 63_000)).expect("eligible");
        assert_eq!(difference_mode.monthly_amount, fen(136_500));
        assert_eq!(difference_mode.versions, vec![version(1), version(3)]);

        let mut tiered = standards(66_500, 1500);
        tiered.area = Area::Rural;
        tiered.mode = Some(in_force(
            BenefitMode::Tiers {
                urban: vec![Tier {
                    up_to: fen(66_500),
                    amount: fen(1),
                }],
                rural: table(),
            },
            8,
        ));
        let tier_mode = dibao(&tiered, &household(3, 60_000)).expect("band 1");
        assert_eq!(tier_mode.monthly_amount, fen(90_000), "the rural table");
        assert_eq!(tier_mode.versions, vec![version(8)]);

        let mut no_mode = standards(66_500, 1500);
        no_mode.mode = None;
        assert_eq!(
            rule(dibao(&no_mode, &household(3, 0))),
            "standard_not_in_force"
        );
        let mut no_dibao = standards(66_500, 1500);
        no_dibao.dibao = None;
        assert_eq!(
            rule(dibao(&no_dibao, &household(3, 0))),
            "standard_not_in_force"
        );
    }

    fn applicant(size: u32, total: i64, own: i64, ill: bool) -> SinglePersonApplicant {
        SinglePersonApplicant {
            household: household(size, total),
            member_monthly_income: fen(own),
            seriously_ill_or_severely_disabled: ill,
        }
    }

    // 《最低生活保障审核确认办法》(民发〔2021〕57号) 第八条: 低保边缘家庭中的重病、重度残疾人 may apply
    // alone, covered as a one-person household.
    #[test]
    fn single_person_coverage_pays_the_member_as_a_household_of_one() {
        let s = standards(66_500, 1500);
        for (total, own, amount) in [
            // 700.00 per person: above 665.00, at most 997.50.
            (210_000, 10_000, 56_500),
            (210_000, 0, 66_500),
            // Exactly at 1.5 × 665.00 = 997.50 per person.
            (299_250, 66_499, 1),
            // Just above the standard: 665.0033… per person.
            (199_501, 20_000, 46_500),
        ] {
            let calculation = single_person(&s, &applicant(3, total, own, true)).expect("eligible");
            assert_eq!(calculation.monthly_amount, fen(amount), "{total} {own}");
            assert_eq!(calculation.method, Method::SinglePerson);
            assert_eq!(calculation.category(), Category::SinglePerson);
            assert_eq!(calculation.versions, vec![version(1), version(4)]);
            assert_eq!(calculation.inputs.member_monthly_income, Some(fen(own)));
        }
        let shown = single_person(&s, &applicant(3, 210_000, 10_000, true)).expect("eligible");
        assert_eq!(
            shown.formula,
            "(665.00 − 100.00) × 1 = 565.00 元 (single-person coverage; the household's \
             per-capita income 700.00 is above 665.00 and at most 1.5 × 665.00 = 997.50)"
        );
    }

    #[test]
    fn single_person_coverage_refusals() {
        let s = standards(66_500, 1500);
        for (applicant, expected) in [
            (
                applicant(3, 210_000, 0, false),
                "not_seriously_ill_or_severely_disabled",
            ),
            // The household is at or below the line: it applies itself.
            (applicant(3, 199_500, 0, true), "household_qualifies_itself"),
            (applicant(3, 0, 0, true), "household_qualifies_itself"),
            // One fen above 1.5 × the standard for the household.
            (applicant(3, 299_251, 0, true), "above_low_income_threshold"),
            // The member's own income reaches the standard.
            (
                applicant(3, 210_000, 66_500, true),
                "income_not_below_standard",
            ),
            (applicant(3, 210_000, -1, true), "negative_income"),
        ] {
            assert_eq!(
                rule(single_person(&s, &applicant)),
                expected,
                "{applicant:?}"
            );
        }
        // With k = 2.0 the margin reaches 1330.00 per person.
        let wide = standards(66_500, 2000);
        assert!(single_person(&wide, &applicant(3, 399_000, 0, true)).is_ok());
        assert_eq!(
            rule(single_person(&wide, &applicant(3, 399_001, 0, true))),
            "above_low_income_threshold"
        );
    }

    // The plan (第二章): 按照低保标准的1.5-2倍确定低收入家庭认定标准; standard < per-capita ≤ k ×
    // standard, exactly.
    #[test]
    fn low_income_recognition_is_between_the_standard_and_k_times_it() {
        for (dibao, permille, size, total, expected) in [
            // Exactly at k × standard: 997.50 × 3.
            (66_500, 1500, 3, 299_250, Ok(())),
            (66_500, 1500, 3, 299_251, Err("above_low_income_threshold")),
            // Just above the standard.
            (66_500, 1500, 3, 199_501, Ok(())),
            (66_500, 1500, 3, 199_500, Err("income_not_above_standard")),
            (66_500, 1500, 3, 0, Err("income_not_above_standard")),
            // k × standard that is not whole fen: 1.75 × 665.01 = 1163.7675.
            (66_501, 1750, 1, 116_376, Ok(())),
            (66_501, 1750, 1, 116_377, Err("above_low_income_threshold")),
            // …and over four members: 4655.07 exactly.
            (66_501, 1750, 4, 465_507, Ok(())),
            (66_501, 1750, 4, 465_508, Err("above_low_income_threshold")),
        ] {
            let result = low_income(&standards(dibao, permille), &household(size, total));
            match expected {
                Ok(()) => {
                    let calculation = result.expect("recognised");
                    assert_eq!(calculation.monthly_amount, Fen::ZERO);
                    assert_eq!(calculation.method, Method::LowIncome);
                    assert_eq!(calculation.versions, vec![version(1), version(4)]);
                }
                Err(expected) => assert_eq!(rule(result), expected, "{size} × {total}"),
            }
        }
        let shown = low_income(&standards(66_500, 1500), &household(3, 299_250)).expect("ok");
        assert_eq!(
            shown.formula,
            "665.00 < per-capita income 997.50 ≤ 1.5 × 665.00 = 997.50 (exactly: total 2992.50 \
             × 1000 ≤ 1500 × 665.00 × 3): low-income household, no monthly amount (0.00 元)"
        );
    }

    // 国发〔2016〕14号: basic living standard plus the care standard of the person's self-care
    // level.
    #[test]
    fn extreme_poverty_support_is_basic_plus_care_per_person() {
        let s = standards(66_500, 1500);
        for (persons, amount) in [
            (vec![SelfCare::Able], 86_450),
            (vec![SelfCare::FullyUnable], 116_450),
            (
                vec![
                    SelfCare::Able,
                    SelfCare::PartiallyUnable,
                    SelfCare::FullyUnable,
                ],
                86_450 * 3 + 10_000 + 30_000,
            ),
            (vec![SelfCare::PartiallyUnable; 2], (86_450 + 10_000) * 2),
        ] {
            let calculation = tekun(&s, &persons).expect("supported");
            assert_eq!(calculation.monthly_amount, fen(amount), "{persons:?}");
            assert_eq!(calculation.versions, vec![version(5)]);
            assert_eq!(calculation.category(), Category::Tekun);
            assert_eq!(calculation.inputs.self_care, persons);
        }
        let shown = tekun(&s, &[SelfCare::Able, SelfCare::FullyUnable]).expect("supported");
        assert_eq!(
            shown.formula,
            "864.50 × 2 (basic living) + 0.00 × 1 (care, able to care for self (具备生活自理能力)) \
             + 300.00 × 1 (care, fully unable (完全丧失生活自理能力)) = 2029.00 元"
        );
        assert_eq!(rule(tekun(&s, &[])), "no_persons");
        let mut none = s;
        none.tekun = None;
        assert_eq!(
            rule(tekun(&none, &[SelfCare::Able])),
            "standard_not_in_force"
        );
    }

    #[test]
    fn k_is_shown_as_a_decimal() {
        for (permille, text) in [(1500, "1.5"), (1750, "1.75"), (2000, "2"), (1625, "1.625")] {
            assert_eq!(multiplier_text(LowIncomeMultiplier { permille }), text);
        }
    }

    #[test]
    fn a_household_has_one_to_ninety_nine_members() {
        assert_eq!(HouseholdSize::new(0), None);
        assert_eq!(HouseholdSize::new(100), None);
        assert_eq!(HouseholdSize::new(99).map(HouseholdSize::get), Some(99));
    }

    // A standard raised from a day re-computes only from that day: the month before keeps the
    // old amount and names the old version.
    #[test]
    fn a_standard_raised_from_a_day_recomputes_only_from_that_day() {
        let mut events = seed_events();
        events.push(raised_to_700());
        let state = given::<Policy>(events);
        let amount_on = |day| {
            let standards = state.state().standards(day, Area::Urban).expect("recorded");
            let c = dibao(&standards, &household(3, 63_000)).expect("eligible");
            (c.monthly_amount, c.versions)
        };
        assert_eq!(
            amount_on(date!(2021 - 06 - 01)),
            (fen(136_500), vec![version(1), version(3)])
        );
        assert_eq!(
            amount_on(date!(2021 - 06 - 30)),
            (fen(136_500), vec![version(1), version(3)])
        );
        assert_eq!(
            amount_on(date!(2021 - 07 - 01)),
            (fen(147_000), vec![version(7), version(3)])
        );
        // The seed's rural standard, 5,400 元 a year, pays 450 元 a month.
        let rural = state
            .state()
            .standards(date!(2021 - 07 - 01), Area::Rural)
            .expect("recorded");
        assert_eq!(
            dibao(&rural, &household(2, 0)).map(|c| c.monthly_amount),
            Ok(fen(90_000))
        );
    }
}
