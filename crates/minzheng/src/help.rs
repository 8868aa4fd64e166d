//! The help pages made from the services' table: the overview of `minzheng --help` (services and
//! tools, one line each), and `minzheng <service> --help` (what the service needs from the
//! environment, its tools). Texts a tool's help and the README share live here too.

use std::fmt::Write as _;

use clap::Command;
use minzheng_kit::settings::{AuthSettings, PlatformSettings};

use crate::services::{self, Service};

/// Who may run `minzheng dev`, for its help.
pub const DEV_ACCESS: &str = "\
Access: needs no token. It prints a development token (12 hours, every role, scoped to
--token-region) and accepts tokens minted by `minzheng token` from the same data directory.";

/// Who may run `minzheng token`, for its help.
pub const TOKEN_ACCESS: &str = "\
Access: needs no token, only the development secret: MZ_AUTH__DEV_SECRET, or the file
dev-secret under MZ_DATA_DIR (created on first use). Only a server verifying tokens with that
secret, such as `minzheng dev` on the same data directory, accepts what it mints.";

/// What `minzheng nats-config` prints and who may run it, for its help.
pub const NATS_CONFIG_HELP: &str = "\
Prints an `accounts { ... }` block for nats-server (2.9 or later) to include from the server's
configuration (deploy/nats/README.md): one user per hosted service, which publishes only its own
events and dead letters, and one per --agency, which reads only its own stream
MINZHENG_SHARE_<AGENCY> and subjects share.<agency>.>, with the inbox prefix _INBOX_<agency>.
nats-server reads each user's password from MZ_NATS_PASSWORD_<USER> when it starts; no password
is in the output. deploy/nats/accounts.conf is this command's output; its header gives the
command that made it.

Access: needs no token; it reads no settings and connects to nothing.";

/// `minzheng <service>`: what it is, what it needs, its tools.
pub fn service_command(service: &'static Service) -> Command {
    let command = Command::new(service.name)
        .about(service.about)
        .long_about(format!(
            "{}.\n\nRuns the service alone against PostgreSQL and NATS, as the Kubernetes \
             manifests do, configured by MZ_* environment variables (or a TOML file named by \
             MZ_CONFIG, which they override). `minzheng dev` runs it beside every other service \
             with nothing to configure.",
            service.about
        ))
        .after_help(environment(service))
        .disable_help_subcommand(true);
    match service.tools {
        Some(tools) => tools.augment(command),
        None => command,
    }
}

