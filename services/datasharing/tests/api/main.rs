//! The data-sharing service's gRPC API, through the shared test host: loads of agency records,
//! authorizations, the verification and its reproducibility, access.

mod access;
mod agreements;
mod audit;
mod database_cut;
mod loads;
mod malformed;
mod support;
mod verification;
