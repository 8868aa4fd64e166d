//! The faults, one scenario each, injected one at a time while the load runs, in an order and
//! with pauses and lengths drawn from the seed. Each fault ends with the suite whole again
//! (servers up, every process serving); a process that exited on its own on the way is
//! restarted and its exit reported.
//!
//! | kind | what it does | what must hold |
//! |---|---|---|
//! | `postgres-down` | stops PostgreSQL for a few seconds | RPCs answer UNAVAILABLE/DEADLINE_EXCEEDED promptly, never INTERNAL (the ledger judges) |
//! | `relay-stall` | kills a service right after its relay published and before it saved its checkpoint, restarts it after the stream's duplicate window | no event twice in the stream (reconciliation) |
//! | `held-transaction` | holds a transaction with a write open in another database of the cluster | the relays keep publishing meanwhile |
//! | `consumer-kill` | kills a consuming service (one of the suite's [`CONSUMERS`], drawn: a divisions projection or a deaths feed) while events are pending for that consumer, restarts it | projections equal their rebuilds, feeds applied every event once, effects once (reconciliation) |
//! | `stream-settings` | an operator changes a stream's `max_bytes` and `deny_delete`; the service restarts | the operator's settings are still there |
//! | `nats-restart` | stops nats-server (gracefully) for a moment | nothing lost or twice (reconciliation) |
//! | `process-kill` | kills a random service at a random moment, restarts it | nothing lost or twice (reconciliation) |
//!
//! Read-your-writes and personal data in subjects are checked all along, by the load and the
//! scanner.

use std::{collections::BTreeMap, time::Duration};

use anyhow::Context as _;
use async_nats::jetstream;
use minzheng_bus::envelope::CE_POSITION;
use minzheng_eventstore::{EventStore as _, postgres::PostgresStore};
use sqlx::{Connection as _, PgConnection};
use tokio::time::Instant;

use super::{
    ledger::{Ledger, PROMPT},
    rng::Rng,
    suite::{CONSUMERS, OTHER_DATABASE, SERVICES, Suite},
};

/// One kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    PostgresDown,
    RelayStall,
    HeldTransaction,
    ConsumerKill,
    StreamSettings,
    NatsRestart,
    ProcessKill,
}

