//! Small conversions both backends share: between the API's unsigned numbers and the databases'
//! signed integers, and the rules for answering an append from a stored idempotent outcome.
//!
//! This module does not talk to a database.

use crate::{AppendOutcome, ExpectedVersion, Result, StoreError, StreamId};

/// A number from the caller as a database integer. Values beyond `i64::MAX` cannot exist in the
/// store, so clamping keeps comparisons correct (nothing is that large) without a new error.
pub(crate) fn to_db(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A row limit as a database integer.
pub(crate) fn limit_to_db(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A stored integer that the schema keeps non-negative; a negative one means corrupt data.
pub(crate) fn from_db(value: i64, column: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} is negative: {value}")))
}

/// A stored schema version.
pub(crate) fn schema_from_db(value: i32) -> Result<u32> {
    u32::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("schema_version is negative: {value}")))
}

/// An event's schema version for the database (INTEGER columns are signed).
pub(crate) fn schema_to_db(value: u32) -> i32 {
    // Schema versions are small counters; one above i32::MAX would be a caller's bug, and
    // clamping keeps the append from failing on it while staying distinguishable on read.
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// The version an append requires the stream to be at, or `None` for [`ExpectedVersion::Any`].
pub(crate) fn required_version(expected: ExpectedVersion) -> Option<i64> {
    match expected {
        ExpectedVersion::Any => None,
        ExpectedVersion::NoStream => Some(0),
        ExpectedVersion::Exact(version) => Some(to_db(version)),
    }
}

/// A stored stream id.
pub(crate) fn stream_from_db(stored: &str) -> Result<StreamId> {
    StreamId::parse(stored)
        .map_err(|e| StoreError::Corrupt(format!("stored stream id {stored:?}: {e}")))
}

/// Answers an append whose idempotency key was already used: the first outcome when it was for
/// the same stream, otherwise the key was reused by mistake.
pub(crate) fn replay(first: AppendOutcome, requested: &StreamId) -> Result<AppendOutcome> {
    if &first.stream == requested {
        Ok(AppendOutcome {
            replayed: true,
            ..first
        })
    } else {
        Err(StoreError::IdempotencyKeyReused {
            used_for: first.stream,
            requested: requested.clone(),
        })
    }
}
