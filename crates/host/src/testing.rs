//! One test host for every service's API tests and the benchmark (feature `testing`): any set of
//! services started as `minzheng dev` runs them (embedded: one process, SQLite files in a
//! temporary directory, events fed in process) or as Kubernetes runs them (distributed: one host
//! per service, each on a fresh PostgreSQL database, relays and consumers on a unique JetStream
//! subject prefix), always on port 0, and stopped and started again on the same data when a
//! test needs a process to come back; tokens minted per role and scope; the access policy of a service
//! checked call by call; the access matrix kept in the service's docs; every RPC's answer with
//! the service's database cut (`database_cut`, through [`TestHostBuilder::through_proxy`]).
//!
//! Under `CI=true` a test that cannot reach PostgreSQL or NATS fails (the test kit panics with
//! instructions); it never skips.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use bytes::{Buf, BufMut, Bytes};
use minzheng_kit::{
    access::AccessPolicy,
    auth::{Authenticator, Claims, Role, mint_dev_token, mint_hs256},
    settings::PlatformSettings,
};
use minzheng_testkit::{
    TestDatabase, nats, nats_url,
    proxy::{TcpProxy, postgres_url_via},
    unique_name,
};
use minzheng_types::RegionCode;
use secrecy::SecretString;
use tonic::{
    Code, Request, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    transport::Channel,
};

use crate::{Host, Mode, RunningHost, ServiceModule};

mod database_cut;
mod place_names;
mod producer;
pub mod values;

pub use database_cut::{CutAnswer, DatabaseCut, assert_every_rpc_unavailable_while_database_cut};
pub use place_names::{PlaceNamesStandIn, StandInDivision};
pub use producer::ProducerStandIn;

/// The HS256 secret test tokens are signed with.
pub const TOKEN_SECRET: &str = "minzheng-test-host-token-secret-32-bytes+";

/// Liaoning province: a scope that contains every division the tests use.
pub const PROVINCE: &str = "210000000000";

/// Starts services for a test; see the module docs.
pub struct TestHostBuilder {
    mode: Mode,
    modules: Vec<Arc<dyn ServiceModule>>,
    data_dir: Option<PathBuf>,
    through_proxy: bool,
    database_acquire_timeout: Option<Duration>,
}

