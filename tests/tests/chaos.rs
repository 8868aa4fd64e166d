//! The short form of `make chaos`: the suite as processes on a private PostgreSQL cluster and
//! nats-server, under load for about a minute while every fault kind is injected once, then
//! reconciled. The seed is fixed (and printed) so that CI sees the same fault schedule each
//! time; `MZ_CHAOS_SEED` overrides it to replay another.
//!
//! Needs the `minzheng` binary beside the test (`cargo build -p minzheng`; `cargo nextest run
//! --workspace` builds it).

use std::time::Duration;

use minzheng_tests::chaos::{self, Options, faults::FaultKind};

const SEED: u64 = 20_261_203;
const DURATION: Duration = Duration::from_secs(75);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_command_is_lost_and_nothing_is_published_or_applied_twice_under_faults() {
    let seed = std::env::var("MZ_CHAOS_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(SEED);
    let logs = tempfile::Builder::new()
        .prefix("chaos-short")
        .tempdir()
        .expect("a directory for the services' logs");
    println!(
        "chaos short form: seed {seed}, logs in {}",
        logs.path().display()
    );
    let report = chaos::run(Options {
        seed,
        duration: DURATION,
        faults: FaultKind::ALL.to_vec(),
        pacing: Options::pacing_for(DURATION),
        duplicate_window: Duration::from_secs(3),
        log_dir: logs.path().to_owned(),
    })
    .await
    .expect("the chaos run completes");
    println!("{report}");
    for kind in FaultKind::ALL {
        assert!(
            report.faults.injected.contains_key(&kind),
            "{} was never injected: the short form must exercise every kind\n{report}",
            kind.name()
        );
    }
    if !report.passed() {
        // Keep the logs of a failed run for whoever reads the failure.
        let kept = logs.keep();
        panic!(
            "invariants broken (logs kept in {}):\n{report}",
            kept.display()
        );
    }
}
