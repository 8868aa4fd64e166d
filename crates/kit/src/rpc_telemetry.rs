//! What the edge records of every RPC, once for every service: a server span and the
//! `rpc.server.duration` histogram, both carrying the gRPC status code the caller received.
//!
//! [`RpcTelemetryLayer`] is the outermost layer of the server (outside authentication, so that
//! refused calls count too). Health checks (`grpc.health.v1.Health/*`, every few seconds from
//! Kubernetes) get neither span nor measurement, to keep both about real work.
//!
//! # When the status is known
//!
//! A gRPC status travels in one of two places. An error is usually a *trailers-only* response:
//! `grpc-status` is a header of the response and the body is empty. A response with a body
//! (every OK unary answer, every stream) carries `grpc-status` in the *trailers*, after the last
//! message. A response without a `grpc-status` header is therefore not yet an OK: the layer wraps
//! its body and reads the status from the trailers when they pass. A body that ends without one
//! is what a client sees as UNKNOWN (tonic and grpc-go map a 200 without a status so), and a
//! non-200 HTTP status without one is mapped as gRPC's `http-grpc-status-mapping.md` says. A call
//! dropped before its status was known (the client cancelled or went away, or the server stopped
//! waiting for it at shutdown) is recorded as CANCELLED.
//!
//! The span ends, and the duration is measured, when the status is known: after the last message
//! of a stream, not when the handler returns its first response headers.
//!
//! # What the attributes hold
//!
//! Names the server knows and numeric codes, nothing else: no request field, no metadata, no
//! status message (which may quote input). The service and method come from the request path,
//! which the client chooses, so a service this server does not host, or a method its descriptor
//! set does not list, is recorded as `_OTHER`: unbounded client-chosen values would grow the
//! metric without limit.

use std::{
    collections::{HashMap, HashSet},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::Instant,
};

use futures::future::BoxFuture;
use minzheng_telemetry::TraceContext;
use opentelemetry::{
    KeyValue,
    metrics::{Histogram, Meter},
};
use prost::Message as _;
use tonic::{Code, Status, body::Body};
use tracing::Instrument as _;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The metric of the OpenTelemetry RPC semantic conventions up to v1.37 (`docs/rpc/rpc-metrics.md`,
/// histogram in milliseconds, with `rpc.system`, `rpc.service`, `rpc.method` and, for gRPC,
/// `rpc.grpc.status_code` as an int; `docs/rpc/grpc.md`). Later, still experimental, versions
/// rename it `rpc.server.call.duration` in seconds with `rpc.response.status_code` as a string;
/// dashboards built on these names would need to move with it, so it is a deliberate change,
/// not a silent one.
pub(crate) const DURATION_METRIC: &str = "rpc.server.duration";

/// What stands for a service or method this server does not know (the semantic conventions'
/// value for "not known to the instrumentation").
const OTHER: &str = "_OTHER";

const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";

/// Whether a server span ends in error for this code. The OpenTelemetry gRPC conventions
/// (`docs/rpc/grpc.md`, "gRPC Status", since semantic-conventions PR #3333; the current text
/// lists the same codes under `rpc.response.status_code`) say that on the server only UNKNOWN,
/// DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS are errors: the others
/// (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION, …) are the server
/// answering correctly that the caller asked for something it may not have, and the span
/// status stays unset.
pub(crate) fn is_server_error(code: Code) -> bool {
    matches!(
        code,
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    )
}

/// The services the server hosts and, where a descriptor set describes them, their methods.
#[derive(Debug, Default)]
pub(crate) struct KnownMethods {
    /// `None`: hosted, but no descriptor set lists its methods, so any method name is taken.
    services: HashMap<String, Option<HashSet<String>>>,
}

impl KnownMethods {
    /// `services` are full names (`package.Service`); `descriptor_sets` are encoded
    /// `FileDescriptorSet`s. Services a set describes but the server does not host stay unknown.
    pub(crate) fn new(services: &[&str], descriptor_sets: &[&[u8]]) -> Self {
        let mut known: HashMap<String, Option<HashSet<String>>> = services
            .iter()
            .map(|name| ((*name).to_owned(), None))
            .collect();
        for set in descriptor_sets {
            // Reflection refuses a set that does not decode before the server starts.
            let Ok(set) = prost_types::FileDescriptorSet::decode(*set) else {
                continue;
            };
            for file in &set.file {
                for service in &file.service {
                    let name = match file.package() {
                        "" => service.name().to_owned(),
                        package => format!("{package}.{}", service.name()),
                    };
                    if let Some(methods) = known.get_mut(&name) {
                        methods
                            .get_or_insert_default()
                            .extend(service.method.iter().map(|m| m.name().to_owned()));
                    }
                }
            }
        }
        Self { services: known }
    }

    /// The service and method of a request path (`/package.Service/Method`), each `_OTHER`
    /// when unknown.
    pub(crate) fn resolve<'a>(&self, path: &'a str) -> (&'a str, &'a str) {
        let Some((service, method)) = path.strip_prefix('/').and_then(|full| full.split_once('/'))
        else {
            return (OTHER, OTHER);
        };
        match self.services.get(service) {
            None => (OTHER, OTHER),
            Some(None) => (service, method),
            Some(Some(methods)) if methods.contains(method) => (service, method),
            Some(Some(_)) => (service, OTHER),
        }
    }
}

