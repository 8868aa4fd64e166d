//! How a host runs the elderly-care service: its settings, its tables, the consumers of the
//! place-names divisions, civil-registry deaths, assistance cases and data-sharing alerts, the
//! read model, the escalation sweep, and the RPCs. In `minzheng dev` it also seeds a believable
//! Benxi ([`crate::seed`]).

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use async_trait::async_trait;
use minzheng_eventstore::migrations::ServiceMigration;
use minzheng_host::{ServiceContext, ServiceModule, codec::Typed};
use minzheng_kit::{
    clock::{Clock, SystemClock},
    pseudonym::Pseudonymizer,
    server::ServerBuilder,
};
use secrecy::SecretString;

use crate::{
    app::{DEFAULT_ESCALATE_AFTER_DAYS, ElderCare},
    divisions,
    feeds::{self, AlertsFeed, CasesFeed, DEFAULT_ALERT_INTERVAL_DAYS, DeathsFeed},
    grpc::ElderCareApi,
    seed,
};

/// The services this one follows.
const PLACENAMES: &str = "placenames";
const CIVILREGISTRY: &str = "civilregistry";
const ASSISTANCE: &str = "assistance";
const DATASHARING: &str = "datasharing";

/// How often overdue visits are escalated (the first pass runs at start).
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// The service's own settings: `[eldercare]` in the settings file, `MZ_ELDERCARE__…` in the
/// environment.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The key of the pseudonyms that key persons' streams (`MZ_ELDERCARE__PSEUDONYM_KEY`, at
    /// least 32 bytes). Required; never change it for a deployment.
    pub pseudonym_key: Option<SecretString>,
    /// Days a visit may be overdue before it is escalated to the county
    /// (`MZ_ELDERCARE__ESCALATE_AFTER_DAYS`, default 7).
    pub escalate_after_days: u32,
    /// Days between visits of a plan a data-sharing alert opens
    /// (`MZ_ELDERCARE__ALERT_INTERVAL_DAYS`, default 30).
    pub alert_interval_days: u16,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            pseudonym_key: None,
            escalate_after_days: DEFAULT_ESCALATE_AFTER_DAYS,
            alert_interval_days: DEFAULT_ALERT_INTERVAL_DAYS,
        }
    }
}

/// The elderly-care service module.
#[derive(Debug, Clone)]
pub struct Module {
    pseudonym_key: Option<SecretString>,
    clock: Arc<dyn Clock>,
    seed: bool,
}

impl Default for Module {
    /// A module configured by its settings ([`Settings`]).
    fn default() -> Self {
        Self {
            pseudonym_key: None,
            clock: Arc::new(SystemClock),
            seed: false,
        }
    }
}

impl Module {
    /// A module whose person streams are keyed under `pseudonym_key`, whatever the settings say.
    pub fn new(pseudonym_key: SecretString) -> Self {
        Self::default().with_pseudonym_key(pseudonym_key)
    }

    /// Keys persons' streams under `key` (`minzheng dev` keeps one under its data directory).
    pub fn with_pseudonym_key(mut self, key: SecretString) -> Self {
        self.pseudonym_key = Some(key);
        self
    }

    /// Uses `clock` for today's date (tests move a fixed clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Seeds Benxi's institutions, centres, standards and population at first start, once the
    /// place-names divisions are known ([`seed`]).
    pub fn with_benxi_seed(mut self) -> Self {
        self.seed = true;
        self
    }
}

#[async_trait]
impl ServiceModule for Module {
    fn name(&self) -> &'static str {
        "eldercare"
    }

    fn migrations(&self) -> Vec<ServiceMigration> {
        vec![
            divisions::MIGRATION,
            feeds::MIGRATION,
            divisions::ADJUSTMENTS,
        ]
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
                "MZ_ELDERCARE__PSEUDONYM_KEY must be set (at least 32 bytes, never changed \
                 afterwards) to keep records of persons",
            )?,
        };
        let pseudonyms =
            Pseudonymizer::new(&key).context("the pseudonym key (MZ_ELDERCARE__PSEUDONYM_KEY)")?;
        let divisions = divisions::open(context.db().clone());
        let app = ElderCare::new(
            context.store().clone(),
            pseudonyms,
            self.clock.clone(),
            divisions.clone(),
        )
        .with_escalation_after(settings.escalate_after_days);
        let replayed = app
            .view()
            .catch_up()
            .await
            .context("building the overview from the store")?;
        tracing::info!(events = replayed, "elderly-care read model built");

        context
            .spawn_consumer(
                PLACENAMES,
                Arc::new(Typed::new(divisions::projection(divisions))),
            )
            .context("following the place-names service")?;
        let optional: [(&str, Arc<dyn minzheng_bus::Projection>, &str); 3] = [
            (
                CIVILREGISTRY,
                Arc::new(Typed::new(DeathsFeed::new(app.clone()))),
                "deaths are not followed: beds are not freed nor subsidies ended by them",
            ),
            (
                ASSISTANCE,
                Arc::new(Typed::new(CasesFeed::new(
                    app.clone(),
                    context.db().clone(),
                ))),
                "assistance cases are not followed: no one is known to be low-income",
            ),
            (
                DATASHARING,
                Arc::new(Typed::new(AlertsFeed::new(
                    app.clone(),
                    settings.alert_interval_days,
                ))),
                "data-sharing alerts are not followed: no visit plan opens by itself",
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
        context.spawn("elderly-care overview".to_owned(), async move {
            follower.await;
            Ok(())
        });
        if self.seed {
            let seeding = app.clone();
            let cancel = token.clone();
            context.spawn("elderly-care seed".to_owned(), async move {
                tokio::select! {
                    () = cancel.cancelled() => Ok(()),
                    seeded = seed::benxi(&seeding) => seeded,
                }
            });
        }
        let scheduler = app.clone();
        context.spawn("elderly-care escalations".to_owned(), async move {
            loop {
                match scheduler.escalate_overdue_visits().await {
                    Ok(0) => {}
                    Ok(escalated) => tracing::info!(escalated, "overdue visits escalated"),
                    Err(error) => {
                        tracing::warn!(%error, "escalating overdue visits failed; will retry")
                    }
                }
                tokio::select! {
                    () = token.cancelled() => return Ok(()),
                    () = tokio::time::sleep(SWEEP_EVERY) => {}
                }
            }
        });
        let audit = context.audit_log(self.clock.clone());
        Ok(server.add_service(ElderCareApi::new(app, audit).into_server()))
    }
}
