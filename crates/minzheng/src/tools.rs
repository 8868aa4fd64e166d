//! Operator tools that talk to a running service over gRPC: `minzheng <service> <tool> …`. A
//! service's tools are a clap [`Subcommand`] enum implementing [`Tool`], named in its entry of
//! `services::SERVICES` through a [`Tools`] constant.
//!
//! - `minzheng placenames import FILE [--server URL] [--valid-from YYYY-MM-DD]`: sends a CSV file
//!   of divisions to `ImportDivisions`. It needs an operator token scoped to a region containing
//!   every row ([`IMPORT_ACCESS`]), from `MZ_TOKEN`; without it, a development token (operator
//!   role, scoped to the provinces in the file) is minted with the embedded mode's secret, which
//!   is what a `minzheng dev` server accepts.
//! - `minzheng nats-config --agency A …` (a built-in command, as it belongs to no service):
//!   prints the NATS accounts configuration of the hosted services and the agencies
//!   ([`nats_config`]); `deploy/nats/accounts.conf` is its output.

use std::{collections::BTreeSet, future::Future, path::PathBuf, pin::Pin, time::Duration};

use anyhow::{Context as _, bail};
use clap::{ArgMatches, Args, Command, Subcommand};
use minzheng_kit::{
    auth::{Role, mint_dev_token},
    settings::PlatformSettings,
};
use minzheng_proto::{
    common::v1 as common, placenames::v1 as pb,
    placenames::v1::place_names_service_client::PlaceNamesServiceClient,
};
use minzheng_types::{DateError, RegionCode, parse_date};
use tonic::{metadata::MetadataValue, transport::Endpoint};

use crate::dev_secret;

/// A service's tools: the subcommands they add to `minzheng <service>` and how to run the one
/// the command line chose.
#[derive(Debug, Clone, Copy)]
pub struct Tools {
    augment: fn(Command) -> Command,
    run: fn(PlatformSettings, ArgMatches) -> ToolRun,
}

type ToolRun = Pin<Box<dyn Future<Output = anyhow::Result<()>>>>;

impl Tools {
    const fn of<T: Tool>() -> Self {
        Tools {
            augment: T::augment_subcommands,
            run: run_tool::<T>,
        }
    }

    /// Adds the tools to a service's command, under their own heading.
    pub fn augment(&self, service: Command) -> Command {
        (self.augment)(service.subcommand_help_heading("Tools"))
    }

    /// Runs the tool chosen in `service`, the matches of `minzheng <service> <tool> …`.
    pub async fn run(&self, settings: PlatformSettings, service: ArgMatches) -> anyhow::Result<()> {
        (self.run)(settings, service).await
    }
}

/// The subcommands of one service's tools.
trait Tool: Subcommand + 'static {
    async fn run(self, settings: PlatformSettings) -> anyhow::Result<()>;
}

fn run_tool<T: Tool>(settings: PlatformSettings, service: ArgMatches) -> ToolRun {
    Box::pin(async move {
        // The matches come from the command `T` augmented, so this cannot fail.
        let tool = T::from_arg_matches(&service)?;
        tool.run(settings).await
    })
}

/// The place-names service's tools.
pub const PLACENAMES: Tools = Tools::of::<PlaceNamesTool>();

#[derive(Debug, Subcommand)]
enum PlaceNamesTool {
    /// Imports a CSV file of divisions into a running place-names service.
    #[command(after_help = IMPORT_ACCESS)]
    Import(ImportArgs),
}

impl Tool for PlaceNamesTool {
    async fn run(self, settings: PlatformSettings) -> anyhow::Result<()> {
        match self {
            PlaceNamesTool::Import(args) => import(&settings, args).await,
        }
    }
}

/// Who may import, for the tool's help (the README says the same).
pub const IMPORT_ACCESS: &str = "\
Access: an operator token scoped to a region that contains every row of the file: a
province-scoped token for a province's file, a city-scoped one (or the province's) for a city's
file. The token is read from MZ_TOKEN. Without MZ_TOKEN a development token is minted with the
secret under MZ_DATA_DIR (operator, scoped to the provinces of the file's codes, valid for ten
minutes): only a server verifying tokens with that secret, such as `minzheng dev` on the same
data directory, accepts it.";

