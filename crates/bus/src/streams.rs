//! The JetStream streams the bus relies on, created or reconciled at start-up: one stream per
//! service, one dead-letter stream per deployment, and for sharing out one stream of every
//! shared copy with one stream per agency sourced from it.
//!
//! A stream has two owners. The platform owns what correctness depends on: the subjects it
//! publishes on, file storage, and the duplicate window (what drops a relay's re-publish within
//! the window; the relay does not depend on it, see `relay.rs`). The operator owns retention,
//! limits, replicas and everything else (`max_age`, `max_bytes`, `num_replicas`, `deny_delete`,
//! placement...): those come from [`StreamSettings`] only when the stream is created, and an
//! existing stream keeps whatever is set on the server, so `nats stream edit` is never undone by
//! a restart. A setting that differs from the server's is reported, not applied.
//!
//! When a stream is created, every setting JetStream would otherwise default is written out,
//! because the defaults are wrong for an event log (see `DESIGN.md`, "Known pitfalls"): file
//! storage, limits retention, discard old, an explicit duplicate window and no limits unless
//! configured. Only features of nats-server 2.9 are used.
//!
//! This module does not publish or consume; it only shapes streams.

use std::time::Duration;

use async_nats::jetstream::{
    self, consumer,
    context::{CreateStreamError, GetStreamError, GetStreamErrorKind},
    stream::{Config, DiscardPolicy, RetentionPolicy, Source, StorageType},
};
use tracing::{info, warn};

use crate::naming::{BusNaming, ShareNaming};

/// JetStream's error code for "stream not found".
const STREAM_NOT_FOUND: u64 = 10059;

/// How a service's stream is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    /// Window in which JetStream drops a message whose `Nats-Msg-Id` it has seen. Ensured on
    /// every start.
    pub duplicate_window: Duration,
    /// Oldest event kept, for a new stream; `None` keeps events until another limit applies.
    pub max_age: Option<Duration>,
    /// Most bytes kept, for a new stream; `None` is unlimited.
    pub max_bytes: Option<u64>,
    /// Replicas in a clustered JetStream, for a new stream; `None` is 1.
    pub replicas: Option<usize>,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            duplicate_window: Duration::from_secs(120),
            max_age: None,
            max_bytes: None,
            replicas: None,
        }
    }
}

/// A stream could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StreamSetupError {
    #[error("cannot read stream {stream}: {source}")]
    Read {
        stream: String,
        source: GetStreamError,
    },
    #[error("cannot create or update stream {stream}: {source}")]
    Write {
        stream: String,
        source: CreateStreamError,
    },
    #[error(
        "stream {stream} keeps its messages in memory; the platform needs file storage (recreate \
         it, or delete it and let the service create it)"
    )]
    MemoryStorage { stream: String },
    #[error("no stream can be named for the agency: {0}")]
    Agency(String),
    #[error("cannot create the consumer {consumer} of stream {stream}: {source}")]
    Consumer {
        stream: String,
        consumer: String,
        source: async_nats::jetstream::stream::ConsumerError,
    },
}

/// Creates the service's stream, or reconciles an existing one (see the module docs).
pub async fn ensure_service_stream(
    js: &jetstream::Context,
    naming: &BusNaming,
    settings: &StreamSettings,
) -> Result<(), StreamSetupError> {
    ensure(
        js,
        naming.stream_name().to_owned(),
        naming.stream_subjects(),
        format!("events of the {} service", naming.service()),
        settings,
    )
    .await
}

/// Creates the deployment's dead-letter stream (`<PREFIX>_DEADLETTER` on
/// `<prefix>.deadletter.>`), or reconciles an existing one.
pub async fn ensure_deadletter_stream(
    js: &jetstream::Context,
    naming: &BusNaming,
    settings: &StreamSettings,
) -> Result<(), StreamSetupError> {
    ensure(
        js,
        naming.deadletter_stream(),
        naming.deadletter_subjects(),
        "events consumers parked after repeated failures".to_owned(),
        settings,
    )
    .await
}

/// Creates the stream of every shared copy (`<PREFIX>_SHARE` on `<root>.>`), or reconciles an
/// existing one.
pub async fn ensure_share_stream(
    js: &jetstream::Context,
    share: &ShareNaming,
    settings: &StreamSettings,
) -> Result<(), StreamSetupError> {
    ensure(
        js,
        share.stream_name(),
        share.stream_subjects(),
        "copies of events shared with other agencies under their agreements".to_owned(),
        settings,
    )
    .await
}

