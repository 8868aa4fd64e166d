//! The place-names service over real gRPC, one test per behaviour, each on its own test host
//! (`minzheng_host::testing::TestHost`): embedded (SQLite, no NATS, as `minzheng dev` runs it)
//! unless the test is about the bus, which runs distributed (PostgreSQL and NATS JetStream, as
//! `minzheng placenames` runs it). Tests that only need Benxi's divisions recorded start the
//! service with the `BENXI` seed; the import has its own tests.
//!
//! - `divisions`: the import of the division file and the division queries;
//! - `adjustments`: a merger and a renaming through the adjustment workflow, and resolving old
//!   codes as of days before and after;
//! - `place_names`: the standard-name workflow and the public database;
//! - `boundaries`, `signs`: inspection rounds of a boundary line, signs for standard names;
//! - `bus`: what an agency subscribed to the service's subjects receives;
//! - `access`: the access policy at the edge, and its matrix in `ACCESS.md`;
//! - `database_cut`: every RPC with the database cut is UNAVAILABLE (or answered from the
//!   in-memory directory), promptly, and the service recovers.

mod access;
mod adjustments;
mod boundaries;
mod bus;
mod database_cut;
mod divisions;
mod place_names;
mod signs;
mod support;
