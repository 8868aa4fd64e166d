//! Watches what holds PostgreSQL readers back. Reads by position stop below the oldest running
//! transaction of the store's database (that is how no late commit is ever skipped), so one long
//! transaction there pauses the service's relay and feeds. This samples its age into the gauge
//! `minzheng.store.oldest_open_transaction` (seconds) and, when it grows long, warns naming the
//! session (process id and application name), so that an SRE sees why events stopped flowing
//! and which session to end.
//!
//! It also samples each relay's backlog: the store's head position less the position the relay
//! has published up to, in the gauge `minzheng.relay.backlog` (positions; positions have gaps,
//! so this bounds the events waiting from above). It grows while the relay cannot publish.

use std::time::Duration;

use minzheng_bus::RelayState;
use minzheng_eventstore::{SharedStore, postgres::PostgresStore};
use opentelemetry::KeyValue;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// How often the age is sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// Age past which a warning is logged: far beyond any command's transaction.
const WARN_AFTER: Duration = Duration::from_secs(30);

/// Samples until `cancel` fires.
pub(crate) async fn watch_oldest_transaction(
    store: PostgresStore,
    service: &'static str,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let gauge = minzheng_telemetry::meter()
        .f64_gauge("minzheng.store.oldest_open_transaction")
        .with_unit("s")
        .with_description(
            "age of the oldest open transaction holding an id; readers by position wait for it",
        )
        .build();
    let attributes = [KeyValue::new("service", service)];
    let mut ticker = tokio::time::interval(SAMPLE_EVERY);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = ticker.tick() => {}
        }
        match store.oldest_open_transaction().await {
            Ok(open) => {
                let age = open.as_ref().map(|o| o.age).unwrap_or_default();
                gauge.record(age.as_secs_f64(), &attributes);
                if let Some(open) = open.filter(|o| o.age > WARN_AFTER) {
                    warn!(
                        age_secs = open.age.as_secs(),
                        pid = open.pid,
                        application = open.application.as_deref().unwrap_or(""),
                        "a long-running transaction is holding back event readers (relays, feeds)"
                    );
                }
            }
            // The store being down is reported by the calls that need it; the gauge just skips.
            Err(_) => continue,
        }
    }
}

/// Samples the backlog of the relay whose state `relay` follows, named `what` (`relay
/// placenames`, `share relay datasharing`), while this replica holds its lease, until `cancel`
/// fires.
pub(crate) async fn watch_relay_backlog(
    store: SharedStore,
    relay: tokio::sync::watch::Receiver<RelayState>,
    what: String,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let gauge = minzheng_telemetry::meter()
        .u64_gauge("minzheng.relay.backlog")
        .with_unit("{position}")
        .with_description(
            "store positions recorded but not yet published by the relay: the head position \
             less the published one",
        )
        .build();
    let attributes = [KeyValue::new("relay", what)];
    let mut ticker = tokio::time::interval(SAMPLE_EVERY);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = ticker.tick() => {}
        }
        let published = {
            let state = relay.borrow();
            if !state.leader {
                continue;
            }
            state.checkpoint.position
        };
        // The store being down is reported by the calls that need it; the gauge just skips.
        if let Ok(head) = store.head().await {
            gauge.record(head.position.saturating_sub(published), &attributes);
        }
    }
}