/// Creates an agency's own stream (`<PREFIX>_SHARE_<AGENCY>`), which has no subjects and sources
/// the share stream filtered to `<root>.<agency>.>`, or adds that source to an existing one; and
/// the stream's durable pull consumer the agency reads through ([`ShareNaming::agency_consumer`]).
/// JetStream copies into the stream whatever the share stream holds for the agency, from its
/// first message, whenever it is created. Permissions give the agency this stream and this
/// consumer, and no consumer of its own: a push consumer's delivery subject is any subject the
/// agency may subscribe to, its shared subjects included, which the share stream would capture.
pub async fn ensure_agency_stream(
    js: &jetstream::Context,
    share: &ShareNaming,
    agency: &str,
    settings: &StreamSettings,
) -> Result<(), StreamSetupError> {
    let invalid = |error: crate::NamingError| StreamSetupError::Agency(error.to_string());
    let name = share.agency_stream(agency).map_err(invalid)?;
    let source = Source {
        name: share.stream_name(),
        filter_subject: Some(share.agency_subjects(agency).map_err(invalid)?),
        ..Default::default()
    };
    let written = match existing_config(js, &name).await? {
        None => {
            let mut config = new_stream_config(
                name.clone(),
                None,
                format!("copies of events shared with the agency {agency}"),
                settings,
            );
            config.sources = Some(vec![source]);
            js.create_stream(config).await.map(|_| ())
        }
        Some(current) => {
            let sources = current.sources.clone().unwrap_or_default();
            let has_source = sources
                .iter()
                .any(|s| s.name == source.name && s.filter_subject == source.filter_subject);
            if has_source {
                return Ok(());
            }
            info!(stream = %name, "adding the share stream as a source");
            let mut config = current;
            config.sources = Some(sources.into_iter().chain([source]).collect());
            js.update_stream(config).await.map(|_| ())
        }
    };
    written.map_err(|source| StreamSetupError::Write {
        stream: name.clone(),
        source,
    })?;
    let durable = share.agency_consumer(agency).map_err(invalid)?;
    let consumer = consumer::pull::Config {
        durable_name: Some(durable.clone()),
        description: Some(format!("what the agency {agency} reads")),
        ack_policy: consumer::AckPolicy::Explicit,
        deliver_policy: consumer::DeliverPolicy::All,
        ..Default::default()
    };
    // One already there (perhaps tuned by the operator) is kept as it is.
    let existing = js
        .get_consumer_from_stream::<consumer::pull::Config, _, _>(durable.as_str(), name.as_str())
        .await;
    if existing.is_ok() {
        return Ok(());
    }
    js.create_consumer_on_stream(consumer, name.as_str())
        .await
        .map(|_| ())
        .map_err(|source| StreamSetupError::Consumer {
            stream: name,
            consumer: durable,
            source,
        })
}

async fn ensure(
    js: &jetstream::Context,
    name: String,
    subject: String,
    description: String,
    settings: &StreamSettings,
) -> Result<(), StreamSetupError> {
    let written = match existing_config(js, &name).await? {
        None => {
            let config = new_stream_config(name.clone(), Some(subject), description, settings);
            js.create_stream(config).await.map(|_| ())
        }
        Some(current) => {
            if current.storage != StorageType::File {
                return Err(StreamSetupError::MemoryStorage { stream: name });
            }
            report_operator_settings(&current, settings);
            match reconciled(&current, &subject, settings) {
                Some(config) => {
                    info!(stream = %name, "updating the stream's subjects or duplicate window");
                    js.update_stream(config).await.map(|_| ())
                }
                None => Ok(()),
            }
        }
    };
    written.map_err(|source| StreamSetupError::Write {
        stream: name,
        source,
    })
}

/// The configuration of the stream `name` as the server holds it; `None` when there is none.
async fn existing_config(
    js: &jetstream::Context,
    name: &str,
) -> Result<Option<Config>, StreamSetupError> {
    match js.get_stream(name).await {
        // `get_stream` asked the server for the stream's info, configuration included.
        Ok(stream) => Ok(Some(stream.cached_info().config.clone())),
        Err(error) if is_not_found(&error) => Ok(None),
        Err(source) => Err(StreamSetupError::Read {
            stream: name.to_owned(),
            source,
        }),
    }
}

fn is_not_found(error: &GetStreamError) -> bool {
    match error.kind() {
        GetStreamErrorKind::JetStream(e) => e.error_code().0 == STREAM_NOT_FOUND,
        _ => false,
    }
}

