//! The place-names service's figures: importing a province-sized division file, and the division
//! queries over gRPC at 32 concurrent clients, each beside a same-run baseline — the event
//! store's own appends for the import, a bare gRPC round trip (the health check against the same
//! server) for the queries.
//!
//! The service runs in-process in distributed mode (PostgreSQL store, NATS JetStream relay), as
//! `minzheng placenames` runs it, in a fresh database under a fresh bus prefix.

use std::{
    fmt::Write as _,
    sync::Arc,
    time::{Duration, Instant},
};

use futures::future::try_join_all;
use minzheng_host::testing::{TestHost, token};
use minzheng_kit::auth::Role;
use minzheng_proto::{
    common::v1 as common,
    placenames::v1::{self as pb, place_names_service_client::PlaceNamesServiceClient},
};
use tonic::{Request, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::rate;

/// The synthetic province: Gansu's code and shape (14 cities, 86 counties, about 1,300
/// townships), so that nothing collides with the Liaoning reference data.
pub const PROVINCE: &str = "620000000000";
const PROVINCE_CODE: u64 = 620_000_000_000;
const CITIES: usize = 14;
const COUNTIES: usize = 86;
const TOWNSHIPS: usize = 1_300;
/// Rows above village level; the rest of a file are villages.
const SKELETON: usize = 1 + CITIES + COUNTIES + TOWNSHIPS;
/// The size of a province's file, as the issue sets it.
pub const PROVINCE_ROWS: usize = 18_000;

/// The `i`-th of `parts` near-equal shares of `total`.
fn share(total: usize, parts: usize, i: usize) -> usize {
    total / parts + usize::from(i < total % parts)
}

/// A province's division file of `rows` data rows, in the shape of
/// `services/placenames/data/benxi-divisions.csv` (`code,name,level,parent_code`): one province,
/// 14 cities, 86 counties, 1,300 townships and villages for the rest, spread evenly. Codes nest
/// by prefix (city PPCC00000000, county PPCCDD000000, township PPCCDDTTT000, village
/// PPCCDDTTTVVV, each segment counting from 1); names are unique among siblings (第N村委会).
/// Panics unless `rows` leaves between 1 and 999 villages per township.
pub fn province_csv(rows: usize) -> String {
    assert!(
        rows > SKELETON && rows - SKELETON <= TOWNSHIPS * 999,
        "a province file needs between {} and {} rows",
        SKELETON + 1,
        SKELETON + TOWNSHIPS * 999
    );
    let villages = rows - SKELETON;
    let mut out = String::with_capacity(rows * 64);
    // Writing to a String cannot fail.
    let mut row = |code: u64, name: String, level: &str, parent: Option<u64>| {
        let parent = parent.map_or_else(String::new, |p| format!("{p:012}"));
        let _ = writeln!(out, "{code:012},{name},{level},{parent}");
    };
    row(PROVINCE_CODE, "基准省".to_owned(), "province", None);
    let (mut county_index, mut township_index) = (0, 0);
    for c in 0..CITIES {
        let city = PROVINCE_CODE + (c as u64 + 1) * 100_000_000;
        row(city, format!("第{}市", c + 1), "city", Some(PROVINCE_CODE));
        for d in 0..share(COUNTIES, CITIES, c) {
            let county = city + (d as u64 + 1) * 1_000_000;
            row(county, format!("第{}县", d + 1), "county", Some(city));
            for t in 0..share(TOWNSHIPS, COUNTIES, county_index) {
                let township = county + (t as u64 + 1) * 1_000;
                row(township, format!("第{}镇", t + 1), "township", Some(county));
                for v in 0..share(villages, TOWNSHIPS, township_index) {
                    let village = township + v as u64 + 1;
                    row(
                        village,
                        format!("第{}村委会", v + 1),
                        "village",
                        Some(township),
                    );
                }
                township_index += 1;
            }
            county_index += 1;
        }
    }
    let mut file = String::with_capacity(out.len() + 32);
    file.push_str("code,name,level,parent_code\n");
    file.push_str(&out);
    file
}

/// The codes of a division file, in file order.
pub fn codes(csv: &str) -> Vec<String> {
    csv.lines()
        .skip(1)
        .filter_map(|line| line.split(',').next())
        .map(str::to_owned)
        .collect()
}

/// The service running in-process in distributed mode, on the test host (a fresh database and
/// a fresh bus prefix).
#[derive(Debug)]
pub struct Service {
    host: TestHost,
}

impl Service {
    /// Starts the service on a fresh database and a fresh bus prefix.
    pub async fn start() -> anyhow::Result<Self> {
        let host = TestHost::distributed()
            .service(minzheng_placenames::Module::default())
            .start()
            .await;
        Ok(Self { host })
    }

    fn url(&self) -> String {
        format!("http://{}", self.host.addr("placenames"))
    }

    /// Shuts the host down, then removes its JetStream streams and its database.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.host.shutdown().await;
        Ok(())
    }
}

