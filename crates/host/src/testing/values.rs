//! The common request values the services' API tests build, as their messages want them.

use minzheng_proto::common::v1 as common;

/// A division code as a request field.
pub fn region(digits: &str) -> Option<common::RegionCode> {
    Some(common::RegionCode {
        code: digits.to_owned(),
    })
}

/// A date as a request field.
pub fn day(d: time::Date) -> Option<common::Date> {
    Some(d.into())
}

/// A citizen id number as a request field (not checked: tests send malformed ones too).
pub fn citizen_ref(number: &str) -> Option<common::CitizenRef> {
    Some(common::CitizenRef {
        citizen_id: number.to_owned(),
    })
}

/// Whole yuan as a request field.
pub fn yuan(yuan: i64) -> Option<common::Money> {
    Some(common::Money { fen: yuan * 100 })
}

/// A command's metadata with a fresh idempotency key.
pub fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

/// Read-your-writes after `result`.
pub fn after(result: &Option<common::CommandResult>) -> Option<common::ReadOptions> {
    result.as_ref().map(|r| common::ReadOptions {
        min_position: r.position,
    })
}
