//! The monitoring list (困难家庭基本信息数据库, 致贫返贫监测预警): which households of a county
//! need watching, as pure rules over the cases, the standards and the open referrals.
//!
//! The plan (chapter 2): "以县为单位建立困难家庭基本信息数据库，健全完善致贫返贫监测预警机制" — a
//! database of households in difficulty per county. It names no criteria; ours, each
//! configurable ([`Thresholds`]):
//!
//! - **just above the line** ([`Reason::JustAboveLine`]): a household-category application
//!   (dibao, single-person coverage, extreme poverty, low income) rejected although its verified
//!   per-capita monthly income was at most k × the dibao standard in force on the day of the
//!   decision, and above the standard — the low-income band (低收入家庭认定标准 = k × 低保标准, k
//!   in 1.5–2.0, the plan; k is the county's multiplier in force that day, else the default);
//! - **near the line** ([`Reason::NearLine`]): a household in assistance whose latest verified
//!   per-capita income is within `near_line_percent` below the standard in force on the day
//!   asked, up to the standard itself (a small rise ends its dibao; a small fall is masked);
//! - **named by an open alert** ([`Reason::OpenAlert`]): a referral no caseworker has acted on.
//!
//! Comparisons are exact in whole fen (`total × 1000 ≤ k‰ × standard × size`), never through a
//! rounded per-capita figure. The list names cases and alerts, never persons.

use std::collections::HashMap;

use minzheng_types::{CitizenId, Fen, RegionCode};
use serde::Deserialize;
use time::Date;

use crate::{
    benefit::HouseholdSize,
    case::{Case, Stage},
    category::{Area, Category},
    ids::CaseId,
    policy::{Kind, Policy, Standard},
    referral::{AlertId, Referral},
};

/// The list's thresholds (`[assistance.monitoring]` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// How far below the standard, in percent, a household in assistance is near the line.
    pub near_line_percent: u32,
    /// k in permille where the county recorded none (1500 is 1.5, the plan's lower bound).
    pub default_low_income_permille: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            near_line_percent: 10,
            default_low_income_permille: crate::policy::MIN_LOW_INCOME_PERMILLE,
        }
    }
}

/// Why a household is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    JustAboveLine,
    NearLine,
    OpenAlert,
}

/// One household on the list: a case or an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub reason: Reason,
    /// The case (for an alert: a case of the county covering a member it names, if any).
    pub case_id: Option<CaseId>,
    pub alert_id: Option<AlertId>,
    pub township: Option<RegionCode>,
    /// The decision, the verification or the alert that put it on the list.
    pub since: Date,
}

/// A household's verified figures: members counted and monthly income.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub size: HouseholdSize,
    pub total_monthly_income: Fen,
}

impl Figures {
    /// `total × 1000` against `permille × standard × size`, exactly.
    fn compare(&self, permille: u32, standard: Fen) -> std::cmp::Ordering {
        let left = i128::from(self.total_monthly_income.fen()) * 1000;
        let right = i128::from(permille) * i128::from(standard.fen()) * i128::from(self.size.get());
        left.cmp(&right)
    }
}

/// Whether the per-capita income is above `standard` and at most `k_permille`‰ of it.
pub fn just_above_line(figures: Figures, standard: Fen, k_permille: u32) -> bool {
    figures.compare(1000, standard).is_gt() && figures.compare(k_permille, standard).is_le()
}

/// Whether the per-capita income is at most `standard` and at least `(100 − percent)`% of it.
pub fn near_line(figures: Figures, standard: Fen, percent: u32) -> bool {
    let floor = 1000u32.saturating_sub(percent.saturating_mul(10));
    figures.compare(1000, standard).is_le() && figures.compare(floor, standard).is_ge()
}

/// What the list needs of a case, read from it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub case_id: CaseId,
    pub township: Option<RegionCode>,
    pub area: Area,
    pub stage: Stage,
    pub decided_on: Option<Date>,
    /// The latest verification's figures and day.
    pub verified: Option<(Figures, Date)>,
    /// Every member the case names (the application's household and those covered).
    pub members: Vec<CitizenId>,
}

