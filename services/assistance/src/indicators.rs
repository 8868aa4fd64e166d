//! The plan's assistance indicators (本溪市“十四五”民政事业发展规划, box 1), computed from the
//! events as pure arithmetic over the counties' standards, the townships' reserve funds and the
//! cases:
//!
//! | indicator | 2020 | 2025 | here |
//! |---|---|---|---|
//! | 城市和农村低保平均标准比例 (urban / rural average dibao standard) | 1.48 | 1.3 | [`standard_ratio`] |
//! | 建立临时救助备用金制度的乡镇（街道）覆盖率 (townships with a reserve fund) | 85% | 90% | [`share`] |
//!
//! and the figures behind them: recipients (cases and persons covered) and the monthly amounts by
//! category in force on a day ([`coverage`]).
//!
//! The ratio is the mean of the counties' urban monthly standards over the mean of their rural
//! monthly standards in force on the day (an annual rural standard ÷ 12 under the benefit
//! module's rounding), computed exactly from the sums — `Σurban × n_rural ÷ (Σrural ×
//! n_urban)` — and rounded once, half up, to the thousandth: Benxi's 665 / 450 元 gives 1.478,
//! the plan's 1.48. Shares are rounded the same way. Counts are of the day asked; a case counts
//! with the members it covers now (who was covered on an earlier day is not kept apart).

use minzheng_types::Fen;
use time::Date;

use crate::{
    case::Case,
    category::{Area, Category},
    ids::CaseId,
    policy::Policy,
};

/// The ratio in 2020, in thousandths (1.48).
pub const STANDARD_RATIO_2020_PERMILLE: u32 = 1480;
/// The ratio the plan aims at for 2025 (1.3, 预期性).
pub const STANDARD_RATIO_TARGET_PERMILLE: u32 = 1300;
/// Townships with a reserve fund in 2020 (85%).
pub const RESERVE_FUND_SHARE_2020_PERMILLE: u32 = 850;
/// The plan's 2025 target (90%, 预期性).
pub const RESERVE_FUND_SHARE_TARGET_PERMILLE: u32 = 900;

/// The categories whose recipients are counted: those in force for months (temporary and heating
/// assistance are paid once).
pub const COUNTED: [Category; 4] = [
    Category::Dibao,
    Category::SinglePerson,
    Category::Tekun,
    Category::LowIncome,
];

/// `numerator ÷ denominator` in thousandths, rounded half up; `None` for a zero denominator or
/// a value beyond `u32`.
pub fn permille(numerator: i128, denominator: i128) -> Option<u32> {
    if denominator <= 0 || numerator < 0 {
        return None;
    }
    let value = (numerator * 2000 + denominator) / (denominator * 2);
    u32::try_from(value).ok()
}

/// The urban/rural average dibao standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandardRatio {
    /// The mean urban monthly standard, rounded half up to the fen.
    pub mean_urban: Option<Fen>,
    pub mean_rural: Option<Fen>,
    pub urban_counties: u32,
    pub rural_counties: u32,
    /// The urban mean over the rural mean, in thousandths, from the exact sums.
    pub ratio_permille: Option<u32>,
}

/// Each county's urban and rural monthly dibao standard in force on `day`.
pub fn dibao_standards(policy: &Policy, day: Date) -> (Option<Fen>, Option<Fen>) {
    let on = |area| crate::monitoring::dibao_on(policy, area, day);
    (on(Area::Urban), on(Area::Rural))
}

/// The ratio of the mean of `urban` over the mean of `rural` (one standard per county).
pub fn standard_ratio(urban: &[Fen], rural: &[Fen]) -> StandardRatio {
    let sum = |amounts: &[Fen]| amounts.iter().map(|a| i128::from(a.fen())).sum::<i128>();
    let (sum_urban, sum_rural) = (sum(urban), sum(rural));
    let (n_urban, n_rural) = (urban.len() as i128, rural.len() as i128);
    let mean = |sum: i128, n: i128| {
        (n > 0)
            .then(|| (sum * 2 + n) / (n * 2))
            .and_then(|m| i64::try_from(m).ok())
            .map(Fen::new)
    };
    StandardRatio {
        mean_urban: mean(sum_urban, n_urban),
        mean_rural: mean(sum_rural, n_rural),
        urban_counties: u32::try_from(urban.len()).unwrap_or(u32::MAX),
        rural_counties: u32::try_from(rural.len()).unwrap_or(u32::MAX),
        ratio_permille: (n_urban > 0)
            .then(|| permille(sum_urban * n_rural, sum_rural * n_urban))
            .flatten(),
    }
}

/// A count out of a total, with the share in thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub count: u32,
    pub of: u32,
    pub permille: Option<u32>,
}

