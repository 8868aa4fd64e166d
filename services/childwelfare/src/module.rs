//! How a host runs the child-welfare service: its settings, its table of the place-names
//! divisions, the consumers of civil-registry deaths and data-sharing alerts, the read model,
//! the escalation sweep of overdue protection steps, and the RPCs. In `minzheng dev` it also
//! seeds Benxi's child directors and supervisors and the allowance standards ([`crate::seed`]).

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use async_trait::async_trait;
use minzheng_eventstore::migrations::ServiceMigration;
use minzheng_host::{
    ServiceContext, ServiceModule,
    codec::Typed,
    divisions::{Divisions, DivisionsProjection},
};
use minzheng_kit::{
    clock::{Clock, SystemClock},
    pseudonym::Pseudonymizer,
    server::ServerBuilder,
};
use secrecy::SecretString;

use crate::{
    app::ChildWelfare,
    feeds::{AlertsFeed, DeathsFeed},
    grpc::ChildWelfareApi,
    protection::Deadlines,
    sealing::ReporterSealer,
    seed,
};

/// The services this one follows.
const PLACENAMES: &str = "placenames";
const CIVILREGISTRY: &str = "civilregistry";
const DATASHARING: &str = "datasharing";

/// The durable consumer of the place-names divisions.
pub const DIVISIONS_CONSUMER: &str = "childwelfare-divisions";
/// This service's table of the divisions.
pub const DIVISIONS_TABLE: &str = "cw_divisions";

/// The divisions table (portable SQL, the shared shape of [`minzheng_host::divisions`]).
pub const DIVISIONS_MIGRATION: ServiceMigration = ServiceMigration::portable(
    1000,
    "divisions",
    minzheng_host::divisions_table_sql!("cw_divisions"),
);

/// How often overdue protection steps are escalated (the first pass runs at start).
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// The service's own settings: `[childwelfare]` in the settings file, `MZ_CHILDWELFARE__…` in
/// the environment.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The key of the pseudonyms that key children's streams
    /// (`MZ_CHILDWELFARE__PSEUDONYM_KEY`, at least 32 bytes). Required; never change it.
    pub pseudonym_key: Option<SecretString>,
    /// The key that seals reporters' identities (`MZ_CHILDWELFARE__REPORTER_KEY`, at least 32
    /// bytes, distinct from every other key). Required; never change it: sealed reporters
    /// open only with it.
    pub reporter_key: Option<SecretString>,
    /// Days from an urgent report to emergency handling (`…__EMERGENCY_URGENT_DAYS`, 0).
    pub emergency_urgent_days: u16,
    /// … from a high-risk report (`…__EMERGENCY_HIGH_DAYS`, 1).
    pub emergency_high_days: u16,
    /// … from a normal report (`…__EMERGENCY_NORMAL_DAYS`, 3).
    pub emergency_normal_days: u16,
    /// Days from emergency handling to the assessment (`…__ASSESSMENT_DAYS`, 7).
    pub assessment_days: u16,
    /// Days from the assessment to the assistance plan (`…__PLAN_DAYS`, 15).
    pub plan_days: u16,
}

impl Default for Settings {
    fn default() -> Self {
        let d = Deadlines::default();
        Self {
            pseudonym_key: None,
            reporter_key: None,
            emergency_urgent_days: d.emergency_urgent_days,
            emergency_high_days: d.emergency_high_days,
            emergency_normal_days: d.emergency_normal_days,
            assessment_days: d.assessment_days,
            plan_days: d.plan_days,
        }
    }
}

impl Settings {
    /// The protection steps' time limits.
    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            emergency_urgent_days: self.emergency_urgent_days,
            emergency_high_days: self.emergency_high_days,
            emergency_normal_days: self.emergency_normal_days,
            assessment_days: self.assessment_days,
            plan_days: self.plan_days,
        }
    }
}

/// The child-welfare service module.
#[derive(Debug, Clone)]
pub struct Module {
    pseudonym_key: Option<SecretString>,
    reporter_key: Option<SecretString>,
    clock: Arc<dyn Clock>,
    seed: bool,
}

impl Default for Module {
    /// A module configured by its settings ([`Settings`]).
    fn default() -> Self {
        Self {
            pseudonym_key: None,
            reporter_key: None,
            clock: Arc::new(SystemClock),
            seed: false,
        }
    }
}

impl Module {
    /// A module whose keys are these, whatever the settings say.
    pub fn new(pseudonym_key: SecretString, reporter_key: SecretString) -> Self {
        Self::default()
            .with_pseudonym_key(pseudonym_key)
            .with_reporter_key(reporter_key)
    }

