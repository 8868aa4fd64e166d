//! The civil-registry service over real gRPC, one test per behaviour, each on its own test host
//! (`minzheng_host::testing::TestHost`): embedded (SQLite, as `minzheng dev`) unless the test is
//! about the bus, which runs distributed (PostgreSQL and NATS JetStream, as `minzheng
//! civilregistry`). The registries come from a stand-in for the place-names service that
//! publishes Benxi's city and six county-level divisions as `DivisionRecorded` events, its
//! public contract; the real place-names service beside this one is a cross-service test
//! (`tests/tests/cross_service.rs` in minzheng-tests).
//!
//! - `appointments`: slots and bookings;
//! - `marriages`: registration, and divorce applications lapsing across a restart;
//! - `deaths`: a death widows the survivor; funerals and the fee waiver from the assistance
//!   events;
//! - `indicators`: eco-burial rate and counselling-room coverage;
//! - `malformed`: every RPC's malformed input is INVALID_ARGUMENT naming the field;
//! - `bus`: what an agency subscribed to the service's subjects receives;
//! - `access`: the access policy at the edge, its matrix in `ACCESS.md`, the read audit;
//! - `database_cut`: every RPC with the database cut is UNAVAILABLE, promptly, and recovers.

mod access;
mod appointments;
mod bus;
mod database_cut;
mod deaths;
mod indicators;
mod malformed;
mod marriages;
mod support;