/// What one import did.
#[derive(Debug, Clone, Copy)]
pub struct Imported {
    /// Divisions recorded, one event each.
    pub recorded: usize,
    /// The store position to read the imported divisions at.
    pub position: u64,
    /// Events per second over the whole call.
    pub rate: f64,
}

/// Imports `csv` over gRPC with an operator token for the province; fails unless every row was
/// newly recorded (the database is fresh).
pub async fn import(service: &Service, csv: &str) -> anyhow::Result<Imported> {
    let token = token(&[Role::Operator], &[PROVINCE]);
    let mut client = PlaceNamesServiceClient::connect(service.url())
        .await?
        .max_encoding_message_size(32 << 20);
    let mut request = Request::new(pb::ImportDivisionsRequest {
        metadata: Some(common::CommandMetadata {
            idempotency_key: uuid::Uuid::now_v7().to_string(),
            correlation_id: String::new(),
        }),
        csv: csv.as_bytes().to_vec(),
        valid_from: Some(common::Date {
            year: 2023,
            month: 6,
            day: 30,
        }),
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let started = Instant::now();
    let response = client.import_divisions(request).await?.into_inner();
    let elapsed = started.elapsed();
    let rows = codes(csv).len();
    anyhow::ensure!(
        response.recorded as usize == rows,
        "the import recorded {} of {rows} rows",
        response.recorded
    );
    // Read-your-writes: the queries that follow see the whole province.
    client
        .get_division(pb::GetDivisionRequest {
            code: Some(common::RegionCode {
                code: PROVINCE.to_owned(),
            }),
            as_of: None,
            read: Some(common::ReadOptions {
                min_position: response.position,
            }),
        })
        .await?;
    Ok(Imported {
        recorded: rows,
        position: response.position,
        rate: rate(rows, elapsed),
    })
}

/// The call each client makes in a loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `grpc.health.v1.Health/Check` for the server as a whole: the bare gRPC round trip
    /// through the same server, its layers (authentication) included.
    HealthCheck,
    /// `GetDivision` of a random code from the file.
    GetDivision,
    /// `ResolveDivision` of a random code from the file, today.
    ResolveDivision,
}

/// The outcome of one load run.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Completed requests per second, all clients together.
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

struct Caller {
    health: HealthClient<Channel>,
    divisions: PlaceNamesServiceClient<Channel>,
}

impl Caller {
    fn new(channel: Channel) -> Self {
        Self {
            health: HealthClient::new(channel.clone()),
            divisions: PlaceNamesServiceClient::new(channel),
        }
    }

    async fn call(&mut self, call: Call, code: &str) -> anyhow::Result<()> {
        let code = Some(common::RegionCode {
            code: code.to_owned(),
        });
        match call {
            Call::HealthCheck => {
                self.health
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await?;
            }
            Call::GetDivision => {
                self.divisions
                    .get_division(pb::GetDivisionRequest {
                        code,
                        as_of: None,
                        read: None,
                    })
                    .await?;
            }
            Call::ResolveDivision => {
                self.divisions
                    .resolve_division(pb::ResolveDivisionRequest {
                        code,
                        as_of: None,
                        read: None,
                    })
                    .await?;
            }
        }
        Ok(())
    }
}

/// `clients` concurrent clients, each calling `call` back to back on random `codes` for
/// `duration`; the rate and latency percentiles of every call (the connection is made before
/// the clock starts).
///
/// The clients share one channel (one HTTP/2 connection, as callers cloning one tonic client
/// do). One connection per client was measured too: on this 2-core machine, with client and
/// server in one process, it gave about half the rate on both sides (health check and queries
/// alike, so the same ratios) and twice the p99 — the cost of 32 connections' syscalls, not of
/// the service.
pub async fn load(
    service: &Service,
    call: Call,
    codes: &Arc<[String]>,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Load> {
    let channel = Channel::from_shared(service.url())?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let callers = (0..clients).map(|_| Caller::new(channel.clone()));
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let runs = callers.enumerate().map(|(i, mut caller)| {
        let (codes, start) = (codes.clone(), start.clone());
        tokio::spawn(async move {
            let mut histogram = hdrhistogram::Histogram::<u64>::new(3)?;
            // xorshift64: uniform enough, and the same sequence every run.
            let mut x = 0x9E37_79B9_7F4A_7C15_u64 ^ (i as u64 + 1);
            start.wait().await;
            let deadline = Instant::now() + duration;
            while Instant::now() < deadline {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let code = &codes[(x % codes.len() as u64) as usize];
                let sent = Instant::now();
                caller.call(call, code).await?;
                let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                histogram.record(micros.max(1))?;
            }
            anyhow::Ok((histogram, Instant::now()))
        })
    });
    let runs: Vec<_> = runs.collect();
    start.wait().await;
    let started = Instant::now();
    let mut total = hdrhistogram::Histogram::<u64>::new(3)?;
    let mut finished = started;
    for (histogram, ended) in try_join_all(runs)
        .await?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
    {
        total.add(&histogram)?;
        finished = finished.max(ended);
    }
    let elapsed = finished.duration_since(started);
    Ok(Load {
        rate: total.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: total.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: total.value_at_quantile(0.99) as f64 / 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;

    #[test]
    fn a_province_file_has_the_shape_of_the_reference_data() {
        let csv = province_csv(PROVINCE_ROWS);
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("code,name,level,parent_code"));
        let mut levels: BTreeMap<&str, usize> = BTreeMap::new();
        let mut seen = HashSet::new();
        let mut sibling_names = HashSet::new();
        for line in lines {
            let cells: Vec<&str> = line.split(',').collect();
            let [code, name, level, parent] = cells[..] else {
                panic!("four columns: {line}");
            };
            assert_eq!(code.len(), 12);
            assert!(name.chars().count() <= 50);
            if level == "province" {
                assert_eq!((code, parent), (PROVINCE, ""));
            } else {
                assert!(seen.contains(parent), "{parent} comes before {code}");
                // The parent is the code with its lowest non-zero segment zeroed.
                let cut = match level {
                    "city" => 2,
                    "county" => 4,
                    "township" => 6,
                    _ => 9,
                };
                assert_eq!(&code[..cut], &parent[..cut]);
                assert!(parent[cut..].bytes().all(|b| b == b'0'));
                assert!(code[cut..].bytes().any(|b| b != b'0'));
            }
            assert!(seen.insert(code), "{code} is unique");
            assert!(
                sibling_names.insert((parent, name)),
                "{name} under {parent}"
            );
            *levels.entry(level).or_default() += 1;
        }
        assert_eq!(seen.len(), PROVINCE_ROWS);
        assert_eq!(
            levels,
            BTreeMap::from([
                ("province", 1),
                ("city", 14),
                ("county", 86),
                ("township", 1_300),
                ("village", PROVINCE_ROWS - SKELETON),
            ])
        );
        assert_eq!(codes(&csv).len(), PROVINCE_ROWS);
    }

    #[test]
    fn the_service_accepts_the_file() {
        let csv = province_csv(PROVINCE_ROWS);
        let rows = minzheng_placenames::import::parse(
            csv.as_bytes(),
            &minzheng_placenames::directory::Directory::default(),
        )
        .expect("the file passes the import's checks");
        assert_eq!(rows.len(), PROVINCE_ROWS);
    }
}
