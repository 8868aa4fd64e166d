//! The JetStream streams the bus relies on, created or updated idempotently at start-up: one
//! stream per service and one dead-letter stream per deployment.
//!
//! Every setting that JetStream would otherwise default is written out, because the defaults
//! are wrong for an event log (see `DESIGN.md`, "Known pitfalls"): file storage, limits
//! retention, an explicit two-minute duplicate window (what lets a restarted relay re-publish
//! without duplicates) and no maximum age unless configured. Only features of nats-server 2.9
//! are used.
//!
//! This module does not publish or consume; it only shapes streams.

use std::time::Duration;

use async_nats::jetstream::{
    self,
    context::CreateStreamError,
    stream::{DiscardPolicy, RetentionPolicy, StorageType},
};

use crate::naming::BusNaming;

/// How a service's stream keeps events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    /// Window in which JetStream drops a message whose `Nats-Msg-Id` it has seen; a relay that
    /// re-publishes later than this relies on consumer inboxes instead.
    pub duplicate_window: Duration,
    /// Oldest event kept; `None` keeps events until other limits apply (none by default).
    pub max_age: Option<Duration>,
    /// Replicas in a clustered JetStream (1 on a single server).
    pub replicas: usize,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            duplicate_window: Duration::from_secs(120),
            max_age: None,
            replicas: 1,
        }
    }
}

/// Creates the service's stream, or updates it to `settings` when it exists.
pub async fn ensure_service_stream(
    js: &jetstream::Context,
    naming: &BusNaming,
    settings: &StreamSettings,
) -> Result<(), CreateStreamError> {
    js.create_or_update_stream(stream_config(
        naming.stream_name().to_owned(),
        naming.stream_subjects(),
        format!("events of the {} service", naming.service()),
        settings,
    ))
    .await?;
    Ok(())
}

/// Creates the deployment's dead-letter stream (`<PREFIX>_DEADLETTER` on
/// `<prefix>.deadletter.>`), or updates it to `settings` when it exists.
pub async fn ensure_deadletter_stream(
    js: &jetstream::Context,
    naming: &BusNaming,
    settings: &StreamSettings,
) -> Result<(), CreateStreamError> {
    js.create_or_update_stream(stream_config(
        naming.deadletter_stream(),
        naming.deadletter_subjects(),
        "events consumers parked after repeated failures".to_owned(),
        settings,
    ))
    .await?;
    Ok(())
}

fn stream_config(
    name: String,
    subject: String,
    description: String,
    settings: &StreamSettings,
) -> jetstream::stream::Config {
    jetstream::stream::Config {
        name,
        subjects: vec![subject],
        description: Some(description),
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        discard: DiscardPolicy::Old,
        duplicate_window: settings.duplicate_window,
        max_age: settings.max_age.unwrap_or(Duration::ZERO),
        max_messages: -1,
        max_bytes: -1,
        max_messages_per_subject: -1,
        max_consumers: -1,
        num_replicas: settings.replicas,
        ..Default::default()
    }
}
