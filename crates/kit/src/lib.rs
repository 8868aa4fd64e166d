//! The service kit: what makes adding a service a matter of writing its domain.
//!
//! - [`settings`]: typed settings from defaults, a TOML file (`MZ_CONFIG`) and `MZ_` environment
//!   variables; [`settings::PlatformSettings`] is what every service embeds.
//! - [`error`]: [`Error`], the one mapping from failures to gRPC statuses with rich details.
//! - [`access`]: each service's access policy as a table (roles, region scope, personal data),
//!   which the edge enforces and the docs render.
//! - [`auth`]: bearer tokens, the [`auth::Principal`] of each call, role and region checks.
//! - [`server`]: the tonic server with health, reflection (v1 and v1alpha), authentication and
//!   per-RPC trace spans; binds port 0 for tests and shuts down gracefully.
//! - [`aggregate`]: the pure [`aggregate::Aggregate`] trait and the [`aggregate::Repository`]
//!   that loads, decides, appends with the expected version, retries conflicts and honours
//!   idempotency keys; [`testing`] has the given/when/then helpers for rule tables.
//! - [`live`]: [`live::LiveView`], an in-memory read model that follows the service's own store,
//!   with read-your-writes by store position.
//! - [`shutdown`]: SIGTERM/SIGINT as a cancellation token.
//! - [`clock`]: today's date in China Standard Time, as the application puts it in commands;
//!   a fixed clock for tests.
//! - [`pseudonym`]: keyed hashes of citizen id numbers, for stream keys without personal data.
//!
//! Architecture invariant: the kit knows no domain and no service's protobuf types; it depends
//! on the event store's contract, never on a backend, and not on the bus.

pub mod access;
pub mod aggregate;
pub mod auth;
pub mod clock;
pub mod error;
pub mod live;
pub mod parallel;
pub mod pseudonym;
mod rpc_telemetry;
pub mod server;
pub mod settings;
pub mod shutdown;
pub mod testing;

pub use error::Error;
