//! The child-welfare service over real gRPC, one test per behaviour, each on its own test host
//! (`minzheng_host::testing::TestHost`): embedded (SQLite, as `minzheng dev`) unless the test is
//! about the bus or the database, which run distributed (PostgreSQL and NATS JetStream, as
//! `minzheng childwelfare`). Beside the service run stand-ins for the services it follows: the
//! place-names service (a few of Benxi's divisions and one merger, at start), the civil
//! registry and the data-sharing service (a death, an alert, when a test records one).
//!
//! - `children`: the 6% rule and its override, the allowance from the month of identification
//!   through the month of the 18th birthday, adoption under the Civil Code's checks;
//! - `cases`: reports, each step's deadline, the overdue list, the escalation sweep, the
//!   reporter's confidentiality and the audited need-to-know read;
//! - `posts`: child directors and supervisors, coverage on a day following a merger;
//! - `feeds`: a death ends the allowance after its month, an alert opens a case;
//! - `malformed`: every RPC's malformed input is INVALID_ARGUMENT naming each bad field, and
//!   nothing is recorded;
//! - `access`: the access policy at the edge and its matrix in `ACCESS.md`;
//! - `database_cut`: every RPC with the database cut is UNAVAILABLE, promptly, and the service
//!   writes again once it is back.

mod access;
mod cases;
mod children;
mod database_cut;
mod feeds;
mod malformed;
mod posts;
mod support;
