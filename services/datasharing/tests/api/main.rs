//! The data-sharing service's gRPC API, through the shared test host: loads of agency records,
//! authorizations, the verification and its reproducibility, access.

mod access;
mod loads;
mod support;
mod verification;
