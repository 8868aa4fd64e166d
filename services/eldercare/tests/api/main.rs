//! The elderly-care service over real gRPC, one test per behaviour, each on its own test host
//! (`minzheng_host::testing::TestHost`): embedded (SQLite, as `minzheng dev`) unless the test is
//! about racing writers or the database, which run distributed (PostgreSQL and NATS JetStream,
//! as `minzheng eldercare`). Beside the service run stand-ins for the services it follows, each
//! under the producer's name and writing that producer's public events to its own store: the
//! place-names service (Benxi's divisions, at start), and the civil registry, the assistance
//! service and the data-sharing service (a death, a grant, an alert, when a test records one).
//!
//! - `institutions`: beds filling up, two admissions racing for the last bed (embedded and
//!   distributed), one institution at a time, transfers, beds never below occupancy, repeated
//!   admissions, unknown divisions;
//! - `elders`: assessment levels at the band boundaries and raised by a diagnosis, monthly
//!   subsidies by age band and level, overdue visits listed, escalated (the sweep across a
//!   restart) and moved by a visit;
//! - `feeds`: a death frees the bed and ends the subsidies from the next month, an assistance
//!   grant makes an elderly member eligible for the service subsidy, an alert opens a visit plan;
//! - `malformed`: every RPC's malformed input is INVALID_ARGUMENT naming each bad field, and
//!   nothing is recorded;
//! - `access`: the access policy at the edge, its matrix in `ACCESS.md`, the read audit;
//! - `database_cut`: every RPC with the database cut is UNAVAILABLE, promptly, and recovers.

mod access;
mod database_cut;
mod elders;
mod feeds;
mod institutions;
mod malformed;
mod support;
