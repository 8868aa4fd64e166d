//! The plan's indicators on a day, city-wide and per county, from the read model and the
//! place-names divisions: child-director and child-supervisor coverage over the divisions in
//! force that day, following adjustments ([`crate::coverage`]; 村（居）儿童主任覆盖率, 95% in 2020,
//! 100% by 2025), allowance coverage of the children covered (paid this month per covered
//! child), open protection cases and their overdue steps, and the allowance standard's growth
//! (the versions accepted below 6% a year).
//!
//! A child or a case counts under the county its division belongs to on the day.

use std::{collections::BTreeMap, sync::Arc};

use minzheng_eventstore::Cursor;
use minzheng_host::divisions::{self, KnownDivisions};
use minzheng_kit::{Error, aggregate::RunError};
use minzheng_types::{Fen, RegionCode};
use time::Date;

use super::ChildWelfare;
use crate::{
    allowance::{AllowancePolicy, Standard},
    coverage::{self, Tally},
};

/// The indicators of one region on a day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Indicators {
    pub directors: Tally,
    pub supervisors: Tally,
    pub children_covered: u32,
    pub children_paid: u32,
    pub open_cases: u32,
    pub overdue_steps: u32,
    pub overdue_escalated: u32,
}

impl Indicators {
    /// Paid children per thousand covered ones; 1000 when none is covered.
    pub fn allowance_coverage_permille(&self) -> u32 {
        if self.children_covered == 0 {
            return 1000;
        }
        u32::try_from(u64::from(self.children_paid) * 1000 / u64::from(self.children_covered))
            .unwrap_or(u32::MAX)
    }

    fn add_cases_and_children(&mut self, other: &Indicators) {
        self.children_covered += other.children_covered;
        self.children_paid += other.children_paid;
        self.open_cases += other.open_cases;
        self.overdue_steps += other.overdue_steps;
        self.overdue_escalated += other.overdue_escalated;
    }
}

/// Per thousand, from basis points (rounded down); 0 when nothing is required.
pub fn permille(bp: Option<u32>) -> u32 {
    bp.map_or(0, |bp| bp / 10)
}

/// The indicators on a day: per county, and the city's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub day: Date,
    pub city: Indicators,
    pub counties: BTreeMap<RegionCode, Indicators>,
    /// The city's standards, when one city has them.
    pub policy: Option<AllowancePolicy>,
    /// The version in force on the day.
    pub in_force: Option<Standard>,
    /// The versions below the growth target.
    pub below_target: Vec<Standard>,
}

/// A report with what it was computed from.
#[derive(Debug)]
pub(crate) struct Cached {
    day: Date,
    applied: Cursor,
    divisions: KnownDivisions,
    report: Report,
}

impl ChildWelfare {
    /// The indicators on `day`: computed once per day, state of the read model and of the
    /// divisions, then answered from memory until one of them moves.
    pub async fn indicators(&self, day: Date) -> Result<Report, Error> {
        let known = self.divisions.known().await.map_err(RunError::from)?;
        let applied = self.view.applied();
        if let Some(cached) = self
            .indicators
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .filter(|c| c.day == day && c.applied == applied && Arc::ptr_eq(&c.divisions, &known))
        {
            return Ok(cached.report.clone());
        }
        let report = self.compute_indicators(day, &known).await;
        *self
            .indicators
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Cached {
            day,
            applied,
            divisions: known,
            report: report.clone(),
        });
        Ok(report)
    }

    async fn compute_indicators(&self, day: Date, known: &KnownDivisions) -> Report {
        let county_of = |division: RegionCode| {
            divisions::current(known, division, day)
                .county()
                .or_else(|| division.county())
        };
        let view = self.view.read().await;
        let in_force = divisions::in_force_on(known, day);
        let posts = coverage::coverage(day, &in_force, view.posts().values(), |code| {
            known.get(&code).and_then(|k| k.successor)
        });
        let mut counties: BTreeMap<RegionCode, Indicators> = BTreeMap::new();
        for (county, roles) in &posts.by_county {
            let entry = counties.entry(*county).or_default();
            entry.directors = roles.directors;
            entry.supervisors = roles.supervisors;
        }
        let policy = view.only_policy().map(|(_, p)| p.clone());
        let empty = AllowancePolicy::default();
        for child in view.children().values() {
            if !child.covered_on(day) {
                continue;
            }
            let Some(county) = child.division().and_then(county_of) else {
                continue;
            };
            let entry = counties.entry(county).or_default();
            entry.children_covered += 1;
            let paid = child
                .allowance(policy.as_ref().unwrap_or(&empty), day)
                .is_some_and(|line| line.amount > Fen::ZERO);
            entry.children_paid += u32::from(paid);
        }
        for case in view.cases().values() {
            // The case as it stood that day: a step recorded later was still awaited.
            let Some(case) = case.as_of(day) else {
                continue;
            };
            if case.closed().is_some() {
                continue;
            }
            let Some(county) = case.division().and_then(county_of) else {
                continue;
            };
            let entry = counties.entry(county).or_default();
            entry.open_cases += 1;
            if let Some((step, due, _)) = case.overdue_on(&self.deadlines, day) {
                entry.overdue_steps += 1;
                entry.overdue_escalated += u32::from(case.escalated().contains(&(step, due)));
            }
        }
        let mut city = Indicators {
            directors: posts.total.directors,
            supervisors: posts.total.supervisors,
            ..Indicators::default()
        };
        for indicators in counties.values() {
            city.add_cases_and_children(indicators);
        }
        let (in_force, below_target) = match &policy {
            Some(policy) => {
                let flagged = policy.growth_below_target();
                (
                    policy.in_force(day).cloned(),
                    policy
                        .versions()
                        .iter()
                        .filter(|s| flagged.contains(&s.version) && s.effective_from <= day)
                        .cloned()
                        .collect(),
                )
            }
            None => (None, Vec::new()),
        };
        Report {
            day,
            city,
            counties,
            policy,
            in_force,
            below_target,
        }
    }
}