    /// Keys children's streams under `key`.
    pub fn with_pseudonym_key(mut self, key: SecretString) -> Self {
        self.pseudonym_key = Some(key);
        self
    }

    /// Seals reporters' identities under `key`.
    pub fn with_reporter_key(mut self, key: SecretString) -> Self {
        self.reporter_key = Some(key);
        self
    }

    /// Uses `clock` for today's date (tests move a fixed clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Seeds Benxi's posts and standards at first start, once the divisions are known.
    pub fn with_benxi_seed(mut self) -> Self {
        self.seed = true;
        self
    }
}

#[async_trait]
impl ServiceModule for Module {
    fn name(&self) -> &'static str {
        "childwelfare"
    }

    fn migrations(&self) -> Vec<ServiceMigration> {
        vec![DIVISIONS_MIGRATION]
    }

    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder> {
        let settings: Settings = context.settings()?;
        let key = match (&self.pseudonym_key, &settings.pseudonym_key) {
            (Some(key), _) | (None, Some(key)) => key.clone(),
            (None, None) => anyhow::bail!(
                "MZ_CHILDWELFARE__PSEUDONYM_KEY must be set (at least 32 bytes, never changed \
                 afterwards) to keep records of children"
            ),
        };
        let reporter_key = match (&self.reporter_key, &settings.reporter_key) {
            (Some(key), _) | (None, Some(key)) => key.clone(),
            (None, None) => anyhow::bail!(
                "MZ_CHILDWELFARE__REPORTER_KEY must be set (at least 32 bytes, distinct from \
                 every other key, never changed afterwards) to keep reporters confidential"
            ),
        };
        let pseudonyms = Pseudonymizer::new(&key)
            .context("the pseudonym key (MZ_CHILDWELFARE__PSEUDONYM_KEY)")?;
        let sealer = ReporterSealer::new(&reporter_key)
            .context("the reporter key (MZ_CHILDWELFARE__REPORTER_KEY)")?;
        let divisions = Divisions::new(context.db().clone(), DIVISIONS_TABLE);
        let app = ChildWelfare::new(
            context.store().clone(),
            pseudonyms,
            sealer,
            self.clock.clone(),
            divisions.clone(),
        )
        .with_deadlines(settings.deadlines());
        let replayed = app
            .view()
            .catch_up()
            .await
            .context("building the overview from the store")?;
        tracing::info!(events = replayed, "child-welfare read model built");

        context
            .spawn_consumer(
                PLACENAMES,
                Arc::new(Typed::new(DivisionsProjection::new(
                    divisions,
                    DIVISIONS_CONSUMER,
                ))),
            )
            .context("following the place-names service")?;
        let optional: [(&str, Arc<dyn minzheng_bus::Projection>, &str); 2] = [
            (
                CIVILREGISTRY,
                Arc::new(Typed::new(DeathsFeed::new(app.clone()))),
                "deaths are not followed: allowances are not ended by them",
            ),
            (
                DATASHARING,
                Arc::new(Typed::new(AlertsFeed::new(app.clone()))),
                "data-sharing alerts are not followed: no protection case opens by itself",
            ),
        ];
        for (producer, projection, consequence) in optional {
            if let Err(error) = context.spawn_consumer(producer, projection) {
                // Embedded without that service.
                tracing::info!(error = %format!("{error:#}"), "{consequence}");
            }
        }

        let token = context.shutdown_token();
        let follower = app.view().clone().follow(None, token.clone());
        context.spawn("child-welfare overview".to_owned(), async move {
            follower.await;
            Ok(())
        });
        if self.seed {
            let seeding = app.clone();
            let cancel = token.clone();
            context.spawn("child-welfare seed".to_owned(), async move {
                tokio::select! {
                    () = cancel.cancelled() => Ok(()),
                    seeded = seed::benxi(&seeding) => seeded,
                }
            });
        }
        let scheduler = app.clone();
        context.spawn("child-welfare escalations".to_owned(), async move {
            loop {
                match scheduler.escalate_overdue().await {
                    Ok(0) => {}
                    Ok(escalated) => tracing::info!(escalated, "overdue protection steps escalated"),
                    Err(error) => {
                        tracing::warn!(%error, "escalating overdue protection steps failed; will retry")
                    }
                }
                tokio::select! {
                    () = token.cancelled() => return Ok(()),
                    () = tokio::time::sleep(SWEEP_EVERY) => {}
                }
            }
        });
        let audit = context.audit_log(self.clock.clone());
        Ok(server.add_service(ChildWelfareApi::new(app, audit).into_server()))
    }
}
