//! How a host runs the assistance service: its settings, its tables, the consumers of the
//! place-names divisions and the data-sharing verification results and household alerts, the
//! read model, and the RPCs. In `minzheng dev` it also seeds Benxi's end-2020 standards and the official holiday
//! calendars.

use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use minzheng_eventstore::migrations::ServiceMigration;
use minzheng_host::{ServiceContext, ServiceModule, codec::Typed};
use minzheng_kit::{
    aggregate::{CommandContext, Repository},
    clock::{Clock, SystemClock},
    pseudonym::Pseudonymizer,
    server::ServerBuilder,
};
use minzheng_types::RegionCode;
use secrecy::SecretString;

use crate::{
    app::{
        Assistance, Deadlines,
        monitoring::{Monitoring, MonitoringSettings},
        reviews::ReviewIntervals,
    },
    calendar::{self, HolidayCalendar},
    grpc::AssistanceApi,
    ids::CalendarYear,
    policy::{self, Policy},
    projections::referrals::AlertFeed,
    projections::verifications::VerificationFeed,
    projections::{
        divisions::{self, Divisions, DivisionsProjection},
        households::HouseholdsProjection,
    },
};

/// The service whose division events route applications.
const PLACENAMES: &str = "placenames";
/// The service whose deaths and marriages change households.
const CIVILREGISTRY: &str = "civilregistry";
/// The service that answers verification requests.
const DATASHARING: &str = "datasharing";

/// How often the scheduler looks for periodic reviews due and for open cases still under a
/// township an adjustment ended (see `Assistance::follow_missed_adjustments`).
const REVIEW_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// The scheduler's sweep: the periodic reviews due, and the open cases still under a township
/// an adjustment ended (`Assistance::follow_missed_adjustments`).
async fn sweep(app: &Assistance, intervals: &ReviewIntervals) -> Result<(), minzheng_kit::Error> {
    let started = app.start_due_reviews(intervals).await?;
    if started > 0 {
        tracing::info!(started, "periodic reviews started");
    }
    let moved = app.follow_missed_adjustments().await?;
    if moved > 0 {
        tracing::info!(cases = moved, "cases followed the adjustments they missed");
    }
    Ok(())
}

/// Benxi's six county-level divisions, which `minzheng dev` gives the end-2020 standards.
pub const BENXI_COUNTIES: [&str; 6] = [
    "210502000000",
    "210503000000",
    "210504000000",
    "210505000000",
    "210521000000",
    "210522000000",
];

/// The service's own settings: `[assistance]` in the settings file, `MZ_ASSISTANCE__…` in the
/// environment.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The key of the pseudonyms that name persons in the read audit
    /// (`MZ_ASSISTANCE__PSEUDONYM_KEY`, at least 32 bytes). Required; never change it for a
    /// deployment.
    pub pseudonym_key: Option<SecretString>,
    /// Working days each step may take (`MZ_ASSISTANCE__DEADLINES__DECISION=30`, …).
    pub deadlines: Deadlines,
    /// Monitoring: the working days to act on an alert, the monitoring list's thresholds
    /// (`MZ_ASSISTANCE__MONITORING__REFERRAL_DEADLINE_WORKING_DAYS=5`, `…__NEAR_LINE_PERCENT=10`,
    /// `…__DEFAULT_LOW_INCOME_PERMILLE=1500`).
    pub monitoring: MonitoringSettings,
    /// Months between periodic reviews per category (`MZ_ASSISTANCE__REVIEWS__DIBAO=12`,
    /// `…__SINGLE_PERSON`, `…__TEKUN`, `…__LOW_INCOME`; 0: none).
    pub reviews: ReviewIntervals,
}

/// What `minzheng dev` seeds: standards for these counties, and the holiday calendars.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    pub counties: Vec<RegionCode>,
}

impl Seed {
    /// Benxi's six counties with the end-2020 standards.
    pub fn benxi() -> Self {
        Self {
            counties: BENXI_COUNTIES
                .iter()
                .filter_map(|c| RegionCode::parse(c).ok())
                .collect(),
        }
    }
}

/// The assistance service module.
#[derive(Debug, Clone)]
pub struct Module {
    pseudonym_key: Option<SecretString>,
    clock: Arc<dyn Clock>,
    seed: Option<Seed>,
}

impl Default for Module {
    /// A module configured by its settings ([`Settings`]).
    fn default() -> Self {
        Self {
            pseudonym_key: None,
            clock: Arc::new(SystemClock),
            seed: None,
        }
    }
}

impl Module {
    /// A module whose audit pseudonyms are keyed under `key`, whatever the settings say.
    pub fn new(pseudonym_key: SecretString) -> Self {
        Self::default().with_pseudonym_key(pseudonym_key)
    }

    /// Keys the audit's pseudonyms under `key` (`minzheng dev` keeps one under its data
    /// directory).
    pub fn with_pseudonym_key(mut self, key: SecretString) -> Self {
        self.pseudonym_key = Some(key);
        self
    }

    /// Uses `clock` for today's date (tests move a fixed clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Seeds standards and holiday calendars at start where none are recorded.
    pub fn with_seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }
}