impl CaseFacts {
    /// The facts of `case`; `None` for a case without an application or of a category the list
    /// does not watch (temporary and heating assistance).
    pub fn of(case: &Case) -> Option<Self> {
        let application = case.application.as_deref()?;
        if matches!(
            application.category,
            Category::Temporary | Category::Heating
        ) {
            return None;
        }
        // The household counted as the last calculation counted it (a review after a death
        // counts fewer), else every member of the application's household, as a decision does.
        let counted = case
            .amounts
            .last()
            .map(|a| a.calculation.inputs.size)
            .filter(|size| *size > 0)
            .unwrap_or_else(|| u32::try_from(application.household.members.len()).unwrap_or(0));
        let size = HouseholdSize::new(counted);
        let verified = case.verification.as_ref().and_then(|v| {
            Some((
                Figures {
                    size: size?,
                    total_monthly_income: v.total_monthly_income,
                },
                v.verified_on,
            ))
        });
        let mut members = application.household.citizens();
        for m in &case.members {
            if !members.contains(m) {
                members.push(m.clone());
            }
        }
        Some(Self {
            case_id: application.case_id,
            township: case.division,
            area: application.area,
            stage: case.stage,
            decided_on: case.decided_on,
            verified,
            members,
        })
    }
}

/// The monthly dibao standard of `area` in force on `day`.
pub fn dibao_on(policy: &Policy, area: Area, day: Date) -> Option<Fen> {
    policy.standards(day, area)?.dibao.map(|s| s.value)
}

/// k in permille in force on `day`, else `default`.
pub fn k_on(policy: &Policy, day: Date, default: u32) -> u32 {
    policy
        .in_force(Kind::LowIncomeMultiplier, day)
        .and_then(|v| match &v.standard {
            Standard::LowIncomeMultiplier(k) => Some(k.permille),
            _ => None,
        })
        .unwrap_or(default)
}

/// Why `case` is on the list on `today`, and since when; `None` when it is not.
pub fn reason_for(
    case: &CaseFacts,
    policy: &Policy,
    today: Date,
    thresholds: Thresholds,
) -> Option<(Reason, Date)> {
    let (figures, verified_on) = case.verified?;
    match case.stage {
        Stage::Rejected => {
            let decided_on = case.decided_on?;
            let standard = dibao_on(policy, case.area, decided_on)?;
            let k = k_on(policy, decided_on, thresholds.default_low_income_permille);
            just_above_line(figures, standard, k).then_some((Reason::JustAboveLine, decided_on))
        }
        Stage::Active | Stage::Suspended => {
            let standard = dibao_on(policy, case.area, today)?;
            near_line(figures, standard, thresholds.near_line_percent)
                .then_some((Reason::NearLine, verified_on))
        }
        _ => None,
    }
}

/// A county's monitoring list on `today`: the cases by [`reason_for`], then every open
/// referral (with a case of the county covering one of its members, preferring one in force);
/// by reason, then township, then id.
pub fn list<'a>(
    cases: impl IntoIterator<Item = &'a CaseFacts>,
    referrals: impl IntoIterator<Item = &'a Referral>,
    policy: &Policy,
    today: Date,
    thresholds: Thresholds,
) -> Vec<Listed> {
    let mut listed = Vec::new();
    let mut by_member: HashMap<&CitizenId, (bool, CaseId)> = HashMap::new();
    for case in cases {
        let in_force = matches!(case.stage, Stage::Active | Stage::Suspended);
        for member in &case.members {
            let entry = by_member.entry(member).or_insert((in_force, case.case_id));
            if (in_force, std::cmp::Reverse(case.case_id)) > (entry.0, std::cmp::Reverse(entry.1)) {
                *entry = (in_force, case.case_id);
            }
        }
        if let Some((reason, since)) = reason_for(case, policy, today, thresholds) {
            listed.push(Listed {
                reason,
                case_id: Some(case.case_id),
                alert_id: None,
                township: case.township,
                since,
            });
        }
    }
    for referral in referrals.into_iter().filter(|r| r.is_open()) {
        let Some(alert) = referral.recorded() else {
            continue;
        };
        let case_id = alert
            .members
            .iter()
            .filter_map(|m| by_member.get(m))
            .max_by_key(|(in_force, id)| (*in_force, std::cmp::Reverse(*id)))
            .map(|(_, id)| *id);
        listed.push(Listed {
            reason: Reason::OpenAlert,
            case_id,
            alert_id: Some(alert.alert_id.clone()),
            township: Some(alert.township),
            since: alert.raised_on,
        });
    }
    listed.sort_by(|a, b| {
        (a.reason, a.township, a.case_id, &a.alert_id).cmp(&(
            b.reason,
            b.township,
            b.case_id,
            &b.alert_id,
        ))
    });
    listed
}

