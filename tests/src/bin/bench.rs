//! `make bench`: the platform's benchmark report. Every figure is printed beside a raw baseline
//! measured in the same run on the same PostgreSQL and NATS, with the ratio and the target the
//! issue set. Runs against the servers the tests use (MZ_TEST_DATABASE_URL, MZ_TEST_NATS_URL) in
//! a fresh database and fresh streams, removed afterwards.
//!
//! `bench [SECTION]`: with no argument every section runs; with one of `platform`,
//! `placenames`, `civilregistry`, `assistance`, `datasharing`, `eldercare` or `childwelfare`,
//! only that one (`cargo run --release -p minzheng-tests --bin bench -- civilregistry`). The
//! assistance section's sizes come from `MZ_BENCH_ASSISTANCE_*` (see
//! `minzheng_tests::bench::assistance::Sizes`), the elderly-care section's from
//! `MZ_BENCH_ELDERCARE_*` (see `minzheng_tests::bench::eldercare::Sizes`), the child-welfare
//! section's from `MZ_BENCH_CHILDWELFARE_*` (see `minzheng_tests::bench::childwelfare::Sizes`).

use std::{str::FromStr, sync::Arc, time::Duration};

use minzheng_bus::BusNaming;
use minzheng_eventstore::{
    SharedStore, Upcasters,
    postgres::{self, PostgresStore},
};
use minzheng_testkit::{TestDatabase, nats, unique_name};
use minzheng_tests::bench::{
    assistance, childwelfare, civilregistry, datasharing, eldercare, nats_baseline, placenames,
    platform, postgres_baseline,
    report::{Figure, Measurement, render},
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio_util::sync::CancellationToken;

/// Sizes: large enough to smooth a noisy machine, small enough to finish in a few minutes.
const SINGLE: usize = 1_000;
const WRITERS: usize = 32;
const PER_WRITER: usize = 60;
const BATCH_COMMANDS: usize = 50;
const BATCH_EVENTS: usize = 100;
const BACKLOG: usize = 20_000;
const LAG_RATE: u64 = 1_000;
const LAG_SECONDS: u64 = 5;
/// Rounds of each append pair, baseline and figure interleaved, so that drift on a shared
/// machine (checkpoints, other load) falls on both sides; the report shows medians.
const ROUNDS: usize = 5;
/// Place-names: rounds of the province import (each on a fresh database, its baselines
/// interleaved), then rounds of the queries, each call measured for QUERY_SECONDS.
const IMPORT_ROUNDS: usize = 3;
const QUERY_ROUNDS: usize = 3;
const QUERY_CLIENTS: usize = 32;
const QUERY_SECONDS: u64 = 3;
/// Civil registry: rounds of marriage registrations (each its own couples, checked in during
/// the untimed setup, spread over the six registries), their baselines interleaved.
const REGISTRATION_ROUNDS: usize = 3;
const REGISTRATIONS_PER_ROUND: usize = 1_000;
/// The sections, in the order they run.
const SECTIONS: [&str; 7] = [
    "platform",
    "placenames",
    "civilregistry",
    "assistance",
    "datasharing",
    "eldercare",
    "childwelfare",
];
const VERIFY_CLIENTS: usize = 32;
const VERIFY_P99_TARGET_MS: f64 = 20.0;
const MEMORY_TARGET_MIB: f64 = 2048.0;
/// Assistance: the transactions of 100 one-event appends per baseline round (the
/// re-computation commits its cases in batches of 100).
const RECOMPUTE_BASELINE_TRANSACTIONS: usize = 50;
const RECOMPUTE_BATCH: usize = 100;
/// Assistance: submissions are offered at this rate for the latency figure, p99 below this.
const VERIFICATION_P99_TARGET_MS: f64 = 50.0;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn pool(url: &str) -> anyhow::Result<sqlx::PgPool> {
    // No ping before each acquire (sqlx's default): it adds a round trip to every call on both
    // sides, which would pull every ratio toward 1 and hide the difference being measured.
    Ok(PgPoolOptions::new()
        .max_connections(40)
        .test_before_acquire(false)
        .connect_with(PgConnectOptions::from_str(url)?)
        .await?)
}

fn figure(
    name: &str,
    value: f64,
    unit: &'static str,
    baseline_name: &str,
    baseline: f64,
    target: f64,
) -> Figure {
    Figure {
        name: name.to_owned(),
        value,
        unit,
        baseline_name: baseline_name.to_owned(),
        baseline,
        target_ratio: Some(target),
    }
}

/// The allocator the `minzheng` binary runs its services with (see its `main`): the bench hosts
/// them in this process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = minzheng_telemetry::init(&minzheng_telemetry::TelemetryConfig {
        service_name: "minzheng-bench".to_owned(),
        default_filter: "warn".to_owned(),
        ..Default::default()
    })?;
    let only = std::env::args().nth(1);
    if let Some(section) = &only {
        anyhow::ensure!(
            SECTIONS.contains(&section.as_str()),
            "unknown section {section:?}: one of {}",
            SECTIONS.join(", ")
        );
    }
    let wanted = |section: &str| only.as_deref().is_none_or(|only| only == section);
    let mut figures = Vec::new();
    let mut measurements = Vec::new();
    let client = nats().await;
    if wanted("platform") {
        platform_section(&client, &mut figures, &mut measurements).await?;
    }
    if wanted("placenames") {
        placenames_section(&mut figures, &mut measurements).await?;
    }
    if wanted("civilregistry") {
        civilregistry_section(&mut figures, &mut measurements).await?;
    }
    if wanted("assistance") {
        assistance_section(&mut figures, &mut measurements).await?;
    }
    if wanted("datasharing") {
        datasharing_section(&mut figures, &mut measurements).await?;
    }
    if wanted("eldercare") {
        eldercare::section(&mut figures, &mut measurements).await?;
    }
    if wanted("childwelfare") {
        childwelfare::section(&mut figures, &mut measurements).await?;
    }

    println!("{}", render(&figures, &measurements));
    Ok(())
}

