//! Driving a service with concurrent gRPC clients, for the sections that measure a command's
//! rate: `clients` tasks take request numbers from one shared counter, each sends its request
//! with the same bearer token, and the rate is the requests over the wall time from the moment
//! every client is ready.

use std::{
    ops::Range,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use futures::future::try_join_all;
use minzheng_host::testing::TestHost;
use tonic::{
    Request,
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};

/// How often a long load prints its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

/// What [`drive`] reports.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    /// Requests per second.
    pub rate: f64,
    /// The highest store position the answers named.
    pub position: u64,
}

/// One HTTP/2 connection to `host`'s `service`, which the section's clients share (as a
/// deployment's callers would share a connection pool's few connections).
pub async fn channel(host: &TestHost, service: &str) -> anyhow::Result<Channel> {
    Ok(
        Channel::from_shared(format!("http://{}", host.addr(service)))?
            .tcp_nodelay(true)
            .connect()
            .await?,
    )
}

/// `Bearer <token>` as request metadata, parsed once.
pub fn bearer(token: &str) -> anyhow::Result<MetadataValue<Ascii>> {
    Ok(format!("Bearer {token}").parse()?)
}

/// `message` carrying `token`.
pub fn with_token<T>(message: T, token: &MetadataValue<Ascii>) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", token.clone());
    request
}

/// Who sends a load: `clients` concurrent clones of `client`, each request with `token`;
/// progress printed as `section: what` when `progress` is given.
#[derive(Debug, Clone)]
pub struct Senders<C> {
    pub section: &'static str,
    pub client: C,
    pub clients: usize,
    pub token: MetadataValue<Ascii>,
    pub progress: Option<&'static str>,
}

/// `senders` sending the requests `make` builds for `range` (taken from a shared counter)
/// through `send`, which answers the store position it names. Every request must succeed.
pub async fn drive<C, Req, F, S, Fut>(
    senders: Senders<C>,
    range: Range<usize>,
    make: F,
    send: S,
) -> anyhow::Result<Sent>
where
    C: Clone + Send + 'static,
    Req: Send + 'static,
    F: Fn(usize) -> anyhow::Result<Req> + Send + Sync + 'static,
    S: Fn(C, Request<Req>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<u64>> + Send,
{
    let Senders {
        section,
        client,
        clients,
        token,
        progress,
    } = senders;
    let (first, count) = (range.start, range.len());
    let next = Arc::new(AtomicUsize::new(range.start));
    let done = Arc::new(AtomicUsize::new(0));
    let position = Arc::new(AtomicU64::new(0));
    let (make, send) = (Arc::new(make), Arc::new(send));
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let runs: Vec<_> = (0..clients)
        .map(|_| {
            let client = client.clone();
            let (next, done, position, make, send, start, token) = (
                next.clone(),
                done.clone(),
                position.clone(),
                make.clone(),
                send.clone(),
                start.clone(),
                token.clone(),
            );
            let end = range.end;
            tokio::spawn(async move {
                start.wait().await;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        return anyhow::Ok(());
                    }
                    let request = with_token(make(i)?, &token);
                    let at = send(client.clone(), request)
                        .await
                        .with_context(|| format!("request {i}"))?;
                    position.fetch_max(at, Ordering::Relaxed);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let reporter = progress.map(|what| {
        let done = done.clone();
        tokio::spawn(async move {
            let began = Instant::now();
            loop {
                tokio::time::sleep(PROGRESS_EVERY).await;
                let n = done.load(Ordering::Relaxed);
                eprintln!(
                    "bench: {section}: {what}: {n}/{count} ({:.0}/s, from {first})",
                    n as f64 / began.elapsed().as_secs_f64()
                );
            }
        })
    });
    start.wait().await;
    let started = Instant::now();
    let outcome = try_join_all(runs).await;
    let elapsed = started.elapsed();
    if let Some(reporter) = reporter {
        reporter.abort();
    }
    outcome?.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Sent {
        rate: count as f64 / elapsed.as_secs_f64(),
        position: position.load(Ordering::Relaxed),
    })
}

/// The latencies of a run of calls and their rate.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// One client's calls: their latencies in microseconds, and the instant it finished.
pub type TimedRun = (hdrhistogram::Histogram<u64>, Instant);

/// The latency of the calls `runs` made from `started` on: each run's histogram (in
/// microseconds) and the instant it finished, merged; the rate is over the time to the last.
pub async fn latency(
    started: Instant,
    runs: Vec<tokio::task::JoinHandle<anyhow::Result<TimedRun>>>,
) -> anyhow::Result<Latency> {
    let mut total = hdrhistogram::Histogram::<u64>::new(3)?;
    let mut finished = started;
    for (histogram, ended) in try_join_all(runs)
        .await?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
    {
        total.add(&histogram)?;
        finished = finished.max(ended);
    }
    Ok(Latency {
        rate: total.len() as f64 / finished.duration_since(started).as_secs_f64(),
        p50_ms: total.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: total.value_at_quantile(0.99) as f64 / 1000.0,
    })
}

/// The median of `values` (the upper one of an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