#[derive(Debug, Args)]
struct ImportArgs {
    /// The CSV file (`code,name,level,parent_code`).
    file: PathBuf,
    /// The service's gRPC address.
    #[arg(long, default_value = "http://127.0.0.1:50051", value_parser = parse_server)]
    server: String,
    /// The first day the divisions are valid (YYYY-MM-DD).
    #[arg(long, default_value = "2023-06-30", value_parser = parse_day)]
    valid_from: common::Date,
}

fn parse_server(text: &str) -> Result<String, tonic::transport::Error> {
    Endpoint::from_shared(text.to_owned())?;
    Ok(text.to_owned())
}

fn parse_day(text: &str) -> Result<common::Date, DateError> {
    parse_date(text).map(Into::into)
}

async fn import(settings: &PlatformSettings, args: ImportArgs) -> anyhow::Result<()> {
    let csv =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let token = match std::env::var("MZ_TOKEN") {
        Ok(token) if !token.trim().is_empty() => token,
        _ => {
            let provinces = provinces_in(&csv);
            if provinces.is_empty() {
                bail!("{} names no division code", args.file.display());
            }
            let secret = dev_secret::load_or_create(settings)?;
            mint_dev_token(
                &secret,
                "import",
                &[Role::Operator],
                &provinces,
                Duration::from_secs(600),
            )?
        }
    };
    let channel = Endpoint::from_shared(args.server.clone())
        .with_context(|| format!("--server {:?}", args.server))?
        .connect()
        .await
        .with_context(|| format!("connecting to {}", args.server))?;
    let mut client = PlaceNamesServiceClient::new(channel).max_encoding_message_size(32 << 20);
    let mut request = tonic::Request::new(pb::ImportDivisionsRequest {
        metadata: Some(common::CommandMetadata {
            idempotency_key: uuid::Uuid::now_v7().to_string(),
            correlation_id: String::new(),
        }),
        csv,
        valid_from: Some(args.valid_from),
    });
    let bearer: MetadataValue<_> = format!("Bearer {token}")
        .parse()
        .context("the token is not valid header text")?;
    request.metadata_mut().insert("authorization", bearer);
    let response = client
        .import_divisions(request)
        .await
        .map_err(|status| anyhow::anyhow!("{}: {}", status.code(), status.message()))?
        .into_inner();
    println!(
        "{} rows: {} recorded, {} already recorded (position {})",
        response.rows, response.recorded, response.unchanged, response.position
    );
    Ok(())
}

/// The provinces of the codes in the file's first column, for the development token's scope.
fn provinces_in(csv: &[u8]) -> Vec<RegionCode> {
    let text = String::from_utf8_lossy(csv);
    let provinces: BTreeSet<RegionCode> = text
        .lines()
        .filter_map(|line| line.split(',').next())
        .filter_map(|code| RegionCode::parse(code.trim().trim_matches('"')).ok())
        .map(RegionCode::province)
        .collect();
    provinces.into_iter().collect()
}

/// The data-sharing service's tools.
pub const DATASHARING: Tools = Tools::of::<DataSharingTool>();

#[derive(Debug, Subcommand)]
enum DataSharingTool {
    /// Loads an agency's records (CSV or JSON Lines) into a running data-sharing service.
    #[command(after_help = LOAD_HELP)]
    Load(LoadArgs),
    /// Replays the projections of the other services' events (persons, households, benefits,
    /// the audit trail) from zero, with the service stopped (MZ_DATABASE_URL, MZ_NATS_URL).
    #[command(after_help = REBUILD_HELP)]
    Rebuild,
}

impl Tool for DataSharingTool {
    async fn run(self, settings: PlatformSettings) -> anyhow::Result<()> {
        match self {
            DataSharingTool::Load(args) => load(&settings, args).await,
            DataSharingTool::Rebuild => rebuild(settings).await,
        }
    }
}

/// The load file's format and who may load, for the tool's help.
pub const LOAD_HELP: &str = "\
The file: CSV with a header, or JSON Lines (.jsonl) with the same keys: reference, kind, citizen_id,
as_of (YYYY-MM-DD), amount_yuan, and optionally ended, area_m2, disability_grade, division,
household_number, relation_to_head. Every row is checked on its own: a bad row is reported with
its line, column and rule, and the others load. Loading the same file again records nothing.

Access: an agency token naming the agency (it loads only its own records) or an operator token,
from MZ_TOKEN. Without MZ_TOKEN a development operator token is minted with the secret under
MZ_DATA_DIR: only a server verifying tokens with that secret, such as `minzheng dev` on the same
data directory, accepts it.";

