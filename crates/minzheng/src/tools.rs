//! Operator tools that talk to a running service over gRPC: `minzheng <service> <tool> …`.
//!
//! - `minzheng placenames import FILE [--server URL] [--valid-from YYYY-MM-DD]`: sends a CSV file
//!   of divisions to `ImportDivisions`. The bearer token comes from `MZ_TOKEN`; without it, a
//!   development token (operator role, scoped to the provinces in the file) is minted with the
//!   embedded mode's secret, which is what a `minzheng dev` server accepts.

use std::{collections::BTreeSet, path::PathBuf, time::Duration};

use anyhow::{Context as _, bail};
use clap::Parser;
use minzheng_kit::{
    auth::{Role, mint_dev_token},
    settings::PlatformSettings,
};
use minzheng_proto::{
    common::v1 as common, placenames::v1 as pb,
    placenames::v1::place_names_service_client::PlaceNamesServiceClient,
};
use minzheng_types::{RegionCode, parse_date};
use tonic::{metadata::MetadataValue, transport::Endpoint};

use crate::dev_secret;

/// `minzheng placenames import`.
#[derive(Debug, Parser)]
#[command(
    name = "minzheng placenames import",
    about = "Import a CSV file of divisions"
)]
struct ImportArgs {
    /// The CSV file (`code,name,level,parent_code`).
    file: PathBuf,
    /// The service's gRPC address.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    server: String,
    /// The first day the divisions are valid.
    #[arg(long, default_value = "2023-06-30")]
    valid_from: String,
}

/// Runs `minzheng <service> <tool> <args…>`; `None` when there is no such tool.
pub async fn run(settings: &PlatformSettings, args: &[String]) -> Option<anyhow::Result<()>> {
    match (args.first()?.as_str(), args.get(1)?.as_str()) {
        ("placenames", "import") => Some(import(settings, &args[1..]).await),
        _ => None,
    }
}

async fn import(settings: &PlatformSettings, args: &[String]) -> anyhow::Result<()> {
    let args = ImportArgs::try_parse_from(args)?;
    let csv =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let valid_from = parse_date(&args.valid_from)
        .with_context(|| format!("--valid-from {:?}", args.valid_from))?;
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
        valid_from: Some(valid_from.into()),
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