#[cfg(test)]
mod tests {
    use minzheng_kit::aggregate::Aggregate;
    use time::macros::date;

    use super::*;
    use crate::{
        policy::{self, LowIncomeMultiplier},
        referral::{self, Outcome},
    };

    /// The seed's standards from 2021: urban 665 元, rural 450 元 a month, k = 1.5.
    fn benxi() -> Policy {
        policy::tests::seed_events()
            .iter()
            .fold(Policy::default(), |p, e| p.apply(e))
    }

    fn figures(size: u32, total_yuan: i64) -> Figures {
        Figures {
            size: HouseholdSize::new(size).expect("valid"),
            total_monthly_income: Fen::from_yuan(total_yuan).expect("in range"),
        }
    }

    const STANDARD: Fen = Fen::new(66_500);
    const TODAY: Date = date!(2026 - 03 - 20);

    #[test]
    fn just_above_the_line_is_above_the_standard_and_at_most_k_times_it() {
        // Three members against 665 元: the line is 1 995 元, k = 1.5 puts the band's top at
        // 2 992.50 元.
        for (total, expected) in [
            (1995, false), // on the line: eligible, not just above
            (1996, true),
            (2992, true),
            (2993, false), // above 1.5 × the standard
        ] {
            assert_eq!(
                just_above_line(figures(3, total), STANDARD, 1500),
                expected,
                "{total}"
            );
        }
        // Exact at the fen: 2 992.50 元 is in, 2 992.51 元 is out.
        let at = |fen| Figures {
            total_monthly_income: Fen::new(fen),
            ..figures(3, 0)
        };
        assert!(just_above_line(at(299_250), STANDARD, 1500));
        assert!(!just_above_line(at(299_251), STANDARD, 1500));
    }

    #[test]
    fn near_the_line_is_within_the_share_below_the_standard() {
        // Two members against 665 元: the line is 1 330 元, 10% below it 1 197 元.
        for (total, expected) in [
            (1196, false),
            (1197, true),
            (1330, true),
            (1331, false), // above the line
        ] {
            assert_eq!(
                near_line(figures(2, total), STANDARD, 10),
                expected,
                "{total}"
            );
        }
        assert!(near_line(figures(2, 0), STANDARD, 100));
        assert!(!near_line(figures(2, 1196), STANDARD, 5));
    }

    fn facts(ordinal: u32, stage: Stage, total_yuan: i64) -> CaseFacts {
        CaseFacts {
            case_id: CaseId::new(
                RegionCode::parse("210502000000").expect("valid"),
                Category::Dibao,
                2026,
                ordinal,
            )
            .expect("valid"),
            township: Some(referral::tests::township()),
            area: Area::Urban,
            stage,
            decided_on: Some(date!(2026 - 03 - 18)),
            verified: Some((figures(2, total_yuan), date!(2026 - 03 - 05))),
            members: vec![referral::tests::member(ordinal)],
        }
    }