impl std::fmt::Debug for TestHostBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestHostBuilder")
            .field("mode", &self.mode)
            .field(
                "services",
                &self.modules.iter().map(|m| m.name()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Running services.
#[derive(Debug)]
pub struct TestHost {
    /// Embedded: one host under every service's name; distributed: one host per service.
    hosts: Vec<(Vec<&'static str>, RunningHost)>,
    services: StoppedHost,
}

/// The services of a [`TestHost`] while they are down ([`TestHost::stop`]), with what they keep:
/// their data (embedded: the SQLite files; distributed: the databases and the streams) and their
/// bus prefix. [`StoppedHost::start`] brings them back.
pub struct StoppedHost {
    mode: Mode,
    /// In start order.
    modules: Vec<Arc<dyn ServiceModule>>,
    prefix: String,
    nats: Option<async_nats::Client>,
    data_dir: Option<PathBuf>,
    /// Distributed: one database per module, in the modules' order.
    databases: Vec<TestDatabase>,
    /// Distributed [`TestHostBuilder::through_proxy`]: the proxy to each database, in the
    /// modules' order; empty otherwise.
    proxies: Vec<TcpProxy>,
    database_acquire_timeout: Option<Duration>,
    _temporary: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for StoppedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoppedHost")
            .field("mode", &self.mode)
            .field(
                "services",
                &self.modules.iter().map(|m| m.name()).collect::<Vec<_>>(),
            )
            .field("prefix", &self.prefix)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl TestHost {
    /// Services in one process, as `minzheng dev` runs them.
    pub fn embedded() -> TestHostBuilder {
        TestHostBuilder {
            mode: Mode::Embedded,
            modules: Vec::new(),
            data_dir: None,
            through_proxy: false,
            database_acquire_timeout: None,
        }
    }

    /// Each service alone on PostgreSQL and NATS, as `minzheng <service>` runs them.
    pub fn distributed() -> TestHostBuilder {
        TestHostBuilder {
            mode: Mode::Distributed,
            modules: Vec::new(),
            data_dir: None,
            through_proxy: false,
            database_acquire_timeout: None,
        }
    }
}

impl TestHostBuilder {
    /// Hosts `module` (started in the order added: producers before their consumers).
    pub fn service(mut self, module: impl ServiceModule) -> Self {
        self.modules.push(Arc::new(module));
        self
    }

    /// Embedded: keeps the SQLite files in `dir` (the caller's), so a test can stop the host
    /// and start another on the same data.
    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_owned());
        self
    }

    /// Distributed: each service reaches its database through a [`TcpProxy`] of its own, which
    /// the test cuts and restores ([`TestHost::database_proxy`]) to take that database "down".
    pub fn through_proxy(mut self) -> Self {
        assert_eq!(
            self.mode,
            Mode::Distributed,
            "only a distributed test host reaches PostgreSQL"
        );
        self.through_proxy = true;
        self
    }

    /// The hosts' `MZ_DATABASE_ACQUIRE_TIMEOUT_MS`: how long a call waits for a database
    /// connection before it is UNAVAILABLE.
    pub fn database_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.database_acquire_timeout = Some(timeout);
        self
    }

    /// Starts the services.
    pub async fn start(self) -> TestHost {
        let prefix = unique_name("host").to_lowercase();
        let stopped = match self.mode {
            Mode::Embedded => {
                let (temporary, dir) = match self.data_dir {
                    Some(dir) => (None, dir),
                    None => {
                        let temporary = tempfile::tempdir().expect("a temporary directory");
                        let dir = temporary.path().to_owned();
                        (Some(temporary), dir)
                    }
                };
                StoppedHost {
                    mode: Mode::Embedded,
                    modules: self.modules,
                    prefix,
                    nats: None,
                    data_dir: Some(dir),
                    databases: Vec::new(),
                    proxies: Vec::new(),
                    database_acquire_timeout: self.database_acquire_timeout,
                    _temporary: temporary,
                }
            }
            Mode::Distributed => {
                let mut databases = Vec::new();
                let mut proxies = Vec::new();
                for _ in &self.modules {
                    databases.push(TestDatabase::create().await);
                    if self.through_proxy {
                        proxies.push(TcpProxy::to_postgres().await);
                    }
                }
                StoppedHost {
                    mode: Mode::Distributed,
                    modules: self.modules,
                    prefix,
                    nats: Some(nats().await),
                    data_dir: None,
                    databases,
                    proxies,
                    database_acquire_timeout: self.database_acquire_timeout,
                    _temporary: None,
                }
            }
        };
        stopped.start().await
    }
}

impl StoppedHost {
    /// Starts the services again on the data they left, as a restart of the process (embedded)
    /// or a redeployment (distributed) does. The modules are the same values, so a clock the
    /// test holds (`FixedClock`) and moved while they were down is the new hosts' clock. The
    /// hosts listen on new ports: take channels again.
    pub async fn start(self) -> TestHost {
        let hosts = match self.mode {
            Mode::Embedded => {
                let dir = self
                    .data_dir
                    .as_deref()
                    .expect("an embedded host has a data directory");
                vec![start_embedded(&self.modules, dir, &self.platform_settings()).await]
            }
            Mode::Distributed => {
                let mut hosts = Vec::new();
                for (index, (module, database)) in
                    self.modules.iter().zip(&self.databases).enumerate()
                {
                    let url = match self.proxies.get(index) {
                        Some(proxy) => postgres_url_via(proxy, &database.name),
                        None => database.url.clone(),
                    };
                    let settings = PlatformSettings {
                        database_url: Some(SecretString::from(url)),
                        nats_url: Some(nats_url()),
                        ..self.platform_settings()
                    };
                    hosts.push(start_distributed(module, settings, &self.prefix).await);
                }
                hosts
            }
        };
        TestHost {
            hosts,
            services: self,
        }
    }
}

impl StoppedHost {
    /// What every host of this test host is started with: port 0, and the test's settings.
    fn platform_settings(&self) -> PlatformSettings {
        let defaults = PlatformSettings::default();
        PlatformSettings {
            listen: "127.0.0.1:0".parse().expect("a valid address"),
            database_acquire_timeout_ms: self
                .database_acquire_timeout
                .map_or(defaults.database_acquire_timeout_ms, |timeout| {
                    u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)
                }),
            ..defaults
        }
    }
}

