//! Command-line interface: parsing and the three ways to run.

use std::{io::Write as _, net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use minzheng_host::{Host, Mode};
use minzheng_kit::{
    auth::{Authenticator, Role, mint_dev_token},
    settings::PlatformSettings,
    shutdown::cancel_on_signal,
};
use minzheng_types::RegionCode;
use tracing::info;

use crate::{dev_secret, services, tools};

/// minzheng: the civil-affairs platform.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs every service in one process on an embedded SQLite store (development, trial runs).
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
        token_region: String,
    },
    /// Mints a development bearer token (HS256, signed with the embedded mode's secret or
    /// MZ_AUTH__DEV_SECRET).
    Token {
        /// Subject: the staff or system account the token stands for.
        #[arg(long, default_value = "dev")]
        sub: String,
        /// Roles (repeatable): caseworker, approver, auditor, operator, agency.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Region codes the token is scoped to (repeatable, 12 digits).
        #[arg(long = "region", required = true)]
        regions: Vec<String>,
        /// Agency name, for the agency role.
        #[arg(long)]
        agency: Option<String>,
        /// Lifetime, e.g. 30m, 8h, 2d.
        #[arg(long, default_value = "8h")]
        ttl: String,
        /// Data directory holding the embedded mode's secret (overrides MZ_DATA_DIR).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Runs one service alone against PostgreSQL (MZ_DATABASE_URL) and NATS (MZ_NATS_URL).
    #[command(external_subcommand)]
    Service(Vec<String>),
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        let mut settings = PlatformSettings::load().context("loading settings")?;
        match self.command {
            Command::Dev {
                listen,
                data_dir,
                token_region,
            } => {
                if let Some(listen) = listen {
                    settings.listen = listen;
                }
                if let Some(dir) = data_dir {
                    settings.data_dir = dir;
                }
                let region = RegionCode::parse(&token_region)
                    .with_context(|| format!("--token-region {token_region:?}"))?;
                run_dev(settings, region).await
            }
            Command::Token {
                sub,
                roles,
                regions,
                agency,
                ttl,
                data_dir,
            } => {
                if let Some(dir) = data_dir {
                    settings.data_dir = dir;
                }
                let token = token(&settings, &sub, &roles, &regions, agency, &ttl)?;
                println!("{token}");
                Ok(())
            }
            Command::Service(args) => run_service(settings, &args).await,
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
    info!(listen = %running.local_addr(), services = ?services::NAMES, "minzheng dev is up");
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

async fn run_service(settings: PlatformSettings, args: &[String]) -> anyhow::Result<()> {
    let Some(name) = args.first() else {
        bail!("name a service to run")
    };
    if let Some(result) = tools::run(&settings, args).await {
        return result;
    }
    if args.len() > 1 {
        bail!("`minzheng {name}` takes no arguments; configure it with MZ_* environment variables");
    }
    let _telemetry = minzheng_telemetry::init(&settings.telemetry(&format!("minzheng-{name}")))?;
    let host = Host::new(Mode::Distributed, settings.clone());
    let Some(host) = services::add(host, name, Mode::Distributed, &settings)? else {
        bail!(
            "no service called {name:?}; this build has: {}",
            if services::NAMES.is_empty() {
                "none yet".to_owned()
            } else {
                services::NAMES.join(", ")
            }
        )
    };
    let running = host.start().await?;
    cancel_on_signal(running.shutdown_token())?;
    info!(service = %name, listen = %running.local_addr(), "service is up");
    running.wait().await
}

fn token(
    settings: &PlatformSettings,
    sub: &str,
    roles: &[String],
    regions: &[String],
    agency: Option<String>,
    ttl: &str,
) -> anyhow::Result<String> {
    let roles = roles
        .iter()
        .map(|r| {
            r.parse::<Role>()
                .map_err(|e| anyhow::anyhow!("--role {r:?}: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let regions = regions
        .iter()
        .map(|r| RegionCode::parse(r).with_context(|| format!("--region {r:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ttl = parse_ttl(ttl)?;
    let secret = dev_secret::load_or_create(settings)?;
    let mut claims = minzheng_kit::auth::Claims::new(sub, &roles, &regions, ttl);
    if let Some(agency) = agency {
        claims = claims.with_agency(agency);
    }
    Ok(minzheng_kit::auth::mint_hs256(&secret, &claims)?)
}

/// Parses `30m`, `8h`, `2d`, `90s`.
fn parse_ttl(text: &str) -> anyhow::Result<Duration> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: u64 = number
        .parse()
        .with_context(|| format!("--ttl {text:?}: expected a number followed by s, m, h or d"))?;
    let seconds = match unit {
        "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        "d" => number * 86_400,
        _ => bail!("--ttl {text:?}: the unit must be s, m, h or d"),
    };
    if seconds == 0 {
        bail!("--ttl must be positive");
    }
    Ok(Duration::from_secs(seconds))
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
    }

    #[test]
    fn every_listed_service_can_be_added() {
        let data = tempfile::tempdir().expect("temporary directory");
        let settings = PlatformSettings {
            data_dir: data.path().to_owned(),
            ..PlatformSettings::default()
        };
        for name in services::NAMES {
            let host = Host::new(Mode::Embedded, settings.clone());
            assert!(
                services::add(host, name, Mode::Embedded, &settings)
                    .expect("secrets")
                    .is_some(),
                "{name} is not wired"
            );
        }
        let host = Host::new(Mode::Embedded, settings.clone());
        assert!(
            services::add(host, "no-such-service", Mode::Embedded, &settings)
                .expect("nothing to set up")
                .is_none()
        );
        // Run alone, a service that keeps records of persons needs its pseudonym key.
        let host = Host::new(Mode::Distributed, settings.clone());
        let error = services::add(host, "civilregistry", Mode::Distributed, &settings)
            .expect_err("no key configured");
        assert!(error.to_string().contains("MZ_PSEUDONYM_KEY"), "{error}");
    }
}
