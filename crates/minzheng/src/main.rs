//! The `minzheng` command.
//!
//! - `minzheng dev`: every service in one process on one gRPC port, SQLite stores under
//!   `./data`, events fed between services in process (what `make run` starts);
//! - `minzheng <service>`: one service alone against PostgreSQL and NATS, configured by `MZ_*`
//!   environment variables (what the Kubernetes manifests run);
//! - `minzheng token`: mints a development bearer token.

mod cli;
mod dev_secret;
mod services;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(cli.run())
}
