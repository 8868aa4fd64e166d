//! The end of a run: once faults stop and everything has caught up, every store, stream and
//! projection is compared with what the load was told.
//!
//! - durable: every acknowledged command's last event is in its service's store, at the
//!   position the answer gave, and no idempotency key was answered with two positions;
//! - published once: every event of a store is in the service's JetStream stream exactly once
//!   (by `ce-id`), nothing is in the stream that is not in the store, and the stream is in the
//!   store's read order (commit order);
//! - applied once: each service's divisions projection (`cr_divisions`, `ec_divisions`,
//!   `cw_divisions`) and its inbox equal a rebuild from zero: the same projection run over the
//!   place-names store, through an embedded feed, into a fresh database; each feed that acts on
//!   the civil registry's deaths (elderly care, child welfare) has every event of that store in
//!   its inbox (none missing, none unknown); and every effect the ledger expects (a death noted
//!   on the record of a person the load had assessed or identified) is in its service's store
//!   exactly once, while no record holds such an effect twice;
//! - created once: each command of the load that creates a record under an id the service
//!   issues or derives (an institution, an assessment, a case, an identification) stored that
//!   record once per idempotency key, however often it was sent: no more creations than commands
//!   acknowledged and commands given up, no fewer than those acknowledged.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use async_nats::jetstream;
use minzheng_bus::{Consumer, FeedSource, Projection, connect_any, envelope};
use minzheng_eventstore::{
    Cursor, DEFAULT_ACQUIRE_TIMEOUT, RecordedEvent, SharedStore, migrations::ServiceMigration,
};
use minzheng_host::{ServiceModule, codec::Typed, divisions::Divisions};
use sqlx::{AnyPool, Connection as _, PgConnection, Row as _};
use tokio::time::Instant;

use super::{
    ledger::{Acknowledged, Effect, OperationStats},
    suite::{CONSUMERS, ConsumerOf, Follows, SERVICES, Suite},
};

/// The load's commands that create a record, with the service and the stored type of the event
/// that records the creation.
const CREATIONS: [(&str, &str, &str); 4] = [
    (
        "eldercare",
        "eldercare.RegisterInstitution",
        "minzheng.eldercare.v1.InstitutionRegistered",
    ),
    (
        "eldercare",
        "eldercare.RecordAssessment",
        "minzheng.eldercare.v1.AssessmentRecorded",
    ),
    (
        "childwelfare",
        "childwelfare.FileReport",
        "minzheng.childwelfare.v1.ProtectionCaseOpened",
    ),
    (
        "childwelfare",
        "childwelfare.IdentifyChild",
        "minzheng.childwelfare.v1.ChildIdentified",
    ),
];

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

