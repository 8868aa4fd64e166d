//! The in-memory read model of the service's own events, kept by a
//! [`minzheng_kit::live::LiveView`]: every institution, service point, population figure and
//! subsidy policy folded by its own aggregate (a few hundred of each in a city), and of each
//! elderly person only their visit plan's dates and township — what the overdue lists, the
//! escalation sweep and the indicators read. Persons' other records are read from their streams.
//!
//! Everything can be read as of a day: the aggregates keep their dated history, and a plan keeps
//! its visits' days.

use std::collections::{BTreeMap, HashMap};

use minzheng_eventstore::RecordedEvent;
use minzheng_kit::{aggregate::Aggregate, live::LiveProjection};
use minzheng_types::RegionCode;
use time::Date;

use crate::{
    codec::{OwnStore, Recorded},
    elder,
    ids::{ElderId, InstitutionId, ServicePointId},
    institution::Institution,
    population::Population,
    service_point::ServicePoint,
    subsidy::SubsidyPolicy,
};

/// A person's visit plan as the lists and indicators need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDates {
    pub township: RegionCode,
    pub interval_days: u16,
    pub opened_on: Date,
    pub visits: Vec<Date>,
    pub escalated: Vec<Date>,
    pub closed_on: Option<Date>,
}

impl PlanDates {
    /// Whether the plan is open on `day`.
    pub fn open_on(&self, day: Date) -> bool {
        self.opened_on <= day && self.closed_on.is_none_or(|closed| day < closed)
    }

    /// The visit due on `day`, from the visits made before or on it.
    pub fn due_on(&self, day: Date) -> Date {
        let last = self
            .visits
            .iter()
            .rev()
            .find(|v| **v <= day)
            .copied()
            .unwrap_or(self.opened_on);
        elder::due_after(last, self.interval_days)
    }

    /// The visit overdue on `day`: its due day and the days since.
    pub fn overdue_on(&self, day: Date) -> Option<(Date, u32)> {
        if !self.open_on(day) {
            return None;
        }
        let due = self.due_on(day);
        elder::days_overdue(due, day).map(|days| (due, days))
    }
}

/// See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct Overview {
    institutions: BTreeMap<InstitutionId, Institution>,
    service_points: BTreeMap<ServicePointId, ServicePoint>,
    populations: BTreeMap<RegionCode, Population>,
    policies: BTreeMap<RegionCode, SubsidyPolicy>,
    plans: HashMap<ElderId, PlanDates>,
}

/// An overdue visit on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub elder: ElderId,
    pub township: RegionCode,
    pub due_on: Date,
    pub days: u32,
    pub escalated: bool,
}

impl Overview {
    pub fn institutions(&self) -> &BTreeMap<InstitutionId, Institution> {
        &self.institutions
    }

    pub fn service_points(&self) -> &BTreeMap<ServicePointId, ServicePoint> {
        &self.service_points
    }

    pub fn populations(&self) -> &BTreeMap<RegionCode, Population> {
        &self.populations
    }

    /// The city with subsidy standards, when exactly one has them.
    pub fn only_policy_city(&self) -> Option<RegionCode> {
        let mut cities = self
            .policies
            .iter()
            .filter(|(_, p)| !p.versions().is_empty())
            .map(|(city, _)| *city);
        match (cities.next(), cities.next()) {
            (Some(city), None) => Some(city),
            _ => None,
        }
    }

    pub fn plans(&self) -> &HashMap<ElderId, PlanDates> {
        &self.plans
    }

    /// The highest institution ordinal `county` has issued.
    pub fn last_institution_ordinal(&self, county: RegionCode) -> u16 {
        self.institutions
            .keys()
            .filter(|id| id.county() == county)
            .map(InstitutionId::ordinal)
            .max()
            .unwrap_or(0)
    }

