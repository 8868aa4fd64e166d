//! The one place that turns failures into gRPC statuses.
//!
//! Every handler returns [`Error`]; its conversion into [`tonic::Status`] decides the code, the
//! message and the machine-readable details (`google.rpc.BadRequest` for invalid fields,
//! `google.rpc.ErrorInfo` carrying the rule id for a refused rule or the reason for a conflict).
//! Clients read the details with `tonic_types::StatusExt::get_error_details`.
//!
//! This module deliberately knows no domain and no storage internals: domain refusals arrive as
//! a rule id and a message, store failures through `From<StoreError>`. Internal errors keep
//! their details in the log and tell the client only that something went wrong, because their
//! messages may name tables, hosts or data that a caller has no business seeing.

use minzheng_eventstore::StoreError;
use minzheng_types::{FieldViolation, Violations};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `domain` of every `google.rpc.ErrorInfo` this system sends.
pub const ERROR_DOMAIN: &str = "minzheng";

/// `ErrorInfo.reason` of a stream version conflict (ABORTED): reload and retry.
pub const REASON_VERSION_CONFLICT: &str = "VERSION_CONFLICT";

/// A request's failure, in the terms clients act on. One variant per gRPC code we send.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request itself is malformed: which fields broke which rules. Never empty.
    #[error("invalid argument: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// A domain rule refused the command; `rule` is the stable rule id clients match on.
    #[error("{message} (rule {rule})")]
    FailedPrecondition { rule: String, message: String },
    /// Someone else changed the same thing first; the client may reload and retry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The addressed thing does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// No valid credentials came with a request that needs them.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// The authenticated principal may not do this (role or region scope).
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// A dependency (store, bus) is down; the client may retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected state. The client sees a generic message; this is logged.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// A single invalid field.
    pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    /// A domain refusal of rule `rule`.
    pub fn refused(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self::FailedPrecondition {
            rule: rule.into(),
            message: message.into(),
        }
    }

    /// An internal error from anything printable.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    /// The gRPC code this error maps to.
    pub fn code(&self) -> Code {
        match self {
            Error::InvalidArgument(_) => Code::InvalidArgument,
            Error::FailedPrecondition { .. } => Code::FailedPrecondition,
            Error::Conflict(_) => Code::Aborted,
            Error::NotFound(_) => Code::NotFound,
            Error::Unauthenticated(_) => Code::Unauthenticated,
            Error::PermissionDenied(_) => Code::PermissionDenied,
            Error::Unavailable(_) => Code::Unavailable,
            Error::Internal(_) => Code::Internal,
        }
    }

    /// The status sent to the client. Internal errors are logged here, once, with their full
    /// chain of causes, so handlers need not log before returning them.
    pub fn into_status(self) -> Status {
        match self {
            Error::InvalidArgument(violations) => {
                let message = format!("invalid argument: {}", describe(&violations));
                let details = violations
                    .into_iter()
                    .map(|v| tonic_types::FieldViolation::new(v.field, v.description))
                    .collect::<Vec<_>>();
                Status::with_error_details(
                    Code::InvalidArgument,
                    message,
                    ErrorDetails::with_bad_request(details),
                )
            }
            Error::FailedPrecondition { rule, message } => Status::with_error_details(
                Code::FailedPrecondition,
                format!("{message} (rule {rule})"),
                ErrorDetails::with_error_info(rule, ERROR_DOMAIN, []),
            ),
            Error::Conflict(message) => Status::with_error_details(
                Code::Aborted,
                message,
                ErrorDetails::with_error_info(REASON_VERSION_CONFLICT, ERROR_DOMAIN, []),
            ),
            Error::NotFound(message) => Status::not_found(message),
            Error::Unauthenticated(message) => Status::unauthenticated(message),
            Error::PermissionDenied(message) => Status::permission_denied(message),
            Error::Unavailable(message) => Status::unavailable(message),
            Error::Internal(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "request failed: internal error"
                );
                Status::internal("internal error")
            }
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        error.into_status()
    }
}

impl From<Vec<FieldViolation>> for Error {
    fn from(violations: Vec<FieldViolation>) -> Self {
        Self::InvalidArgument(violations)
    }
}

impl From<Violations> for Error {
    fn from(violations: Violations) -> Self {
        Self::InvalidArgument(violations.into_vec())
    }
}

impl From<FieldViolation> for Error {
    fn from(violation: FieldViolation) -> Self {
        Self::InvalidArgument(vec![violation])
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { .. } => Self::Conflict(error.to_string()),
            StoreError::Unavailable(_) => {
                // The driver's message may name hosts; the client only needs to know to retry.
                tracing::warn!(error = %error, "event store unavailable");
                Self::Unavailable("event store unavailable".to_owned())
            }
            StoreError::IdempotencyKeyReused { .. } => {
                Self::InvalidArgument(vec![FieldViolation::new(
                    "idempotency_key",
                    "was already used for a different command target; use a new key",
                )])
            }
            StoreError::InvalidStreamId(_)
            | StoreError::EmptyAppend
            | StoreError::DuplicateStreamInAppend(_)
            | StoreError::KeyedMultiStreamAppend(_)
            | StoreError::DuplicateEventId { .. }
            | StoreError::Upcast { .. }
            | StoreError::Database(_)
            | StoreError::Corrupt(_)
            | StoreError::UnsupportedUrl(_) => Self::Internal(error.into()),
        }
    }
}
