//! The benchmark harness: baselines, the platform's figures, and the report that sets them side
//! by side.

pub mod assistance;
pub mod childwelfare;
pub mod civilregistry;
pub mod datasharing;
pub mod driver;
pub mod eldercare;
pub mod nats_baseline;
pub mod placenames;
pub mod platform;
pub mod postgres_baseline;
pub mod report;

use std::time::{Duration, Instant};

/// Payload size used by every figure and baseline, close to a typical protobuf event message.
pub const PAYLOAD_BYTES: usize = 256;

/// A payload of `PAYLOAD_BYTES` pseudo-random bytes (content does not matter to any layer).
pub fn payload(seed: u64) -> bytes::Bytes {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..PAYLOAD_BYTES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

/// Items per second for `count` items done in `elapsed`.
pub fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

/// Runs `work` and returns its rate in items per second, `work` returning the item count.
pub async fn timed<F, Fut>(work: F) -> anyhow::Result<f64>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    let started = Instant::now();
    let count = work().await?;
    Ok(rate(count, started.elapsed()))
}