impl FaultKind {
    pub const ALL: [FaultKind; 7] = [
        FaultKind::PostgresDown,
        FaultKind::RelayStall,
        FaultKind::HeldTransaction,
        FaultKind::ConsumerKill,
        FaultKind::StreamSettings,
        FaultKind::NatsRestart,
        FaultKind::ProcessKill,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::PostgresDown => "postgres-down",
            FaultKind::RelayStall => "relay-stall",
            FaultKind::HeldTransaction => "held-transaction",
            FaultKind::ConsumerKill => "consumer-kill",
            FaultKind::StreamSettings => "stream-settings",
            FaultKind::NatsRestart => "nats-restart",
            FaultKind::ProcessKill => "process-kill",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// How long faults last and how far apart they are.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// The quiet time between two faults.
    pub gap: (Duration, Duration),
    /// How long PostgreSQL stays down, a transaction stays open, NATS stays down.
    pub outage: (Duration, Duration),
}

/// What the faults did and saw.
#[derive(Debug, Clone, Default)]
pub struct FaultLog {
    pub injected: BTreeMap<FaultKind, u64>,
    /// Relay stalls whose kill landed between a publish and its checkpoint.
    pub stalls_caught: u64,
    /// Notes for the report (e.g. a stream's real duplicate window).
    pub notes: Vec<String>,
    pub violations: Vec<String>,
}

/// Injects faults of `kinds`, dealt in shuffled rounds, until `until`; the first round is always
/// completed, so every kind is injected at least once even when its faults take longer than the
/// time given.
pub async fn run(
    suite: &mut Suite,
    kinds: &[FaultKind],
    rng: &mut Rng,
    pacing: Pacing,
    until: Instant,
    ledger: &Ledger,
) -> FaultLog {
    let mut log = FaultLog::default();
    let mut round = kinds.to_vec();
    rng.shuffle(&mut round);
    let mut first_round = true;
    while !kinds.is_empty() && (first_round || Instant::now() < until) {
        if round.is_empty() {
            first_round = false;
            round = kinds.to_vec();
            rng.shuffle(&mut round);
            continue;
        }
        let kind = round.pop().expect("a non-empty round");
        tokio::time::sleep(rng.duration(pacing.gap.0, pacing.gap.1)).await;
        if !first_round && Instant::now() >= until {
            break;
        }
        *log.injected.entry(kind).or_default() += 1;
        if let Err(error) = inject(kind, suite, rng, pacing, ledger, &mut log).await {
            log.violations.push(format!(
                "{}: the fault could not be completed: {error:#}",
                kind.name()
            ));
        }
        if let Err(error) = recover(suite, ledger).await {
            log.violations.push(format!(
                "after {}: the suite did not recover: {error:#}",
                kind.name()
            ));
        }
    }
    log
}

/// Brings everything back: servers up, every process serving.
pub async fn recover(suite: &mut Suite, ledger: &Ledger) -> anyhow::Result<()> {
    ledger.set_postgres_down(false);
    suite.postgres.restart()?;
    suite.nats.restart();
    for process in &mut suite.processes {
        if process.revive().await? {
            continue;
        }
        process.start().await?;
    }
    Ok(())
}

async fn inject(
    kind: FaultKind,
    suite: &mut Suite,
    rng: &mut Rng,
    pacing: Pacing,
    ledger: &Ledger,
    log: &mut FaultLog,
) -> anyhow::Result<()> {
    let outage = rng.duration(pacing.outage.0, pacing.outage.1);
    match kind {
        FaultKind::PostgresDown => {
            // Down longer than an answer may take, so that calls meet the outage, not a blip.
            let down = outage.max(PROMPT + Duration::from_secs(1));
            suite.postgres.stop()?;
            ledger.set_postgres_down(true);
            tokio::time::sleep(down).await;
            ledger.set_postgres_down(false);
            suite.postgres.restart()?;
        }
        FaultKind::RelayStall => relay_stall(suite, rng, log).await?,
        FaultKind::HeldTransaction => {
            held_transaction(suite, outage.max(Duration::from_secs(5)), log).await?
        }
        FaultKind::ConsumerKill => consumer_kill(suite, rng).await?,
        FaultKind::StreamSettings => stream_settings(suite, rng, log).await?,
        FaultKind::NatsRestart => {
            suite.nats.stop();
            tokio::time::sleep(outage.min(Duration::from_secs(3))).await;
            suite.nats.restart();
        }
        FaultKind::ProcessKill => {
            let service = *rng.pick(&SERVICES);
            let down = rng.duration(Duration::ZERO, Duration::from_secs(2));
            let process = suite.process(service);
            process.kill();
            tokio::time::sleep(down).await;
            process.start().await?;
        }
    }
    Ok(())
}

/// The position of the last message in `service`'s stream (0 when empty).
async fn last_published(js: &jetstream::Context, service: &str) -> anyhow::Result<u64> {
    let stream = js.get_stream(Suite::naming(service).stream_name()).await?;
    let last = stream.get_info().await?.state.last_sequence;
    if last == 0 {
        return Ok(0);
    }
    let message = stream.get_raw_message(last).await?;
    let position = message
        .headers
        .get(CE_POSITION)
        .context("a stream message without ce-position")?
        .as_str()
        .parse()?;
    Ok(position)
}

async fn relay_checkpoint(store: &PostgresStore, service: &str) -> anyhow::Result<u64> {
    Ok(store
        .load_checkpoint(&Suite::naming(service).relay_checkpoint())
        .await?
        .position)
}

/// Watches a service until its stream holds an event its relay has not checkpointed yet (the
/// relay is between publishing a batch and saving its checkpoint), kills it there, and keeps it
/// down longer than the stream's duplicate window, so JetStream no longer remembers the ids the
/// restarted relay publishes again.
async fn relay_stall(suite: &mut Suite, rng: &mut Rng, log: &mut FaultLog) -> anyhow::Result<()> {
    let service = *rng.pick(&SERVICES);
    let store = suite.store(service).await?;
    let js = jetstream::new(suite.nats_client().await?);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut caught = false;
    while Instant::now() < deadline {
        let published = last_published(&js, service).await.unwrap_or(0);
        let checkpoint = relay_checkpoint(&store, service).await.unwrap_or(u64::MAX);
        if published > checkpoint {
            caught = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    suite.process(service).kill();
    if caught {
        log.stalls_caught += 1;
    }
    let window = js
        .get_stream(Suite::naming(service).stream_name())
        .await?
        .get_info()
        .await?
        .config
        .duplicate_window;
    const LONGEST_STALL: Duration = Duration::from_secs(30);
    let stall = if window < LONGEST_STALL {
        window + Duration::from_secs(1)
    } else {
        let note = format!(
            "relay-stall: stream {} keeps a duplicate window of {window:?} (asked for {:?}); \
             the stall ({LONGEST_STALL:?}) is shorter, so JetStream's deduplication may hide a \
             republished batch",
            Suite::naming(service).stream_name(),
            suite.duplicate_window
        );
        if !log.notes.contains(&note) {
            log.notes.push(note);
        }
        LONGEST_STALL
    };
    tokio::time::sleep(stall).await;
    suite.process(service).start().await
}

/// How many events `service`'s store holds, counted directly (not through the store's reader,
/// whose horizon a held transaction may hold back). Counts, not positions: positions are taken
/// at insert time, so the last event published is not always the highest position.
async fn stored_count(suite: &Suite, service: &str) -> anyhow::Result<u64> {
    let mut conn = PgConnection::connect(&suite.postgres.url(service)).await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM mz_events")
        .fetch_one(&mut conn)
        .await?;
    let _ = conn.close().await;
    Ok(u64::try_from(count)?)
}

/// How many messages `service`'s stream holds (0 before it exists).
async fn published_count(js: &jetstream::Context, service: &str) -> u64 {
    match js.get_stream(Suite::naming(service).stream_name()).await {
        Ok(stream) => stream
            .get_info()
            .await
            .map_or(0, |info| info.state.messages),
        Err(_) => 0,
    }
}

/// Waits (at most `within`) until `service`'s stream holds as many messages as its store held
/// events when this began; `(published, stored)` when it does not.
async fn relay_catches_up(
    suite: &Suite,
    js: &jetstream::Context,
    service: &str,
    within: Duration,
) -> anyhow::Result<Result<(), (u64, u64)>> {
    let stored = stored_count(suite, service).await?;
    let deadline = Instant::now() + within;
    loop {
        let published = published_count(js, service).await;
        if published >= stored {
            return Ok(Ok(()));
        }
        if Instant::now() >= deadline {
            return Ok(Err((published, stored)));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Holds a transaction that wrote something open in another database of the cluster for
/// `hold`, and checks that meanwhile each relay published everything committed before it began.
/// A relay already behind before the hold (another fault's doing) is not judged.
async fn held_transaction(
    suite: &mut Suite,
    hold: Duration,
    log: &mut FaultLog,
) -> anyhow::Result<()> {
    let js = jetstream::new(suite.nats_client().await?);
    let mut heads = Vec::new();
    for service in SERVICES {
        if let Err((published, head)) =
            relay_catches_up(suite, &js, service, Duration::from_secs(10)).await?
        {
            log.notes.push(format!(
                "held-transaction: the {service} relay was behind before the hold (published \
                 {published} of {head} events); not judged this time"
            ));
            continue;
        }
        heads.push((service, stored_count(suite, service).await?));
    }
    let mut elsewhere = PgConnection::connect(&suite.postgres.url(OTHER_DATABASE)).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS held (at timestamptz NOT NULL)")
        .execute(&mut elsewhere)
        .await?;
    sqlx::query("BEGIN").execute(&mut elsewhere).await?;
    // A write gives the transaction an xid: it is now the cluster's oldest running transaction.
    sqlx::query("INSERT INTO held VALUES (now())")
        .execute(&mut elsewhere)
        .await?;
    tokio::time::sleep(hold).await;
    for (service, head) in heads {
        let published = published_count(&js, service).await;
        if published < head {
            log.violations.push(format!(
                "held-transaction: while a transaction was open in database {OTHER_DATABASE} for \
                 {hold:?}, the {service} relay published {published} events only, though \
                 {head} were committed before it began"
            ));
        }
    }
    sqlx::query("COMMIT").execute(&mut elsewhere).await?;
    Ok(())
}

/// Kills the service of a consumer drawn from [`CONSUMERS`] while that consumer has messages
/// pending or unacknowledged (mid-batch, as far as can be seen from outside), restarts it after
/// a moment.
async fn consumer_kill(suite: &mut Suite, rng: &mut Rng) -> anyhow::Result<()> {
    let consumer = *rng.pick(&CONSUMERS);
    let js = jetstream::new(suite.nats_client().await?);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let busy = Suite::consumer_backlog(&js, &consumer)
            .await
            .is_some_and(|(pending, unacknowledged)| pending > 0 || unacknowledged > 0);
        if busy {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let down = rng.duration(Duration::from_millis(200), Duration::from_secs(3));
    let process = suite.process(consumer.service);
    process.kill();
    tokio::time::sleep(down).await;
    process.start().await
}

/// An operator sets a service's stream's `max_bytes` and `deny_delete`; the service restarts
/// (gracefully); the settings must be as the operator left them.
async fn stream_settings(
    suite: &mut Suite,
    rng: &mut Rng,
    log: &mut FaultLog,
) -> anyhow::Result<()> {
    let service = *rng.pick(&SERVICES);
    let js = jetstream::new(suite.nats_client().await?);
    let name = Suite::naming(service).stream_name().to_owned();
    let mut config = js.get_stream(&name).await?.get_info().await?.config;
    // Within what the run's server can reserve (it refuses limits beyond its storage).
    config.max_bytes = (256 << 20) + i64::try_from(rng.between(0, 1 << 20))?;
    config.deny_delete = true;
    js.update_stream(&config)
        .await
        .context("updating the stream as an operator")?;
    let process = suite.process(service);
    process.terminate(Duration::from_secs(15)).await;
    process.start().await?;
    // The relay sets its stream up when it starts: it must publish again, and leave the
    // operator's settings as they are.
    if let Err((published, head)) =
        relay_catches_up(suite, &js, service, Duration::from_secs(15)).await?
    {
        log.violations.push(format!(
            "stream-settings: after an operator set max_bytes and deny_delete on {name} and \
             {service} restarted, its relay had published {published} of {head} events 15 s \
             later (see its log)"
        ));
    }
    let after = js.get_stream(&name).await?.get_info().await?.config;
    if after.max_bytes != config.max_bytes || after.deny_delete != config.deny_delete {
        log.violations.push(format!(
            "stream-settings: after {service} restarted, stream {name} has max_bytes {} and \
             deny_delete {} where the operator set {} and {}",
            after.max_bytes, after.deny_delete, config.max_bytes, config.deny_delete
        ));
    }
    Ok(())
}
