//! The `minzheng` command.
//!
//! - `minzheng dev`: every service in one process on one gRPC port, SQLite stores under
//!   `./data`, events fed between services in process (what `make run` starts);
//! - `minzheng <service>`: one service alone against PostgreSQL and NATS, configured by `MZ_*`
//!   environment variables (what the Kubernetes manifests run);
//! - `minzheng token`: mints a development bearer token;
//! - `minzheng <service> <tool> …`: operator tools over gRPC, e.g. `minzheng placenames import
//!   FILE` (see [`tools`]).

mod cli;
mod dev_secret;
mod services;
mod tools;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(cli.run()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line with the chain of causes: what an operator needs, without a backtrace.
            eprintln!("minzheng: {error:#}");
            ExitCode::FAILURE
        }
    }
}
