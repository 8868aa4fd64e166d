//! How a host runs the civil-registry service: its gRPC API, the read model of its own events,
//! the consumers of the place-names events (the registries) and of the assistance events (the
//! fee waiver), and the schedulers (no-shows, lapsed divorce applications).

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
    app::CivilRegistry,
    assistance_feed::{self, AssistanceProjection},
    death::WaiverPolicy,
    divisions::{self, Divisions, DivisionsProjection},
    grpc::CivilRegistryApi,
};

/// How often the schedulers look for past days with waiting appointments and for lapsed
/// divorce applications. Both are day-granular; the first pass runs at start, so a lapse the
/// service slept through happens as soon as it is back.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The service that publishes the divisions the registries follow.
const PLACENAMES: &str = "placenames";
/// The service that publishes the assistance households.
const ASSISTANCE: &str = "assistance";

/// The service's own settings: `[civilregistry]` in the settings file, `MZ_CIVILREGISTRY__…` in
/// the environment.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The key of the pseudonyms that key persons' streams (`MZ_CIVILREGISTRY__PSEUDONYM_KEY`,
    /// at least 32 bytes). Required; never change it for a deployment: the streams keyed under
    /// the old key would no longer be found.
    pub pseudonym_key: Option<SecretString>,
}

/// The civil-registry service module.
#[derive(Debug, Clone)]
pub struct Module {
    pseudonym_key: Option<SecretString>,
    clock: Arc<dyn Clock>,
    waiver_policy: WaiverPolicy,
}

impl Default for Module {
    /// A module configured by its settings ([`Settings`]).
    fn default() -> Self {
        Self {
            pseudonym_key: None,
            clock: Arc::new(SystemClock),
            waiver_policy: WaiverPolicy::default(),
        }
    }
}

impl Module {
    /// A module whose person streams are keyed under `pseudonym_key` (at least 32 bytes; it
    /// must never change for a deployment), whatever the settings say.
    pub fn new(pseudonym_key: SecretString) -> Self {
        Self::default().with_pseudonym_key(pseudonym_key)
    }

    /// Keys persons' streams under `key` rather than the settings' key (`minzheng dev` keeps
    /// one under its data directory).
    pub fn with_pseudonym_key(mut self, key: SecretString) -> Self {
        self.pseudonym_key = Some(key);
        self
    }

    /// Uses `clock` for today's date (tests move a fixed clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `policy` for funeral fee waivers.
    pub fn with_waiver_policy(mut self, policy: WaiverPolicy) -> Self {
        self.waiver_policy = policy;
        self
    }
}

#[async_trait]
impl ServiceModule for Module {
    fn name(&self) -> &'static str {
        "civilregistry"
    }

    fn migrations(&self) -> Vec<ServiceMigration> {
        vec![divisions::MIGRATION, assistance_feed::MIGRATION]
    }

    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder> {
        let key = match &self.pseudonym_key {
            Some(key) => key.clone(),
            None => context.settings::<Settings>()?.pseudonym_key.context(
                "MZ_CIVILREGISTRY__PSEUDONYM_KEY must be set (at least 32 bytes, never changed \
                 afterwards) to keep records of persons",
            )?,
        };
        let pseudonyms = Pseudonymizer::new(&key)
            .context("the pseudonym key (MZ_CIVILREGISTRY__PSEUDONYM_KEY)")?;
        let app = CivilRegistry::new(context.store().clone(), pseudonyms, self.clock.clone())
            .with_divisions(Divisions::new(context.db().clone()))
            .with_waiver_policy(self.waiver_policy)?;
        let folded = assistance_feed::rebuild(context.db(), app.assistance())
            .await
            .context("rebuilding the assistance ledger")?;
        let replayed = app
            .view()
            .catch_up()
            .await
            .context("building the overview from the store")?;
        tracing::info!(
            events = replayed,
            assistance_events = folded,
            "civil registry read models built"
        );

        context
            .spawn_consumer(PLACENAMES, Arc::new(Typed::new(DivisionsProjection)))
            .context("following the place-names service")?;
        match context.spawn_consumer(
            ASSISTANCE,
            Arc::new(Typed::new(AssistanceProjection::new(
                app.assistance().clone(),
            ))),
        ) {
            Ok(()) => {}
            // Embedded without the assistance service: no household is known to be in
            // assistance, so no fee is waived until its events can be followed.
            Err(error) => tracing::info!(
                error = %format!("{error:#}"),
                "assistance events are not followed; funeral fees are not waived"
            ),
        }

        let token = context.shutdown_token();
        let follower = app.view().clone().follow(None, token.clone());
        context.spawn("civil registry overview".to_owned(), async move {
            follower.await;
            Ok(())
        });
        let scheduler = app.clone();
        context.spawn("civil registry schedulers".to_owned(), async move {
            loop {
                match scheduler.sweep().await {
                    Ok(summary) if summary != Default::default() => {
                        tracing::info!(?summary, "schedulers ran");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "schedulers failed; will retry"),
                }
                tokio::select! {
                    () = token.cancelled() => return Ok(()),
                    () = tokio::time::sleep(SWEEP_EVERY) => {}
                }
            }
        });
        let audit = context.audit_log(self.clock.clone());
        Ok(server.add_service(CivilRegistryApi::new(app, audit).into_server()))
    }
}
