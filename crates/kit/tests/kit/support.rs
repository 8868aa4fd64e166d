//! A tiny hand-written gRPC service for the server tests, `minzheng.test.v1.WhoamiService`,
//! with its descriptor set, a client call helper and test keys and tokens.
//!
//! `Whoami` answers with the caller's principal and the trace context its handler runs in; it
//! can demand a role (and region), and can hold the call open until the test releases it, to
//! test that shutdown finishes in-flight calls.

use std::{
    convert::Infallible,
    sync::{Arc, OnceLock},
    task::{Context, Poll},
    time::Duration,
};

use futures::future::BoxFuture;
use minzheng_kit::{
    access::Rule,
    auth::{self, Authenticator, Role},
    settings::AuthSettings,
};
use minzheng_telemetry::TraceContext;
use minzheng_types::RegionCode;
use prost::Message;
use secrecy::SecretString;
use tokio::sync::Notify;
use tonic::{Status, server::NamedService, transport::Channel};

pub const SERVICE: &str = "minzheng.test.v1.WhoamiService";
const PATH: &str = "/minzheng.test.v1.WhoamiService/Whoami";

/// The HS256 secret of the test tokens (32 bytes or more, as the kit requires).
pub fn secret() -> SecretString {
    SecretString::from("test-secret-test-secret-test-secret!")
}

pub fn authenticator() -> Authenticator {
    Authenticator::dev(&secret()).expect("test secret is valid")
}

/// Settings for the test keys in `tests/fixtures` (generated for these tests only).
pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn dev_settings() -> AuthSettings {
    AuthSettings {
        dev_secret: Some(secret()),
        ..AuthSettings::default()
    }
}

pub fn region(code: &str) -> RegionCode {
    RegionCode::parse(code).expect("valid test region")
}

pub fn token(sub: &str, roles: &[Role], regions: &[&str]) -> String {
    let regions: Vec<RegionCode> = regions.iter().map(|r| region(r)).collect();
    auth::mint_dev_token(&secret(), sub, roles, &regions, Duration::from_secs(300))
        .expect("minting a test token")
}

#[derive(Clone, PartialEq, Message)]
pub struct WhoamiRequest {
    /// Hold the call until the test calls `Gate::release`.
    #[prost(bool, tag = "1")]
    pub hold: bool,
    /// Demand this role (an access rule); empty demands nothing.
    #[prost(string, tag = "2")]
    pub required_role: String,
    /// Also demand scope over this region.
    #[prost(string, tag = "3")]
    pub region: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct WhoamiResponse {
    #[prost(string, tag = "1")]
    pub subject: String,
    #[prost(string, tag = "2")]
    pub traceparent: String,
}

/// Lets a test know a held call has started and release it.
#[derive(Debug, Default)]
pub struct Gate {
    pub started: Notify,
    pub release: Notify,
}

#[derive(Debug, Clone, Default)]
pub struct WhoamiServer {
    pub gate: Arc<Gate>,
}

impl NamedService for WhoamiServer {
    const NAME: &'static str = SERVICE;
}

impl tower::Service<http::Request<tonic::body::Body>> for WhoamiServer {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let gate = self.gate.clone();
        Box::pin(async move {
            if request.uri().path() != PATH {
                return Ok(Status::unimplemented("no such method").into_http());
            }
            let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::default());
            Ok(grpc.unary(Handler { gate }, request).await)
        })
    }
}

struct Handler {
    gate: Arc<Gate>,
}

impl tonic::server::UnaryService<WhoamiRequest> for Handler {
    type Response = WhoamiResponse;
    type Future = BoxFuture<'static, Result<tonic::Response<WhoamiResponse>, Status>>;

    fn call(&mut self, request: tonic::Request<WhoamiRequest>) -> Self::Future {
        let gate = self.gate.clone();
        Box::pin(async move {
            let message = request.get_ref().clone();
            if !message.required_role.is_empty() {
                let role: Role = message
                    .required_role
                    .parse()
                    .map_err(Status::invalid_argument)?;
                let rule = Rule::roles(match role {
                    Role::Caseworker => &[Role::Caseworker],
                    Role::Approver => &[Role::Approver],
                    Role::Auditor => &[Role::Auditor],
                    Role::Operator => &[Role::Operator],
                    Role::Agency => &[Role::Agency],
                    Role::Citizen => &[Role::Citizen],
                });
                let principal = auth::principal(&request);
                rule.admit(principal)?;
                if !message.region.is_empty() {
                    rule.check_region(principal, region(&message.region))?;
                }
            }
            if message.hold {
                gate.started.notify_one();
                gate.release.notified().await;
            }
            Ok(tonic::Response::new(WhoamiResponse {
                subject: auth::principal(&request)
                    .map(|p| p.subject().to_owned())
                    .unwrap_or_default(),
                traceparent: TraceContext::current().traceparent.unwrap_or_default(),
            }))
        })
    }
}