/// Adds the span and the duration measurement to every RPC but health checks.
#[derive(Debug, Clone)]
pub(crate) struct RpcTelemetryLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    duration: Histogram<f64>,
    known: KnownMethods,
}

impl RpcTelemetryLayer {
    pub(crate) fn new(meter: &Meter, known: KnownMethods) -> Self {
        let duration = meter
            .f64_histogram(DURATION_METRIC)
            .with_unit("ms")
            .with_description("Measures the duration of inbound RPC.")
            .build();
        Self {
            shared: Arc::new(Shared { duration, known }),
        }
    }
}

impl<S> tower::Layer<S> for RpcTelemetryLayer {
    type Service = RpcTelemetry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcTelemetry {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RpcTelemetry<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> tower::Service<http::Request<Body>> for RpcTelemetry<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
{
    type Response = http::Response<ObservedBody>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path().starts_with(HEALTH_PREFIX) {
            let response = self.inner.call(request);
            return Box::pin(async move {
                let response = response.await.map_err(Into::into)?;
                Ok(response.map(ObservedBody::unobserved))
            });
        }
        let mut call = Call::start(self.shared.clone(), &request);
        // The layers inside (authentication) and the handler run in the span, so their events
        // and child spans belong to the call.
        let span = call.span.clone();
        let response = span.in_scope(|| self.inner.call(request));
        Box::pin(async move {
            // Awaited apart from the match, so that the instrumented future (and its handle on
            // the span) is gone before the call finishes: the span ends with the call.
            let result = response.instrument(span).await;
            match result {
                Ok(response) => Ok(call.observe(response)),
                Err(error) => {
                    let error: BoxError = error.into();
                    // Nothing inside answers with an error today (tonic's routes are
                    // infallible); a status would still be the caller's, anything else reaches
                    // it as a reset stream, which gRPC counts as UNKNOWN.
                    let code = error
                        .downcast_ref::<Status>()
                        .map_or(Code::Unknown, Status::code);
                    call.finish(code);
                    Err(error)
                }
            }
        })
    }
}

/// One RPC from its request to its status: finishing it records the status on the span, ends
/// the span and records the duration, once.
struct Call {
    shared: Arc<Shared>,
    service: String,
    method: String,
    start: Instant,
    /// `Span::none()` once finished, so that the span ends with the call.
    span: tracing::Span,
    finished: bool,
}

impl Call {
    fn start(shared: Arc<Shared>, request: &http::Request<Body>) -> Self {
        let (service, method) = shared.known.resolve(request.uri().path());
        let span = tracing::info_span!(
            "grpc request",
            otel.name = %format_args!("{service}/{method}"),
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        TraceContext {
            traceparent: header("traceparent"),
            tracestate: header("tracestate"),
        }
        .set_as_parent_of(&span);
        Self {
            service: service.to_owned(),
            method: method.to_owned(),
            shared,
            start: Instant::now(),
            span,
            finished: false,
        }
    }

    /// Finishes at once when the response carries its status in the headers; otherwise the
    /// body finishes the call when its trailers pass.
    fn observe(mut self, response: http::Response<Body>) -> http::Response<ObservedBody> {
        let code = if let Some(status) = response.headers().get("grpc-status") {
            Some(Code::from_bytes(status.as_bytes()))
        } else if response.status() != http::StatusCode::OK {
            Some(code_of_http_status(response.status()))
        } else {
            None
        };
        match code {
            Some(code) => {
                self.finish(code);
                response.map(ObservedBody::unobserved)
            }
            None => response.map(|body| ObservedBody {
                inner: body,
                call: Some(self),
            }),
        }
    }

    fn finish(&mut self, code: Code) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let code_number = i64::from(code as i32);
        self.span.record("rpc.grpc.status_code", code_number);
        if is_server_error(code) {
            // tracing-opentelemetry turns this field into the span's status (Error, with no
            // description: a status message may quote the caller's input).
            self.span.record("otel.status_code", "ERROR");
        }
        self.span = tracing::Span::none();
        let elapsed_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        self.shared.duration.record(
            elapsed_ms,
            &[
                KeyValue::new("rpc.system", "grpc"),
                KeyValue::new("rpc.service", std::mem::take(&mut self.service)),
                KeyValue::new("rpc.method", std::mem::take(&mut self.method)),
                KeyValue::new("rpc.grpc.status_code", code_number),
            ],
        );
    }
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("service", &self.service)
            .field("method", &self.method)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // Dropped unfinished: the response future or body was abandoned, which hyper does when
        // the client resets the stream or the connection goes, and the server does when it
        // stops waiting at shutdown. No status from the handler reached the caller; when the
        // call outlived the client's `grpc-timeout`, tonic answered CANCELLED itself.
        self.finish(Code::Cancelled);
    }
}

