//! How a host runs the data-sharing service: its settings, its tables, the consumers (the
//! assistance service's standards and verification requests, its own threshold versions), the
//! read model, and the RPCs. In `minzheng dev` it also records development thresholds for
//! Benxi's counties.

use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use minzheng_eventstore::migrations::ServiceMigration;
use minzheng_host::{ServiceContext, ServiceModule, codec::Typed};
use minzheng_kit::{
    aggregate::CommandContext,
    clock::{Clock, SystemClock},
    pseudonym::Pseudonymizer,
    server::ServerBuilder,
};
use minzheng_types::{BoundedText, RegionCode};
use secrecy::SecretString;

use crate::{
    app::DataSharing,
    grpc::DataSharingApi,
    knowledge,
    projections::{
        self,
        audit::AuditProjection,
        divisions::DivisionsProjection,
        lines::LinesProjection,
        people::{HouseholdsProjection, PersonsProjection},
        requests::RequestsProjection,
        share::{SHARE_CATEGORY, ShareProjection},
        thresholds::ThresholdsProjection,
    },
    store::{self, RecordStore},
    thresholds::{self, RecordThresholds},
};

/// The service whose standards and verification requests it follows.
const ASSISTANCE: &str = "assistance";
/// The service whose deaths and marital status it follows.
const CIVILREGISTRY: &str = "civilregistry";
/// The place-names service: its supersessions, for the division lineage.
const PLACENAMES: &str = "placenames";
/// The services followed for sharing out (their events, under the agencies' agreements) and for
/// the citizens' trails (their read audits), this one's own included.
pub const AUDITED: [&str; 6] = [
    "placenames",
    "civilregistry",
    "assistance",
    "datasharing",
    "eldercare",
    "childwelfare",
];
/// This service: its own threshold versions are followed into the knowledge clock.
const DATASHARING: &str = "datasharing";

/// The service's own settings: `[datasharing]` in the settings file, `MZ_DATASHARING__…` in the
/// environment.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The key of the pseudonyms that name persons in the read audit
    /// (`MZ_DATASHARING__PSEUDONYM_KEY`, at least 32 bytes). Required; never change it for a
    /// deployment.
    pub pseudonym_key: Option<SecretString>,
}

/// What `minzheng dev` seeds: development thresholds for these counties.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    pub counties: Vec<RegionCode>,
}

impl Seed {
    /// Benxi's six county-level divisions (平山区, 溪湖区, 明山区, 南芬区, 本溪满族自治县,
    /// 桓仁满族自治县).
    pub fn benxi() -> Self {
        Self {
            counties: [
                "210502000000",
                "210503000000",
                "210504000000",
                "210505000000",
                "210521000000",
                "210522000000",
            ]
            .iter()
            .filter_map(|c| RegionCode::parse(c).ok())
            .collect(),
        }
    }
}

/// The document reference the development thresholds are recorded under.
pub const DEVELOPMENT_THRESHOLDS: &str = "开发环境默认核对阈值（占位，由业务部门替换）";

/// The data-sharing service module.
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
    /// Keys the audit's pseudonyms under `key`, whatever the settings say.
    pub fn with_pseudonym_key(mut self, key: SecretString) -> Self {
        self.pseudonym_key = Some(key);
        self
    }

    /// Uses `clock` for today and now (tests move a fixed clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Records development thresholds at start for counties without any.
    pub fn with_seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }
}

/// Records the development thresholds, from today, for the seed's counties that have none.
async fn seed(app: &DataSharing, seed: &Seed) -> anyhow::Result<()> {
    let decided_by = BoundedText::parse(DEVELOPMENT_THRESHOLDS, 100)?;
    for county in &seed.counties {
        if !app
            .thresholds_of(*county)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .is_empty()
        {
            continue;
        }
        let today = app.today();
        let command = RecordThresholds {
            county: *county,
            thresholds: thresholds::development_defaults(),
            effective_from: today,
            decided_by: decided_by.clone(),
            recorded_on: today,
        };
        let context =
            CommandContext::new().with_idempotency_key(format!("seed-thresholds-{county}"));
        app.record_thresholds(command, &context)
            .await
            .map_err(|e| anyhow::anyhow!("seeding {county}'s thresholds: {e}"))?;
    }
    Ok(())
}

