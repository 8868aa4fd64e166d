//! The RPC edge every service shares: each call admitted by the service's access policy before
//! its handler runs, the handler's region check enforced, personal-data reads audited, failures
//! answered and logged in one place; plus what handlers do the same way: the command context of
//! a call (principal, idempotency key, correlation id), the wait for read-your-writes bounded by
//! the call's deadline, paging with opaque tokens, and the `CommandResult` of a command.
//!
//! A service writes one handler per RPC, `async fn get_x(&self, call: Call<pb::GetXRequest>) ->
//! Result<pb::GetXResponse, Error>`, declares its [`AccessPolicy`] and lists its RPCs once in
//! [`grpc_service!`](crate::grpc_service), which implements the tonic service trait by handing
//! each call to [`serve`]. Services convert their own messages; these helpers only know the
//! common ones.

use std::{
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use minzheng_kit::{
    Error,
    access::{AccessPolicy, RpcAccess},
    aggregate::{CommandContext, Committed},
    auth::{self, Principal},
    live::DEFAULT_WAIT,
};
use minzheng_proto::common::v1 as common;
use minzheng_types::{FieldViolation, RegionCode, Violations};
use tonic::{Code, Request};

use crate::audit::{AuditLog, Entry, Outcome};

/// gRPC metadata in which a caller says why it reads personal data; recorded in the audit.
pub const PURPOSE_HEADER: &str = "x-access-purpose";
/// Longest purpose recorded, in characters.
pub const PURPOSE_MAX_CHARS: usize = 200;

/// What a service's API gives the edge.
pub trait Edge: Send + Sync + 'static {
    /// The service's access policy.
    const ACCESS: AccessPolicy;

    /// Where the calls of RPCs that read personal data are recorded.
    fn audit_log(&self) -> &AuditLog;
}

/// What a handler learns at the edge while it works: whether it checked the region its rule
/// names, and which records it addressed (for the audit).
#[derive(Debug, Default)]
struct Trail {
    region_checked: bool,
    records: Vec<(&'static str, String)>,
}

/// One admitted call, as its handler sees it.
#[derive(Debug)]
pub struct Call<T> {
    request: Request<T>,
    rpc: &'static RpcAccess,
    trail: Arc<Mutex<Trail>>,
}

impl<T> Call<T> {
    /// The request message.
    pub fn body(&self) -> &T {
        self.request.get_ref()
    }

    /// The request message, to read from: a client-streaming RPC's `tonic::Streaming` of
    /// messages.
    pub fn body_mut(&mut self) -> &mut T {
        self.request.get_mut()
    }

    /// The whole request (metadata, extensions).
    pub fn request(&self) -> &Request<T> {
        &self.request
    }

    /// The caller; always there unless the RPC is public.
    pub fn principal(&self) -> Option<&Principal> {
        auth::principal(&self.request)
    }

    /// The caller; UNAUTHENTICATED without a token (for a public RPC that answers more to a
    /// caller with one).
    pub fn authenticated(&self) -> Result<&Principal, Error> {
        auth::authenticated(&self.request)
    }

    /// Checks the caller's scope against `region`, as the RPC's rule says (PERMISSION_DENIED
    /// outside it). A handler of a scoped RPC must call this (or [`Call::require_regions`])
    /// before it answers: the edge refuses to answer otherwise.
    pub fn require_region(&self, region: RegionCode) -> Result<(), Error> {
        self.require_regions(&[region])
    }

    /// [`Call::require_region`] for every region in `regions`.
    pub fn require_regions(&self, regions: &[RegionCode]) -> Result<(), Error> {
        for &region in regions {
            self.rpc.rule.check_region(self.principal(), region)?;
        }
        self.trail().region_checked = true;
        Ok(())
    }

    /// Notes a record the call addresses, for the audit: `("person", pseudonym)` or a record of
    /// the service (`("marriage", id)`). Never a citizen id number or a name.
    pub fn audit(&self, kind: &'static str, id: impl Into<String>) {
        self.trail().records.push((kind, id.into()));
    }

