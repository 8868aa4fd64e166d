//! The read models: [`overview`], the in-memory view of the service's own events (a
//! `LiveView`); and the bus projections of other services' events — [`divisions`] (the
//! place-names divisions, where applications are routed) and [`verifications`] (the
//! data-sharing service's verification results, recorded on their cases) and [`referrals`] (its
//! household alerts, recorded as referrals).

pub mod divisions;
pub mod households;
pub mod overview;
pub mod referrals;
pub mod verifications;
