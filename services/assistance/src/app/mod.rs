//! The application layer: commands with today's date (a [`Clock`]), the checks that need more
//! than one stream or another service's data (routing through the divisions, the case in force
//! behind a heating application, the standards and the calendar), and the reads.
//!
//! - [`submit`]: receiving an application (一门受理): routing, ids, the household's rules;
//! - [`steps`]: the steps of a case after it (review, notice, objections, decision);
//! - [`deadlines`]: each step's deadline in working days, and the overdue list;
//! - [`temporary`]: temporary assistance at the window: the reserve fund, payment at once;
//! - [`standards`]: recording standards (and re-computing the benefits they change), calendars;
//! - [`payments`]: the monthly payment cycles;
//! - [`monitoring`]: referrals from household alerts, the monitoring list, the indicators.

pub mod deadlines;
pub mod dynamic;
pub mod monitoring;
pub mod payments;
pub mod reviews;
pub mod standards;
pub mod steps;
pub mod submit;
pub mod temporary;

use std::{sync::Arc, time::Duration};

use minzheng_eventstore::SharedStore;
use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed, Repository},
    clock::Clock,
    live::LiveView,
    pseudonym::Pseudonymizer,
};
use minzheng_types::{CitizenId, RegionCode};
use time::Date;
use tokio::sync::Mutex;

use crate::{
    benefit::Calculation,
    case::{self, Case, Stage},
    ids::CaseId,
    projections::divisions::Divisions,
    projections::overview::Overview,
};

pub use deadlines::{Deadlines, Pending};

/// The pseudonym domain of persons (the audit names them so, never by number).
const PERSON_DOMAIN: &str = "person";

/// Cases kept loaded by the repository.
const CASES_CACHED: usize = 16_384;
/// Payment cycles kept loaded: a county's cycle of 100,000 lines is read after each step, and
/// generating a cycle reads the county's earlier ones (three years of Benxi's seven counties
/// and the city fit).
const CYCLES_CACHED: usize = 320;

/// The assistance service's application layer; cheap to clone.
#[derive(Debug, Clone)]
pub struct Assistance {
    store: SharedStore,
    cases: Arc<Repository<Case>>,
    funds: Arc<Repository<crate::fund::ReserveFund>>,
    policies: Arc<Repository<crate::policy::Policy>>,
    calendars: Arc<Repository<crate::calendar::HolidayCalendar>>,
    cycles: Arc<Repository<crate::cycle::PaymentCycle>>,
    ledgers: Arc<Repository<crate::ledger::PaymentLedger>>,
    clock: Arc<dyn Clock>,
    view: LiveView<Overview>,
    divisions: Divisions,
    deadlines: Deadlines,
    pseudonyms: Pseudonymizer,
    /// The last case ordinal this process issued per county, category and year (the view may
    /// lag behind the appends of this process).
    ordinals: Arc<Mutex<std::collections::HashMap<submit::OrdinalKey, u32>>>,
}

impl Assistance {
    pub fn new(
        store: SharedStore,
        divisions: Divisions,
        clock: Arc<dyn Clock>,
        deadlines: Deadlines,
        pseudonyms: Pseudonymizer,
    ) -> Self {
        Self {
            cases: Arc::new(Repository::new(store.clone()).with_cache(CASES_CACHED)),
            funds: Arc::new(Repository::new(store.clone())),
            policies: Arc::new(Repository::new(store.clone())),
            calendars: Arc::new(Repository::new(store.clone())),
            cycles: Arc::new(Repository::new(store.clone()).with_cache(CYCLES_CACHED)),
            ledgers: Arc::new(Repository::new(store.clone())),
            view: LiveView::new(store.clone(), Overview::default()),
            store,
            clock,
            divisions,
            deadlines,
            pseudonyms,
            ordinals: Arc::default(),
        }
    }

    /// The read model of the service's own events.
    pub fn view(&self) -> &LiveView<Overview> {
        &self.view
    }

    /// The divisions applications are routed through.
    pub fn divisions(&self) -> &Divisions {
        &self.divisions
    }

    /// Today in China Standard Time.
    pub fn today(&self) -> Date {
        self.clock.today()
    }

    /// Runs `command` on case `id`; NOT_FOUND when there is no such case.
    pub async fn run_case(
        &self,
        id: &CaseId,
        command: case::Command,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let committed = self.cases.run(id, &command, context).await?;
        self.view.nudge();
        Ok(committed)
    }

    /// The view once it has applied `min_position` (read-your-writes), waiting at most `wait`.
    pub async fn caught_up(&self, min_position: u64, wait: Duration) -> Result<(), Error> {
        if min_position > 0 {
            self.view.wait_for(min_position, wait).await?;
        }
        Ok(())
    }

    /// A case as the view holds it, with its stream version; NOT_FOUND when unknown.
    pub async fn case(&self, id: &CaseId) -> Result<(Case, u64), Error> {
        let view = self.view.read().await;
        view.case(id)
            .map(|(case, version)| (case.clone(), version))
            .ok_or_else(|| Error::NotFound(format!("no case {id}")))
    }
}