/// The configuration of a stream the platform creates.
fn new_stream_config(
    name: String,
    subject: Option<String>,
    description: String,
    settings: &StreamSettings,
) -> Config {
    Config {
        name,
        subjects: subject.into_iter().collect(),
        description: Some(description),
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        discard: DiscardPolicy::Old,
        duplicate_window: settings.duplicate_window,
        max_age: settings.max_age.unwrap_or(Duration::ZERO),
        max_messages: -1,
        max_bytes: settings
            .max_bytes
            .map_or(-1, |bytes| i64::try_from(bytes).unwrap_or(i64::MAX)),
        max_messages_per_subject: -1,
        max_consumers: -1,
        num_replicas: settings.replicas.unwrap_or(1),
        ..Default::default()
    }
}

/// `current` with what the platform needs ensured, or `None` when it already has it. Every
/// other field is the server's, unchanged.
fn reconciled(current: &Config, subject: &str, settings: &StreamSettings) -> Option<Config> {
    let has_subject = current.subjects.iter().any(|s| s == subject);
    if has_subject && current.duplicate_window == settings.duplicate_window {
        return None;
    }
    let mut config = current.clone();
    if !has_subject {
        config.subjects.push(subject.to_owned());
    }
    config.duplicate_window = settings.duplicate_window;
    Some(config)
}

/// Logs each configured retention setting the server has otherwise: the server's stays.
fn report_operator_settings(current: &Config, settings: &StreamSettings) {
    let stream = current.name.as_str();
    if let Some(age) = settings.max_age.filter(|age| *age != current.max_age) {
        info!(stream, configured = ?age, on_server = ?current.max_age, "stream max_age set on the server is kept");
    }
    if let Some(bytes) = settings.max_bytes
        && i64::try_from(bytes).ok() != Some(current.max_bytes)
    {
        info!(
            stream,
            configured = bytes,
            on_server = current.max_bytes,
            "stream max_bytes set on the server is kept"
        );
    }
    if let Some(replicas) = settings.replicas.filter(|r| *r != current.num_replicas) {
        warn!(
            stream,
            configured = replicas,
            on_server = current.num_replicas,
            "stream replicas set on the server are kept"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> StreamSettings {
        StreamSettings::default()
    }

    #[test]
    fn a_new_stream_spells_out_every_default_that_matters() {
        let config = new_stream_config("S".into(), Some("p.s.>".into()), "d".into(), &settings());
        assert_eq!(config.storage, StorageType::File);
        assert_eq!(config.retention, RetentionPolicy::Limits);
        assert_eq!(config.duplicate_window, Duration::from_secs(120));
        assert_eq!((config.max_age, config.max_bytes), (Duration::ZERO, -1));
        assert_eq!(config.num_replicas, 1);
    }

    #[test]
    fn configured_limits_apply_to_a_new_stream() {
        let settings = StreamSettings {
            max_age: Some(Duration::from_secs(86_400)),
            max_bytes: Some(1 << 30),
            replicas: Some(3),
            ..settings()
        };
        let config = new_stream_config("S".into(), Some("p.s.>".into()), "d".into(), &settings);
        assert_eq!(config.max_age, Duration::from_secs(86_400));
        assert_eq!(config.max_bytes, 1 << 30);
        assert_eq!(config.num_replicas, 3);
    }

    #[test]
    fn an_existing_stream_keeps_the_operators_settings() {
        let operator = Config {
            max_age: Duration::from_secs(3_600),
            max_bytes: 1_000_000,
            num_replicas: 3,
            deny_delete: true,
            ..new_stream_config("S".into(), Some("p.s.>".into()), "d".into(), &settings())
        };
        let configured = StreamSettings {
            max_age: Some(Duration::from_secs(60)),
            replicas: Some(1),
            ..settings()
        };
        assert!(reconciled(&operator, "p.s.>", &configured).is_none());
        let widened = StreamSettings {
            duplicate_window: Duration::from_secs(600),
            ..configured
        };
        let update = reconciled(&operator, "p.s.>", &widened).expect("window differs");
        assert_eq!(update.duplicate_window, Duration::from_secs(600));
        assert_eq!(
            (
                update.max_age,
                update.max_bytes,
                update.num_replicas,
                update.deny_delete
            ),
            (Duration::from_secs(3_600), 1_000_000, 3, true)
        );
    }

    #[test]
    fn a_missing_subject_is_added_beside_the_operators() {
        let operator = Config {
            subjects: vec!["other.>".into()],
            ..new_stream_config("S".into(), Some("p.s.>".into()), "d".into(), &settings())
        };
        let update = reconciled(&operator, "p.s.>", &settings()).expect("subject missing");
        assert_eq!(
            update.subjects,
            vec!["other.>".to_owned(), "p.s.>".to_owned()]
        );
    }
}