    #[test]
    fn rejections_just_above_the_line_use_the_standards_of_the_decision_day() {
        let policy = benxi();
        let rejected = facts(1, Stage::Rejected, 1500);
        assert_eq!(
            reason_for(&rejected, &policy, TODAY, Thresholds::default()),
            Some((Reason::JustAboveLine, date!(2026 - 03 - 18)))
        );
        // Rural: 450 元 a month, so 1 500 元 for two is above 1.5 × the line (1 350 元).
        let rural = CaseFacts {
            area: Area::Rural,
            ..rejected.clone()
        };
        assert_eq!(
            reason_for(&rural, &policy, TODAY, Thresholds::default()),
            None
        );
        // A county's k of 2.0 from March widens the band to 2 660 元.
        let k2 = policy.clone().apply(&policy::tests::recorded(
            7,
            policy::Standard::LowIncomeMultiplier(LowIncomeMultiplier { permille: 2000 }),
            date!(2026 - 03 - 01),
            date!(2026 - 02 - 20),
        ));
        let higher = facts(1, Stage::Rejected, 2600);
        assert_eq!(
            reason_for(&higher, &policy, TODAY, Thresholds::default()),
            None
        );
        assert!(reason_for(&higher, &k2, TODAY, Thresholds::default()).is_some());
        // Before any standard the decision day has none: nothing to compare with.
        let early = CaseFacts {
            decided_on: Some(date!(2020 - 12 - 01)),
            ..rejected
        };
        assert_eq!(
            reason_for(&early, &policy, TODAY, Thresholds::default()),
            None
        );
    }

    #[test]
    fn households_in_assistance_near_the_line_are_listed_from_their_verification() {
        let policy = benxi();
        let near = facts(2, Stage::Active, 1250);
        assert_eq!(
            reason_for(&near, &policy, TODAY, Thresholds::default()),
            Some((Reason::NearLine, date!(2026 - 03 - 05)))
        );
        let far_below = facts(3, Stage::Active, 600);
        assert_eq!(
            reason_for(&far_below, &policy, TODAY, Thresholds::default()),
            None
        );
        let wider = Thresholds {
            near_line_percent: 60,
            ..Thresholds::default()
        };
        assert!(reason_for(&far_below, &policy, TODAY, wider).is_some());
        // A case still in its steps is not listed, whatever its income.
        let pending = facts(4, Stage::InNotice, 1250);
        assert_eq!(
            reason_for(&pending, &policy, TODAY, Thresholds::default()),
            None
        );
    }

    #[test]
    fn open_alerts_are_listed_with_a_case_covering_a_member_they_name() {
        let policy = benxi();
        let recorded = referral::tests::recorded();
        let open = Referral::default().apply(&recorded);
        let done = open.clone().apply(&referral::tests::acted(
            Outcome::CouldNotReach,
            date!(2026 - 03 - 06),
        ));
        // Member 0 is covered by case 2 (in force) and named by case 4 (still pending).
        let cases = [
            facts(2, Stage::Active, 1250),
            facts(4, Stage::InNotice, 1250),
        ];
        let cases = [
            cases[0].clone(),
            CaseFacts {
                members: vec![referral::tests::member(0)],
                ..cases[1].clone()
            },
        ];
        let listed = list(
            &cases,
            [&open, &done],
            &policy,
            TODAY,
            Thresholds::default(),
        );
        let reasons: Vec<(Reason, Option<String>, Option<String>)> = listed
            .iter()
            .map(|l| {
                (
                    l.reason,
                    l.case_id.map(|c| c.to_string()),
                    l.alert_id.as_ref().map(ToString::to_string),
                )
            })
            .collect();
        assert_eq!(
            reasons,
            [
                (
                    Reason::NearLine,
                    Some("210502-DB-2026-000002".to_owned()),
                    None
                ),
                (
                    Reason::OpenAlert,
                    Some("210502-DB-2026-000002".to_owned()),
                    Some("AL-2026-000042".to_owned())
                ),
            ]
        );
        assert_eq!(listed[1].since, referral::tests::RAISED);
    }
}