/// What the rebuild does, for the tool's help.
pub const REBUILD_HELP: &str = "\
Stop every replica of the data-sharing service first. The tool empties the projections' tables,
makes their consumers forget what they applied (inbox, durable JetStream consumers), then runs the
service itself until every event of the placenames, civilregistry, assistance and datasharing
streams is applied again, printing what is left. The standards' lines and the thresholds, which
reports are reproduced from, are history and are not replayed. It reads the service's settings
(MZ_DATABASE_URL or MZ_DATASHARING__…, MZ_NATS_URL) as `minzheng datasharing` does.";

/// Replays the data-sharing projections; see [`REBUILD_HELP`].
async fn rebuild(mut settings: PlatformSettings) -> anyhow::Result<()> {
    use minzheng_datasharing::app::rebuild;
    use secrecy::ExposeSecret as _;
    let url = settings.database_url_or_embedded("datasharing");
    let db = minzheng_bus::connect_any(url.expose_secret(), settings.database_acquire_timeout())
        .await
        .context("opening the data-sharing database")?;
    let nats_url = settings
        .nats_url
        .clone()
        .context("MZ_NATS_URL must be set: the projections replay from the bus")?;
    let client = minzheng_host::connect_nats(&settings, &nats_url)
        .await
        .with_context(|| format!("connecting to NATS at {nats_url}"))?;
    rebuild::reset(&db, Some((&client, "minzheng"))).await?;
    eprintln!("rebuild: projections emptied; replaying");
    // The service, on a port of its own, until everything is applied again.
    settings.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let service = crate::services::find("datasharing").context("the datasharing service")?;
    let host = (service.add)(
        minzheng_host::Host::new(minzheng_host::Mode::Distributed, settings.clone()),
        minzheng_host::Mode::Distributed,
        &settings,
    )?
    .start()
    .await?;
    loop {
        match host.settle(Duration::from_secs(1)).await {
            Ok(()) => break,
            Err(_) => {
                let left = rebuild::pending(&client, "minzheng").await?;
                eprint!("\rrebuild: {left} events left to apply   ");
            }
        }
    }
    eprintln!("\rrebuild: every event applied again                ");
    host.shutdown().await
}

#[derive(Debug, Args)]
struct LoadArgs {
    /// The file: `.csv`, or `.jsonl` for JSON Lines.
    file: PathBuf,
    /// The agency whose records these are: human_resources, tax, real_estate, vehicles,
    /// market_regulation, housing_fund, banks, securities, disabled_persons_federation or
    /// public_security.
    #[arg(long, value_parser = parse_agency)]
    agency: minzheng_datasharing::records::Agency,
    /// The agency's name for the extract (default: the file's name).
    #[arg(long)]
    extract: Option<String>,
    /// The service's gRPC address.
    #[arg(long, default_value = "http://127.0.0.1:50051", value_parser = parse_server)]
    server: String,
}

fn parse_agency(text: &str) -> Result<minzheng_datasharing::records::Agency, String> {
    minzheng_datasharing::records::Agency::from_code(text).ok_or_else(|| {
        let known: Vec<&str> = minzheng_datasharing::records::Agency::ALL
            .iter()
            .map(|a| a.code())
            .collect();
        format!("not an agency; one of {}", known.join(", "))
    })
}

/// Records sent per message.
const RECORDS_PER_MESSAGE: usize = 2_000;