/// Every module in one embedded host, its SQLite files in `dir`.
async fn start_embedded(
    modules: &[Arc<dyn ServiceModule>],
    dir: &Path,
    settings: &PlatformSettings,
) -> (Vec<&'static str>, RunningHost) {
    let names = modules.iter().map(|m| m.name()).collect();
    let host = modules
        .iter()
        .fold(
            Host::new(Mode::Embedded, settings_in(settings, dir)),
            |h, m| h.module_arc(m.clone()),
        )
        .authenticator(authenticator())
        .start()
        .await
        .expect("the embedded host starts");
    (names, host)
}

/// `module` alone in a distributed host with `settings` (its database and NATS), its bus under
/// `prefix`.
async fn start_distributed(
    module: &Arc<dyn ServiceModule>,
    settings: PlatformSettings,
    prefix: &str,
) -> (Vec<&'static str>, RunningHost) {
    let name = module.name();
    let host = Host::new(Mode::Distributed, settings)
        .module_arc(module.clone())
        .authenticator(authenticator())
        .bus_prefix(prefix)
        .start()
        .await
        .unwrap_or_else(|e| panic!("the {name} host starts: {e:#}"));
    (vec![name], host)
}

fn settings_in(settings: &PlatformSettings, dir: &Path) -> PlatformSettings {
    PlatformSettings {
        data_dir: dir.to_owned(),
        ..settings.clone()
    }
}

fn authenticator() -> Authenticator {
    Authenticator::dev(&SecretString::from(TOKEN_SECRET)).expect("a valid test secret")
}

impl TestHost {
    pub fn mode(&self) -> Mode {
        self.services.mode
    }

    /// The gRPC address serving `service`.
    pub fn addr(&self, service: &str) -> SocketAddr {
        self.host(service).local_addr()
    }

    /// A channel to the host serving `service`.
    pub async fn channel(&self, service: &str) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr(service)))
            .expect("a valid endpoint")
            .connect()
            .await
            .expect("the host accepts connections")
    }

    /// The NATS subject prefix (distributed), e.g. `thost…`: subjects are
    /// `<prefix>.<service>.<category>.<event>`.
    pub fn bus_prefix(&self) -> &str {
        &self.services.prefix
    }

    /// Where `service` stands among the hosted modules (and their databases and proxies).
    fn service_index(&self, service: &str) -> usize {
        self.services
            .modules
            .iter()
            .position(|m| m.name() == service)
            .unwrap_or_else(|| panic!("{service} is not hosted by this test host"))
    }

    /// The proxy through which `service` reaches its database (a distributed test host built
    /// [`TestHostBuilder::through_proxy`]): cut it to take the database "down" for this service.
    pub fn database_proxy(&self, service: &str) -> &TcpProxy {
        let index = self.service_index(service);
        self.services.proxies.get(index).unwrap_or_else(|| {
            panic!("{service} reaches its database directly: build the host through_proxy()")
        })
    }

    /// How long a call waits for a database connection in these hosts
    /// ([`TestHostBuilder::database_acquire_timeout`], else the platform's default).
    pub fn database_acquire_timeout(&self) -> Duration {
        self.services.platform_settings().database_acquire_timeout()
    }

    /// A NATS client (distributed only).
    pub fn nats(&self) -> &async_nats::Client {
        self.services
            .nats
            .as_ref()
            .expect("NATS is only used by a distributed test host")
    }

    /// The URL of the PostgreSQL database holding `service`'s store (distributed only), for a
    /// test that reads what a service stored.
    pub fn database_url(&self, service: &str) -> &str {
        let index = self.service_index(service);
        &self
            .services
            .databases
            .get(index)
            .expect("only a distributed test host has databases")
            .url
    }

    /// The data directory (embedded only).
    pub fn data_dir(&self) -> &Path {
        self.services
            .data_dir
            .as_deref()
            .expect("only an embedded test host has a data directory")
    }

    /// Every event in `service`'s own store, in order (its read audit included): what it
    /// recorded, read the way an auditor would, from its database.
    pub async fn recorded(&self, service: &str) -> Vec<minzheng_eventstore::RecordedEvent> {
        let url = match self.mode() {
            Mode::Embedded => format!(
                "sqlite://{}",
                self.data_dir().join(format!("{service}.db")).display()
            ),
            Mode::Distributed => self.database_url(service).to_owned(),
        };
        let store = minzheng_eventstore::connect(&url, minzheng_eventstore::Upcasters::default())
            .await
            .expect("the service's store opens");
        let mut events = Vec::new();
        let mut cursor = minzheng_eventstore::Cursor::START;
        loop {
            let batch = store
                .read_all(cursor, 1_000)
                .await
                .expect("the store is read");
            if batch.events.is_empty() {
                return events;
            }
            cursor = batch.next;
            events.extend(batch.events);
        }
    }

    /// Waits until every relay has published and every consumer has applied everything so far,
    /// in every host (deterministically, instead of sleeping or polling a query): afterwards
    /// every projection reflects every event recorded before the call. Hosts are settled in
    /// start order, producers before their consumers, and the pass is repeated once so that a
    /// consumer's own events reach whoever follows them. Panics naming what did not catch up
    /// within 60 s.
    pub async fn settle(&self) {
        for _ in 0..2 {
            for (names, host) in &self.hosts {
                host.settle(Duration::from_secs(60))
                    .await
                    .unwrap_or_else(|e| panic!("{names:?} did not settle: {e:#}"));
            }
        }
    }

    fn host(&self, service: &str) -> &RunningHost {
        self.hosts
            .iter()
            .find(|(names, _)| names.contains(&service))
            .map(|(_, host)| host)
            .unwrap_or_else(|| panic!("{service} is not hosted by this test host"))
    }

    /// Stops every host (consumers before their producers), keeping the data, to start them
    /// again with [`StoppedHost::start`]; what a test does in between happens while the
    /// services are down.
    pub async fn stop(self) -> StoppedHost {
        stop(self.hosts).await;
        self.services
    }

    /// Stops every host (consumers before their producers) and removes the streams it made.
    pub async fn shutdown(self) {
        let stopped = self.stop().await;
        if let Some(client) = stopped.nats {
            let js = async_nats::jetstream::new(client);
            let prefix = stopped.prefix.to_ascii_uppercase();
            let mut names = js.stream_names();
            use futures::StreamExt as _;
            let mut mine = Vec::new();
            while let Some(Ok(name)) = names.next().await {
                if name.starts_with(&format!("{prefix}_")) {
                    mine.push(name);
                }
            }
            for name in mine {
                let _ = js.delete_stream(name).await;
            }
        }
    }
}

