//! The application layer: runs commands against the aggregates with today's date from the
//! service's [`Clock`], with the checks that need more than one stream (the appointment a
//! registration rests on, the marriage a divorce dissolves), and appends the decisions that
//! span streams together, in one transaction ([`commit_together`]).
//!
//! Commands whose decision spans several streams (a marriage and its two parties; a divorce,
//! its marriage and parties; a death, the deceased, their marriage and spouse; a reschedule to
//! another day) cannot store an idempotency key (a key belongs to one stream). They are
//! idempotent by their ids instead: the record a repeated request would create exists already,
//! and the answer is the existing one when it was made from the same appointment.
//!
//! Submodules: [`appointments`], [`registrations`] (marriages, divorces, certificates,
//! archives), [`deaths`], [`schedule`] (no-shows and lapsed applications).

pub mod appointments;
pub mod deaths;
pub mod indicators;
pub mod registrations;
pub mod schedule;

use std::sync::Arc;

use minzheng_eventstore::SharedStore;
use minzheng_kit::{
    Error,
    aggregate::{
        Aggregate, CodecError, Committed, DEFAULT_CONFLICT_RETRIES, EventCodec, Repository,
        RunError,
    },
    clock::Clock,
    live::LiveView,
    pseudonym::Pseudonymizer,
};
use minzheng_types::CitizenId;
use tokio::sync::RwLock;

use crate::{
    assistance::Ledger,
    death::{Death, WaiverPolicy},
    divisions::Divisions,
    divorce::DivorceApplication,
    ids::{ArchiveReference, Pseudonym},
    marriage::Marriage,
    overview::Overview,
    person::Person,
    registry::Registry,
    registry_day::RegistryDay,
};

/// Registry days whose state a process keeps (a week of days at 36 registries).
const DAYS_CACHED: usize = 256;
/// Person and marriage records a process keeps (small states, read by status queries).
const RECORDS_CACHED: usize = 16_384;

/// The pseudonym domain of a person's streams (`person-…` and `death-…`).
const PERSON_DOMAIN: &str = "person";
/// The pseudonym domain of archive references (see [`CivilRegistry::archive_pseudonym`]).
const ARCHIVE_DOMAIN: &str = "archive";

/// The civil-registry application; cheap to clone.
#[derive(Debug, Clone)]
pub struct CivilRegistry {
    store: SharedStore,
    days: Arc<Repository<RegistryDay>>,
    registries: Arc<Repository<Registry>>,
    persons: Arc<Repository<Person>>,
    marriages: Arc<Repository<Marriage>>,
    divorces: Arc<Repository<DivorceApplication>>,
    deaths: Arc<Repository<Death>>,
    pseudonyms: Pseudonymizer,
    clock: Arc<dyn Clock>,
    view: LiveView<Overview>,
    assistance: Arc<RwLock<Ledger>>,
    waiver_policy: WaiverPolicy,
    divisions: Option<Divisions>,
}

impl CivilRegistry {
    pub fn new(store: SharedStore, pseudonyms: Pseudonymizer, clock: Arc<dyn Clock>) -> Self {
        Self {
            // A registry's day is read by every booking, check-in and registration on it and
            // grows to a thousand events: cached states make each read the new events only.
            days: Arc::new(Repository::new(store.clone()).with_cache(DAYS_CACHED)),
            registries: Arc::new(Repository::new(store.clone())),
            persons: Arc::new(Repository::new(store.clone()).with_cache(RECORDS_CACHED)),
            marriages: Arc::new(Repository::new(store.clone()).with_cache(RECORDS_CACHED)),
            divorces: Arc::new(Repository::new(store.clone())),
            deaths: Arc::new(Repository::new(store.clone())),
            view: LiveView::new(store.clone(), Overview::default()),
            store,
            pseudonyms,
            clock,
            assistance: Arc::new(RwLock::new(Ledger::default())),
            waiver_policy: WaiverPolicy::default(),
            divisions: None,
        }
    }

    /// Uses `policy` for funeral fee waivers instead of the default (free basic services for
    /// 低保 and 特困 households).
    /// Refused when a percentage is above 100.
    pub fn with_waiver_policy(mut self, policy: WaiverPolicy) -> anyhow::Result<Self> {
        anyhow::ensure!(
            policy.is_valid(),
            "a funeral fee waiver policy's percentages must be 0 to 100"
        );
        self.waiver_policy = policy;
        Ok(self)
    }

    /// Checks registries against, and lists them from, the divisions the service follows.
    pub fn with_divisions(mut self, divisions: Divisions) -> Self {
        self.divisions = Some(divisions);
        self
    }

    /// The read model of the service's own events (schedules and indicators).
    pub fn view(&self) -> &LiveView<Overview> {
        &self.view
    }

    /// Who is in an assistance household, from the assistance service's events.
    pub fn assistance(&self) -> &Arc<RwLock<Ledger>> {
        &self.assistance
    }

    pub fn today(&self) -> time::Date {
        self.clock.today()
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// The pseudonym of an archive file's reference, which keys the records back-filled from
    /// it ([`crate::ids::MarriageId::backfilled`], [`crate::ids::ApplicationId::backfilled`]): a clerk types the
    /// reference, so it may carry personal data and is never a key itself.
    pub fn archive_pseudonym(&self, archive: &ArchiveReference) -> Pseudonym {
        Pseudonym::parse(
            &self
                .pseudonyms
                .of_text(ARCHIVE_DOMAIN, &archive.normalised()),
        )
        .unwrap_or_else(|_| unreachable!("a pseudonym is always 32 lowercase hex digits"))
    }

    /// The key of a citizen's person and death streams.
    pub fn pseudonym(&self, citizen: &CitizenId) -> Pseudonym {
        Pseudonym::parse(&self.pseudonyms.of(PERSON_DOMAIN, citizen))
            .unwrap_or_else(|_| unreachable!("a pseudonym is always 32 lowercase hex digits"))
    }

    /// Makes the view see a command's events at once.
    fn written(&self, committed: &[Committed]) {
        if committed.iter().any(|c| c.position > 0) {
            self.view.nudge();
        }
    }
}

/// The last of several commits, for the `CommandResult` of a command that spans streams.
fn last(committed: Vec<Committed>) -> Option<Committed> {
    committed.into_iter().max_by_key(|c| c.position)
}

/// The event at `version` of instance `key`: what an idempotent command recorded.
async fn event_at<A: Aggregate>(
    repository: &Repository<A>,
    key: &(impl minzheng_types::StreamKey + ?Sized),
    version: u64,
) -> Result<A::Event, Error> {
    let stream = repository.stream_id(key).map_err(RunError::from)?;
    let recorded = repository
        .store()
        .read_stream(&stream, version, 1)
        .await
        .map_err(RunError::from)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("event {version} of {stream} is missing"))
        })?;
    A::Event::decode(
        &recorded.event_type,
        recorded.schema_version,
        &recorded.payload,
    )
    .map_err(|source: CodecError| {
        Error::from(RunError::Decode {
            stream,
            version,
            source,
        })
    })
}

/// Retries of a command that spans streams after a version conflict.
const CONFLICT_RETRIES: u32 = DEFAULT_CONFLICT_RETRIES;