/// A divisions projection compared with its rebuild.
#[derive(Debug, Clone, Default)]
pub struct ProjectionCheck {
    /// The projection's table.
    pub table: String,
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

/// A feed's inbox compared with its producer's store.
#[derive(Debug, Clone, Default)]
pub struct InboxCheck {
    /// The consumer, as `<service>/<consumer name>`.
    pub consumer: String,
    /// Events in the producer's store that the consumer handles.
    pub produced: usize,
    /// Events in the consumer's inbox.
    pub applied: usize,
    /// Produced, not in the inbox (never applied, or parked).
    pub missing: usize,
    /// In the inbox, not in the producer's store.
    pub unknown: usize,
    pub parked: i64,
}

impl InboxCheck {
    pub fn complete(&self) -> bool {
        self.missing == 0 && self.unknown == 0
    }
}

/// The consumers' effects the ledger expects, as found in the stores.
#[derive(Debug, Clone, Default)]
pub struct EffectCheck {
    pub expected: usize,
    /// Expected effects not in their store (cause, record's service and event type).
    pub missing: Vec<String>,
    /// Records holding an effect of an expected kind more than once (service, event type, how
    /// many times), expected or not.
    pub repeated: Vec<String>,
}

/// The records one kind of command created, against the commands.
#[derive(Debug, Clone, Default)]
pub struct CreationCheck {
    pub operation: String,
    /// Idempotency keys acknowledged.
    pub acknowledged: usize,
    /// Commands given up unacknowledged (each may or may not have been stored).
    pub unresolved: u64,
    /// Creation events in the store.
    pub stored: usize,
}

impl CreationCheck {
    /// Every acknowledged command stored once, and nothing more than the commands given up.
    pub fn once(&self) -> bool {
        self.acknowledged <= self.stored
            && self.stored as u64 <= self.acknowledged as u64 + self.unresolved
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
    /// One per divisions projection.
    pub projections: Vec<ProjectionCheck>,
    /// One per feed.
    pub inboxes: Vec<InboxCheck>,
    pub effects: EffectCheck,
    /// One per command that creates a record.
    pub creations: Vec<CreationCheck>,
}

/// Waits until every relay has published its store and every consumer has applied everything,
/// then reconciles.
pub async fn reconcile(
    suite: &Suite,
    acknowledged: &[Acknowledged],
    effects: &[Effect],
    operations: &BTreeMap<&'static str, OperationStats>,
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
    result.effects = check_effects(&events, effects);
    result.creations = check_creations(&events, acknowledged, operations);
    for consumer in &CONSUMERS {
        match consumer.follows {
            Follows::Divisions { table } => result.projections.push(
                check_projection(suite, consumer, table, stores["placenames"].clone()).await?,
            ),
            Follows::Feed => result
                .inboxes
                .push(check_inbox(suite, consumer, &events[consumer.producer]).await?),
        }
    }
    Ok(result)
}

/// Waits (bounded) until each relay's checkpoint is at its store's head and every consumer has
/// nothing pending or unacknowledged; what had not caught up, if anything.
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
        for consumer in &CONSUMERS {
            if !Suite::consumer_caught_up(js, consumer).await {
                behind.push(format!("consumer {}/{}", consumer.service, consumer.name));
            }
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

/// Every expected effect once in its service's store; no record with an effect of those kinds
/// twice.
fn check_effects(
    events: &BTreeMap<&'static str, Vec<RecordedEvent>>,
    expected: &[Effect],
) -> EffectCheck {
    let kinds: HashSet<(&str, &str)> = expected.iter().map(|e| (e.service, e.event_type)).collect();
    let mut counts: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for (service, events) in events {
        for event in events {
            if kinds.contains(&(*service, event.event_type.as_str())) {
                *counts
                    .entry((*service, event.event_type.as_str(), event.stream.key()))
                    .or_default() += 1;
            }
        }
    }
    let mut check = EffectCheck {
        expected: expected.len(),
        ..EffectCheck::default()
    };
    for effect in expected {
        let key = (effect.service, effect.event_type, effect.record.as_str());
        if !counts.contains_key(&key) {
            check.missing.push(format!(
                "{} in {} after {}",
                effect.event_type, effect.service, effect.cause
            ));
        }
    }
    for ((service, event_type, _), count) in counts {
        if count > 1 {
            check.repeated.push(format!(
                "{event_type} {count} times on one record of {service}"
            ));
        }
    }
    check
}

/// Each command of [`CREATIONS`]: its creation events in the store against its acknowledged
/// idempotency keys and its commands given up.
fn check_creations(
    events: &BTreeMap<&'static str, Vec<RecordedEvent>>,
    acknowledged: &[Acknowledged],
    operations: &BTreeMap<&'static str, OperationStats>,
) -> Vec<CreationCheck> {
    CREATIONS
        .iter()
        .map(|(service, operation, event_type)| {
            let keys: HashSet<&str> = acknowledged
                .iter()
                .filter(|c| c.operation == *operation)
                .map(|c| c.idempotency_key.as_str())
                .collect();
            CreationCheck {
                operation: (*operation).to_owned(),
                acknowledged: keys.len(),
                unresolved: operations.get(operation).map_or(0, |s| s.unresolved),
                stored: events.get(service).map_or(0, |events| {
                    events
                        .iter()
                        .filter(|e| e.event_type == *event_type)
                        .count()
                }),
            }
        })
        .collect()
}

/// The inbox of the feed `consumer` against every event of its producer's store, `produced`,
/// that it handles.
async fn check_inbox(
    suite: &Suite,
    consumer: &ConsumerOf,
    produced: &[RecordedEvent],
) -> anyhow::Result<InboxCheck> {
    let pool = connect_any(
        &suite.postgres.url(consumer.service),
        DEFAULT_ACQUIRE_TIMEOUT,
    )
    .await?;
    let applied = inbox(&pool, consumer.name).await?;
    let parked = parked(&pool, consumer.name).await?;
    pool.close().await;
    let produced: HashSet<String> = produced
        .iter()
        .filter(|e| (consumer.handles)(e))
        .map(|e| e.id.to_string())
        .collect();
    Ok(InboxCheck {
        consumer: format!("{}/{}", consumer.service, consumer.name),
        produced: produced.len(),
        applied: applied.len(),
        missing: produced.difference(&applied).count(),
        unknown: applied.difference(&produced).count(),
        parked,
    })
}

/// The divisions projection of `service` over a pool, with the migrations that create its table.
fn divisions_projection(
    service: &str,
    pool: AnyPool,
) -> anyhow::Result<(Arc<dyn Projection>, Vec<ServiceMigration>)> {
    Ok(match service {
        "civilregistry" => (
            Arc::new(Typed::new(
                minzheng_civilregistry::divisions::DivisionsProjection,
            )),
            minzheng_civilregistry::Module::default().migrations(),
        ),
        "eldercare" => (
            Arc::new(Typed::new(minzheng_eldercare::divisions::projection(
                minzheng_eldercare::divisions::open(pool),
            ))),
            minzheng_eldercare::Module::default().migrations(),
        ),
        "childwelfare" => (
            Arc::new(Typed::new(
                minzheng_host::divisions::DivisionsProjection::new(
                    Divisions::new(pool, minzheng_childwelfare::module::DIVISIONS_TABLE),
                    minzheng_childwelfare::module::DIVISIONS_CONSUMER,
                ),
            )),
            minzheng_childwelfare::Module::default().migrations(),
        ),
        other => anyhow::bail!("no divisions projection of {other} to rebuild"),
    })
}

/// Rebuilds `consumer`'s divisions projection (into `table`) from zero into a fresh database
/// and compares.
async fn check_projection(
    suite: &Suite,
    consumer: &ConsumerOf,
    table: &str,
    placenames: SharedStore,
) -> anyhow::Result<ProjectionCheck> {
    let rebuild = format!("rebuild_{}", consumer.service);
    let mut admin = PgConnection::connect(&suite.postgres.url("postgres")).await?;
    // The name is a service's, of lowercase letters.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {rebuild}"
    )))
    .execute(&mut admin)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {rebuild}")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    // Connecting the store creates the platform's tables (the inbox among them).
    let _ = suite.store(&rebuild).await?;
    let rebuilt = connect_any(&suite.postgres.url(&rebuild), DEFAULT_ACQUIRE_TIMEOUT).await?;
    let (projection, migrations) = divisions_projection(consumer.service, rebuilt.clone())?;
    minzheng_eventstore::migrations::run_service(&rebuilt, &migrations).await?;
    let feed = Consumer::new(
        projection,
        rebuilt.clone(),
        minzheng_bus::Source::from(FeedSource::new(placenames)),
    )?;
    while feed.catch_up().await? > 0 {}