/// Stops `hosts` in reverse start order: consumers before their producers.
async fn stop(hosts: Vec<(Vec<&'static str>, RunningHost)>) {
    for (names, host) in hosts.into_iter().rev() {
        host.shutdown()
            .await
            .unwrap_or_else(|e| panic!("{names:?} stop cleanly: {e:#}"));
    }
}

/// A token for `roles` scoped to `regions` (12-digit codes), signed for every test host.
pub fn token(roles: &[Role], regions: &[&str]) -> String {
    let regions: Vec<RegionCode> = regions
        .iter()
        .map(|r| RegionCode::parse(r).expect("a valid region code"))
        .collect();
    mint_dev_token(
        &SecretString::from(TOKEN_SECRET),
        "tester",
        roles,
        &regions,
        Duration::from_secs(600),
    )
    .expect("a test token")
}

/// A token of the agency role acting for `agency` (the token's `agency` claim), unscoped.
pub fn agency_token(agency: &str) -> String {
    let claims = Claims::new(
        "agency-system",
        &[Role::Agency],
        &[],
        Duration::from_secs(600),
    )
    .with_agency(agency);
    mint_hs256(&SecretString::from(TOKEN_SECRET), &claims).expect("a test token")
}

/// A token of the citizen role for `citizen` (its `citizen` claim), unscoped.
pub fn citizen_token(citizen: &str) -> String {
    let citizen = minzheng_types::CitizenId::parse(citizen).expect("a valid citizen id");
    let claims = Claims::new(
        "citizen-portal",
        &[Role::Citizen],
        &[],
        Duration::from_secs(600),
    )
    .with_citizen(&citizen);
    mint_hs256(&SecretString::from(TOKEN_SECRET), &claims).expect("a test token")
}

/// `message` with `token` as its bearer.
pub fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("a token is ASCII"),
    );
    request
}