/// The platform itself: appends beside plain inserts, the relay beside plain publishes, the
/// consumer beside plain pulls.
async fn platform_section(
    client: &async_nats::Client,
    figures: &mut Vec<Figure>,
    measurements: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    // Appends, each beside plain inserts into a same-shaped table in the same database.
    let db = TestDatabase::create().await;
    let plain = pool(&db.url).await?;
    postgres_baseline::prepare(&plain).await?;
    let store: SharedStore =
        Arc::new(PostgresStore::from_pool(pool(&db.url).await?, Upcasters::new()).await?);
    eprintln!("bench: appends ({ROUNDS} interleaved rounds each, medians)");
    let (mut base, mut floor, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let tag = format!("single{round}x");
        base.push(
            postgres_baseline::single_writer(&plain, postgres_baseline::PLAIN, &tag, SINGLE)
                .await?,
        );
        floor.push(
            postgres_baseline::single_writer(&plain, postgres_baseline::INDEXED, &tag, SINGLE)
                .await?,
        );
        ours.push(platform::single_writer(&store, &tag, SINGLE).await?);
    }
    let (floor, ours_median) = (median(floor), median(ours));
    figures.push(figure(
        "append, 1 writer, 1 event/command",
        ours_median,
        "/s",
        "1-row INSERT+COMMIT, 1 client",
        median(base),
        0.8,
    ));
    figures.push(Figure {
        name: "  (same, beside the event table's indexes)".to_owned(),
        value: ours_median,
        unit: "/s",
        baseline_name: "1-row INSERT+COMMIT, table + 4 indexes".to_owned(),
        baseline: floor,
        target_ratio: None,
    });

    let (mut base, mut floor, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let tag = format!("writer{round}x");
        base.push(
            postgres_baseline::concurrent_writers(
                &plain,
                postgres_baseline::PLAIN,
                &tag,
                WRITERS,
                PER_WRITER,
            )
            .await?,
        );
        floor.push(
            postgres_baseline::concurrent_writers(
                &plain,
                postgres_baseline::INDEXED,
                &tag,
                WRITERS,
                PER_WRITER,
            )
            .await?,
        );
        ours.push(platform::concurrent_writers(&store, &tag, WRITERS, PER_WRITER).await?);
    }
    let ours_median = median(ours);
    figures.push(figure(
        "append, 32 writers, distinct streams",
        ours_median,
        "/s",
        "1-row INSERT+COMMIT, 32 clients",
        median(base),
        0.8,
    ));
    figures.push(Figure {
        name: "  (same, beside the event table's indexes)".to_owned(),
        value: ours_median,
        unit: "/s",
        baseline_name: "same, table + 4 indexes".to_owned(),
        baseline: median(floor),
        target_ratio: None,
    });

    let (mut base, mut floor, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let tag = format!("batch{round}x");
        base.push(
            postgres_baseline::multi_row(
                &plain,
                postgres_baseline::PLAIN,
                &tag,
                BATCH_COMMANDS,
                BATCH_EVENTS,
            )
            .await?,
        );
        floor.push(
            postgres_baseline::multi_row(
                &plain,
                postgres_baseline::INDEXED,
                &tag,
                BATCH_COMMANDS,
                BATCH_EVENTS,
            )
            .await?,
        );
        ours.push(
            platform::batched(
                &store,
                &format!("batch{round}x"),
                BATCH_COMMANDS,
                BATCH_EVENTS,
            )
            .await?,
        );
    }
    let ours_median = median(ours);
    figures.push(figure(
        "append, 100 events/command (events)",
        ours_median,
        "/s",
        "100-row INSERT transactions (rows)",
        median(base),
        0.8,
    ));
    figures.push(Figure {
        name: "  (same, beside the event table's indexes)".to_owned(),
        value: ours_median,
        unit: "/s",
        baseline_name: "same, table + 4 indexes".to_owned(),
        baseline: median(floor),
        target_ratio: None,
    });

    // Relay and consumer, on a second database so the relay's backlog is exactly known.
    let relay_db = TestDatabase::create().await;
    let relay_store: SharedStore =
        Arc::new(PostgresStore::from_pool(pool(&relay_db.url).await?, Upcasters::new()).await?);
    platform::batched(&relay_store, "backlog", BACKLOG / 100, 100).await?;
    let js = async_nats::jetstream::new(client.clone());
    let tag = unique_name("bench");
    let naming = BusNaming::with_prefix(&tag, "bench")?;
    let plain_stream = format!("{}_PLAIN", tag.to_uppercase());
    let plain_prefix = format!("{tag}plain");
    nats_baseline::prepare(&js, &plain_stream, &plain_prefix).await?;

    eprintln!("bench: relay");
    let base = nats_baseline::publish(&js, &plain_prefix, BACKLOG).await?;
    let cancel = CancellationToken::new();
    let ours =
        platform::relay_drain(&relay_store, client, &naming, BACKLOG as u64, &cancel).await?;
    figures.push(figure(
        "relay store -> JetStream, sustained",
        ours,
        "/s",
        "async JetStream publish",
        base,
        0.5,
    ));

    eprintln!("bench: relay lag at {LAG_RATE} events/s offered");
    let (p50, p99) =
        platform::relay_lag(&relay_store, client, &naming, LAG_RATE, LAG_SECONDS).await?;
    measurements.push(Measurement {
        name: format!("relay lag p50 at {LAG_RATE} events/s"),
        value: p50,
        unit: "ms",
        target: None,
    });
    measurements.push(Measurement {
        name: format!("relay lag p99 at {LAG_RATE} events/s"),
        value: p99,
        unit: "ms",
        target: Some(("< 100 ms".to_owned(), p99 < 100.0)),
    });
    cancel.cancel();

    eprintln!("bench: consumer");
    let in_stream = BACKLOG as u64 + LAG_RATE * LAG_SECONDS;
    let base =
        nats_baseline::pull_and_ack(&js, naming.stream_name(), in_stream as usize, 500).await?;
    let ours = platform::consumer(client, &naming, &relay_db.url, in_stream).await?;
    figures.push(figure(
        "consumer pull + batched projection commit",
        ours,
        "/s",
        "plain pull + ack",
        base,
        0.2,
    ));

    for stream in [
        naming.stream_name().to_owned(),
        naming.deadletter_stream(),
        plain_stream,
    ] {
        let _ = js.delete_stream(&stream).await;
    }

    // The next sections open pools of their own: close these first, or PostgreSQL's
    // connection limit (100 by default) runs out.
    plain.close().await;
    drop((store, relay_store));
    drop((db, relay_db));
    Ok(())
}