    let survivor = connect_any(
        &suite.postgres.url(consumer.service),
        DEFAULT_ACQUIRE_TIMEOUT,
    )
    .await?;
    let rows = divisions(&survivor, table).await?;
    let rebuilt_rows = divisions(&rebuilt, table).await?;
    let applied = inbox(&survivor, consumer.name).await?;
    let rebuilt_inbox = inbox(&rebuilt, consumer.name).await?;
    let parked = parked(&survivor, consumer.name).await?;
    survivor.close().await;
    rebuilt.close().await;
    let rebuilt_set: HashSet<_> = rebuilt_rows.iter().collect();
    let survivor_set: HashSet<_> = rows.iter().collect();
    Ok(ProjectionCheck {
        table: table.to_owned(),
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

/// The rows of the divisions table `table`, each as PostgreSQL's text of the whole row.
async fn divisions(pool: &AnyPool, table: &str) -> anyhow::Result<Vec<String>> {
    // The table's name is a constant of a service.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(t AS TEXT) AS row FROM {table} t ORDER BY code"
    )))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>("row")?))
        .collect()
}

async fn inbox(pool: &AnyPool, consumer: &str) -> anyhow::Result<HashSet<String>> {
    let rows = sqlx::query("SELECT event_id FROM mz_inbox WHERE consumer = $1")
        .bind(consumer)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>("event_id")?))
        .collect()
}

async fn parked(pool: &AnyPool, consumer: &str) -> anyhow::Result<i64> {
    Ok(
        sqlx::query("SELECT count(*) AS n FROM mz_parked WHERE consumer = $1")
            .bind(consumer)
            .fetch_one(pool)
            .await?
            .try_get("n")?,
    )
}

#[cfg(test)]
mod tests {
    use minzheng_eventstore::{Metadata, StreamId};

    use super::*;

    fn event(stream: &str, key: &str, event_type: &str) -> RecordedEvent {
        RecordedEvent {
            id: uuid::Uuid::now_v7(),
            stream: StreamId::new(stream, key).expect("a stream id"),
            stream_version: 1,
            position: 1,
            cursor: Cursor::START,
            event_type: event_type.to_owned(),
            schema_version: 1,
            payload: bytes::Bytes::new(),
            metadata: Metadata::default(),
            recorded_at: time::macros::datetime!(2026-01-01 0:00 UTC),
        }
    }

    fn effect(record: &str) -> Effect {
        Effect {
            service: "eldercare",
            record: record.to_owned(),
            event_type: "test.v1.DeathNoted",
            cause: format!("death of {record}"),
        }
    }

    /// An effect found once passes; one never applied is missing; one applied twice — expected
    /// or not — is repeated; events of other types or services do not count.
    #[test]
    fn the_effect_check_counts_missing_and_repeated_effects() {
        let noted = |key| event("elder", key, "test.v1.DeathNoted");
        let stored = BTreeMap::from([
            (
                "eldercare",
                vec![
                    noted("a"),
                    noted("b"),
                    noted("b"),
                    noted("c"),
                    noted("c"),
                    event("elder", "d", "test.v1.Assessed"),
                ],
            ),
            (
                "childwelfare",
                vec![event("child", "d", "test.v1.DeathNoted")],
            ),
        ]);
        let check = check_effects(&stored, &[effect("a"), effect("b"), effect("d")]);
        assert_eq!(check.expected, 3);
        assert_eq!(
            check.missing,
            ["test.v1.DeathNoted in eldercare after death of d"]
        );
        assert_eq!(check.repeated.len(), 2, "{:?}", check.repeated);
    }
}
