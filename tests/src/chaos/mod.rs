//! The fault-injection harness (`make chaos`, and its short form in `tests/tests/chaos.rs`):
//! the suite as production runs it — each service its own `minzheng <service>` process on a
//! private PostgreSQL cluster and `nats-server` ([`suite`]) — under a steady command load
//! ([`load`]) while faults are injected one kind at a time ([`faults`]); at the end every store,
//! stream and projection is reconciled with what the load was told ([`reconcile`]) and a
//! [`report`] says what held. Seeded ([`rng`]) and bounded in time.
//!
//! The promise it checks: no acknowledged command is lost, no event is published or applied
//! twice, infrastructure trouble gets an honest answer (UNAVAILABLE, promptly), and personal
//! data never reaches a subject, a key or a log ([`scan`]).

pub mod faults;
pub mod ledger;
pub mod load;
pub mod postgres;
pub mod processes;
pub mod reconcile;
pub mod report;
pub mod rng;
pub mod scan;
pub mod suite;

use std::{path::PathBuf, time::Duration};

use anyhow::Context as _;
use tokio::time::Instant;

use self::{
    faults::{FaultKind, Pacing},
    ledger::Ledger,
    load::{Load, Stop},
    report::Report,
    rng::Rng,
    scan::Scanner,
    suite::{CONSUMERS, Follows, SERVICES, Suite},
};

/// How long the services that follow the place-names divisions may take to know Benxi's.
const DIVISIONS_KNOWN_WITHIN: Duration = Duration::from_secs(60);

/// How long commands still under way at the end may keep retrying.
const GRACE: Duration = Duration::from_secs(60);

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    /// How long the load and the faults run (reconciliation comes after).
    pub duration: Duration,
    /// The fault kinds to inject.
    pub faults: Vec<FaultKind>,
    pub pacing: Pacing,
    /// The pause between two units of work of each load worker (11 workers; those of the
    /// elderly-care and child-welfare services and the deaths pause a few times longer).
    pub load_pace: Duration,
    /// The duplicate window the services' streams are asked for; relay stalls last longer.
    pub duplicate_window: Duration,
    /// Where the services' logs go (kept after the run).
    pub log_dir: PathBuf,
}

impl Options {
    /// Pacing for `duration`: short runs fit every kind in; long ones leave room between.
    pub fn pacing_for(duration: Duration) -> Pacing {
        if duration <= Duration::from_secs(180) {
            Pacing {
                gap: (Duration::from_secs(1), Duration::from_secs(3)),
                outage: (Duration::from_secs(2), Duration::from_secs(5)),
            }
        } else {
            Pacing {
                gap: (Duration::from_secs(3), Duration::from_secs(15)),
                outage: (Duration::from_secs(3), Duration::from_secs(12)),
            }
        }
    }
}