    /// The highest service-point ordinal `county` has issued.
    pub fn last_service_point_ordinal(&self, county: RegionCode) -> u16 {
        self.service_points
            .keys()
            .filter(|id| id.county() == county)
            .map(ServicePointId::ordinal)
            .max()
            .unwrap_or(0)
    }

    /// The visits overdue on `day` under `region` (a plan's township within it), oldest due
    /// first; escalated when overdue more than `escalate_after` days.
    pub fn overdue(&self, region: RegionCode, day: Date, escalate_after: u32) -> Vec<Overdue> {
        let mut overdue: Vec<Overdue> = self
            .plans
            .iter()
            .filter(|(_, plan)| region.contains(plan.township))
            .filter_map(|(elder, plan)| {
                let (due_on, days) = plan.overdue_on(day)?;
                Some(Overdue {
                    elder: elder.clone(),
                    township: plan.township,
                    due_on,
                    days,
                    escalated: days > escalate_after,
                })
            })
            .collect();
        overdue.sort_by(|a, b| (a.due_on, &a.elder).cmp(&(b.due_on, &b.elder)));
        overdue
    }

    /// The plans overdue now by more than `escalate_after` days whose due day was not
    /// escalated yet: what the sweep escalates.
    /// Each with the county it goes to: its township's.
    pub fn to_escalate(
        &self,
        today: Date,
        escalate_after: u32,
    ) -> Vec<(ElderId, Date, RegionCode)> {
        self.plans
            .iter()
            .filter_map(|(elder, plan)| {
                let (due, days) = plan.overdue_on(today)?;
                let county = plan.township.county()?;
                (days > escalate_after && !plan.escalated.contains(&due))
                    .then(|| (elder.clone(), due, county))
            })
            .collect()
    }

    fn apply_elder(&mut self, event: &elder::Event) {
        use elder::Event as E;
        match event {
            E::VisitPlanOpened(e) => {
                self.plans.insert(
                    e.elder.clone(),
                    PlanDates {
                        township: e.township,
                        interval_days: e.interval_days,
                        opened_on: e.on,
                        visits: Vec::new(),
                        escalated: Vec::new(),
                        closed_on: None,
                    },
                );
            }
            E::VisitRecorded(e) => {
                if let Some(plan) = self.plans.get_mut(&e.elder) {
                    plan.visits.push(e.visit.on);
                }
            }
            E::VisitEscalated(e) => {
                if let Some(plan) = self.plans.get_mut(&e.elder) {
                    plan.escalated.push(e.due_on);
                }
            }
            E::VisitPlanClosed(e) => {
                if let Some(plan) = self.plans.get_mut(&e.elder) {
                    plan.closed_on = Some(e.on);
                }
            }
            E::AssessmentRecorded(_)
            | E::PlacementStarted(_)
            | E::PlacementEnded(_)
            | E::LowIncomeStatusChanged(_)
            | E::DeathNoted(_) => {}
        }
    }
}

/// Folds `event` into the aggregate `key` names in `map`.
fn fold<K: Ord, A: Aggregate>(map: &mut BTreeMap<K, A>, key: K, event: &A::Event) {
    let state = map.remove(&key).unwrap_or_default();
    map.insert(key, state.apply(event));
}

impl LiveProjection for Overview {
    type Contract = OwnStore;

    fn apply(&mut self, event: Recorded, recorded: &RecordedEvent) -> anyhow::Result<()> {
        let key = recorded.stream.key();
        match event {
            Recorded::Institution(e) => {
                fold(&mut self.institutions, InstitutionId::parse(key)?, &e);
            }
            Recorded::ServicePoint(e) => {
                fold(&mut self.service_points, ServicePointId::parse(key)?, &e);
            }
            Recorded::Population(e) => {
                fold(&mut self.populations, RegionCode::parse(key)?, &e);
            }
            Recorded::SubsidyPolicy(e) => {
                fold(&mut self.policies, RegionCode::parse(key)?, &e);
            }
            Recorded::Elder(e) => self.apply_elder(&e),
        }
        Ok(())
    }
}
