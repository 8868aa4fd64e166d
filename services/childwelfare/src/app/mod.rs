//! The application layer: runs commands against the aggregates with today's date from the
//! service's [`Clock`], seals reporters before a case is decided, and keeps the read model
//! ([`Overview`]) the lists, the escalation sweep and the indicators read.
//!
//! Submodules: [`children`] (allowance standards, children's records, adoptions, deaths),
//! [`cases`] (protection cases, their reporters and the escalation sweep), [`posts`] (child
//! directors and supervisors), [`indicators`].

pub mod cases;
pub mod children;
pub mod indicators;
pub mod posts;

use std::sync::Arc;

use minzheng_eventstore::SharedStore;
use minzheng_host::divisions::Divisions;
use minzheng_kit::{
    Error, aggregate::Committed, aggregate::Repository, clock::Clock, live::LiveView,
    pseudonym::Pseudonymizer,
};
use minzheng_types::CitizenId;
use time::Date;

use crate::{
    allowance::AllowancePolicy,
    child::ChildRecord,
    ids::{ChildId, PERSON_DOMAIN},
    overview::Overview,
    post::Post,
    protection::{Deadlines, ProtectionCase},
    sealing::ReporterSealer,
};

/// Children's states a process keeps (each command reads the child's record back).
const CHILDREN_CACHED: usize = 16_384;
/// Cases' states a process keeps.
const CASES_CACHED: usize = 16_384;

/// The child-welfare application; cheap to clone.
#[derive(Debug, Clone)]
pub struct ChildWelfare {
    store: SharedStore,
    policies: Arc<Repository<AllowancePolicy>>,
    children: Arc<Repository<ChildRecord>>,
    cases: Arc<Repository<ProtectionCase>>,
    posts: Arc<Repository<Post>>,
    pseudonyms: Pseudonymizer,
    sealer: ReporterSealer,
    clock: Arc<dyn Clock>,
    view: LiveView<Overview>,
    divisions: Divisions,
    deadlines: Deadlines,
    /// The last indicators computed, for the day, read-model position and divisions they were
    /// computed from.
    indicators: Arc<std::sync::Mutex<Option<indicators::Cached>>>,
}

impl ChildWelfare {
    pub fn new(
        store: SharedStore,
        pseudonyms: Pseudonymizer,
        sealer: ReporterSealer,
        clock: Arc<dyn Clock>,
        divisions: Divisions,
    ) -> Self {
        Self {
            policies: Arc::new(Repository::new(store.clone())),
            children: Arc::new(Repository::new(store.clone()).with_cache(CHILDREN_CACHED)),
            cases: Arc::new(Repository::new(store.clone()).with_cache(CASES_CACHED)),
            posts: Arc::new(Repository::new(store.clone())),
            view: LiveView::new(store.clone(), Overview::default()),
            store,
            pseudonyms,
            sealer,
            clock,
            divisions,
            deadlines: Deadlines::default(),
            indicators: Arc::default(),
        }
    }

    /// Uses `deadlines` for the protection steps instead of the defaults.
    pub fn with_deadlines(mut self, deadlines: Deadlines) -> Self {
        self.deadlines = deadlines;
        self
    }

    pub fn deadlines(&self) -> &Deadlines {
        &self.deadlines
    }

    /// The read model of the service's own events.
    pub fn view(&self) -> &LiveView<Overview> {
        &self.view
    }

    pub fn divisions(&self) -> &Divisions {
        &self.divisions
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    pub fn today(&self) -> Date {
        self.clock.today()
    }

    /// The key of a child's `child-` stream.
    pub fn child_id(&self, citizen: &CitizenId) -> ChildId {
        ChildId::parse(&self.pseudonyms.of(PERSON_DOMAIN, citizen))
            .unwrap_or_else(|_| unreachable!("a pseudonym is always 32 lowercase hex digits"))
    }

    /// Makes the view see a command's events at once.
    fn written(&self, committed: &Committed) {
        if committed.position > 0 {
            self.view.nudge();
        }
    }

    /// The division `code` is today, following the place-names service's adjustments (a
    /// merger, a recode); `code` itself when it was not adjusted or was split.
    pub async fn current_division(
        &self,
        code: minzheng_types::RegionCode,
    ) -> Result<minzheng_types::RegionCode, Error> {
        let known = self
            .divisions
            .known()
            .await
            .map_err(minzheng_kit::aggregate::RunError::from)?;
        Ok(minzheng_host::divisions::current(
            &known,
            code,
            self.today(),
        ))
    }

    /// A date given for a fact: not after today.
    fn not_future(&self, field: &str, day: Date) -> Result<(), Error> {
        if day > self.today() {
            return Err(Error::invalid_field(
                field,
                format!("must not be after today ({})", self.today()),
            ));
        }
        Ok(())
    }
}
