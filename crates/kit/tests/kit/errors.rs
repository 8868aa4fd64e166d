//! The status mapping: each error's code, message and the rich details a client decodes.

use minzheng_eventstore::{ExpectedVersion, StoreError, StreamId};
use minzheng_kit::{
    Error,
    error::{ERROR_DOMAIN, REASON_VERSION_CONFLICT},
};
use minzheng_types::{FieldViolation, Violations};
use tonic::{Code, Status};
use tonic_types::StatusExt;

fn stream() -> StreamId {
    StreamId::new("counter", "c1").expect("valid stream id")
}

#[test]
fn invalid_argument_carries_every_field_violation() {
    let status = Status::from(Error::InvalidArgument(vec![
        FieldViolation::new("person.citizen_id", "must be 18 characters long, got 17"),
        FieldViolation::required("region.code"),
    ]));
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("person.citizen_id: must be 18 characters long, got 17"),
        "message names the field and rule: {}",
        status.message()
    );
    assert!(status.message().contains("region.code: is required"));

    let details = status.check_error_details().expect("details decode");
    let bad_request = details.bad_request().expect("a BadRequest detail");
    let fields: Vec<(&str, &str)> = bad_request
        .field_violations
        .iter()
        .map(|v| (v.field.as_str(), v.description.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("person.citizen_id", "must be 18 characters long, got 17"),
            ("region.code", "is required"),
        ]
    );
}

#[test]
fn violations_collected_while_parsing_convert_directly() {
    let mut violations = Violations::new();
    violations.push("amount", "must not be negative");
    let status = Status::from(Error::from(violations));
    assert_eq!(status.code(), Code::InvalidArgument);
    let details = status.get_error_details();
    assert_eq!(
        details.bad_request().map(|b| b.field_violations.len()),
        Some(1)
    );
}

#[test]
fn a_refused_rule_is_failed_precondition_with_the_rule_in_error_info() {
    let status = Status::from(Error::refused(
        "income_above_threshold",
        "household income is above the local threshold",
    ));
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("household income is above"));
    let details = status.check_error_details().expect("details decode");
    let info = details.error_info().expect("an ErrorInfo detail");
    assert_eq!(info.reason, "income_above_threshold");
    assert_eq!(info.domain, ERROR_DOMAIN);
}

#[test]
fn store_conflict_is_aborted_with_a_retry_reason() {
    let error = Error::from(StoreError::Conflict {
        stream: stream(),
        expected: ExpectedVersion::Exact(3),
        actual: 4,
    });
    assert!(matches!(error, Error::Conflict(_)));
    let status = Status::from(error);
    assert_eq!(status.code(), Code::Aborted);
    let details = status.check_error_details().expect("details decode");
    assert_eq!(
        details.error_info().map(|i| i.reason.as_str()),
        Some(REASON_VERSION_CONFLICT)
    );
}

#[test]
fn store_unavailable_is_unavailable_without_driver_details() {
    let status = Status::from(Error::from(StoreError::Unavailable(
        sqlx::Error::PoolTimedOut,
    )));
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        !status.message().to_lowercase().contains("pool"),
        "driver details stay in the log: {}",
        status.message()
    );
}

#[test]
fn a_reused_idempotency_key_is_an_invalid_argument() {
    let other = StreamId::new("counter", "c2").expect("valid stream id");
    let status = Status::from(Error::from(StoreError::IdempotencyKeyReused {
        used_for: stream(),
        requested: other,
    }));
    assert_eq!(status.code(), Code::InvalidArgument);
    let details = status.get_error_details();
    assert_eq!(
        details
            .bad_request()
            .and_then(|b| b.field_violations.first())
            .map(|v| v.field.as_str()),
        Some("idempotency_key")
    );
}

#[test]
fn internal_errors_tell_the_client_nothing() {
    let status = Status::from(Error::from(StoreError::Corrupt(
        "row 17 of table events has a bad payload".to_owned(),
    )));
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(status.message(), "internal error");

    let status = Status::from(Error::internal(anyhow::anyhow!("secret detail")));
    assert_eq!(status.code(), Code::Internal);
    assert!(!status.message().contains("secret detail"));
}

#[test]
fn the_remaining_variants_map_to_their_codes() {
    let cases = [
        (Error::NotFound("division 210502".into()), Code::NotFound),
        (
            Error::Unauthenticated("no token".into()),
            Code::Unauthenticated,
        ),
        (
            Error::PermissionDenied("wrong role".into()),
            Code::PermissionDenied,
        ),
        (Error::Unavailable("bus down".into()), Code::Unavailable),
        (Error::Conflict("moved on".into()), Code::Aborted),
    ];
    for (error, code) in cases {
        assert_eq!(error.code(), code);
        let message = error.to_string();
        let status = Status::from(error);
        assert_eq!(status.code(), code, "{message}");
    }
}
