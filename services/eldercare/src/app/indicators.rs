//! The plan's indicators on a day, city-wide and per county, from the read model: the binding
//! nursing-type bed share (护理型床位占比, at least 55% by 2025), beds per 100 elderly, social
//! workers per 1,000 elderly and per 100 beds (DOMAIN.md: one per 1,000 elderly and per 100
//! beds), visit compliance, institutions by grade, home care beds and community centres.
//!
//! An institution or service point counts under the county its division belongs to on the day
//! (following adjustments); a visit plan under its township's county likewise.

use std::{collections::BTreeMap, sync::Arc};

use minzheng_eventstore::Cursor;
use minzheng_host::divisions::{self, KnownDivisions};
use minzheng_kit::{Error, aggregate::RunError};
use minzheng_types::RegionCode;
use time::Date;

use super::ElderCare;
use crate::{institution::MAX_GRADE, service_point::Kind};

/// The binding target: nursing-type beds per thousand institution beds.
pub const NURSING_SHARE_TARGET_PERMILLE: u32 = 550;

/// The indicators of one region on a day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Indicators {
    pub institutions: u32,
    pub general_beds: u32,
    pub nursing_beds: u32,
    pub residents: u32,
    pub elderly_population: u32,
    pub social_workers: u32,
    pub visit_plans: u32,
    pub visit_plans_on_time: u32,
    /// Index 0 ungraded, 1 to 5 the grades.
    pub by_grade: [u32; MAX_GRADE as usize + 1],
    pub home_care_beds: u32,
    pub urban_centres: u32,
    pub rural_centres: u32,
}

/// `numerator / denominator × scale`, rounded down; 0 for an empty denominator.
pub fn ratio(numerator: u32, denominator: u32, scale: u64) -> u32 {
    if denominator == 0 {
        return 0;
    }
    u32::try_from(u64::from(numerator) * scale / u64::from(denominator)).unwrap_or(u32::MAX)
}

impl Indicators {
    pub fn beds(&self) -> u32 {
        self.general_beds.saturating_add(self.nursing_beds)
    }

    pub fn nursing_share_permille(&self) -> u32 {
        ratio(self.nursing_beds, self.beds(), 1000)
    }

    pub fn nursing_share_target_met(&self) -> bool {
        self.beds() > 0 && self.nursing_share_permille() >= NURSING_SHARE_TARGET_PERMILLE
    }

    /// Beds per 100 elderly, in hundredths.
    pub fn beds_per_100_elderly_centi(&self) -> u32 {
        ratio(self.beds(), self.elderly_population, 100 * 100)
    }

    /// Social workers per 1,000 elderly, in hundredths.
    pub fn social_workers_per_1000_elderly_centi(&self) -> u32 {
        ratio(self.social_workers, self.elderly_population, 1000 * 100)
    }

    /// Social workers per 100 beds, in hundredths.
    pub fn social_workers_per_100_beds_centi(&self) -> u32 {
        ratio(self.social_workers, self.beds(), 100 * 100)
    }

    /// Open plans not overdue, per thousand; 1000 when there are none.
    pub fn visit_compliance_permille(&self) -> u32 {
        if self.visit_plans == 0 {
            1000
        } else {
            ratio(self.visit_plans_on_time, self.visit_plans, 1000)
        }
    }

    fn add(&mut self, other: &Indicators) {
        self.institutions += other.institutions;
        self.general_beds += other.general_beds;
        self.nursing_beds += other.nursing_beds;
        self.residents += other.residents;
        self.elderly_population += other.elderly_population;
        self.social_workers += other.social_workers;
        self.visit_plans += other.visit_plans;
        self.visit_plans_on_time += other.visit_plans_on_time;
        for (sum, n) in self.by_grade.iter_mut().zip(other.by_grade) {
            *sum += n;
        }
        self.home_care_beds += other.home_care_beds;
        self.urban_centres += other.urban_centres;
        self.rural_centres += other.rural_centres;
    }
}

/// The indicators on a day: per county, and their sum for the city.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub day: Date,
    pub city: Indicators,
    pub counties: BTreeMap<RegionCode, Indicators>,
}

/// A report with what it was computed from.
#[derive(Debug)]
pub(crate) struct Cached {
    day: Date,
    applied: Cursor,
    divisions: KnownDivisions,
    report: Report,
}

impl ElderCare {
    /// The indicators on `day`: computed once per day, state of the read model and of the
    /// divisions, then answered from memory until one of them moves.
    pub async fn indicators(&self, day: Date) -> Result<Report, Error> {
        let known = self.divisions.known().await.map_err(RunError::from)?;
        // Read before the state: a report keyed by an older position than it saw is only
        // computed again sooner.
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
        let county_of = |division: RegionCode, fallback: RegionCode| {
            divisions::current(known, division, day)
                .county()
                .unwrap_or(fallback)
        };
        let view = self.view.read().await;
        let mut counties: BTreeMap<RegionCode, Indicators> = BTreeMap::new();
        for institution in view.institutions().values() {
            let Some(profile) = institution.profile() else {
                continue;
            };
            if profile.registered_on > day {
                continue;
            }
            let county = counties
                .entry(county_of(profile.division, profile.county))
                .or_default();
            let beds = institution.beds_on(day);
            county.institutions += 1;
            county.general_beds += beds.general;
            county.nursing_beds += beds.nursing;
            county.residents += institution.occupied_on(day).total();
            county.social_workers += institution.social_workers_on(day);
            county.by_grade[usize::from(institution.grade_on(day).min(MAX_GRADE))] += 1;
        }
        for point in view.service_points().values() {
            let Some(opened) = point.opened() else {
                continue;
            };
            if !point.serves_on(day) {
                continue;
            }
            let county = counties
                .entry(county_of(opened.division, opened.county))
                .or_default();
            match opened.kind {
                Kind::HomeCareBeds => county.home_care_beds += point.capacity_on(day),
                Kind::UrbanCentre => county.urban_centres += 1,
                Kind::RuralCentre => county.rural_centres += 1,
            }
        }
        for (county, population) in view.populations() {
            if let Some(figure) = population.on(day) {
                counties
                    .entry(county_of(*county, *county))
                    .or_default()
                    .elderly_population += figure.persons;
            }
        }
        for plan in view.plans().values() {
            if !plan.open_on(day) {
                continue;
            }
            let Some(fallback) = plan.township.county() else {
                continue;
            };
            let county = counties
                .entry(county_of(plan.township, fallback))
                .or_default();
            county.visit_plans += 1;
            county.visit_plans_on_time += u32::from(plan.overdue_on(day).is_none());
        }
        let mut city = Indicators::default();
        for indicators in counties.values() {
            city.add(indicators);
        }
        Report {
            day,
            city,
            counties,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nursing_share_is_read_against_the_binding_target() {
        let baseline = Indicators {
            general_beds: 8367,
            nursing_beds: 3725,
            ..Indicators::default()
        };
        assert_eq!(baseline.nursing_share_permille(), 308);
        assert!(!baseline.nursing_share_target_met());
        let met = Indicators {
            general_beds: 45,
            nursing_beds: 55,
            ..Indicators::default()
        };
        assert_eq!(met.nursing_share_permille(), 550);
        assert!(met.nursing_share_target_met());
        assert!(!Indicators::default().nursing_share_target_met());
        assert_eq!(Indicators::default().visit_compliance_permille(), 1000);
    }
}