/// `count` of `of`.
pub fn share(count: u32, of: u32) -> Share {
    Share {
        count,
        of,
        permille: permille(i128::from(count), i128::from(of)),
    }
}

/// Recipients of one category on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub category: Category,
    pub cases: u32,
    pub persons: u32,
    pub monthly_amount: Fen,
}

/// What `case` covers on `day`: its category, the persons it covers and its monthly amount;
/// `None` when nothing runs that day (not yet started, ended, suspended, rejected, or a
/// one-off category). A low-income recognition runs with an amount of nothing.
pub fn covered_on(id: &CaseId, case: &Case, day: Date) -> Option<(Category, u32, Fen)> {
    let category = id.category();
    if !COUNTED.contains(&category) {
        return None;
    }
    let first = case.amounts.first()?;
    if day < first.from || case.ends_on.is_some_and(|end| day >= end) || case.suspended_on(day) {
        return None;
    }
    let persons = u32::try_from(case.members.len()).unwrap_or(u32::MAX).max(1);
    Some((category, persons, case.amount_on(day)))
}

/// Recipients and amounts by category on `day`, one entry for each of [`COUNTED`]; `None` when
/// the amounts overflow.
pub fn coverage<'a>(
    cases: impl IntoIterator<Item = (&'a CaseId, &'a Case)>,
    day: Date,
) -> Option<Vec<Coverage>> {
    let mut totals: Vec<Coverage> = COUNTED
        .iter()
        .map(|&category| Coverage {
            category,
            cases: 0,
            persons: 0,
            monthly_amount: Fen::ZERO,
        })
        .collect();
    for (id, case) in cases {
        let Some((category, persons, amount)) = covered_on(id, case, day) else {
            continue;
        };
        let total = totals.iter_mut().find(|c| c.category == category)?;
        total.cases = total.cases.saturating_add(1);
        total.persons = total.persons.saturating_add(persons);
        total.monthly_amount = total.monthly_amount.checked_add(amount)?;
    }
    Some(totals)
}