/// One overdue step of a county.
#[derive(Debug, Clone)]
pub struct Overdue {
    pub case_id: CaseId,
    pub case: Case,
    pub pending: Pending,
    pub working_days: u32,
}

/// What a month of a case pays, and why.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub amount: minzheng_types::Fen,
    pub calculation: Option<Calculation>,
    pub status: String,
}

impl Assistance {
    /// Case `id` as stored (not as the view has it yet).
    pub async fn stored_case(&self, id: &CaseId) -> Result<Case, Error> {
        Ok(self.cases.load(id).await?.state)
    }

    /// The first day after the notice of case `id`, as stored (not as the view has it yet).
    pub async fn notice_ends(&self, id: &CaseId) -> Option<time::Date> {
        let loaded = self.cases.load(id).await.ok()?;
        loaded.state.notice.map(|(_, ends)| ends)
    }

    /// How many objections case `id` has recorded, as stored.
    pub async fn objections(&self, id: &CaseId) -> u32 {
        self.cases.load(id).await.map_or(0, |loaded| {
            u32::try_from(loaded.state.objections.len()).unwrap_or(u32::MAX)
        })
    }

    /// A person's pseudonym, for the audit.
    pub fn pseudonym(&self, citizen: &CitizenId) -> String {
        self.pseudonyms.of(PERSON_DOMAIN, citizen)
    }

    /// The step `case` waits for, as of the calendar loaded now.
    pub async fn pending(&self, case: &Case) -> Option<Pending> {
        let view = self.view.read().await;
        self.deadlines.pending(case, view.working_calendar())
    }

    /// The cases of `county` (only `township`'s when given, only at `stage` when given), by id,
    /// each with the step it waits for.
    pub async fn list(
        &self,
        county: RegionCode,
        township: Option<RegionCode>,
        stage: Option<Stage>,
    ) -> Vec<(CaseId, Case, Option<Pending>)> {
        let view = self.view.read().await;
        view.cases_of(county)
            .into_iter()
            .filter(|(_, case)| township.is_none_or(|t| case.division == Some(t)))
            .filter(|(_, case)| stage.is_none_or(|s| case.stage == s))
            .map(|(id, case)| {
                let pending = self.deadlines.pending(case, view.working_calendar());
                (*id, case.clone(), pending)
            })
            .collect()
    }

    /// The steps of `county` past their deadline today, the longest overdue first, and whether
    /// the calendar of every year concerned is loaded.
    pub async fn overdue(&self, county: RegionCode) -> (Vec<Overdue>, bool) {
        let today = self.today();
        let view = self.view.read().await;
        let calendar = view.working_calendar();
        let mut complete = calendar.is_loaded(crate::ids::CalendarYear(today.year()));
        let mut overdue: Vec<Overdue> = view
            .cases_of(county)
            .into_iter()
            .filter_map(|(id, case)| {
                let pending = self.deadlines.pending(case, calendar)?;
                (pending.due_on < today).then(|| {
                    complete &= calendar.is_loaded(crate::ids::CalendarYear(pending.due_on.year()));
                    Overdue {
                        case_id: *id,
                        case: case.clone(),
                        pending,
                        working_days: calendar.working_days_between(pending.due_on, today),
                    }
                })
            })
            .collect();
        overdue.sort_by(|a, b| {
            a.pending
                .due_on
                .cmp(&b.pending.due_on)
                .then(a.case_id.cmp(&b.case_id))
        });
        (overdue, complete)
    }

    /// What `case` pays for the month containing `day`, and why.
    pub fn explain(case: &Case, day: time::Date) -> Explanation {
        let month = crate::ids::first_of_month(day);
        let none = |status: String| Explanation {
            amount: minzheng_types::Fen::ZERO,
            calculation: None,
            status,
        };
        if let Some(one_off) = &case.one_off {
            return Explanation {
                amount: one_off.monthly_amount,
                calculation: Some(one_off.clone()),
                status: "paid once".to_owned(),
            };
        }
        let Some(first) = case.amounts.first() else {
            return none(match case.stage {
                Stage::Rejected => "rejected".to_owned(),
                _ => "not decided".to_owned(),
            });
        };
        if month < first.from {
            return none(format!("before the benefit started on {}", first.from));
        }
        if case.ends_on.is_some_and(|end| month >= end) {
            return none(format!(
                "ended from {}",
                case.ends_on.map(|d| d.to_string()).unwrap_or_default()
            ));
        }
        if case.suspended_on(month) {
            return none("suspended".to_owned());
        }
        match case.calculation_on(month) {
            Some(in_force) => Explanation {
                amount: in_force.amount,
                calculation: Some(in_force.calculation.clone()),
                status: format!("in force from {}", in_force.from),
            },
            None => none("not decided".to_owned()),
        }
    }
}