/// Calls every RPC of `policy` on `channel` with every role (a token scoped to the whole
/// province) and without a token, with an empty request: a role the rule allows gets past the
/// edge (any answer but UNAUTHENTICATED or PERMISSION_DENIED), one it does not gets
/// PERMISSION_DENIED, and no token gets UNAUTHENTICATED unless the RPC is public. Panics with
/// every mismatch listed. An agency's token names an agency, as every real one does. Each call
/// is read as far as its answer's headers: a server-streaming RPC that got past the edge answers
/// with its (open) stream, which is then dropped.
pub async fn assert_access_matrix(channel: Channel, policy: &AccessPolicy) {
    let mut grpc = tonic::client::Grpc::new(channel);
    let mut mismatches = Vec::new();
    for rpc in policy.rpcs {
        let path = format!("/{}/{}", policy.service, rpc.method);
        let callers = std::iter::once(None).chain(Role::ALL.map(Some));
        for role in callers {
            let mut request = Request::new(Bytes::new());
            if let Some(role) = role {
                request = with_token(Bytes::new(), &province_token(&[role]));
            }
            grpc.ready().await.expect("the channel is ready");
            let code = match grpc
                .server_streaming::<_, Bytes, _>(
                    request,
                    path.parse().expect("a valid path"),
                    RawCodec,
                )
                .await
            {
                Ok(_) => Code::Ok,
                Err(status) => status.code(),
            };
            let allowed = match role {
                None => rpc.rule.is_public(),
                Some(role) => rpc.rule.is_public() || rpc.rule.roles_allowed().contains(&role),
            };
            let expected_refusal = match role {
                None => Code::Unauthenticated,
                Some(_) => Code::PermissionDenied,
            };
            let refused = matches!(code, Code::Unauthenticated | Code::PermissionDenied);
            let ok = if allowed {
                !refused && code != Code::Unimplemented
            } else {
                code == expected_refusal
            };
            if !ok {
                let who = role.map_or("no token", Role::as_str);
                let expected = if allowed {
                    "to pass the edge".to_owned()
                } else {
                    format!("{expected_refusal:?}")
                };
                mismatches.push(format!(
                    "{} as {who}: {code:?}, expected {expected}",
                    rpc.method
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "the edge does not enforce the access policy of {}:\n{}",
        policy.service,
        mismatches.join("\n")
    );
}

/// A token of `roles` scoped to the whole province, naming an agency (`test_agency`) when the
/// agency role is among them, as every real agency's token does.
pub(crate) fn province_token(roles: &[Role]) -> String {
    let province = RegionCode::parse(PROVINCE).expect("a valid region code");
    let mut claims = Claims::new("tester", roles, &[province], Duration::from_secs(600));
    if roles.contains(&Role::Agency) {
        claims = claims.with_agency("test_agency");
    }
    mint_hs256(&SecretString::from(TOKEN_SECRET), &claims).expect("a test token")
}

/// Keeps the access matrix in a service's docs (`path`, relative to the crate) current: when the
/// file differs from the policy's matrix, it is rewritten and the test fails, so the change is
/// seen and committed (rust-analyzer's "sourcegen" approach).
pub fn assert_access_doc(crate_dir: &str, path: &str, title: &str, policy: &AccessPolicy) {
    let file = Path::new(crate_dir).join(path);
    let expected = format!(
        "# {title}: access matrix\n\n\
         Generated from the service's access policy (`ACCESS` in `src/grpc/mod.rs`) by the test \
         `access_matrix_doc_is_current`; do not edit by hand. A ✓ is a role allowed to call the \
         RPC; \"public\" needs no token. Scope: where the caller's token regions must contain the \
         region named; \"anywhere\" has no region check. Calls of RPCs that read personal data \
         are recorded in the read audit (`minzheng.<service>.audit.personal_data_accessed`), \
         allowed or refused.\n\n\
         Service `{}`.\n\n{}",
        policy.service,
        policy.matrix()
    );
    let current = std::fs::read_to_string(&file).unwrap_or_default();
    if current != expected {
        std::fs::write(&file, &expected).expect("the access matrix doc is writable");
        panic!(
            "{} was out of date with the access policy and has been rewritten: review and commit it",
            file.display()
        );
    }
}

/// A codec that passes bytes through, for calling any RPC without its message types (requests
/// encoded by hand, e.g. from the descriptors).
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
