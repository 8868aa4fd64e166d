//! The `minzheng` command.
//!
//! - `minzheng dev`: every service in one process on one gRPC port, SQLite stores under
//!   `./data`, events fed between services in process (what `make run` starts);
//! - `minzheng <service>`: one service alone against PostgreSQL and NATS, configured by `MZ_*`
//!   environment variables (what the Kubernetes manifests run); the services are the table in
//!   [`services`];
//! - `minzheng token`: mints a development bearer token;
//! - `minzheng nats-config --agency A …`: prints the NATS accounts configuration (one user per
//!   service, one per agency; `deploy/nats/accounts.conf` is its output);
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

/// mimalloc rather than glibc's malloc: the services allocate and free many small values (a
/// payment cycle's 100,000 lines, a submission's household), where glibc spends up to a third
/// of the time consolidating and unlinking free chunks (measured with `perf`, `make bench`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
            eprintln!("minzheng: {}", causes(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `: `-separated, each once.
///
/// anyhow's `{:#}` prints the message of every link of the chain, and some errors already repeat
/// their source in their own message while also returning it as their source: the event store's
/// (`event store unavailable: {source}`), sqlx's (`error returned from database: {source}`),
/// hyper's. Printed whole, such a chain showed one cause three times. Those types are not ours
/// to change, and their messages are right where they are printed alone (logs, gRPC statuses),
/// so the chain is printed here leaving out any link whose message the link above already shows.
fn causes(error: &anyhow::Error) -> String {
    let mut line = String::new();
    let mut above: Option<String> = None;
    for link in error.chain() {
        let message = link.to_string();
        let shown = above.as_ref().is_some_and(|above| above.contains(&message));
        if !shown {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&message);
        }
        above = Some(message);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::causes;

    /// An error whose message repeats its source, as sqlx's and the event store's do.
    #[derive(Debug)]
    struct Repeats(Box<dyn std::error::Error + Send + Sync>);

    impl std::fmt::Display for Repeats {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "wrapped: {}", self.0)
        }
    }

    impl std::error::Error for Repeats {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.0)
        }
    }

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::other("disk on fire");
        let error = anyhow::Error::new(Repeats(Box::new(Repeats(Box::new(io)))))
            .context("opening the store")
            .context("starting");
        assert_eq!(
            causes(&error),
            "starting: opening the store: wrapped: wrapped: disk on fire"
        );
        assert_eq!(
            format!("{error:#}").matches("disk on fire").count(),
            3,
            "anyhow's own format repeats it"
        );
    }

    #[test]
    fn causes_that_do_not_repeat_are_all_printed() {
        let error = anyhow::anyhow!("no such file").context("reading divisions.csv");
        assert_eq!(causes(&error), "reading divisions.csv: no such file");
    }
}
