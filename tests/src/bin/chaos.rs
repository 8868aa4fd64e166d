//! `make chaos`: the fault-injection harness (see `minzheng_tests::chaos`). Starts the suite as
//! processes on a private PostgreSQL cluster and nats-server, runs a steady command load while
//! injecting faults, reconciles every store, stream and projection, and prints the report.
//! Exits 1 when an invariant was broken, 2 on a usage error.
//!
//! `chaos [--seed N] [--duration 10m] [--fault KIND]... [--duplicate-window 5s] [--logs DIR]`
//!
//! The seed is random unless given, and printed first: the same seed injects the same faults
//! in the same order with the same pauses. `--fault` (repeatable) limits the run to those kinds:
//! postgres-down, relay-stall, held-transaction, consumer-kill, stream-settings, nats-restart,
//! process-kill.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use minzheng_tests::chaos::{self, Options, faults::FaultKind};

const USAGE: &str = "usage: chaos [--seed N] [--duration 10m] [--fault KIND]... \
                     [--duplicate-window 5s] [--logs DIR]";

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1).collect()) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("chaos: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    println!(
        "chaos: seed {} for {:?}, faults {}; logs in {}",
        options.seed,
        options.duration,
        options
            .faults
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", "),
        options.log_dir.display()
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("chaos: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(chaos::run(options)) {
        Ok(report) => {
            println!("{report}");
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("chaos: the run could not be completed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: Vec<String>) -> Result<Options, String> {
    let mut seed = None;
    let mut duration = Duration::from_secs(600);
    let mut faults = Vec::new();
    let mut duplicate_window = Duration::from_secs(5);
    let mut log_dir = None;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--seed" => seed = Some(value()?.parse().map_err(|e| format!("--seed: {e}"))?),
            "--duration" => duration = parse_duration(&value()?)?,
            "--duplicate-window" => duplicate_window = parse_duration(&value()?)?,
            "--fault" => {
                let name = value()?;
                faults.push(FaultKind::parse(&name).ok_or(format!("no fault kind {name:?}"))?);
            }
            "--logs" => log_dir = Some(PathBuf::from(value()?)),
            "--help" | "-h" => return Err("help".to_owned()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let seed = seed.unwrap_or_else(random_seed);
    if faults.is_empty() {
        faults = FaultKind::ALL.to_vec();
    }
    Ok(Options {
        seed,
        duration,
        faults,
        pacing: Options::pacing_for(duration),
        load_pace: Duration::from_millis(40),
        duplicate_window,
        log_dir: log_dir
            .unwrap_or_else(|| std::env::temp_dir().join(format!("minzheng-chaos-{seed}"))),
    })
}

/// `90s`, `10m`, `1h`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number and s, m or h"))?;
    match unit {
        "s" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number * 60)),
        "h" => Ok(Duration::from_secs(number * 3600)),
        _ => Err(format!("{text:?}: the unit must be s, m or h")),
    }
}

fn random_seed() -> u64 {
    // A fresh v4 UUID's random bits: no clock, no extra dependency.
    uuid::Uuid::new_v4().as_u64_pair().0
}
