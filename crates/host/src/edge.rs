//! What every service's gRPC layer does the same way at the edge: the command context of a
//! call (principal, idempotency key, correlation id), the wait for read-your-writes bounded by
//! the call's deadline, paging with opaque tokens, and the `CommandResult` of a command.
//! Services convert their own messages; these helpers only know the common ones.

use std::time::Duration;

use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed},
    live::DEFAULT_WAIT,
};
use minzheng_proto::common::v1 as common;
use minzheng_types::{FieldViolation, Violations};
use tonic::Request;

/// Longest idempotency key, in characters.
pub const KEY_MAX_CHARS: usize = 128;
/// Page size of list queries when the request gives none.
pub const DEFAULT_PAGE: usize = 100;
/// Largest page size of list queries.
pub const MAX_PAGE: usize = 1_000;

/// How long a query may wait for read-your-writes: the call's deadline (`grpc-timeout`), or
/// the default wait, at most six times that.
pub fn deadline<T>(request: &Request<T>) -> Duration {
    request
        .metadata()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout)
        .map_or(DEFAULT_WAIT, |d| d.min(DEFAULT_WAIT * 6))
}

fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// The position a query must have seen (`read.min_position`, 0 when absent).
pub fn min_position(read: &Option<common::ReadOptions>) -> u64 {
    read.as_ref().map_or(0, |r| r.min_position)
}

/// The command context of a call: the principal as actor, and the request's idempotency key
/// (from `metadata.idempotency_key`, or the `idempotency-key` header), which is required.
pub fn command_context<T>(
    request: &Request<T>,
    metadata: &Option<common::CommandMetadata>,
    violations: &mut Violations,
) -> CommandContext {
    let mut context = CommandContext::from_request(request);
    let body = metadata.as_ref();
    let key = body
        .map(|m| m.idempotency_key.trim())
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .or_else(|| context.idempotency_key.clone());
    match key {
        None => violations.add(FieldViolation::required("metadata.idempotency_key")),
        Some(key) if key.chars().count() > KEY_MAX_CHARS => violations.push(
            "metadata.idempotency_key",
            format!("must be at most {KEY_MAX_CHARS} characters"),
        ),
        Some(key) => context = context.with_idempotency_key(key),
    }
    if let Some(correlation) = body
        .map(|m| m.correlation_id.trim())
        .filter(|c| !c.is_empty())
    {
        match uuid::Uuid::parse_str(correlation) {
            Ok(id) => context = context.with_correlation_id(id),
            Err(_) => violations.push("metadata.correlation_id", "must be a UUID"),
        }
    }
    context
}

/// The `CommandResult` of a committed command.
pub fn result(committed: &Committed) -> common::CommandResult {
    common::CommandResult {
        stream_version: committed.stream_version,
        position: committed.position,
    }
}

/// A page of `items` after the opaque `token` (the offset, as text).
pub fn page<T>(
    items: impl Iterator<Item = T>,
    page: &Option<common::PageRequest>,
) -> Result<(Vec<T>, common::PageResponse), Error> {
    let request = page.clone().unwrap_or_default();
    let size = match request.page_size as usize {
        0 => DEFAULT_PAGE,
        n => n.min(MAX_PAGE),
    };
    let offset: usize = if request.page_token.is_empty() {
        0
    } else {
        request.page_token.parse().map_err(|_| {
            Error::invalid_field("page.page_token", "is not a token this query returned")
        })?
    };
    let mut items: Vec<T> = items.skip(offset).take(size + 1).collect();
    let more = items.len() > size;
    items.truncate(size);
    let next_page_token = if more {
        (offset + size).to_string()
    } else {
        String::new()
    };
    Ok((items, common::PageResponse { next_page_token }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_in_every_unit() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }

    #[test]
    fn pages_follow_each_other_without_gaps_or_repeats() {
        let request = |token: &str| {
            Some(common::PageRequest {
                page_size: 4,
                page_token: token.to_owned(),
            })
        };
        let (first, next) = page(0..10, &request("")).expect("first");
        assert_eq!(first, [0, 1, 2, 3]);
        let (second, next) = page(0..10, &request(&next.next_page_token)).expect("second");
        assert_eq!(second, [4, 5, 6, 7]);
        let (third, last) = page(0..10, &request(&next.next_page_token)).expect("third");
        assert_eq!(third, [8, 9]);
        assert!(last.next_page_token.is_empty());
    }

    #[test]
    fn pages_continue_where_the_token_says() {
        let request = Some(common::PageRequest {
            page_size: 2,
            page_token: String::new(),
        });
        let (first, next) = page(1..=5, &request).expect("first page");
        assert_eq!(first, vec![1, 2]);
        let request = Some(common::PageRequest {
            page_size: 2,
            page_token: next.next_page_token,
        });
        let (second, _) = page(1..=5, &request).expect("second page");
        assert_eq!(second, vec![3, 4]);
        let bad = Some(common::PageRequest {
            page_size: 2,
            page_token: "abc".into(),
        });
        assert!(page(1..=5, &bad).is_err());
    }

    #[test]
    fn a_command_needs_an_idempotency_key() {
        let request = Request::new(());
        let mut violations = Violations::new();
        let _ = command_context(&request, &None, &mut violations);
        assert_eq!(
            violations.to_string(),
            "metadata.idempotency_key: is required"
        );
        let metadata = Some(common::CommandMetadata {
            idempotency_key: "k-1".into(),
            correlation_id: "not-a-uuid".into(),
        });
        let mut violations = Violations::new();
        let context = command_context(&request, &metadata, &mut violations);
        assert_eq!(context.idempotency_key.as_deref(), Some("k-1"));
        assert_eq!(
            violations.to_string(),
            "metadata.correlation_id: must be a UUID"
        );
    }
}
