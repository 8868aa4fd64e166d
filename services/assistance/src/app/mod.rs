//! The application layer: commands with today's date (a [`Clock`]), the checks that need more
//! than one stream or another service's data (routing through the divisions, the case in force
//! behind a heating application, the standards and the calendar), and the reads.
//!
//! - [`submit`]: receiving an application (一门受理): routing, ids, the household's rules;
//! - [`steps`]: the steps of a case after it (review, notice, objections, decision);
//! - [`deadlines`]: each step's deadline in working days, and the overdue list.

pub mod deadlines;
pub mod steps;
pub mod submit;

use std::{sync::Arc, time::Duration};

use minzheng_eventstore::SharedStore;
use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed, Repository},
    clock::Clock,
    live::LiveView,
};
use time::Date;
use tokio::sync::Mutex;

use crate::{
    case::{self, Case},
    divisions::Divisions,
    ids::CaseId,
    overview::Overview,
};

pub use deadlines::Deadlines;

/// Cases kept loaded by the repository.
const CASES_CACHED: usize = 16_384;

/// The assistance service's application layer; cheap to clone.
#[derive(Debug, Clone)]
pub struct Assistance {
    store: SharedStore,
    cases: Arc<Repository<Case>>,
    clock: Arc<dyn Clock>,
    view: LiveView<Overview>,
    divisions: Divisions,
    deadlines: Deadlines,
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
    ) -> Self {
        Self {
            cases: Arc::new(Repository::new(store.clone()).with_cache(CASES_CACHED)),
            view: LiveView::new(store.clone(), Overview::default()),
            store,
            clock,
            divisions,
            deadlines,
            ordinals: Arc::default(),
        }
    }

    /// The read model of the service's own events.
    pub fn view(&self) -> &LiveView<Overview> {
        &self.view
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
