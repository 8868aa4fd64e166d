//! Command-line interface: parsing and the three ways to run.
//!
//! The built-in commands (`dev`, `token`, `nats-config`) are derived; one subcommand per hosted
//! service, with its tools, is made from `services::SERVICES` ([`command`]). Every usage error,
//! an unknown service included, is a clap error: it is printed with the usage and exits 2, before
//! anything runs.

use std::{io::Write as _, net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context as _;
use clap::{
    ArgMatches, CommandFactory as _, FromArgMatches as _, Parser, Subcommand, error::ErrorKind,
};
use minzheng_host::{Host, Mode};
use minzheng_kit::{
    auth::{Authenticator, Role, mint_dev_token},
    settings::PlatformSettings,
    shutdown::cancel_on_signal,
};
use minzheng_types::RegionCode;
use tracing::info;

use crate::{
    dev_secret, help,
    services::{self, Service},
    tools,
};

/// The built-in commands; `command` adds the services.
#[derive(Debug, Parser)]
#[command(name = "minzheng", version, about)]
struct Cli {
    #[command(subcommand)]
    tool: Builtin,
}

#[derive(Debug, Subcommand)]
pub enum Builtin {
    /// Runs every service in one process on an embedded SQLite store (development, trial runs).
    #[command(after_help = help::DEV_ACCESS)]
    Dev {
        /// gRPC listen address (overrides MZ_LISTEN).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Where the SQLite files and the development token secret live (overrides MZ_DATA_DIR).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Region the printed development token is scoped to (default: Benxi city, the first
        /// city the platform serves).
        #[arg(long, default_value = "210500000000")]
        token_region: RegionCode,
    },
    /// Mints a development bearer token (HS256, signed with the embedded mode's secret or
    /// MZ_AUTH__DEV_SECRET).
    #[command(after_help = help::TOKEN_ACCESS)]
    Token {
        /// Subject: the staff or system account the token stands for.
        #[arg(long, default_value = "dev")]
        sub: String,
        /// Roles (repeatable): caseworker, approver, auditor, operator, agency, citizen.
        #[arg(long = "role", required = true)]
        roles: Vec<Role>,
        /// Region codes the token is scoped to (repeatable, 12 digits).
        #[arg(long = "region", required = true)]
        regions: Vec<RegionCode>,
        /// Agency name, for the agency role.
        #[arg(long)]
        agency: Option<String>,
        /// The citizen's id number, for the citizen role (who reads their own audit trail).
        #[arg(long)]
        citizen: Option<minzheng_types::CitizenId>,
        /// Lifetime, e.g. 30m, 8h, 2d.
        #[arg(long, default_value = "8h", value_parser = parse_ttl)]
        ttl: Duration,
        /// Data directory holding the embedded mode's secret (overrides MZ_DATA_DIR).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Prints the NATS accounts configuration: one user per service, publishing only its own
    /// events, and one per agency, reading only what is shared with it.
    #[command(after_help = help::NATS_CONFIG_HELP)]
    NatsConfig {
        /// An agency the data-sharing service shares with (repeatable): its code, lowercase
        /// letters, digits and '_', e.g. public_security.
        #[arg(long = "agency", value_name = "AGENCY", value_parser = tools::parse_agency_code)]
        agencies: Vec<String>,
    },
    /// Asks a service's consumers to apply their parked events again (after the fix of what
    /// made them fail is deployed): each once, within seconds, by the running service; one that
    /// fails again stays parked with its new error. Reads MZ_DATABASE_URL (or the embedded
    /// store under MZ_DATA_DIR).
    Redrive {
        /// The service whose consumers parked the events, e.g. datasharing.
        service: String,
        /// Only this consumer's parked events (its durable name, e.g. datasharing-persons).
        #[arg(long)]
        consumer: Option<String>,
        /// Data directory of the embedded store (overrides MZ_DATA_DIR).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Invocation {
    Builtin(Builtin),
    /// `minzheng <service>` or, with `tool` set to the service's matches, `minzheng <service>
    /// <tool> …`.
    Service {
        service: &'static Service,
        tool: Option<ArgMatches>,
    },
}

/// The whole command line: the built-in commands and one subcommand per service, each with its
/// tools, and a help page listing both.
pub fn command() -> clap::Command {
    let command = Cli::command()
        .subcommands(services::SERVICES.iter().map(help::service_command))
        // Unknown names reach `parse`, which names what there is; clap would only say
        // "unrecognized subcommand".
        .allow_external_subcommands(true);
    let overview = help::overview(&command);
    command.help_template(overview)
}

/// Parses the process's arguments. Prints the help or the version and exits 0 when asked; prints
/// a usage error and exits 2 on one.
pub fn parse() -> Invocation {
    let mut command = command();
    let matches = command.clone().get_matches();
    let Some((name, sub)) = matches.subcommand() else {
        unreachable!("clap requires a subcommand")
    };
    if let Some(service) = services::find(name) {
        return Invocation::Service {
            service,
            tool: sub.subcommand().is_some().then(|| sub.clone()),
        };
    }
    if command.find_subcommand(name).is_none() {
        command
            .error(
                ErrorKind::InvalidSubcommand,
                format!(
                    "no service or tool called {name:?}; services: {}; tools: {}",
                    services::names().collect::<Vec<_>>().join(", "),
                    help::tool_names(&command).join(", "),
                ),
            )
            .exit()
    }
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => Invocation::Builtin(cli.tool),
        Err(error) => error.format(&mut command).exit(),
    }
}

impl Invocation {
    pub async fn run(self) -> anyhow::Result<()> {
        // Loaded by the commands that use them: `nats-config` reads none.
        let load_settings = || PlatformSettings::load().context("loading settings");
        match self {
            Invocation::Builtin(Builtin::Dev {
                listen,
                data_dir,
                token_region,
            }) => {
                let mut settings = load_settings()?;
                if let Some(listen) = listen {
                    settings.listen = listen;
                }
                if let Some(dir) = data_dir {
                    settings.data_dir = dir;
                }
                run_dev(settings, token_region).await
            }
            Invocation::Builtin(Builtin::Token {
                sub,
                roles,
                regions,
                agency,
                citizen,
                ttl,
                data_dir,
            }) => {
                let mut settings = load_settings()?;
                if let Some(dir) = data_dir {
                    settings.data_dir = dir;
                }
                let secret = dev_secret::load_or_create(&settings)?;
                let mut claims = minzheng_kit::auth::Claims::new(&sub, &roles, &regions, ttl);
                if let Some(agency) = agency {
                    claims = claims.with_agency(agency);
                }
                if let Some(citizen) = &citizen {
                    claims = claims.with_citizen(citizen);
                }
                println!("{}", minzheng_kit::auth::mint_hs256(&secret, &claims)?);
                Ok(())
            }
            Invocation::Service {
                service,
                tool: Some(matches),
            } => {
                let tools = service
                    .tools
                    .context("clap accepted a tool of a service that has none")?;
                tools.run(load_settings()?, matches).await
            }
            Invocation::Service {
                service,
                tool: None,
            } => run_service(load_settings()?, service).await,
            Invocation::Builtin(Builtin::Redrive {
                service,
                consumer,
                data_dir,
            }) => {
                let mut settings = load_settings()?;
                if let Some(dir) = data_dir {
                    settings.data_dir = dir;
                }
                tools::redrive(&settings, &service, consumer.as_deref()).await
            }
            Invocation::Builtin(Builtin::NatsConfig { agencies }) => {
                print!("{}", tools::nats_config(&agencies)?);
                Ok(())
            }
        }
    }
}

async fn run_dev(settings: PlatformSettings, token_region: RegionCode) -> anyhow::Result<()> {
    let _telemetry = minzheng_telemetry::init(&settings.telemetry("minzheng-dev"))?;
    let secret = dev_secret::load_or_create(&settings)?;
    let host = services::add_all(
        Host::new(Mode::Embedded, settings.clone())
            .authenticator(Authenticator::dev(&secret).context("development token secret")?),
        Mode::Embedded,
        &settings,
    )?;
    let running = host.start().await?;
    let token = mint_dev_token(
        &secret,
        "dev",
        &Role::ALL,
        &[token_region],
        Duration::from_secs(12 * 3600),
    )?;
    cancel_on_signal(running.shutdown_token())?;
    info!(
        listen = %running.local_addr(),
        services = ?services::names().collect::<Vec<_>>(),
        "minzheng dev is up"
    );
    // The token goes to standard output on purpose: it is for the person who started the
    // process, not for the logs. A closed standard output (piped into `head`, say) must not stop
    // the server, so write errors are ignored.
    let banner = format!(
        "minzheng dev: gRPC on {addr}, data in {dir}\n\
         development token (12 h, every role, region {token_region}):\n{token}\n\
         try: grpcurl -plaintext {addr} list\n",
        addr = running.local_addr(),
        dir = settings.data_dir.display(),
    );
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    running.wait().await
}

async fn run_service(settings: PlatformSettings, service: &Service) -> anyhow::Result<()> {
    let name = service.name;
    let _telemetry = minzheng_telemetry::init(&settings.telemetry(&format!("minzheng-{name}")))?;
    let host = (service.add)(
        Host::new(Mode::Distributed, settings.clone()),
        Mode::Distributed,
        &settings,
    )?;
    let running = host.start().await?;
    cancel_on_signal(running.shutdown_token())?;
    info!(service = %name, listen = %running.local_addr(), "service is up");
    running.wait().await
}

/// Parses `30m`, `8h`, `2d`, `90s`.
fn parse_ttl(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: u64 = number
        .parse()
        .map_err(|_| "expected a number followed by s, m, h or d".to_owned())?;
    let seconds = match unit {
        "s" => Some(number),
        "m" => number.checked_mul(60),
        "h" => number.checked_mul(3600),
        "d" => number.checked_mul(86_400),
        _ => return Err("the unit must be s, m, h or d".to_owned()),
    };
    match seconds {
        Some(0) => Err("must be positive".to_owned()),
        Some(seconds) => Ok(Duration::from_secs(seconds)),
        None => Err("too long".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_ttl("8h").unwrap(), Duration::from_secs(8 * 3600));
        assert_eq!(parse_ttl("2d").unwrap(), Duration::from_secs(2 * 86_400));
        assert!(parse_ttl("8").is_err());
        assert!(parse_ttl("h").is_err());
        assert!(parse_ttl("0h").is_err());
        assert!(parse_ttl("5w").is_err());
        assert!(parse_ttl("999999999999999999d").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn every_listed_service_can_be_added_under_its_name() {
        let data = tempfile::tempdir().expect("temporary directory");
        let settings = PlatformSettings {
            data_dir: data.path().to_owned(),
            ..PlatformSettings::default()
        };
        for service in services::SERVICES {
            let host = (service.add)(
                Host::new(Mode::Embedded, settings.clone()),
                Mode::Embedded,
                &settings,
            )
            .expect("secrets");
            assert!(
                format!("{host:?}").contains(&format!("[{:?}]", service.name)),
                "{} adds a module of another name: {host:?}",
                service.name
            );
        }
        assert!(services::find("no-such-service").is_none());
    }
}
