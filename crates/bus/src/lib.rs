//! The bus: how events leave a service's event store and reach everyone who consumes them.
//!
//! - [`Relay`] (the outbox relay) publishes a store's events to the service's JetStream stream
//!   in store order, after commit, with `Nats-Msg-Id` = event id, under a [`Lease`] so only
//!   one relay per service publishes at a time.
//! - [`Consumer`] keeps a [`Projection`] in its own database up to date from another service's
//!   events, through a durable JetStream pull consumer ([`JetStreamSource`]) or, in the embedded
//!   single-process mode, by reading the producer's store directly ([`FeedSource`]). An inbox
//!   table makes redelivery harmless; events that keep failing are parked, never dropped.
//! - [`BusNaming`] and [`envelope`] are the public contract on the wire: subjects
//!   `minzheng.<service>.<aggregate>.<event>`, CloudEvents headers, protobuf payloads.
//! - [`permissions`] makes the NATS accounts configuration that lets each service publish only
//!   its own events and each agency read only what is shared with it.
//!
//! See `DESIGN.md`, "Event store guarantees", "The bus contract" and "Known pitfalls".
//!
//! Architecture invariant: the bus knows nothing of any domain. Events are opaque payloads with
//! a type name; projections, written by services, give them meaning.

pub mod consumer;
pub mod envelope;
pub mod lease;
mod metrics;
pub mod naming;
pub mod permissions;
pub mod relay;
pub mod streams;

pub use consumer::{
    Consumer, ConsumerError, ConsumerFault, ConsumerSettings, ConsumerState, FeedSource,
    JetStreamSource, Projection, RedriveRequest, Source, connect_any, event_span, request_redrive,
    reset::{delete_durable, forget_consumer},
};
pub use lease::{Lease, LeaseError, PgAdvisoryLease, SoleRelay};
pub use naming::{
    BusNaming, ConsumerName, DEFAULT_PREFIX, NamingError, ShareNaming, feed_checkpoint,
};
pub use permissions::{PermissionsError, nats_config};
pub use relay::{Relay, RelayConfig, RelayError, RelayFault, RelayState};
pub use streams::StreamSettings;