/// Installs, once per test process, a global subscriber with the OpenTelemetry layer and the
/// W3C propagator, so that spans have real trace contexts.
///
/// Global rather than scoped: with a single scoped subscriber, tracing computes a callsite's
/// interest on whichever thread reaches it first, so a test on another thread (with no
/// subscriber) could disable a span for good.
pub fn trace_with_opentelemetry() {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        // INFO keeps the libraries' trace-level spans (h2, hyper, sqlx) out of the way.
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::INFO)
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("kit-tests")));
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in the kit tests");
    });
    // Callsites reached before the subscriber was installed cached "disabled"; recompute.
    tracing::callsite::rebuild_interest_cache();
}

/// The encoded descriptor set of `minzheng/test/v1/whoami.proto`, as `tonic-prost-build` would
/// generate it.
pub fn descriptor_set() -> &'static [u8] {
    static SET: OnceLock<Vec<u8>> = OnceLock::new();
    SET.get_or_init(|| {
        use prost_types::{
            DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet,
            MethodDescriptorProto, ServiceDescriptorProto,
            field_descriptor_proto::{Label, Type},
        };
        let field = |name: &str, number: i32, kind: Type| FieldDescriptorProto {
            name: Some(name.to_owned()),
            number: Some(number),
            label: Some(Label::Optional as i32),
            r#type: Some(kind as i32),
            json_name: None,
            ..Default::default()
        };
        let file = FileDescriptorProto {
            name: Some("minzheng/test/v1/whoami.proto".to_owned()),
            package: Some("minzheng.test.v1".to_owned()),
            syntax: Some("proto3".to_owned()),
            message_type: vec![
                DescriptorProto {
                    name: Some("WhoamiRequest".to_owned()),
                    field: vec![
                        field("hold", 1, Type::Bool),
                        field("required_role", 2, Type::String),
                        field("region", 3, Type::String),
                    ],
                    ..Default::default()
                },
                DescriptorProto {
                    name: Some("WhoamiResponse".to_owned()),
                    field: vec![
                        field("subject", 1, Type::String),
                        field("traceparent", 2, Type::String),
                    ],
                    ..Default::default()
                },
            ],
            service: vec![ServiceDescriptorProto {
                name: Some("WhoamiService".to_owned()),
                method: vec![MethodDescriptorProto {
                    name: Some("Whoami".to_owned()),
                    input_type: Some(".minzheng.test.v1.WhoamiRequest".to_owned()),
                    output_type: Some(".minzheng.test.v1.WhoamiResponse".to_owned()),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        FileDescriptorSet { file: vec![file] }.encode_to_vec()
    })
}

/// Metadata for one client call.
#[derive(Debug, Default, Clone)]
pub struct CallOptions {
    pub bearer: Option<String>,
    pub authorization: Option<String>,
    pub traceparent: Option<String>,
}

impl CallOptions {
    pub fn bearer(token: impl Into<String>) -> Self {
        Self {
            bearer: Some(token.into()),
            ..Self::default()
        }
    }

    pub fn apply<T>(&self, request: &mut tonic::Request<T>) {
        let metadata = request.metadata_mut();
        if let Some(token) = &self.bearer {
            metadata.insert(
                "authorization",
                format!("Bearer {token}").parse().expect("ascii token"),
            );
        }
        if let Some(value) = &self.authorization {
            metadata.insert("authorization", value.parse().expect("ascii value"));
        }
        if let Some(value) = &self.traceparent {
            metadata.insert("traceparent", value.parse().expect("ascii value"));
        }
    }
}

pub async fn channel(addr: std::net::SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("valid endpoint")
        .connect()
        .await
        .expect("connect to the test server")
}

pub async fn whoami(
    channel: Channel,
    message: WhoamiRequest,
    options: CallOptions,
) -> Result<WhoamiResponse, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let mut request = tonic::Request::new(message);
    options.apply(&mut request);
    let codec = tonic_prost::ProstCodec::<WhoamiRequest, WhoamiResponse>::default();
    let path = http::uri::PathAndQuery::from_static(PATH);
    grpc.unary(request, path, codec)
        .await
        .map(tonic::Response::into_inner)
}
