//! How a host runs the place-names service: its gRPC API, its read model and the enactment of
//! adjustments, and, in the embedded mode, the first-start seed of reference divisions.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use async_trait::async_trait;
use minzheng_host::{ServiceContext, ServiceModule};
use minzheng_kit::{
    aggregate::CommandContext,
    clock::{Clock, SystemClock},
    server::ServerBuilder,
};
use time::Date;

use crate::{app::PlaceNames, grpc::PlaceNamesApi};

/// How often the service looks for adjustments whose division events are missing.
const ENACTMENT_CHECK: Duration = Duration::from_secs(5);

/// Divisions recorded when the service starts with none (see [`Module::with_seed`]).
#[derive(Debug, Clone, Copy)]
pub struct Seed {
    /// A CSV file of the import's shape.
    pub csv: &'static str,
    /// The day its divisions are valid from.
    pub valid_from: Date,
}

/// Benxi's 565 divisions (the National Bureau of Statistics' codes as of 2023-06-30), which
/// `minzheng dev` records on first start.
pub const BENXI: Seed = Seed {
    csv: include_str!("../data/benxi-divisions.csv"),
    valid_from: time::macros::date!(2023 - 06 - 30),
};

/// The place-names service module.
#[derive(Debug, Clone, Default)]
pub struct Module {
    seed: Option<Seed>,
}

impl Module {
    /// Records `seed` at start when no division is recorded yet.
    pub fn with_seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }
}

#[async_trait]
impl ServiceModule for Module {
    fn name(&self) -> &'static str {
        "placenames"
    }

    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder> {
        let app = PlaceNames::new(context.store().clone());
        let replayed = app
            .view()
            .catch_up()
            .await
            .context("building the division directory from the store")?;
        tracing::info!(events = replayed, "division directory built");
        if let Some(seed) = self.seed
            && app.view().read().await.is_empty()
        {
            let summary = app
                .import(
                    seed.csv.as_bytes(),
                    seed.valid_from,
                    &CommandContext::new(),
                    |_| Ok(()),
                )
                .await
                .context("recording the seed divisions")?;
            app.view()
                .catch_up()
                .await
                .context("reading the seed back")?;
            tracing::info!(divisions = summary.recorded, "seed divisions recorded");
        }

        let token = context.shutdown_token();
        let follower = app.view().clone().follow(None, token.clone());
        context.spawn("division directory".to_owned(), async move {
            follower.await;
            Ok(())
        });
        let enactor = app.clone();
        context.spawn("adjustment enactment".to_owned(), async move {
            loop {
                if let Err(error) = enactor.enact_pending().await {
                    tracing::warn!(%error, "enacting pending adjustments failed; will retry");
                }
                tokio::select! {
                    () = token.cancelled() => return Ok(()),
                    () = tokio::time::sleep(ENACTMENT_CHECK) => {}
                }
            }
        });
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let audit = context.audit_log(clock.clone());
        Ok(server.add_service(PlaceNamesApi::new(app, audit, clock).into_server()))
    }
}
