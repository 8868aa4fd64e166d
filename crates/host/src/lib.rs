//! Hosting services in a process — the composition root shared by `minzheng dev` and
//! `minzheng <service>`.
//!
//! A service crate implements [`ServiceModule`]: its name, its upcasters, its own numbered
//! migrations (applied after the store's), and `start`, which registers its gRPC services on the
//! server and spawns its consumers through the [`ServiceContext`]. The [`Host`] gives each module what the mode calls for:
//! - **embedded** ([`Mode::Embedded`], `minzheng dev`): every service in one process, one gRPC
//!   port, one SQLite file per service under the data directory, no NATS — a consumer reads the
//!   producing service's store directly (the bus's feed source);
//! - **distributed** ([`Mode::Distributed`], `minzheng <service>`, what Kubernetes runs): one
//!   service against PostgreSQL and NATS, with its outbox relay (one active per service, by
//!   advisory lock) publishing to `MINZHENG_<SERVICE>`, and consumers on JetStream.
//!
//! Every host also serves `minzheng.platform.v1.PlatformService` (what runs here, dry-run value
//! checks), gRPC health and reflection.
//!
//! Architecture invariant: the host knows no domain. It knows services only through
//! [`ServiceModule`], and services never see each other: a consumer names the producing service,
//! the host hands it a source.

pub mod audit;
pub mod codec;
mod context;
pub mod decode;
pub mod divisions;
pub mod edge;
pub mod fields;
mod host;
mod metered_store;
mod platform;
mod readiness;
mod settle;
mod store_watch;
#[cfg(feature = "testing")]
pub mod testing;

pub use context::ServiceContext;

/// What the crate's macros refer to; not part of its API.
#[doc(hidden)]
pub mod __private {
    pub use minzheng_kit::access::{AccessPolicy, RpcAccess};
    pub use tonic;
}
pub use host::{Host, Mode, RunningHost};
pub use platform::PlatformApi;

use async_trait::async_trait;
use minzheng_eventstore::{Upcasters, migrations::ServiceMigration};
use minzheng_kit::server::ServerBuilder;

/// What a service crate gives the process that hosts it.
#[async_trait]
pub trait ServiceModule: Send + Sync + 'static {
    /// The service's short name: its proto package segment (`minzheng.<name>.v1`), its stream
    /// (`MINZHENG_<NAME>`), its embedded store file (`<name>.db`). Lowercase letters only.
    fn name(&self) -> &'static str;

    /// Upcasters for old versions of the service's stored events.
    fn upcasters(&self) -> Upcasters {
        Upcasters::new()
    }

    /// The service's own schema migrations (its projection tables), numbered from
    /// `minzheng_eventstore::migrations::MIN_SERVICE_VERSION`; the host applies those not yet
    /// applied after the store's, before `start`.
    fn migrations(&self) -> Vec<ServiceMigration> {
        Vec::new()
    }

    /// The category of the service's streams that hold copies shared out to other agencies,
    /// each stream keyed by an agency code (only the data-sharing service has one). In
    /// distributed mode the host publishes them with their own relay on the agencies' subjects
    /// (`minzheng_bus::ShareNaming`), not on the service's stream.
    fn shared_category(&self) -> Option<&'static str> {
        None
    }

    /// Registers the service's gRPC services on `server` and starts its background work
    /// (consumers, schedulers) through `context`, which stops them on shutdown.
    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder>;
}

/// Connects to NATS at `url` as the configured user (`MZ_NATS_USER`, `MZ_NATS_PASSWORD`; the
/// service's own user under the shipped accounts, `deploy/nats`), or anonymously without one. A
/// user and password written in the URL are not sent by the client.
pub async fn connect_nats(
    settings: &minzheng_kit::settings::PlatformSettings,
    url: &str,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    use secrecy::ExposeSecret as _;
    let options = match &settings.nats_user {
        Some(user) => async_nats::ConnectOptions::with_user_and_password(
            user.clone(),
            settings
                .nats_password
                .as_ref()
                .map(|p| p.expose_secret().to_owned())
                .unwrap_or_default(),
        ),
        None => async_nats::ConnectOptions::new(),
    };
    options.connect(url).await
}