/// Records the seed's standards for counties without any, and the holiday calendars of years
/// without one (an operator's later calendar is never overwritten).
async fn seed(context: &ServiceContext, seed: &Seed, app: &Assistance) -> anyhow::Result<()> {
    let policies = Repository::<Policy>::new(context.store().clone());
    let calendars = Repository::<HolidayCalendar>::new(context.store().clone());
    let view = app.view().read().await;
    let missing_policies: Vec<RegionCode> = seed
        .counties
        .iter()
        .copied()
        .filter(|c| view.policy(*c).is_none_or(|p| p.versions().is_empty()))
        .collect();
    let loaded: Vec<i32> = view
        .calendars()
        .filter_map(|c| c.calendar().map(|y| y.year.0))
        .collect();
    drop(view);
    for county in missing_policies {
        for (n, command) in policy::benxi_2020_seed(county).into_iter().enumerate() {
            let context =
                CommandContext::new().with_idempotency_key(format!("seed-policy-{county}-{n}"));
            policies
                .execute(&county, &policy::Command::Record(command), &context)
                .await?
                .map_err(|refusal| anyhow::anyhow!("seeding {county}'s standards: {refusal}"))?;
        }
    }
    for year in calendar::seed() {
        if loaded.contains(&year.year.0) {
            continue;
        }
        let key = year.year;
        let context =
            CommandContext::new().with_idempotency_key(format!("seed-calendar-{}", key.0));
        calendars
            .execute(
                &CalendarYear(key.0),
                &calendar::Command::LoadYear(year),
                &context,
            )
            .await?
            .map_err(|refusal| anyhow::anyhow!("seeding the {} calendar: {refusal}", key.0))?;
    }
    app.view().catch_up().await?;
    Ok(())
}

#[async_trait]
impl ServiceModule for Module {
    fn name(&self) -> &'static str {
        "assistance"
    }

    fn migrations(&self) -> Vec<ServiceMigration> {
        vec![divisions::MIGRATION]
    }

    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder> {
        let settings: Settings = context.settings()?;
        let key = match &self.pseudonym_key {
            Some(key) => key.clone(),
            None => settings.pseudonym_key.clone().context(
                "MZ_ASSISTANCE__PSEUDONYM_KEY must be set (at least 32 bytes, never changed \
                 afterwards) to audit reads of households",
            )?,
        };
        let pseudonyms =
            Pseudonymizer::new(&key).context("the pseudonym key (MZ_ASSISTANCE__PSEUDONYM_KEY)")?;
        let app = Assistance::new(
            context.store().clone(),
            Divisions::new(context.db().clone()),
            self.clock.clone(),
            settings.deadlines,
            pseudonyms,
        );
        let replayed = app
            .view()
            .catch_up()
            .await
            .context("building the overview from the store")?;
        tracing::info!(events = replayed, "assistance read model built");
        if let Some(seed_data) = &self.seed {
            seed(context, seed_data, &app)
                .await
                .context("seeding the standards and calendars")?;
        }

        // A re-computation a crash interrupted is finished (it records nothing when done).
        let recomputed = app.recompute_latest().await.map_err(|e| {
            anyhow::anyhow!("re-computing benefits after the latest standards: {e}")
        })?;
        if recomputed > 0 {
            tracing::info!(
                cases = recomputed,
                "benefits re-computed after the latest standards"
            );
        }

        context
            .spawn_consumer(
                PLACENAMES,
                Arc::new(Typed::new(DivisionsProjection::new(app.clone()))),
            )
            .context("following the place-names service")?;
        match context.spawn_consumer(
            CIVILREGISTRY,
            Arc::new(Typed::new(HouseholdsProjection::new(app.clone()))),
        ) {
            Ok(()) => {}
            // Embedded without the civil registry: deaths and marriages are not followed.
            Err(error) => tracing::info!(
                error = %format!("{error:#}"),
                "civil-registry events are not followed; deaths and marriages change no case"
            ),
        }
        match context.spawn_consumer(
            DATASHARING,
            Arc::new(Typed::new(VerificationFeed::new(app.clone()))),
        ) {
            Ok(()) => {}
            // Embedded without the data-sharing service: requests wait for their results.
            Err(error) => tracing::info!(
                error = %format!("{error:#}"),
                "verification results are not followed; verification requests wait"
            ),
        }
        let monitoring = Monitoring::new(app.clone(), settings.monitoring);
        match context.spawn_consumer(
            DATASHARING,
            Arc::new(Typed::new(AlertFeed::new(monitoring.clone()))),
        ) {
            Ok(()) => {}
            // Embedded without the data-sharing service: no alert arrives.
            Err(error) => tracing::info!(
                error = %format!("{error:#}"),
                "household alerts are not followed; no referral is recorded"
            ),
        }

        let token = context.shutdown_token();
        let follower = app.view().clone().follow(None, token.clone());
        context.spawn("assistance overview".to_owned(), async move {
            follower.await;
            Ok(())
        });
        // What fell due while the service was down is started before it serves, so that
        // whoever reads a case after the start sees it; then the sweep runs periodically.
        let intervals = settings.reviews;
        sweep(&app, &intervals)
            .await
            .map_err(|e| anyhow::anyhow!("the sweep at start: {e}"))?;
        let scheduler = app.clone();
        context.spawn("assistance sweep".to_owned(), async move {
            loop {
                tokio::select! {
                    () = token.cancelled() => return Ok(()),
                    () = tokio::time::sleep(REVIEW_SWEEP_EVERY) => {}
                }
                if let Err(error) = sweep(&scheduler, &intervals).await {
                    tracing::warn!(%error, "the sweep failed; it runs again later");
                }
            }
        });
        let audit = context.audit_log(self.clock.clone());
        Ok(server.add_service(
            AssistanceApi::new(app, audit)
                .with_monitoring(monitoring)
                .into_server(),
        ))
    }
}