/// Runs the suite under load and faults and reconciles it.
pub async fn run(options: Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    let mut rng = Rng::new(options.seed);
    std::fs::create_dir_all(&options.log_dir)?;
    let mut suite = Suite::start(options.duplicate_window, options.log_dir.clone())
        .await
        .context("starting the suite")?;
    let environment = format!(
        "private PostgreSQL on port {} and nats-server at {}; services as processes; logs in {}",
        suite.postgres.port(),
        suite.nats.url(),
        suite.log_dir.display()
    );
    let scanner = Scanner::start(suite.nats_client().await?).await?;
    let ledger = Ledger::default();
    let stop = Stop::default();
    let load = Load::new(
        ledger.clone(),
        stop.clone(),
        |service| suite.addr(service),
        minzheng_host::testing::TOKEN_SECRET,
        options.duration,
        options.load_pace,
    )?;
    load.seed().await.context("seeding Benxi's divisions")?;
    divisions_known(&suite)
        .await
        .context("waiting for Benxi's divisions")?;
    let load = tokio::spawn(load.run());

    let until = Instant::now() + options.duration;
    let fault_log = faults::run(
        &mut suite,
        &options.faults,
        &mut rng,
        options.pacing,
        until,
        &ledger,
    )
    .await;
    tokio::time::sleep_until(until).await;
    stop.finish.cancel();
    let give_up = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(GRACE).await;
            stop.give_up.cancel();
        })
    };
    let _ = load.await;
    give_up.abort();
    faults::recover(&mut suite, &ledger).await?;

    let reconciliation = reconcile::reconcile(
        &suite,
        &ledger.acknowledged_commands(),
        &ledger.expected_effects(),
        &ledger.operations(),
    )
    .await?;
    let citizen_ids = ledger.citizen_ids();
    let bus_messages_scanned = scanner.messages.load(std::sync::atomic::Ordering::Relaxed);
    let sightings = scanner.finish(&citizen_ids);

    let mut violations = ledger.violations();
    violations.extend(fault_log.violations.iter().cloned());
    let r = &reconciliation;
    if !r.unsettled.is_empty() {
        violations.push(format!(
            "not caught up within the settle time: {}",
            r.unsettled.join(", ")
        ));
    }
    for lost in r.lost_commands.iter().take(20) {
        violations.push(format!("acknowledged command not in the store: {lost}"));
    }
    if r.lost_commands.len() > 20 {
        violations.push(format!(
            "… {} acknowledged commands lost in all",
            r.lost_commands.len()
        ));
    }
    if !r.answered_without_result.is_empty() {
        violations.push(format!(
            "{} acknowledged commands (stored: found by idempotency key or record id) were \
             answered without their first result (no position), e.g. {}",
            r.answered_without_result.len(),
            r.answered_without_result[0]
        ));
    }
    for repeated in r.repeated_commands.iter().take(20) {
        violations.push(format!("command executed twice: {repeated}"));
    }
    for c in r.creations.iter().filter(|c| !c.once()) {
        violations.push(format!(
            "{}: {} records created for {} commands acknowledged and {} given up",
            c.operation, c.stored, c.acknowledged, c.unresolved
        ));
    }
    for s in &r.streams {
        for (count, what) in [
            (s.lost, "lost (in the store, not in the stream)"),
            (s.duplicated, "duplicated in the stream"),
            (s.unknown, "in the stream but not in the store"),
            (s.out_of_order, "out of store order in the stream"),
        ] {
            if count > 0 {
                violations.push(format!("stream {}: {count} events {what}", s.stream));
            }
        }
    }
    violations.extend(consumer_violations(r));
    for sighting in sightings {
        violations.push(format!(
            "a citizen id used by the load appears in a bus {}",
            sighting.place
        ));
    }
    for process in &suite.processes {
        for log_line in scan::scan_log(process.log(), &citizen_ids)?
            .into_iter()
            .take(10)
        {
            violations.push(format!(
                "a citizen id used by the load appears in the log at {log_line}"
            ));
        }
        for exit in &process.unexpected_exits {
            violations.push(format!("{} exited on its own ({exit})", process.name()));
        }
    }
    for service in SERVICES {
        suite
            .process(service)
            .terminate(Duration::from_secs(10))
            .await;
    }
    Ok(Report {
        seed: options.seed,
        planned: options.duration,
        elapsed: started.elapsed(),
        environment,
        operations: ledger.operations(),
        faults: fault_log,
        outage: ledger.outage_answers(),
        bus_messages_scanned,
        reconciliation,
        violations,
    })
}

/// Waits until every service that follows the place-names divisions has applied all of them
/// (Benxi's import), so that the load's first records are placed at known divisions.
async fn divisions_known(suite: &Suite) -> anyhow::Result<()> {
    let js = async_nats::jetstream::new(suite.nats_client().await?);
    let deadline = Instant::now() + DIVISIONS_KNOWN_WITHIN;
    for consumer in CONSUMERS
        .iter()
        .filter(|c| matches!(c.follows, Follows::Divisions { .. }))
    {
        while !Suite::consumer_caught_up(&js, consumer).await {
            anyhow::ensure!(
                Instant::now() < deadline,
                "{}'s consumer {} has not applied Benxi's divisions within {:?}",
                consumer.service,
                consumer.name,
                DIVISIONS_KNOWN_WITHIN
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// The violations of "applied once": projections unlike their rebuild, feeds with events
/// missing from or unknown to their inbox, expected effects missing or repeated.
fn consumer_violations(r: &reconcile::Reconciliation) -> Vec<String> {
    let mut violations = Vec::new();
    for p in r.projections.iter().filter(|p| !p.equal()) {
        violations.push(format!(
            "projection {} differs from its rebuild: {} rows differ, {} events never applied, \
             {} applied that the rebuild did not",
            p.table, p.differing_rows, p.inbox_missing, p.inbox_extra
        ));
    }
    for i in r.inboxes.iter().filter(|i| !i.complete()) {
        violations.push(format!(
            "consumer {}: {} events of its producer never applied ({} parked), {} applied \
             that its producer never stored",
            i.consumer, i.missing, i.parked, i.unknown
        ));
    }
    for missing in r.effects.missing.iter().take(20) {
        violations.push(format!("effect never applied: {missing}"));
    }
    if r.effects.missing.len() > 20 {
        violations.push(format!(
            "… {} expected effects never applied in all",
            r.effects.missing.len()
        ));
    }
    for repeated in r.effects.repeated.iter().take(20) {
        violations.push(format!("effect applied twice: {repeated}"));
    }
    violations
}