/// gRPC's mapping for a response without `grpc-status`
/// (<https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md>), as tonic's
/// client applies it.
fn code_of_http_status(status: http::StatusCode) -> Code {
    match status {
        http::StatusCode::BAD_REQUEST => Code::Internal,
        http::StatusCode::UNAUTHORIZED => Code::Unauthenticated,
        http::StatusCode::FORBIDDEN => Code::PermissionDenied,
        http::StatusCode::NOT_FOUND => Code::Unimplemented,
        http::StatusCode::TOO_MANY_REQUESTS
        | http::StatusCode::BAD_GATEWAY
        | http::StatusCode::SERVICE_UNAVAILABLE
        | http::StatusCode::GATEWAY_TIMEOUT => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// A response body that finishes its call with the status in its trailers.
#[derive(Debug)]
pub(crate) struct ObservedBody {
    inner: Body,
    /// `None` when the status was known before the body (or the call is not observed).
    call: Option<Call>,
}

impl ObservedBody {
    fn unobserved(inner: Body) -> Self {
        Self { inner, call: None }
    }

    fn finish(&mut self, code: Code) {
        if let Some(mut call) = self.call.take() {
            call.finish(code);
        }
    }
}

impl http_body::Body for ObservedBody {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(trailers) = frame.trailers_ref() {
                    let code = trailers
                        .get("grpc-status")
                        .map_or(Code::Unknown, |status| Code::from_bytes(status.as_bytes()));
                    self.finish(code);
                } else if self.inner.is_end_stream() {
                    // Hyper polls no further once the body says it has ended.
                    self.finish(Code::Unknown);
                }
            }
            // The stream breaks off: the caller sees this status, or a reset.
            Some(Err(status)) => self.finish(status.code()),
            // Ended without trailers: no status reached the caller.
            None => self.finish(Code::Unknown),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_conventions_server_error_codes_are_errors() {
        let errors = [
            Code::Unknown,
            Code::DeadlineExceeded,
            Code::Unimplemented,
            Code::Internal,
            Code::Unavailable,
            Code::DataLoss,
        ];
        for number in 0..=16 {
            let code = Code::from(number);
            assert_eq!(is_server_error(code), errors.contains(&code), "{code:?}");
        }
    }

    #[test]
    fn unknown_services_and_methods_are_other() {
        let set = {
            use prost_types::{
                FileDescriptorProto, FileDescriptorSet, MethodDescriptorProto,
                ServiceDescriptorProto,
            };
            FileDescriptorSet {
                file: vec![FileDescriptorProto {
                    package: Some("minzheng.test.v1".to_owned()),
                    service: ["Described", "NotHosted"]
                        .map(|name| ServiceDescriptorProto {
                            name: Some(name.to_owned()),
                            method: vec![MethodDescriptorProto {
                                name: Some("Get".to_owned()),
                                ..Default::default()
                            }],
                            ..Default::default()
                        })
                        .to_vec(),
                    ..Default::default()
                }],
            }
            .encode_to_vec()
        };
        let known = KnownMethods::new(
            &["minzheng.test.v1.Described", "minzheng.test.v1.Undescribed"],
            &[&set],
        );
        let cases = [
            (
                "/minzheng.test.v1.Described/Get",
                ("minzheng.test.v1.Described", "Get"),
            ),
            (
                "/minzheng.test.v1.Described/Guess",
                ("minzheng.test.v1.Described", OTHER),
            ),
            (
                "/minzheng.test.v1.Undescribed/Any",
                ("minzheng.test.v1.Undescribed", "Any"),
            ),
            ("/minzheng.test.v1.NotHosted/Get", (OTHER, OTHER)),
            ("/some.random.Path/Get", (OTHER, OTHER)),
            ("/", (OTHER, OTHER)),
            ("no-slash", (OTHER, OTHER)),
        ];
        for (path, expected) in cases {
            assert_eq!(known.resolve(path), expected, "{path}");
        }
    }

    #[test]
    fn http_statuses_without_grpc_status_map_as_grpc_says() {
        let cases = [
            (400, Code::Internal),
            (401, Code::Unauthenticated),
            (403, Code::PermissionDenied),
            (404, Code::Unimplemented),
            (429, Code::Unavailable),
            (502, Code::Unavailable),
            (503, Code::Unavailable),
            (504, Code::Unavailable),
            (500, Code::Unknown),
        ];
        for (status, code) in cases {
            let status = http::StatusCode::from_u16(status).expect("valid status");
            assert_eq!(code_of_http_status(status), code, "{status}");
        }
    }
}
