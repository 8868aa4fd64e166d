//! Operator tools that talk to a running service over gRPC: `minzheng <service> <tool> …`. A
//! service's tools are a clap [`Subcommand`] enum implementing [`Tool`], named in its entry of
//! `services::SERVICES` through a [`Tools`] constant.
//!
//! - `minzheng placenames import FILE [--server URL] [--valid-from YYYY-MM-DD]`: sends a CSV file
//!   of divisions to `ImportDivisions`. It needs an operator token scoped to a region containing
//!   every row ([`IMPORT_ACCESS`]), from `MZ_TOKEN`; without it, a development token (operator
//!   role, scoped to the provinces in the file) is minted with the embedded mode's secret, which
//!   is what a `minzheng dev` server accepts.

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
