//! The end of a run: once faults stop and everything has caught up, every store, stream and
//! projection is compared with what the load was told.
//!
//! - durable: every acknowledged command's last event is in its service's store, at the
//!   position the answer gave, and no idempotency key was answered with two positions;
//! - published once: every event of a store is in the service's JetStream stream exactly once
//!   (by `ce-id`), nothing is in the stream that is not in the store, and the stream is in the
//!   store's read order (commit order);
//! - applied once: the civil registry's divisions projection (`cr_divisions`) and its inbox
//!   equal a rebuild from zero: the same projection run over the place-names store, through an
//!   embedded feed, into a fresh database.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use async_nats::jetstream;
use minzheng_bus::{Consumer, FeedSource, connect_any, envelope};
use minzheng_civilregistry::divisions::{CONSUMER, DivisionsProjection};
use minzheng_eventstore::{Cursor, DEFAULT_ACQUIRE_TIMEOUT, RecordedEvent, SharedStore};
use minzheng_host::{ServiceModule as _, codec::Typed};
use sqlx::{AnyPool, Connection as _, PgConnection, Row as _};
use tokio::time::Instant;

use super::{
    ledger::Acknowledged,
    suite::{SERVICES, Suite},
};

/// How long everything may take to catch up after the last fault.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(180);

/// One stream compared with its store.
#[derive(Debug, Clone, Default)]
pub struct StreamCheck {
    pub stream: String,
    pub stored: usize,
    pub published: usize,
    /// In the store, not in the stream.
    pub lost: usize,
    /// Messages beyond the first of an event id.
    pub duplicated: usize,
    /// In the stream, not in the store.
    pub unknown: usize,
    /// First copies that come before the previous first copy in the store's read order.
    pub out_of_order: usize,
}

/// The projection compared with its rebuild.
#[derive(Debug, Clone, Default)]
pub struct ProjectionCheck {
    pub rows: usize,
    pub rebuilt_rows: usize,
    pub differing_rows: usize,
    pub inbox: usize,
    pub rebuilt_inbox: usize,
    /// Inbox entries of the rebuild the survivor lacks (events never applied).
    pub inbox_missing: usize,
    /// Inbox entries the rebuild lacks.
    pub inbox_extra: usize,
    pub parked: i64,
}

impl ProjectionCheck {
    pub fn equal(&self) -> bool {
        self.differing_rows == 0
            && self.rows == self.rebuilt_rows
            && self.inbox_missing == 0
            && self.inbox_extra == 0
    }
}

/// What reconciliation found.
#[derive(Debug, Clone, Default)]
pub struct Reconciliation {
    /// Empty when everything caught up in time; else what had not.
    pub unsettled: Vec<String>,
    pub acknowledged: usize,
    /// Acknowledged commands whose events are not in the store.
    pub lost_commands: Vec<String>,
    /// Commands stored (found by idempotency key or by the record the answer named) whose answer
    /// carried no position: a retry with the same key did not get the first result back, as
    /// `CommandMetadata` promises.
    pub answered_without_result: Vec<String>,
    /// Idempotency keys acknowledged with different positions (a command executed twice).
    pub repeated_commands: Vec<String>,
    pub streams: Vec<StreamCheck>,
    pub projection: ProjectionCheck,
}

/// Waits until every relay has published its store and the divisions consumer has applied
/// everything, then reconciles.
pub async fn reconcile(
    suite: &Suite,
    acknowledged: &[Acknowledged],
) -> anyhow::Result<Reconciliation> {
    let js = jetstream::new(suite.nats_client().await?);
    let mut stores = BTreeMap::new();
    for service in SERVICES {
        let store: SharedStore = Arc::new(suite.store(service).await?);
        stores.insert(service, store);
    }
    let mut result = Reconciliation {
        unsettled: settle(&stores, &js).await?,
        acknowledged: acknowledged.len(),
        ..Reconciliation::default()
    };
    let mut events = BTreeMap::new();
    for (service, store) in &stores {
        events.insert(*service, read_store(store).await?);
    }
    check_commands(&events, acknowledged, &mut result);
    for service in SERVICES {
        result
            .streams
            .push(check_stream(&js, Suite::naming(service).stream_name(), &events[service]).await?);
    }
    result.projection = check_projection(suite, stores["placenames"].clone()).await?;
    Ok(result)
}