    /// The command context of the call (see [`command_context`]).
    pub fn command_context(
        &self,
        metadata: &Option<common::CommandMetadata>,
        violations: &mut Violations,
    ) -> CommandContext {
        command_context(&self.request, metadata, violations)
    }

    /// How long a query may wait for read-your-writes (see [`deadline`]).
    pub fn deadline(&self) -> Duration {
        deadline(&self.request)
    }

    fn trail(&self) -> std::sync::MutexGuard<'_, Trail> {
        // A poisoned trail only means a handler panicked while noting; the notes are intact.
        self.trail.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Serves one call of `method` (its proto name) on `service`: admits it by the policy, runs
/// `handler`, checks that a scoped handler checked its region, audits a personal-data read, and
/// turns the outcome into the gRPC answer (a refusal logged at INFO, an internal error at ERROR).
pub async fn serve<S, T, R, F, Fut>(
    service: &S,
    method: &'static str,
    request: Request<T>,
    handler: F,
) -> Result<tonic::Response<R>, tonic::Status>
where
    S: Edge,
    F: FnOnce(Call<T>) -> Fut,
    Fut: Future<Output = Result<R, Error>>,
{
    let Some(rpc) = S::ACCESS.rpc(method) else {
        // The policy table and the RPC list disagree: refuse rather than serve unchecked.
        let error = Error::internal(anyhow::anyhow!(
            "{}/{method} has no rule in the access policy",
            S::ACCESS.service
        ));
        return Err(error.into_status());
    };
    // Who to name in the audit, taken before the handler consumes the request; only a
    // personal-data read needs it (most calls are not audited, and pay nothing for it).
    let audited = rpc
        .rule
        .reads_personal()
        .then(|| {
            auth::principal(&request)
                .cloned()
                .map(|p| (p, purpose(&request)))
        })
        .flatten();
    let trail = Arc::new(Mutex::new(Trail::default()));
    let result = match rpc.rule.admit(auth::principal(&request)) {
        Err(refused) => Err(refused),
        Ok(()) => {
            let call = Call {
                request,
                rpc,
                trail: trail.clone(),
            };
            let answer = handler(call).await;
            let checked = trail.lock().map_or(true, |t| t.region_checked);
            match answer {
                Ok(_) if rpc.rule.is_scoped() && !checked => Err(Error::internal(anyhow::anyhow!(
                    "{method} is scoped by region but its handler checked none"
                ))),
                answer => answer,
            }
        }
    };
    let result = match audited {
        Some((principal, purpose)) => {
            let records =
                std::mem::take(&mut trail.lock().unwrap_or_else(PoisonError::into_inner).records);
            audit(service, method, &principal, purpose, records, result).await
        }
        // Not a personal-data read; or one without a token, where nothing was read and nobody
        // can be named: the refusal is logged.
        None => result,
    };
    match result {
        Ok(response) => Ok(tonic::Response::new(response)),
        Err(error) => {
            if !matches!(error, Error::Internal(_)) {
                // The message goes to the caller only: it may quote what the caller typed (an id
                // in a NOT_FOUND, say), and a caller may type personal data anywhere. The log
                // keeps what names no input: the code, the rule, the fields.
                match &error {
                    Error::FailedPrecondition { rule, .. } => {
                        tracing::info!(code = ?error.code(), %rule, "request refused");
                    }
                    Error::InvalidArgument(violations) => {
                        let fields: Vec<&str> =
                            violations.iter().map(|v| v.field.as_str()).collect();
                        tracing::info!(code = ?error.code(), ?fields, "request refused");
                    }
                    _ => tracing::info!(code = ?error.code(), "request refused"),
                }
            }
            Err(error.into_status())
        }
    }
}

/// Records the call in the audit. An answer that discloses data is withheld (UNAVAILABLE) until
/// its record is stored, and when it cannot be. A refusal or failure disclosed nothing: its
/// record is written in the background, so that an outage costs the caller one wait, not two
/// (the read's own, then the audit's), and is logged if it cannot be stored.
async fn audit<S: Edge, R>(
    service: &S,
    method: &'static str,
    principal: &Principal,
    purpose: String,
    records: Vec<(&'static str, String)>,
    result: Result<R, Error>,
) -> Result<R, Error> {
    let (outcome, code) = match &result {
        Ok(_) => (Outcome::Allowed, Code::Ok),
        Err(error @ (Error::PermissionDenied(_) | Error::Unauthenticated(_))) => {
            (Outcome::Refused, error.code())
        }
        Err(error) => (Outcome::Failed, error.code()),
    };
    let entry = Entry {
        method: format!("{}/{method}", S::ACCESS.service),
        actor: principal.subject().to_owned(),
        roles: principal.roles().map(|r| r.as_str().to_owned()).collect(),
        agency: principal.agency().map(str::to_owned),
        purpose,
        records,
        outcome,
        status_code: code as i32,
        trace_id: minzheng_telemetry::TraceContext::current()
            .traceparent
            .and_then(|p| p.split('-').nth(1).map(str::to_owned)),
    };
    if result.is_err() {
        let log = service.audit_log().clone();
        let method = entry.method.clone();
        tokio::spawn(async move {
            if let Err(error) = log.record(entry).await {
                tracing::warn!(%error, method, "the audit of a refused or failed read was not stored");
            }
        });
        return result;
    }
    service.audit_log().record(entry).await?;
    result
}

/// The purpose the caller gave in [`PURPOSE_HEADER`], cut to [`PURPOSE_MAX_CHARS`].
fn purpose<T>(request: &Request<T>) -> String {
    request
        .metadata()
        .get(PURPOSE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|p| p.trim().chars().take(PURPOSE_MAX_CHARS).collect())
        .unwrap_or_default()
}

/// Declares a service's RPCs once: for each, its handler, its messages and its access rule.
/// From that one table it implements [`Edge`] (the [`AccessPolicy`], with the full service name
/// from the generated server) and the generated tonic service trait, handing every call to
/// [`serve`]; and it gives the API an `access()` function for the docs and tests.
///
/// Each line is `snake_name(ProtoName): Request => Response = rule;`, served by the API's
/// inherent method of the same snake name, `async fn snake_name(&self, call: Call<Request>) ->
/// Result<Response, Error>`; `audit` names the API's field holding its [`AuditLog`]. A
/// server-streaming RPC's response is its stream type, which the server line declares for the
/// generated trait: `server: FooServer<Api> where WatchStream = Type; OtherStream = Type,`.
#[macro_export]
macro_rules! grpc_service {
    (
        impl $service:ident for $api:ty {
            server: $server:ty $( where $( $stream:ident = $stream_type:ty );+ )?,
            audit: $audit:ident,
            $( $method:ident($name:ident): $request:ty => $response:ty = $rule:expr; )*
        }
    ) => {
        impl $crate::edge::Edge for $api {
            const ACCESS: $crate::__private::AccessPolicy = $crate::__private::AccessPolicy {
                service: <$server as $crate::__private::tonic::server::NamedService>::NAME,
                rpcs: &[
                    $( $crate::__private::RpcAccess { method: stringify!($name), rule: $rule }, )*
                ],
            };

            fn audit_log(&self) -> &$crate::audit::AuditLog {
                &self.$audit
            }
        }

        impl $api {
            /// The access policy: the table behind the access matrix in the service's docs.
            pub fn access() -> $crate::__private::AccessPolicy {
                <Self as $crate::edge::Edge>::ACCESS
            }
        }

        #[$crate::__private::tonic::async_trait]
        impl $service for $api {
            $( $( type $stream = $stream_type; )+ )?
            $(
                async fn $method(
                    &self,
                    request: $crate::__private::tonic::Request<$request>,
                ) -> ::std::result::Result<
                    $crate::__private::tonic::Response<$response>,
                    $crate::__private::tonic::Status,
                > {
                    // Inherent methods come before trait methods: this is the handler.
                    $crate::edge::serve(self, stringify!($name), request, |call| {
                        <$api>::$method(self, call)
                    })
                    .await
                }
            )*
        }
    };
}

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
