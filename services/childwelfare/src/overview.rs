//! The in-memory read model of the service's own events, kept by a
//! [`minzheng_kit::live::LiveView`]: every allowance policy, child's record, protection case and
//! post folded by its own aggregate — what the case lists, the escalation sweep, the post lists
//! and the indicators read. A city has tens of thousands of children and cases at most, a few
//! hundred posts.
//!
//! Cases are also kept in the order of their report day, newest first, with the open ones
//! apart, so a list of the open cases of a region walks only those.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, HashMap},
};

use minzheng_eventstore::RecordedEvent;
use minzheng_kit::{aggregate::Aggregate, live::LiveProjection};
use minzheng_types::RegionCode;
use time::Date;

use crate::{
    allowance::AllowancePolicy,
    child::ChildRecord,
    codec::{OwnStore, Recorded},
    ids::{CaseId, ChildId},
    post::Post,
    protection::{Deadlines, ProtectionCase, Step},
};

/// A case's place in the lists: newest report first, then by id.
type CaseOrder = (Reverse<Date>, CaseId);

/// See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct Overview {
    policies: BTreeMap<RegionCode, AllowancePolicy>,
    children: HashMap<ChildId, ChildRecord>,
    cases: HashMap<CaseId, ProtectionCase>,
    all_cases: BTreeSet<CaseOrder>,
    open_cases: BTreeSet<CaseOrder>,
    posts: BTreeMap<RegionCode, Post>,
}

/// A case in a list, with its deadline on the day asked about.
#[derive(Debug, Clone, Copy)]
pub struct Listed<'a> {
    pub id: &'a CaseId,
    pub case: &'a ProtectionCase,
    /// The step awaited and its due day.
    pub due: Option<(Step, Date)>,
    /// Days overdue on the day, 0 when not.
    pub days_overdue: u32,
    /// Whether the overdue step was escalated.
    pub escalated: bool,
}

/// What a case list asks.
#[derive(Debug, Clone, Copy)]
pub struct CaseFilter {
    /// Cases whose division lies within it; all when `None`.
    pub region: Option<RegionCode>,
    /// Cases at this step; the open ones when `None`.
    pub step: Option<Step>,
    pub overdue_only: bool,
    pub day: Date,
}

impl Overview {
    pub fn policy(&self, city: RegionCode) -> Option<&AllowancePolicy> {
        self.policies.get(&city)
    }

    /// The city with allowance standards, when exactly one has them.
    pub fn only_policy(&self) -> Option<(RegionCode, &AllowancePolicy)> {
        let mut with = self
            .policies
            .iter()
            .filter(|(_, p)| !p.versions().is_empty());
        match (with.next(), with.next()) {
            (Some((city, policy)), None) => Some((*city, policy)),
            _ => None,
        }
    }

    pub fn children(&self) -> &HashMap<ChildId, ChildRecord> {
        &self.children
    }

    pub fn case(&self, id: &CaseId) -> Option<&ProtectionCase> {
        self.cases.get(id)
    }

    pub fn cases(&self) -> &HashMap<CaseId, ProtectionCase> {
        &self.cases
    }

    pub fn posts(&self) -> &BTreeMap<RegionCode, Post> {
        &self.posts
    }

    /// The cases `filter` asks for, newest report first.
    pub fn list_cases<'a>(
        &'a self,
        filter: CaseFilter,
        deadlines: &'a Deadlines,
    ) -> impl Iterator<Item = Listed<'a>> + 'a {
        let order = match filter.step {
            Some(Step::Closed) => &self.all_cases,
            _ => &self.open_cases,
        };
        order.iter().filter_map(move |(_, id)| {
            let case = self.cases.get(id)?;
            if let Some(region) = filter.region
                && !case.division().is_some_and(|d| region.contains(d))
            {
                return None;
            }
            if filter.step.is_some_and(|step| case.step() != Some(step)) {
                return None;
            }
            let due = case.due(deadlines);
            let overdue = case.overdue_on(deadlines, filter.day);
            if filter.overdue_only && overdue.is_none() {
                return None;
            }
            let escalated =
                overdue.is_some_and(|(step, due_on, _)| case.escalated().contains(&(step, due_on)));
            Some(Listed {
                id,
                case,
                due,
                days_overdue: overdue.map_or(0, |(_, _, days)| days),
                escalated,
            })
        })
    }

    /// The open cases with a step overdue on `today` not yet escalated for its due day: what
    /// the sweep escalates, each with the step, its due day and the county it goes to.
    pub fn to_escalate(
        &self,
        today: Date,
        deadlines: &Deadlines,
    ) -> Vec<(CaseId, Step, Date, RegionCode)> {
        self.open_cases
            .iter()
            .filter_map(|(_, id)| {
                let case = self.cases.get(id)?;
                let (step, due, _) = case.overdue_on(deadlines, today)?;
                let county = case.division()?.county()?;
                (!case.escalated().contains(&(step, due))).then(|| (id.clone(), step, due, county))
            })
            .collect()
    }

    fn apply_case(&mut self, id: CaseId, event: &<ProtectionCase as Aggregate>::Event) {
        let case = self.cases.remove(&id).unwrap_or_default().apply(event);
        if let Some(reported) = case.reported_on() {
            let order = (Reverse(reported), id.clone());
            self.all_cases.insert(order.clone());
            if case.step() == Some(Step::Closed) {
                self.open_cases.remove(&order);
            } else {
                self.open_cases.insert(order);
            }
        }
        self.cases.insert(id, case);
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
            Recorded::Policy(e) => fold(&mut self.policies, RegionCode::parse(key)?, &e),
            Recorded::Post(e) => fold(&mut self.posts, RegionCode::parse(key)?, &e),
            Recorded::Child(e) => {
                let id = ChildId::parse(key)?;
                let state = self.children.remove(&id).unwrap_or_default().apply(&e);
                self.children.insert(id, state);
            }
            Recorded::Case(e) => self.apply_case(CaseId::parse(key)?, &e),
        }
        Ok(())
    }
}