/// Adds `more` to `into`, category by category.
pub fn add_coverage(into: &mut [Coverage], more: &[Coverage]) -> Option<()> {
    for m in more {
        let total = into.iter_mut().find(|c| c.category == m.category)?;
        total.cases = total.cases.saturating_add(m.cases);
        total.persons = total.persons.saturating_add(m.persons);
        total.monthly_amount = total.monthly_amount.checked_add(m.monthly_amount)?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use minzheng_kit::aggregate::Aggregate;
    use minzheng_types::{CitizenId, RegionCode};
    use time::macros::date;

    use super::*;
    use crate::{
        benefit::{Calculation, Inputs, Method},
        case::AmountFrom,
        policy,
    };

    #[test]
    fn benxis_2020_standards_give_the_plans_ratio_of_1_48() {
        let policy = policy::tests::seed_events()
            .iter()
            .fold(Policy::default(), |p, e| p.apply(e));
        let (urban, rural) = dibao_standards(&policy, date!(2021 - 01 - 01));
        assert_eq!(urban, Some(Fen::new(66_500)));
        assert_eq!(rural, Some(Fen::new(45_000)));
        let ratio = standard_ratio(&[urban.expect("urban")], &[rural.expect("rural")]);
        assert_eq!(ratio.ratio_permille, Some(1478));
        assert!(ratio.ratio_permille.is_some_and(|r| (r + 5) / 10 == 148));
        // Before the standards took effect there is nothing to compare.
        assert_eq!(
            dibao_standards(&policy, date!(2020 - 12 - 31)),
            (None, None)
        );
    }

    #[test]
    fn the_ratio_is_of_the_means_computed_exactly_from_the_sums() {
        // Urban 665 and 700 (mean 682.50), rural 450, 500 and 520 (mean 490): 1.39285… → 1.393.
        let ratio = standard_ratio(
            &[Fen::new(66_500), Fen::new(70_000)],
            &[Fen::new(45_000), Fen::new(50_000), Fen::new(52_000)],
        );
        assert_eq!(ratio.mean_urban, Some(Fen::new(68_250)));
        assert_eq!(ratio.mean_rural, Some(Fen::new(49_000)));
        assert_eq!((ratio.urban_counties, ratio.rural_counties), (2, 3));
        assert_eq!(ratio.ratio_permille, Some(1393));
        // The 2025 target: 585 over 450 is exactly 1.3.
        assert_eq!(
            standard_ratio(&[Fen::new(58_500)], &[Fen::new(45_000)]).ratio_permille,
            Some(STANDARD_RATIO_TARGET_PERMILLE)
        );
        let none = standard_ratio(&[Fen::new(66_500)], &[]);
        assert_eq!(none.ratio_permille, None);
        assert_eq!(none.mean_rural, None);
        assert_eq!(
            standard_ratio(&[], &[Fen::new(45_000)]).ratio_permille,
            None
        );
    }

    #[test]
    fn shares_round_half_up_to_the_thousandth() {
        assert_eq!(
            share(17, 20).permille,
            Some(RESERVE_FUND_SHARE_2020_PERMILLE)
        );
        assert_eq!(
            share(18, 20).permille,
            Some(RESERVE_FUND_SHARE_TARGET_PERMILLE)
        );
        assert_eq!(share(1, 3).permille, Some(333));
        assert_eq!(share(2, 3).permille, Some(667));
        assert_eq!(share(1, 8).permille, Some(125));
        assert_eq!(share(1, 16).permille, Some(63)); // 62.5 rounds up
        assert_eq!(share(0, 0).permille, None);
    }

    fn calculation(amount: i64) -> Calculation {
        Calculation {
            method: Method::Difference,
            versions: Vec::new(),
            inputs: Inputs {
                size: 2,
                total_monthly_income: Fen::ZERO,
                per_capita_monthly_income: Fen::ZERO,
                member_monthly_income: None,
                self_care: Vec::new(),
            },
            formula: String::new(),
            monthly_amount: Fen::new(amount),
        }
    }

    fn case(members: usize, from: Date, amounts: &[(Date, i64)]) -> Case {
        let citizens = ["21050219600825001X", "210502195803120025"];
        Case {
            members: citizens[..members]
                .iter()
                .map(|c| CitizenId::parse(c).expect("valid"))
                .collect(),
            amounts: std::iter::once((from, amounts[0].1))
                .chain(amounts[1..].iter().copied())
                .map(|(from, amount)| AmountFrom {
                    from,
                    amount: Fen::new(amount),
                    calculation: calculation(amount),
                })
                .collect(),
            ..Case::default()
        }
    }

    fn id(category: Category, ordinal: u32) -> CaseId {
        CaseId::new(
            RegionCode::parse("210502000000").expect("valid"),
            category,
            2026,
            ordinal,
        )
        .expect("valid")
    }

    #[test]
    fn recipients_count_the_cases_running_on_the_day_with_their_amounts() {
        let april = date!(2026 - 04 - 01);
        let running = case(
            2,
            april,
            &[(april, 60_000), (date!(2026 - 07 - 01), 50_000)],
        );
        let later = case(1, date!(2026 - 06 - 01), &[(date!(2026 - 06 - 01), 30_000)]);
        let ended = Case {
            ends_on: Some(date!(2026 - 05 - 01)),
            ..case(1, april, &[(april, 20_000)])
        };
        let suspended = Case {
            suspensions: vec![(date!(2026 - 05 - 01), None)],
            ..case(1, april, &[(april, 40_000)])
        };
        let low_income = case(2, april, &[(april, 0)]);
        let temporary = case(1, april, &[(april, 90_000)]);
        let ids = [
            id(Category::Dibao, 1),
            id(Category::Dibao, 2),
            id(Category::Dibao, 3),
            id(Category::Tekun, 1),
            id(Category::LowIncome, 1),
            id(Category::Temporary, 1),
        ];
        let cases = [
            &running,
            &later,
            &ended,
            &suspended,
            &low_income,
            &temporary,
        ];
        let on = |day| coverage(ids.iter().zip(cases), day).expect("no overflow");
        let may = on(date!(2026 - 05 - 15));
        assert_eq!(
            may[0],
            Coverage {
                category: Category::Dibao,
                cases: 1,
                persons: 2,
                monthly_amount: Fen::new(60_000),
            }
        );
        assert_eq!(may[2].cases, 0, "suspended extreme-poverty support");
        assert_eq!((may[3].cases, may[3].persons), (1, 2), "low income");
        assert_eq!(may[3].monthly_amount, Fen::ZERO);
        let april_counts = on(april);
        assert_eq!(april_counts[0].cases, 2);
        assert_eq!(april_counts[0].monthly_amount, Fen::new(80_000));
        assert_eq!(april_counts[2].cases, 1);
        let july = on(date!(2026 - 07 - 01));
        assert_eq!(july[0].cases, 2);
        assert_eq!(july[0].monthly_amount, Fen::new(80_000));
        assert_eq!(july[0].persons, 3);
        // Before anything started.
        assert!(on(date!(2026 - 03 - 31)).iter().all(|c| c.cases == 0));

        let mut total = on(april);
        add_coverage(&mut total, &july).expect("no overflow");
        assert_eq!(total[0].cases, 4);
    }
}
