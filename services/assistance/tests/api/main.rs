//! The assistance service over real gRPC, one test per behaviour, each on its own test host
//! (`minzheng_host::testing::TestHost`): embedded (SQLite, as `minzheng dev`) or distributed
//! (PostgreSQL and NATS JetStream, as `minzheng assistance`) for the bus, the database and
//! racing writers. Beside the service run two stand-ins, through the real bus: the place-names
//! service, whose store publishes Benxi's divisions and two adjustments (a merger
//! across counties, a split) as `DivisionRecorded` / `DivisionSuperseded` events; and the
//! data-sharing service, which answers every `VerificationRequested` with a
//! `HouseholdVerificationCompleted` carrying the incomes the test configured.
//!
//! - `dynamic`: cases following the other services' events — a township merged into another
//!   re-homes the open cases, a split flags them, a verification result for an unknown or
//!   closed case is parked and later ones still applied;
//! - `flow`: an application from the window to the amount in force, rejection, objections,
//!   the lists and the overdue steps;
//! - `routing`: where an application lands (adjusted divisions, temporary assistance) and the
//!   refusals of submission;
//! - `malformed`: every RPC's malformed input is INVALID_ARGUMENT naming the field;
//! - `access`: the access policy at the edge, its matrix in `ACCESS.md`, scopes, the read audit;
//! - `database_cut`: every RPC with the database cut is UNAVAILABLE, promptly, and recovers;
//! - `bus`: what an agency subscribed to the service's subjects receives;
//! - `monitoring`: the monitoring list (rejected just above the line, open alerts), household
//!   alerts becoming referrals a township acts on once (embedded and distributed), overdue
//!   referrals, and the indicators;
//! - `payments`: a payment cycle end to end (generate, approve, export the bank file, import
//!   the results, re-issue a failed line), aid paid at once and ended cases left out;
//! - `reviews`: periodic reviews started by the scheduler, with a new verification, once;
//! - `standards`: a standard raised from a day re-computes the cases from that day; the
//!   refusals of RecordStandard; a loaded holiday calendar moves a deadline;
//! - `temporary`: payments at once racing for one reserve fund (distributed), the township's
//!   limit and the transfer to the county, the report.

mod access;
mod bus;
mod database_cut;
mod dynamic;
mod flow;
mod malformed;
mod monitoring;
mod payments;
mod reviews;
mod routing;
mod standards;
mod support;
mod temporary;
