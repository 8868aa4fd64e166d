//! The application layer: runs commands against the aggregates with today's date from the
//! service's [`Clock`], with the checks that need more than one stream, and appends the
//! decisions that span streams together, in one transaction ([`commit_together`]).
//!
//! An admission, a discharge, a transfer and a death each change an institution and a person
//! together: the institution's beds and the person's one placement can never disagree, and two
//! admissions racing for the last bed are decided one after the other on the institution's
//! version (the loser is decided again and refused `no_free_bed`). Such commands cannot store an
//! idempotency key (a key belongs to one stream); they are idempotent by their facts instead: a
//! repeated admission finds the person in that bed since that day and answers as the first.
//!
//! Submodules: [`institutions`] (institutions, residents, service points), [`elders`]
//! (assessments, subsidies, visits, deaths and low-income status from the other services),
//! [`indicators`].
//!
//! [`commit_together`]: minzheng_kit::aggregate::commit_together

/// The events `$state` decides for `$command`; a refusal ends the attempt, answering with it
/// (inside a `with_conflict_retries` closure, whose value is `Result<Result<_, Error>, _>`).
macro_rules! decide {
    ($state:expr, $command:expr) => {
        match $state.handle(&$command) {
            Ok(events) => events,
            Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
        }
    };
}

pub mod elders;
pub mod indicators;
pub mod institutions;

use std::{collections::HashMap, sync::Arc};

use minzheng_eventstore::SharedStore;
use minzheng_host::divisions::Divisions;
use minzheng_kit::{
    Error,
    aggregate::{Committed, DEFAULT_CONFLICT_RETRIES, Repository},
    clock::Clock,
    live::LiveView,
    pseudonym::Pseudonymizer,
};
use minzheng_types::{CitizenId, RegionCode};
use tokio::sync::Mutex;

use crate::{
    elder::Elder,
    ids::{ElderId, PERSON_DOMAIN},
    institution::Institution,
    overview::Overview,
    population::Population,
    service_point::ServicePoint,
    subsidy::SubsidyPolicy,
};

/// Persons' states a process keeps (assessments and visits are read back by every command).
const ELDERS_CACHED: usize = 16_384;

/// Institutions' states a process keeps (a city has a few hundred).
const INSTITUTIONS_CACHED: usize = 1_024;

/// Retries of a command that spans streams after a version conflict.
const CONFLICT_RETRIES: u32 = DEFAULT_CONFLICT_RETRIES;

/// The days a visit may be overdue before it is escalated to the county, by default.
pub const DEFAULT_ESCALATE_AFTER_DAYS: u32 = 7;

/// The elderly-care application; cheap to clone.
#[derive(Debug, Clone)]
pub struct ElderCare {
    store: SharedStore,
    institutions: Arc<Repository<Institution>>,
    service_points: Arc<Repository<ServicePoint>>,
    elders: Arc<Repository<Elder>>,
    policies: Arc<Repository<SubsidyPolicy>>,
    populations: Arc<Repository<Population>>,
    pseudonyms: Pseudonymizer,
    clock: Arc<dyn Clock>,
    view: LiveView<Overview>,
    divisions: Divisions,
    /// The ordinals this process issued, per kind of id and county.
    ordinals: Arc<Mutex<HashMap<(&'static str, RegionCode), u16>>>,
    escalate_after_days: u32,
    /// The last indicators computed, for the day, read-model position and divisions they were
    /// computed from: a dashboard polling them costs nothing until something changes.
    indicators: Arc<std::sync::Mutex<Option<indicators::Cached>>>,
}

impl ElderCare {
    pub fn new(
        store: SharedStore,
        pseudonyms: Pseudonymizer,
        clock: Arc<dyn Clock>,
        divisions: Divisions,
    ) -> Self {
        Self {
            // An institution is read by every admission and discharge and grows by one event
            // each: cached states make each read the new events only.
            institutions: Arc::new(Repository::new(store.clone()).with_cache(INSTITUTIONS_CACHED)),
            service_points: Arc::new(Repository::new(store.clone())),
            elders: Arc::new(Repository::new(store.clone()).with_cache(ELDERS_CACHED)),
            policies: Arc::new(Repository::new(store.clone())),
            populations: Arc::new(Repository::new(store.clone())),
            view: LiveView::new(store.clone(), Overview::default()),
            store,
            pseudonyms,
            clock,
            divisions,
            ordinals: Arc::default(),
            escalate_after_days: DEFAULT_ESCALATE_AFTER_DAYS,
            indicators: Arc::default(),
        }
    }

    /// Escalates a visit to the county once it is overdue more than `days` days.
    pub fn with_escalation_after(mut self, days: u32) -> Self {
        self.escalate_after_days = days;
        self
    }

    pub fn escalate_after_days(&self) -> u32 {
        self.escalate_after_days
    }

    /// The read model of the service's own events.
    pub fn view(&self) -> &LiveView<Overview> {
        &self.view
    }

    pub fn divisions(&self) -> &Divisions {
        &self.divisions
    }

    pub fn today(&self) -> time::Date {
        self.clock.today()
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// The key of a citizen's `elder-` stream.
    pub fn elder_id(&self, citizen: &CitizenId) -> ElderId {
        ElderId::parse(&self.pseudonyms.of(PERSON_DOMAIN, citizen))
            .unwrap_or_else(|_| unreachable!("a pseudonym is always 32 lowercase hex digits"))
    }

    /// Makes the view see a command's events at once.
    fn written(&self, committed: &[Committed]) {
        if committed.iter().any(|c| c.position > 0) {
            self.view.nudge();
        }
    }

    /// A date given for a fact: not after today.
    fn not_future(&self, field: &str, day: time::Date) -> Result<(), Error> {
        if day > self.today() {
            return Err(Error::invalid_field(
                field,
                format!("must not be after today ({})", self.today()),
            ));
        }
        Ok(())
    }
}

/// The last of several commits, for the `CommandResult` of a command that spans streams.
fn last(committed: Vec<Committed>) -> Option<Committed> {
    committed.into_iter().max_by_key(|c| c.position)
}