#[async_trait]
impl ServiceModule for Module {
    fn name(&self) -> &'static str {
        DATASHARING
    }

    fn shared_category(&self) -> Option<&'static str> {
        Some(SHARE_CATEGORY)
    }

    fn migrations(&self) -> Vec<ServiceMigration> {
        vec![
            knowledge::MIGRATION,
            store::MIGRATION,
            projections::MIGRATION,
            projections::people::MIGRATION,
            projections::audit::MIGRATION,
            projections::divisions::MIGRATION,
            store::MIGRATION_KEYED_BY_CITIZEN,
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
                "MZ_DATASHARING__PSEUDONYM_KEY must be set (at least 32 bytes, never changed \
                 afterwards) to audit reads of persons",
            )?,
        };
        let pseudonyms = Pseudonymizer::new(&key)
            .context("the pseudonym key (MZ_DATASHARING__PSEUDONYM_KEY)")?;
        let audit = context.audit_log(self.clock.clone());
        let records = RecordStore::new(context.db().clone(), context.postgres().cloned());
        let app = DataSharing::new(
            context.store().clone(),
            records,
            self.clock.clone(),
            pseudonyms,
            audit.clone(),
        );
        let replayed = app
            .view()
            .catch_up()
            .await
            .context("building the read model from the store")?;
        tracing::info!(events = replayed, "data-sharing read model built");
        if let Some(seed_data) = &self.seed {
            seed(&app, seed_data)
                .await
                .context("seeding the thresholds")?;
        }

        context
            .spawn_consumer(
                DATASHARING,
                Arc::new(Typed::new(ThresholdsProjection::new(self.clock.clone()))),
            )
            .context("following the service's own thresholds")?;
        match context.spawn_consumer(
            ASSISTANCE,
            Arc::new(Typed::new(LinesProjection::new(self.clock.clone()))),
        ) {
            Ok(()) => {
                context
                    .spawn_consumer(
                        ASSISTANCE,
                        Arc::new(Typed::new(RequestsProjection::new(app.clone()))),
                    )
                    .context("following the verification requests")?;
                context
                    .spawn_consumer(ASSISTANCE, Arc::new(Typed::new(HouseholdsProjection)))
                    .context("following the application households")?;
            }
            // Embedded without the assistance service: no standards, no requests.
            Err(error) => tracing::info!(
                error = %format!("{error:#}"),
                "assistance events are not followed; no standard or request arrives"
            ),
        }

        match context.spawn_consumer(
            CIVILREGISTRY,
            Arc::new(Typed::new(PersonsProjection::new(app.clone()))),
        ) {
            Ok(()) => {}
            // Embedded without the civil registry: no deaths, no discovery.
            Err(error) => tracing::info!(
                error = %format!("{error:#}"),
                "civil-registry events are not followed; deaths reveal nothing"
            ),
        }

        match context.spawn_consumer(PLACENAMES, Arc::new(Typed::new(DivisionsProjection))) {
            Ok(()) => {}
            // Embedded without place names: households keep the codes they were registered under.
            Err(error) => tracing::info!(
                error = %format!("{error:#}"),
                "place-names events are not followed; divisions follow no adjustment"
            ),
        }

        // Sharing out: every followed service's events, for the agencies' agreements.
        let descriptors = Arc::new(crate::codec::share::Descriptors::platform());
        for producer in AUDITED {
            let projection = ShareProjection::new(app.clone(), descriptors.clone(), producer);
            if let Err(error) = context.spawn_consumer(producer, Arc::new(projection)) {
                tracing::info!(
                    service = producer,
                    error = %format!("{error:#}"),
                    "this service's events are not shared"
                );
            }
        }

        // Every service's read audit, for the citizens' trails: one line per service.
        for producer in AUDITED {
            match context.spawn_consumer(
                producer,
                Arc::new(Typed::new(AuditProjection::new(producer))),
            ) {
                Ok(()) => {}
                Err(error) => tracing::info!(
                    service = producer,
                    error = %format!("{error:#}"),
                    "this service's read audit is not collected"
                ),
            }
        }

        let token = context.shutdown_token();
        let follower = app.view().clone().follow(None, token);
        context.spawn("datasharing overview".to_owned(), async move {
            follower.await;
            Ok(())
        });
        Ok(server.add_service(
            DataSharingApi::new(
                app,
                audit,
                descriptors,
                context.share_naming()?,
                context.draining_token(),
            )
            .into_server(),
        ))
    }
}