/// Counts the bytes read through it, for the progress line.
struct Counted<R> {
    inner: R,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

async fn load(settings: &PlatformSettings, args: LoadArgs) -> anyhow::Result<()> {
    use futures::StreamExt as _;
    use minzheng_datasharing::grpc::file::{self, Format};
    use minzheng_proto::datasharing::v1::{
        self as ds, data_sharing_service_client::DataSharingServiceClient,
    };
    use std::sync::{Arc, atomic::AtomicU64, atomic::Ordering};

    let opened = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let size = opened.metadata().map(|m| m.len()).unwrap_or(0).max(1);
    let read = Arc::new(AtomicU64::new(0));
    let reader = std::io::BufReader::new(Counted {
        inner: opened,
        read: read.clone(),
    });
    let token = match std::env::var("MZ_TOKEN") {
        Ok(token) if !token.trim().is_empty() => token,
        _ => {
            let secret = dev_secret::load_or_create(settings)?;
            mint_dev_token(
                &secret,
                "load",
                &[Role::Operator],
                &[],
                Duration::from_secs(3600),
            )?
        }
    };
    let extract = args.extract.clone().unwrap_or_else(|| {
        args.file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let agency = minzheng_datasharing::codec::records::agency_to_pb(args.agency);

    // The file is read on a blocking thread; bad rows are printed, good ones sent in messages.
    let (sender, receiver) = tokio::sync::mpsc::channel::<ds::LoadAgencyRecordsRequest>(4);
    let unreadable = Arc::new(AtomicU64::new(0));
    let reading = {
        let (unreadable, read) = (unreadable.clone(), read.clone());
        let format = Format::of_path(&args.file);
        tokio::task::spawn_blocking(move || {
            let mut first = Some(ds::LoadAgencyRecordsRequest {
                agency,
                extract,
                records: Vec::new(),
                metadata: Some(common::CommandMetadata {
                    idempotency_key: uuid::Uuid::now_v7().to_string(),
                    correlation_id: String::new(),
                }),
            });
            let mut batch = Vec::with_capacity(RECORDS_PER_MESSAGE);
            let mut rows = 0u64;
            let send = |records: Vec<ds::LoadedRecord>,
                        first: &mut Option<ds::LoadAgencyRecordsRequest>| {
                let message = match first.take() {
                    Some(mut first) => {
                        first.records = records;
                        first
                    }
                    None => ds::LoadAgencyRecordsRequest {
                        records,
                        ..ds::LoadAgencyRecordsRequest::default()
                    },
                };
                sender.blocking_send(message).is_ok()
            };
            for row in file::rows(reader, format) {
                rows += 1;
                match row {
                    Ok(record) => batch.push(record),
                    Err(e) => {
                        unreadable.fetch_add(1, Ordering::Relaxed);
                        eprintln!("\rline {}: {}: {}", e.line, e.field, e.rule);
                    }
                }
                if batch.len() == RECORDS_PER_MESSAGE {
                    if !send(std::mem::take(&mut batch), &mut first) {
                        return;
                    }
                    let percent = read.load(Ordering::Relaxed) * 100 / size;
                    eprint!("\r{rows} rows read ({percent}%)");
                }
            }
            if !batch.is_empty() || first.is_some() {
                send(batch, &mut first);
            }
            eprintln!("\r{rows} rows read (100%)");
        })
    };
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|message| (message, receiver))
    })
    .boxed();

    let channel = Endpoint::from_shared(args.server.clone())
        .with_context(|| format!("--server {:?}", args.server))?
        .connect()
        .await
        .with_context(|| format!("connecting to {}", args.server))?;
    let mut client = DataSharingServiceClient::new(channel).max_encoding_message_size(16 << 20);
    let mut request = tonic::Request::new(stream);
    let bearer: MetadataValue<_> = format!("Bearer {token}")
        .parse()
        .context("the token is not valid header text")?;
    request.metadata_mut().insert("authorization", bearer);
    let response = client
        .load_agency_records(request)
        .await
        .map_err(|status| anyhow::anyhow!("{}: {}", status.code(), status.message()))?
        .into_inner();
    reading.await.context("reading the file")?;
    for rejected in &response.rejected {
        eprintln!(
            "line {}: {}: {}",
            rejected.line, rejected.field, rejected.rule
        );
    }
    let load = response.load.unwrap_or_default();
    println!(
        "load {}: {} received, {} recorded, {} already known, {} refused by the service, {} \
         unreadable in the file",
        load.load_id,
        load.received,
        load.recorded,
        load.already_known,
        load.rejected,
        unreadable.load(Ordering::Relaxed)
    );
    Ok(())
}

/// The service that shares out to agencies: it publishes the shared copies and owns their streams.
const SHARING_SERVICE: &str = "datasharing";