/// Waits (bounded) until each relay's checkpoint is at its store's head and the divisions
/// consumer has nothing pending or unacknowledged; what had not caught up, if anything.
async fn settle(
    stores: &BTreeMap<&'static str, SharedStore>,
    js: &jetstream::Context,
) -> anyhow::Result<Vec<String>> {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        let mut behind = Vec::new();
        for (service, store) in stores {
            let checkpoint = store
                .load_checkpoint(&Suite::naming(service).relay_checkpoint())
                .await?;
            if !store.read_all(checkpoint, 1).await?.events.is_empty() {
                behind.push(format!("relay {service}"));
            }
        }
        let consumer_done = async {
            let stream = js
                .get_stream(Suite::naming("placenames").stream_name())
                .await
                .ok()?;
            let mut consumer: jetstream::consumer::PullConsumer =
                stream.get_consumer(CONSUMER).await.ok()?;
            let info = consumer.info().await.ok()?;
            Some(info.num_pending == 0 && info.num_ack_pending == 0)
        }
        .await
        .unwrap_or(false);
        if !consumer_done {
            behind.push(format!("consumer {CONSUMER}"));
        }
        if behind.is_empty() || Instant::now() >= deadline {
            return Ok(behind);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn read_store(store: &SharedStore) -> anyhow::Result<Vec<RecordedEvent>> {
    let mut events = Vec::new();
    let mut cursor = Cursor::START;
    loop {
        let batch = store.read_all(cursor, 1000).await?;
        if batch.events.is_empty() {
            return Ok(events);
        }
        cursor = batch.next;
        events.extend(batch.events);
    }
}

fn check_commands(
    events: &BTreeMap<&'static str, Vec<RecordedEvent>>,
    acknowledged: &[Acknowledged],
    result: &mut Reconciliation,
) {
    // A command's answer names the position of the last event it recorded (several events, or
    // events under keys derived from the command's, may come with it): that event must be
    // stored.
    let positions: HashSet<(&str, u64)> = events
        .iter()
        .flat_map(|(service, events)| events.iter().map(move |e| (*service, e.position)))
        .collect();
    let keys: HashSet<(&str, &str)> = events
        .iter()
        .flat_map(|(service, events)| {
            events
                .iter()
                .filter_map(move |e| Some((*service, e.metadata.idempotency_key.as_deref()?)))
        })
        .collect();
    let records: HashSet<(&str, &str)> = events
        .iter()
        .flat_map(|(service, events)| events.iter().map(move |e| (*service, e.stream.key())))
        .collect();
    let mut answered: HashMap<(&str, &str), u64> = HashMap::new();
    for command in acknowledged {
        // An answer without a position (a retry told "already recorded" instead of the first
        // result): the command's events are found by its idempotency key or the record it
        // named instead.
        let found_otherwise = keys.contains(&(command.service, command.idempotency_key.as_str()))
            || command
                .record
                .as_deref()
                .is_some_and(|record| records.contains(&(command.service, record)));
        if command.position == 0 && found_otherwise {
            result
                .answered_without_result
                .push(format!("{} {}", command.operation, command.idempotency_key));
        } else if !positions.contains(&(command.service, command.position)) {
            result.lost_commands.push(format!(
                "{} {} (position {})",
                command.operation, command.idempotency_key, command.position
            ));
        }
        let key = (command.service, command.idempotency_key.as_str());
        if let Some(first) = answered.insert(key, command.position)
            && first != command.position
            && command.position != 0
        {
            result.repeated_commands.push(format!(
                "{} {} answered positions {first} and {}",
                command.operation, command.idempotency_key, command.position
            ));
        }
    }
}

/// Compares the JetStream stream `name` with the events of its store, `stored` in read order.
pub async fn check_stream(
    js: &jetstream::Context,
    name: &str,
    stored: &[RecordedEvent],
) -> anyhow::Result<StreamCheck> {
    let name = name.to_owned();
    let mut check = StreamCheck {
        stream: name.clone(),
        stored: stored.len(),
        ..StreamCheck::default()
    };
    let stream = js.get_stream(&name).await?;
    let state = stream.get_info().await?.state;
    // The store's read order (commit order, which is not always position order).
    let order: HashMap<_, usize> = stored.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let mut seen = HashSet::new();
    let mut last_index = None;
    for sequence in state.first_sequence..=state.last_sequence {
        if state.messages == 0 {
            break;
        }
        // A deleted sequence (none are, unless limits removed messages) is skipped.
        let Ok(message) = stream.get_raw_message(sequence).await else {
            continue;
        };
        let event = envelope::decode(Some(&message.headers), &message.payload)?;
        check.published += 1;
        if !seen.insert(event.id) {
            // A duplicate is counted once, as a duplicate; the order is that of first copies.
            check.duplicated += 1;
            continue;
        }
        if let Some(&index) = order.get(&event.id) {
            if last_index.is_some_and(|last| index <= last) {
                check.out_of_order += 1;
            }
            last_index = Some(index);
        }
    }
    let stored_ids: HashSet<_> = stored.iter().map(|e| e.id).collect();
    check.lost = stored_ids.difference(&seen).count();
    check.unknown = seen.difference(&stored_ids).count();
    Ok(check)
}

/// Rebuilds the divisions projection from zero into a fresh database and compares.
async fn check_projection(
    suite: &Suite,
    placenames: SharedStore,
) -> anyhow::Result<ProjectionCheck> {
    let rebuild = "rebuild";
    let mut admin = PgConnection::connect(&suite.postgres.url("postgres")).await?;
    sqlx::query("DROP DATABASE IF EXISTS rebuild")
        .execute(&mut admin)
        .await?;
    sqlx::query("CREATE DATABASE rebuild")
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    // Connecting the store creates the platform's tables (the inbox among them).
    let _ = suite.store(rebuild).await?;
    let rebuilt = connect_any(&suite.postgres.url(rebuild), DEFAULT_ACQUIRE_TIMEOUT).await?;
    minzheng_eventstore::migrations::run_service(
        &rebuilt,
        &minzheng_civilregistry::Module::default().migrations(),
    )
    .await?;
    let consumer = Consumer::new(
        Arc::new(Typed::new(DivisionsProjection)),
        rebuilt.clone(),
        minzheng_bus::Source::from(FeedSource::new(placenames)),
    )?;
    while consumer.catch_up().await? > 0 {}

    let survivor = connect_any(
        &suite.postgres.url("civilregistry"),
        DEFAULT_ACQUIRE_TIMEOUT,
    )
    .await?;
    let rows = divisions(&survivor).await?;
    let rebuilt_rows = divisions(&rebuilt).await?;
    let applied = inbox(&survivor).await?;
    let rebuilt_inbox = inbox(&rebuilt).await?;
    let parked: i64 = sqlx::query("SELECT count(*) AS n FROM mz_parked")
        .fetch_one(&survivor)
        .await?
        .try_get("n")?;
    let rebuilt_set: HashSet<_> = rebuilt_rows.iter().collect();
    let survivor_set: HashSet<_> = rows.iter().collect();
    Ok(ProjectionCheck {
        rows: rows.len(),
        rebuilt_rows: rebuilt_rows.len(),
        differing_rows: survivor_set.symmetric_difference(&rebuilt_set).count(),
        inbox: applied.len(),
        rebuilt_inbox: rebuilt_inbox.len(),
        inbox_missing: rebuilt_inbox.difference(&applied).count(),
        inbox_extra: applied.difference(&rebuilt_inbox).count(),
        parked,
    })
}

/// `cr_divisions`, every column as text, by code.
async fn divisions(pool: &AnyPool) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT code || '|' || name || '|' || CAST(level AS TEXT) || '|' || valid_from || '|' \
         || COALESCE(valid_to, '') AS row FROM cr_divisions ORDER BY code",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>("row")?))
        .collect()
}

async fn inbox(pool: &AnyPool) -> anyhow::Result<HashSet<String>> {
    let rows = sqlx::query("SELECT event_id FROM mz_inbox WHERE consumer = $1")
        .bind(CONSUMER)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>("event_id")?))
        .collect()
}