/// The settings `minzheng <service>` reads, with their defaults.
fn environment(service: &Service) -> String {
    let platform = PlatformSettings::default();
    let auth = AuthSettings::default();
    let mut variables: Vec<(&str, String)> = vec![
        (
            "MZ_DATABASE_URL",
            "event store: postgres://… or postgresql://… (sqlite:… for a trial) [required]"
                .to_owned(),
        ),
        (
            "MZ_DATABASE_ACQUIRE_TIMEOUT_MS",
            format!(
                "how long a call waits for a database connection before it is UNAVAILABLE, in \
                 milliseconds; every pool [default: {}]",
                platform.database_acquire_timeout_ms
            ),
        ),
        (
            "MZ_NATS_URL",
            "NATS server with JetStream, e.g. nats://nats:4222 [required]".to_owned(),
        ),
        (
            "MZ_AUTH__PUBLIC_KEY_FILE",
            "PEM file of the RSA or Ed25519 keys that verify bearer tokens".to_owned(),
        ),
        (
            "MZ_AUTH__PUBLIC_KEYS_PEM",
            "the same keys inline [one of the two is required; MZ_AUTH__DEV_SECRET, an HS256 \
             secret, in development]"
                .to_owned(),
        ),
        (
            "MZ_AUTH__ISSUER",
            format!("required iss claim [default: {}]", auth.issuer),
        ),
        (
            "MZ_AUTH__AUDIENCE",
            format!("required aud claim [default: {}]", auth.audience),
        ),
        (
            "MZ_AUTH__LEEWAY_SECS",
            format!(
                "clock skew allowed on expiry, in seconds [default: {}]",
                auth.leeway_secs
            ),
        ),
        (
            "MZ_LISTEN",
            format!("gRPC listen address [default: {}]", platform.listen),
        ),
        (
            "MZ_OTLP_ENDPOINT",
            "OTLP/gRPC collector for traces and metrics [default: none]".to_owned(),
        ),
        (
            "MZ_METRICS_LISTEN",
            "Prometheus scrape endpoint (GET /metrics), e.g. 0.0.0.0:9464 [default: none]"
                .to_owned(),
        ),
        ("MZ_LOG_FORMAT", "text or json [default: text]".to_owned()),
        (
            "MZ_LOG_FILTER",
            format!(
                "log filter when RUST_LOG is unset [default: {}]",
                platform.log_filter
            ),
        ),
        (
            "MZ_RELAY_POLL_MS",
            format!(
                "how often the outbox relay polls the store [default: {}]",
                platform.relay_poll_ms
            ),
        ),
        (
            "MZ_RELAY_UNREADY_AFTER_SECS",
            format!(
                "how long the relay may fail before health says NOT_SERVING [default: {}]",
                platform.relay_unready_after_secs
            ),
        ),
        (
            "MZ_STREAM__DUPLICATE_WINDOW_SECS",
            format!(
                "JetStream duplicate window, ensured at every start [default: {}]",
                platform.stream.duplicate_window_secs
            ),
        ),
        (
            "MZ_STREAM__MAX_AGE_SECS",
            "oldest event a new stream keeps; an existing stream keeps the server's setting \
             [default: unlimited]"
                .to_owned(),
        ),
        (
            "MZ_STREAM__MAX_BYTES",
            "most bytes a new stream keeps; likewise [default: unlimited]".to_owned(),
        ),
        (
            "MZ_STREAM__REPLICAS",
            "replicas of a new stream in a JetStream cluster; likewise [default: 1]".to_owned(),
        ),
        (
            "MZ_SHUTDOWN_TIMEOUT_SECS",
            format!(
                "how long a shutdown waits for calls in flight [default: {}]",
                platform.shutdown_timeout_secs
            ),
        ),
    ];
    variables.extend(
        service
            .env
            .iter()
            .map(|(name, about)| (*name, (*about).to_owned())),
    );
    let width = variables
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    let mut text = String::from("Environment:\n");
    for (name, about) in variables {
        let _ = writeln!(text, "  {name:width$}  {about}");
    }
    text
}

/// The names of the tools, as typed after `minzheng`: the built-in commands, then each
/// service's tools (`placenames import`).
pub fn tool_names(command: &Command) -> Vec<String> {
    tools(command).into_iter().map(|(name, _)| name).collect()
}

/// Every tool with its one-line description.
fn tools(command: &Command) -> Vec<(String, String)> {
    let about = |command: &Command| {
        command
            .get_about()
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    let builtin = command
        .get_subcommands()
        .filter(|sub| services::find(sub.get_name()).is_none())
        .map(|sub| (sub.get_name().to_owned(), about(sub)));
    let of_services = command
        .get_subcommands()
        .filter(|sub| services::find(sub.get_name()).is_some())
        .flat_map(|service| {
            service.get_subcommands().map(move |tool| {
                (
                    format!("{} {}", service.get_name(), tool.get_name()),
                    about(tool),
                )
            })
        });
    builtin.chain(of_services).collect()
}

/// The help template of `minzheng`: the usage, then the services and the tools, one line each,
/// then the options.
pub fn overview(command: &Command) -> String {
    let styles = command.get_styles();
    let (header, literal) = (styles.get_header(), styles.get_literal());
    let services: Vec<(String, String)> = services::SERVICES
        .iter()
        .map(|service| (service.name.to_owned(), service.about.to_owned()))
        .collect();
    let tools = tools(command);
    let width = services
        .iter()
        .chain(&tools)
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    let mut text = String::from("{about-with-newline}\n{usage-heading} {usage}\n\n");
    let mut section = |title: &str, entries: &[(String, String)]| {
        let _ = writeln!(text, "{header}{title}{header:#}");
        for (name, about) in entries {
            let padding = width - name.len();
            let _ = writeln!(text, "  {literal}{name}{literal:#}{:padding$}  {about}", "");
        }
        text.push('\n');
    };
    section(
        "Services (`minzheng <SERVICE>` runs one against PostgreSQL and NATS):",
        &services,
    );
    section("Tools:", &tools);
    let _ = write!(
        text,
        "{header}Options:{header:#}\n{{options}}\n\n\
         `minzheng <COMMAND> --help` describes each; a service's lists the environment it needs.\n"
    );
    text
}