/// The NATS accounts configuration of the hosted services and `agencies`
/// ([`minzheng_bus::permissions`]), under a header saying how it was made and how to remake it.
pub fn nats_config(agencies: &[String]) -> anyhow::Result<String> {
    let services: Vec<&str> = crate::services::names().collect();
    let agency_codes: Vec<&str> = agencies.iter().map(String::as_str).collect();
    let accounts = minzheng_bus::nats_config(
        minzheng_bus::DEFAULT_PREFIX,
        &services,
        SHARING_SERVICE,
        &agency_codes,
    )
    .context("the NATS accounts configuration")?;
    let command: String = agencies
        .iter()
        .map(|agency| format!(" --agency {agency}"))
        .collect();
    Ok(format!(
        "# NATS accounts of minzheng: one user per service, which publishes only its own events,\n\
         # and one per agency, which reads only what is shared with it (deploy/nats/README.md).\n\
         # Generated; do not edit. Made, and remade after adding a service or an agency, with:\n\
         #   minzheng nats-config{command}\n\
         # nats-server reads each user's password from the environment variable named below it.\n\
         \n{accounts}"
    ))
}

/// `minzheng redrive SERVICE [--consumer NAME]`: marks the service's parked events for its
/// running consumers to apply again, and says how many.
pub async fn redrive(
    settings: &PlatformSettings,
    service: &str,
    consumer: Option<&str>,
) -> anyhow::Result<()> {
    use secrecy::ExposeSecret as _;
    let Some(service) = crate::services::find(service) else {
        anyhow::bail!(
            "no service called {service:?}; services: {}",
            crate::services::names().collect::<Vec<_>>().join(", ")
        );
    };
    let consumer = consumer
        .map(minzheng_bus::ConsumerName::parse)
        .transpose()
        .context("--consumer")?;
    let url = settings.database_url_or_embedded(service.name);
    let db = minzheng_bus::connect_any(url.expose_secret(), settings.database_acquire_timeout())
        .await
        .with_context(|| format!("opening the {} database", service.name))?;
    let asked = minzheng_bus::request_redrive(&db, consumer.as_ref())
        .await
        .with_context(|| format!("marking the {} parked events", service.name))?;
    println!(
        "{} parked event(s) will be applied again by the running {} service within seconds",
        asked.requested, service.name
    );
    if asked.not_redrivable > 0 {
        println!(
            "{} parked event(s) cannot be: parked before events were kept whole, or not \
             readable events (see mz_parked and the dead-letter stream)",
            asked.not_redrivable
        );
    }
    Ok(())
}

/// An agency code for `nats-config`: what can name an agency's subjects and stream.
pub fn parse_agency_code(text: &str) -> Result<String, String> {
    minzheng_bus::ShareNaming::with_prefix(minzheng_bus::DEFAULT_PREFIX)
        .and_then(|share| share.agency_subjects(text))
        .map(|_| text.to_owned())
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `deploy/nats/accounts.conf`, as shipped.
    fn shipped() -> String {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/nats/accounts.conf"
        );
        std::fs::read_to_string(path).expect("deploy/nats/accounts.conf")
    }

    #[test]
    fn the_shipped_accounts_are_what_the_command_prints_for_their_agencies() {
        let shipped = shipped();
        let command = shipped
            .lines()
            .find_map(|line| line.strip_prefix("#   minzheng nats-config"))
            .expect("the header gives the command that made the file");
        let agencies: Vec<String> = command
            .split(" --agency ")
            .map(str::trim)
            .filter(|agency| !agency.is_empty())
            .map(str::to_owned)
            .collect();
        assert!(
            agencies.iter().any(|a| a == "public_security")
                && agencies.iter().any(|a| a == "health"),
            "the bus tests log in as these agencies: {agencies:?}"
        );
        assert!(
            shipped == nats_config(&agencies).expect("valid agencies"),
            "deploy/nats/accounts.conf is out of date: run `minzheng nats-config{command} > \
             deploy/nats/accounts.conf`"
        );
    }

    #[test]
    fn every_hosted_service_has_a_user_and_the_sharing_service_is_hosted() {
        let config = nats_config(&["health".to_owned()]).expect("valid configuration");
        for service in crate::services::names() {
            assert!(
                config.contains(&format!("        user: {service}\n")),
                "{service}"
            );
        }
        assert!(crate::services::find(SHARING_SERVICE).is_some());
        assert!(config.contains("#   minzheng nats-config --agency health\n"));
    }

    #[test]
    fn agency_codes_must_be_tokens() {
        assert_eq!(
            parse_agency_code("public_security"),
            Ok("public_security".to_owned())
        );
        for bad in ["", "Health", "health.>", "*", "a b", "9lives"] {
            assert!(parse_agency_code(bad).is_err(), "{bad:?}");
        }
    }
}
