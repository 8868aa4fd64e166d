//! The `minzheng` command.
//!
//! - `minzheng dev`: every service in one process on one gRPC port, SQLite stores under
//!   `./data`, events fed between services in process (what `make run` starts);
//! - `minzheng <service>`: one service alone against PostgreSQL and NATS, configured by `MZ_*`
//!   environment variables (what the Kubernetes manifests run); the services are the table in
//!   [`services`];
//! - `minzheng token`: mints a development bearer token;
//! - `minzheng <service> <tool> …`: operator tools over gRPC, e.g. `minzheng placenames import
//!   FILE` (see [`tools`]).
//!
//! Exit codes: 0 on success (and for `--help`), 2 for a usage error (clap's, printed with the
//! usage), 1 for any failure at run time (one line with its causes).

mod cli;
mod dev_secret;
mod help;
mod services;
mod tools;

use std::process::ExitCode;

fn main() -> ExitCode {
    let invocation = cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(invocation.run()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line with the chain of causes: what an operator needs, without a backtrace.
            eprintln!("minzheng: {error:#}");
            ExitCode::FAILURE
        }
    }
}