/// The place-names service: a province's import beside the store's appends, and the division
/// queries over gRPC at 32 clients beside a bare gRPC round trip to the same server.
async fn placenames_section(
    figures: &mut Vec<Figure>,
    measurements: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    let csv = placenames::province_csv(placenames::PROVINCE_ROWS);
    let rows = placenames::PROVINCE_ROWS;
    eprintln!("bench: place-names import of {rows} rows ({IMPORT_ROUNDS} rounds, medians)");
    let db = TestDatabase::create().await;
    let store: SharedStore =
        Arc::new(PostgresStore::from_pool(pool(&db.url).await?, Upcasters::new()).await?);
    let (mut batched, mut single, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    let mut service = None;
    for round in 0..IMPORT_ROUNDS {
        batched.push(
            platform::batched(
                &store,
                &format!("pnbatch{round}x"),
                BATCH_COMMANDS,
                BATCH_EVENTS,
            )
            .await?,
        );
        single.push(
            platform::concurrent_writers(&store, &format!("pnwriter{round}x"), WRITERS, PER_WRITER)
                .await?,
        );
        if let Some(previous) = service.take() {
            placenames::Service::stop(previous).await?;
        }
        let started = placenames::Service::start().await?;
        ours.push(placenames::import(&started, &csv).await?.rate);
        service = Some(started);
    }
    drop(store);
    drop(db);
    let service = service.ok_or_else(|| anyhow::anyhow!("no import round ran"))?;
    let ours = median(ours);
    // The issue sets no ratio for the import. The batched append is the platform's fastest way
    // in; but every division is its own stream, so an import is one event per append (16 at a
    // time), and the single-event append at 32 concurrent writers is the fair anchor.
    figures.push(Figure {
        name: format!("placenames import, {rows} rows (events)"),
        value: ours,
        unit: "/s",
        baseline_name: "platform append, 100 events/command".to_owned(),
        baseline: median(batched),
        target_ratio: None,
    });
    figures.push(Figure {
        name: "  (same, beside single-event appends)".to_owned(),
        value: ours,
        unit: "/s",
        baseline_name: "platform append, 32 writers, 1 event".to_owned(),
        baseline: median(single),
        target_ratio: None,
    });

    eprintln!(
        "bench: place-names queries, {QUERY_CLIENTS} clients ({QUERY_ROUNDS} rounds of \
         {QUERY_SECONDS} s per call, medians)"
    );
    let codes: Arc<[String]> = placenames::codes(&csv).into();
    let duration = Duration::from_secs(QUERY_SECONDS);
    let calls = [
        placenames::Call::HealthCheck,
        placenames::Call::GetDivision,
        placenames::Call::ResolveDivision,
    ];
    let mut loads: Vec<Vec<placenames::Load>> = vec![Vec::new(); calls.len()];
    for _ in 0..QUERY_ROUNDS {
        for (call, loads) in calls.iter().zip(&mut loads) {
            loads.push(placenames::load(&service, *call, &codes, QUERY_CLIENTS, duration).await?);
        }
    }
    let rate = |i: usize| median(loads[i].iter().map(|l| l.rate).collect());
    let p99 = |i: usize| median(loads[i].iter().map(|l| l.p99_ms).collect());
    let health = rate(0);
    for (i, name) in [(1, "GetDivision"), (2, "ResolveDivision")] {
        figures.push(Figure {
            name: format!("{name}, {QUERY_CLIENTS} gRPC clients"),
            value: rate(i),
            unit: "/s",
            baseline_name: format!("grpc.health.v1 Check, {QUERY_CLIENTS} clients"),
            baseline: health,
            target_ratio: None,
        });
    }
    measurements.push(Measurement {
        name: format!("health Check p99, {QUERY_CLIENTS} clients"),
        value: p99(0),
        unit: "ms",
        target: None,
    });
    for (i, name) in [(1, "GetDivision"), (2, "ResolveDivision")] {
        let (p99, rate) = (p99(i), rate(i));
        measurements.push(Measurement {
            name: format!("{name} p99, {QUERY_CLIENTS} clients"),
            value: p99,
            unit: "ms",
            target: Some((
                "< 5 ms at >= 5000 /s".to_owned(),
                p99 < 5.0 && rate >= 5_000.0,
            )),
        });
    }
    service.stop().await
}

/// The civil-registry service: marriage registrations at 32 clients beside transactions of
/// three single-row INSERTs (a registration appends to three streams at once) and beside the
/// store's own three-stream append; `GetMaritalStatus` at 32 clients beside a bare gRPC round
/// trip to the same server.
async fn civilregistry_section(
    figures: &mut Vec<Figure>,
    measurements: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    let total = REGISTRATION_ROUNDS * REGISTRATIONS_PER_ROUND;
    eprintln!(
        "bench: civil registry: starting beside place-names; booking and checking in {total} \
         couples (not timed)"
    );
    let service = civilregistry::Service::start().await?;
    let couples = civilregistry::prepare(&service, total).await?;

    eprintln!(
        "bench: civil registry: marriage registrations, {WRITERS} clients ({REGISTRATION_ROUNDS} \
         interleaved rounds of {REGISTRATIONS_PER_ROUND}, medians)"
    );
    let db = TestDatabase::create().await;
    let plain = pool(&db.url).await?;
    postgres_baseline::prepare(&plain).await?;
    let store: SharedStore =
        Arc::new(PostgresStore::from_pool(plain.clone(), Upcasters::new()).await?);
    // The baselines commit as many transactions as a round registers marriages (rounded up to
    // whole clients).
    let per_client = REGISTRATIONS_PER_ROUND.div_ceil(WRITERS);
    let (mut base, mut anchor, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    for (round, couples) in couples.chunks(REGISTRATIONS_PER_ROUND).enumerate() {
        let tag = format!("cr{round}x");
        base.push(civilregistry::three_row_transactions(&plain, &tag, WRITERS, per_client).await?);
        anchor.push(civilregistry::three_stream_appends(&store, &tag, WRITERS, per_client).await?);
        ours.push(civilregistry::register(&service, couples, WRITERS).await?);
    }
    plain.close().await;
    drop(store);
    drop(db);
    let ours = median(ours);
    // The issue sets no target for registrations. The raw anchor is the database doing what a
    // registration's commit does: one transaction of three rows, each for a new stream, into a
    // table with the event table's indexes.
    figures.push(Figure {
        name: format!("RegisterMarriage, {WRITERS} clients; target none set"),
        value: ours,
        unit: "/s",
        baseline_name: format!("3-row INSERT tx, {WRITERS} clients, +4 idx"),
        baseline: median(base),
        target_ratio: None,
    });
    figures.push(Figure {
        name: "  (same, beside the store's 3-stream append)".to_owned(),
        value: ours,
        unit: "/s",
        baseline_name: format!("store append_all 3 streams, {WRITERS} wr."),
        baseline: median(anchor),
        target_ratio: None,
    });

    eprintln!(
        "bench: civil registry: GetMaritalStatus, {QUERY_CLIENTS} clients ({QUERY_ROUNDS} rounds \
         of {QUERY_SECONDS} s per call, medians)"
    );
    // Half the citizens asked about are married (all registered above), half unknown.
    let married: Vec<String> = couples
        .iter()
        .flat_map(|c| c.parties().map(str::to_owned))
        .collect();
    let unknown = civilregistry::unknown_citizens(service.registries(), married.len())?;
    civilregistry::check_statuses(&service, &married[0], &unknown[0]).await?;
    let citizens: Arc<[String]> = married.into_iter().chain(unknown).collect();
    let duration = Duration::from_secs(QUERY_SECONDS);
    let calls = [
        civilregistry::Call::HealthCheck,
        civilregistry::Call::GetMaritalStatus,
    ];
    let mut loads: Vec<Vec<civilregistry::Load>> = vec![Vec::new(); calls.len()];
    for _ in 0..QUERY_ROUNDS {
        for (call, loads) in calls.iter().zip(&mut loads) {
            loads.push(
                civilregistry::load(&service, *call, &citizens, QUERY_CLIENTS, duration).await?,
            );
        }
    }
    let rate = |i: usize| median(loads[i].iter().map(|l| l.rate).collect());
    let p50 = |i: usize| median(loads[i].iter().map(|l| l.p50_ms).collect());
    let p99 = |i: usize| median(loads[i].iter().map(|l| l.p99_ms).collect());
    figures.push(Figure {
        name: format!("GetMaritalStatus, {QUERY_CLIENTS} gRPC clients"),
        value: rate(1),
        unit: "/s",
        baseline_name: format!("health Check + token, {QUERY_CLIENTS} clients"),
        baseline: rate(0),
        target_ratio: None,
    });
    measurements.push(Measurement {
        name: format!("health Check + token p99, {QUERY_CLIENTS} clients"),
        value: p99(0),
        unit: "ms",
        target: None,
    });
    measurements.push(Measurement {
        name: format!("GetMaritalStatus p50, {QUERY_CLIENTS} clients"),
        value: p50(1),
        unit: "ms",
        target: None,
    });
    let (status_p99, status_rate) = (p99(1), rate(1));
    measurements.push(Measurement {
        name: format!("GetMaritalStatus p99, {QUERY_CLIENTS} clients"),
        value: status_p99,
        unit: "ms",
        target: Some((
            "< 5 ms at >= 5000 /s".to_owned(),
            status_p99 < 5.0 && status_rate >= 5_000.0,
        )),
    });
    service.stop().await
}

/// The assistance service: applications at 32 clients beside the store's 32-writer appends to
/// new streams; the re-computation of a county's caseload after a raised standard beside the
/// store's 100-stream batched appends; a monthly payment cycle of the caseload beside a plain
/// `COPY` of its rows; and the latency from a submission to its verification request on the
/// bus at a paced rate.
async fn assistance_section(
    figures: &mut Vec<Figure>,
    measurements: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    let sizes = assistance::Sizes::from_env();
    eprintln!("bench: assistance: {sizes:?}");
    let db = TestDatabase::create().await;
    let plain = pool(&db.url).await?;
    let store: SharedStore =
        Arc::new(PostgresStore::from_pool(plain.clone(), Upcasters::new()).await?);

    eprintln!(
        "bench: assistance: SubmitApplication, {WRITERS} clients ({} interleaved rounds of {}, \
         medians)",
        sizes.rounds, sizes.submissions
    );
    let mut service = assistance::Service::start().await?;
    // The service's store has a pool of the store's default size; the baseline store has the
    // other sections' pool. The second baseline, beside it, is the same appends through a pool
    // of the service's size.
    let small_pool = PgPoolOptions::new()
        .max_connections(postgres::DEFAULT_MAX_CONNECTIONS)
        .test_before_acquire(false)
        .connect_with(PgConnectOptions::from_str(&db.url)?)
        .await?;
    let small_store: SharedStore =
        Arc::new(PostgresStore::from_pool(small_pool.clone(), Upcasters::new()).await?);
    let per_writer = sizes.submissions.div_ceil(WRITERS);
    let (mut base, mut small, mut shaped, mut ours) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..sizes.rounds {
        base.push(
            assistance::new_stream_appends(&store, &format!("as{round}x"), WRITERS, per_writer)
                .await?,
        );
        shaped.push(
            assistance::submission_shaped_appends(
                &store,
                &format!("ass{round}x"),
                WRITERS,
                per_writer,
            )
            .await?,
        );
        small.push(
            assistance::new_stream_appends(
                &small_store,
                &format!("asp{round}x"),
                WRITERS,
                per_writer,
            )
            .await?,
        );
        ours.push(assistance::submit(&mut service, sizes.submissions, WRITERS).await?);
    }
    small_pool.close().await;
    drop(small_store);
    let ours = median(ours);
    figures.push(figure(
        &format!("SubmitApplication, {WRITERS} gRPC clients"),
        ours,
        "/s",
        &format!("store append, {WRITERS} wr., new stream each"),
        median(base),
        0.5,
    ));
    figures.push(Figure {
        name: "  (same, beside a pool of the service's size)".to_owned(),
        value: ours,
        unit: "/s",
        baseline_name: format!(
            "same, pool of {} connections",
            postgres::DEFAULT_MAX_CONNECTIONS
        ),
        baseline: median(small),
        target_ratio: None,
    });
    figures.push(Figure {
        name: "  (same, beside the store's append of what a submission writes)".to_owned(),
        value: ours,
        unit: "/s",
        baseline_name: format!("store append, {WRITERS} wr., 2 events + key"),
        baseline: median(shaped),
        target_ratio: None,
    });

    let rate = sizes.latency_rate;
    eprintln!(
        "bench: assistance: submission -> verification request on the bus at {rate}/s for {} s",
        sizes.latency_seconds
    );
    let latency =
        assistance::verification_latency(&mut service, rate, sizes.latency_seconds).await?;
    service.stop().await;
    measurements.push(Measurement {
        name: format!("submit -> verification_requested p50, {rate}/s"),
        value: latency.p50_ms,
        unit: "ms",
        target: None,
    });
    measurements.push(Measurement {
        name: format!("submit -> verification_requested p99, {rate}/s"),
        value: latency.p99_ms,
        unit: "ms",
        target: Some((
            format!("< {VERIFICATION_P99_TARGET_MS:.0} ms"),
            latency.p99_ms < VERIFICATION_P99_TARGET_MS,
        )),
    });
    measurements.push(Measurement {
        name: format!("  (max; offered {:.0}/s)", latency.offered),
        value: latency.max_ms,
        unit: "ms",
        target: None,
    });
    for (name, value) in [
        ("p50", latency.answer_p50_ms),
        ("p99", latency.answer_p99_ms),
    ] {
        measurements.push(Measurement {
            name: format!("  (SubmitApplication answered {name}, {rate}/s)"),
            value,
            unit: "ms",
            target: None,
        });
    }

    let cases = sizes.cases;
    eprintln!("bench: assistance: a caseload of {cases} active cases (not timed)");
    let caseload = assistance::Caseload::start(cases).await?;
    let mut base = Vec::new();
    for round in 0..sizes.rounds {
        base.push(
            assistance::batched_appends(
                &store,
                &format!("ab{round}x"),
                RECOMPUTE_BASELINE_TRANSACTIONS,
                RECOMPUTE_BATCH,
            )
            .await?,
        );
    }
    eprintln!("bench: assistance: RecordStandard re-computing {cases} cases");
    let recomputed = assistance::raise_standard(&caseload).await?;
    figures.push(figure(
        &format!("re-compute {cases} cases (RecordStandard)"),
        f64::from(recomputed.cases) / recomputed.elapsed.as_secs_f64(),
        "/s",
        "store append_all, 100 streams x 1 event",
        median(base),
        0.3,
    ));
    measurements.push(Measurement {
        name: format!("RecordStandard wall time, {cases} cases"),
        value: recomputed.elapsed.as_secs_f64() * 1000.0,
        unit: "ms",
        target: None,
    });

    eprintln!(
        "bench: assistance: payment cycles of {cases} lines ({} interleaved rounds, one month \
         each, medians)",
        sizes.rounds
    );
    let (mut base, mut ours, mut cycles) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..sizes.rounds {
        base.push(assistance::copy_lines(&plain, &format!("r{round}"), &caseload.lines).await?);
        let cycle = assistance::payment_cycle(&caseload, assistance::cycle_month(round)).await?;
        ours.push(cycle.lines as f64 / cycle.total().as_secs_f64());
        cycles.push(cycle);
    }
    caseload.stop().await;
    figures.push(figure(
        &format!("payment cycle, {cases} lines (gen+appr+export)"),
        median(ours),
        "/s",
        "plain COPY of the same rows",
        median(base),
        0.3,
    ));
    for (name, step) in [
        (
            "GeneratePaymentCycle",
            (|c: &assistance::Cycle| c.generate) as fn(&_) -> _,
        ),
        ("ApprovePaymentCycle", |c| c.approve),
        ("ExportPaymentCycle", |c| c.export),
    ] {
        measurements.push(Measurement {
            name: format!("{name}, {cases} lines"),
            value: median(
                cycles
                    .iter()
                    .map(|c| step(c).as_secs_f64() * 1000.0)
                    .collect(),
            ),
            unit: "ms",
            target: None,
        });
    }

    plain.close().await;
    drop(store);
    drop(db);
    Ok(())
}

/// The data-sharing service: the load of every agency's records beside a plain `COPY`;
/// `VerifyHousehold` at 32 clients; the memory of the process hosting it; the projection of the
/// civil registry's deaths beside a plain JetStream pull + ack of the same stream; and their
/// rebuild from zero beside a plain ordered read of the civil registry's event table.
/// The projection and rebuild figures of the data-sharing section, measured first: after the
/// load of millions of records, PostgreSQL's checkpoint and the removal of that database go on in
/// the background for a minute and take the projection's figure with them.
async fn datasharing_projection(
    sizes: &datasharing::Sizes,
    city: &datasharing::City,
    figures: &mut Vec<Figure>,
    measurements: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    let deaths = sizes.projected_events;
    eprintln!(
        "bench: datasharing: the civil registry records {deaths} deaths, published on its \
         stream (not timed)"
    );
    let mut projecting = datasharing::Projecting::start().await?;
    let events = projecting.record_deaths(city, deaths).await?;
    // The same batch size as the platform's consumers, which the service's consumers use.
    let batch = minzheng_bus::ConsumerSettings::default().batch_size;
    eprintln!("bench: datasharing: plain pull + ack of the {events} events, batches of {batch}");
    let js = async_nats::jetstream::new(projecting.nats().clone());
    let pulled = nats_baseline::pull_and_ack(
        &js,
        &projecting.stream_name()?,
        usize::try_from(events)?,
        batch,
    )
    .await?;
    eprintln!("bench: datasharing: the service started on the {events} events, until applied");
    let projected = projecting.project().await?;
    eprintln!(
        "bench: datasharing: projected in {:.1} s",
        projected.elapsed.as_secs_f64()
    );
    figures.push(figure(
        &format!("datasharing projection, {events} deaths"),
        projected.rate(),
        "/s",
        &format!("plain pull + ack, batches of {batch}"),
        pulled,
        0.2,
    ));

    eprintln!("bench: datasharing: plain ordered read of the civil registry's event table");
    let registry = pool(projecting.registry_database_url()).await?;
    let (read, rows) = postgres_baseline::ordered_read(&registry).await?;
    registry.close().await;
    eprintln!("bench: datasharing: rebuild from zero (reset, then the service until applied)");
    let rebuilt = projecting.rebuild().await?;
    eprintln!(
        "bench: datasharing: rebuilt in {:.1} s",
        rebuilt.elapsed.as_secs_f64()
    );
    projecting.stop().await?;
    figures.push(figure(
        &format!("datasharing rebuild from zero, {events} events"),
        rebuilt.rate(),
        "/s",
        &format!("plain ordered read of {rows} event rows"),
        read,
        0.3,
    ));
    measurements.push(Measurement {
        name: format!("datasharing projection of {events} events, time"),
        value: projected.elapsed.as_secs_f64(),
        unit: "s",
        target: None,
    });
    measurements.push(Measurement {
        name: format!("datasharing rebuild of {events} events, time"),
        value: rebuilt.elapsed.as_secs_f64(),
        unit: "s",
        target: None,
    });
    Ok(())
}

async fn datasharing_section(
    figures: &mut Vec<Figure>,
    measurements: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    let sizes = datasharing::Sizes::from_env();
    eprintln!("bench: datasharing: {sizes:?}");
    let city = datasharing::City::new(&sizes);
    datasharing_projection(&sizes, &city, figures, measurements).await?;
    let service = datasharing::Service::start().await?;
    let baseline_db = TestDatabase::create().await;
    let plain = pool(&baseline_db.url).await?;

    eprintln!("bench: datasharing: plain COPY of every agency's rows");
    let copy = datasharing::plain_copy(&plain, &city).await?;
    eprintln!("bench: datasharing: COPY of every agency's rows into an indexed table");
    let indexed = datasharing::indexed_copy(&plain, &city).await?;
    eprintln!("bench: datasharing: LoadAgencyRecords of every agency's rows");
    let (load, rows) = datasharing::load_all(&service, &city).await?;
    figures.push(figure(
        &format!("agency records loaded, {rows} rows"),
        load,
        "/s",
        "plain COPY of the same rows",
        copy,
        0.5,
    ));
    // The same load beside what storing its rows costs at all: a table keyed and indexed as
    // the service's records must be (the bare-table COPY has neither).
    figures.push(Figure {
        target_ratio: None,
        ..figure(
            &format!("agency records loaded, {rows} rows"),
            load,
            "/s",
            "COPY of the same rows into a table keyed and indexed as ds_records",
            indexed,
            0.5,
        )
    });

    eprintln!(
        "bench: datasharing: {} households authorize; VerifyHousehold at {VERIFY_CLIENTS} clients \
         for {} s",
        sizes.verified_households, sizes.verify_seconds
    );
    let households = datasharing::authorize(&service, &city, sizes.verified_households).await?;
    let (rate, p50, p99) = datasharing::verify(
        &service,
        &city,
        &households,
        VERIFY_CLIENTS,
        sizes.verify_seconds,
    )
    .await?;
    measurements.push(Measurement {
        name: format!("VerifyHousehold, {VERIFY_CLIENTS} clients"),
        value: rate,
        unit: "/s",
        target: None,
    });
    measurements.push(Measurement {
        name: "VerifyHousehold p50".to_owned(),
        value: p50,
        unit: "ms",
        target: None,
    });
    measurements.push(Measurement {
        name: "VerifyHousehold p99".to_owned(),
        value: p99,
        unit: "ms",
        target: Some((
            format!("< {VERIFY_P99_TARGET_MS} ms"),
            p99 < VERIFY_P99_TARGET_MS,
        )),
    });
    let memory = datasharing::resident_mib();
    measurements.push(Measurement {
        name: format!("memory of the bench process hosting the service ({rows} rows)"),
        value: memory,
        unit: "MiB",
        target: Some((
            format!("< {MEMORY_TARGET_MIB} MiB"),
            memory < MEMORY_TARGET_MIB,
        )),
    });
    service.stop().await;
    plain.close().await;
    drop(baseline_db);

    Ok(())
}
