//! The server over real gRPC clients: health, reflection v1 and v1alpha, authentication,
//! trace-context propagation and graceful shutdown.

use std::{sync::Arc, time::Duration};

use minzheng_kit::{
    auth::Role,
    server::{RunningServer, ServerBuilder, ServerError},
};
use prost::Message;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::support::{
    CallOptions, Gate, SERVICE, WhoamiRequest, WhoamiServer, authenticator, channel,
    descriptor_set, token, trace_with_opentelemetry, whoami,
};

const WAIT: Duration = Duration::from_secs(10);

async fn start(gate: Arc<Gate>, shutdown_timeout: Duration) -> RunningServer {
    ServerBuilder::new("127.0.0.1:0".parse().expect("address"), authenticator())
        .add_service(WhoamiServer { gate })
        .file_descriptor_set(descriptor_set())
        .shutdown_token(CancellationToken::new())
        .shutdown_timeout(shutdown_timeout)
        .build()
        .await
        .expect("server starts")
}

#[tokio::test]
async fn health_reports_every_service_serving() {
    let server = start(Arc::default(), WAIT).await;
    assert_ne!(server.local_addr().port(), 0, "the real port is known");
    let mut health = HealthClient::new(channel(server.local_addr()).await);
    for service in ["", SERVICE] {
        let response = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health check")
            .into_inner();
        assert_eq!(
            response.status,
            ServingStatus::Serving as i32,
            "{service:?}"
        );
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "minzheng.nothing.v1.Nothing".to_owned(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), Code::NotFound);
    server.shutdown().await.expect("clean shutdown");
}

/// Lists services and fetches the file defining the test service through one reflection
/// version; the two versions have identical message shapes in different packages.
macro_rules! reflect {
    ($version:ident, $channel:expr) => {{
        use tonic_reflection::pb::$version::{
            ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        };
        let request = |message| ServerReflectionRequest {
            host: String::new(),
            message_request: Some(message),
        };
        let mut client = ServerReflectionClient::new($channel);
        let mut responses = client
            .server_reflection_info(futures::stream::iter([
                request(MessageRequest::ListServices(String::new())),
                request(MessageRequest::FileContainingSymbol(SERVICE.to_owned())),
            ]))
            .await
            .expect(concat!("reflection ", stringify!($version), " answers"))
            .into_inner();
        let services = match responses
            .message()
            .await
            .expect("first response")
            .and_then(|r| r.message_response)
        {
            Some(MessageResponse::ListServicesResponse(list)) => {
                list.service.into_iter().map(|s| s.name).collect::<Vec<_>>()
            }
            other => panic!("expected a service list, got {other:?}"),
        };
        let file = match responses
            .message()
            .await
            .expect("second response")
            .and_then(|r| r.message_response)
        {
            Some(MessageResponse::FileDescriptorResponse(files)) => {
                let bytes = files.file_descriptor_proto.first().expect("one file");
                prost_types::FileDescriptorProto::decode(bytes.as_slice())
                    .expect("a file descriptor")
                    .name
                    .unwrap_or_default()
            }
            other => panic!("expected a file descriptor, got {other:?}"),
        };
        (services, file)
    }};
}

#[tokio::test]
async fn reflection_answers_in_v1_and_v1alpha() {
    let server = start(Arc::default(), WAIT).await;
    let channel = channel(server.local_addr()).await;

    let (services, file) = reflect!(v1, channel.clone());
    assert!(services.iter().any(|s| s == SERVICE), "{services:?}");
    assert!(
        services.iter().any(|s| s == "grpc.health.v1.Health"),
        "{services:?}"
    );
    assert_eq!(file, "minzheng/test/v1/whoami.proto");

    let (services, file) = reflect!(v1alpha, channel);
    assert!(services.iter().any(|s| s == SERVICE), "{services:?}");
    assert_eq!(file, "minzheng/test/v1/whoami.proto");
    server.shutdown().await.expect("clean shutdown");
}

fn demand(role: &str, region: &str) -> WhoamiRequest {
    WhoamiRequest {
        hold: false,
        required_role: role.to_owned(),
        region: region.to_owned(),
    }
}

#[tokio::test]
async fn tokens_are_checked_before_and_inside_handlers() {
    let server = start(Arc::default(), WAIT).await;
    let channel = channel(server.local_addr()).await;
    let call = |message: WhoamiRequest, options: CallOptions| {
        let channel = channel.clone();
        async move { whoami(channel, message, options).await }
    };

    // No token: public calls proceed without a principal, protected ones are refused.
    let anonymous = call(demand("", ""), CallOptions::default())
        .await
        .expect("a public call needs no token");
    assert_eq!(anonymous.subject, "");
    let refused = call(demand("caseworker", ""), CallOptions::default())
        .await
        .expect_err("a protected call needs a token");
    assert_eq!(refused.code(), Code::Unauthenticated);

    // A valid token reaches the handler as the principal.
    let caseworker = CallOptions::bearer(token("staff-1", &[Role::Caseworker], &["210502001000"]));
    let response = call(demand("caseworker", ""), caseworker.clone())
        .await
        .expect("caseworker may call");
    assert_eq!(response.subject, "staff-1");

    // Wrong role or region: permission denied.
    let wrong_role = call(demand("approver", ""), caseworker)
        .await
        .expect_err("caseworker is no approver");
    assert_eq!(wrong_role.code(), Code::PermissionDenied);
    let approver = CallOptions::bearer(token("staff-2", &[Role::Approver], &["210502000000"]));
    call(demand("approver", "210502001000"), approver.clone())
        .await
        .expect("a township in the approver's county");
    let out_of_scope = call(demand("approver", "210503001000"), approver)
        .await
        .expect_err("another county");
    assert_eq!(out_of_scope.code(), Code::PermissionDenied);

    // A present but invalid token is refused before any handler, even for public calls.
    let garbage = call(demand("", ""), CallOptions::bearer("not-a-jwt"))
        .await
        .expect_err("invalid token");
    assert_eq!(garbage.code(), Code::Unauthenticated);
    let basic = CallOptions {
        authorization: Some("Basic dXNlcjpwYXNz".to_owned()),
        ..CallOptions::default()
    };
    let status = call(demand("", ""), basic)
        .await
        .expect_err("not a bearer token");
    assert_eq!(status.code(), Code::Unauthenticated);

    let mut health = HealthClient::new(channel.clone());
    let mut request = tonic::Request::new(HealthCheckRequest::default());
    CallOptions::bearer("not-a-jwt").apply(&mut request);
    let status = health
        .check(request)
        .await
        .expect_err("invalid token on health");
    assert_eq!(status.code(), Code::Unauthenticated);

    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn incoming_traceparent_parents_the_request_span() {
    trace_with_opentelemetry();

    let server = start(Arc::default(), WAIT).await;
    let options = CallOptions {
        traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned()),
        ..CallOptions::default()
    };
    let response = whoami(channel(server.local_addr()).await, demand("", ""), options)
        .await
        .expect("call succeeds");
    assert!(
        response
            .traceparent
            .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "the handler runs in the caller's trace: {:?}",
        response.traceparent
    );
    assert!(
        !response.traceparent.contains("00f067aa0ba902b7"),
        "in a span of its own"
    );
    server.shutdown().await.expect("clean shutdown");
}

/// The health protocol's Watch of a service the server does not serve: one SERVICE_UNKNOWN,
/// and the call stays open (a client waits for it to appear) until the server shuts down;
/// Check of it is NOT_FOUND.
#[tokio::test]
async fn watching_an_unknown_service_answers_service_unknown_and_stays_open() {
    let server = start(Arc::new(Gate::default()), WAIT).await;
    let channel = channel(server.local_addr()).await;
    let mut health = HealthClient::new(channel);
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "minzheng.nosuch.v1.NoSuchService".to_owned(),
        })
        .await
        .expect("a watch of an unknown service is not refused")
        .into_inner();
    let first = watch
        .message()
        .await
        .expect("first status")
        .expect("a status");
    assert_eq!(first.status, ServingStatus::ServiceUnknown as i32);
    assert!(
        timeout(Duration::from_millis(200), watch.message())
            .await
            .is_err(),
        "the watch stays open"
    );
    let checked = health
        .check(HealthCheckRequest {
            service: "minzheng.nosuch.v1.NoSuchService".to_owned(),
        })
        .await
        .expect_err("Check of an unknown service");
    assert_eq!(checked.code(), Code::NotFound);

    server.shutdown_token().cancel();
    let ended = timeout(WAIT, watch.message())
        .await
        .expect("the watch ends on shutdown");
    assert!(matches!(ended, Ok(None)), "{ended:?}");
    timeout(WAIT, server.wait())
        .await
        .expect("the server stops")
        .expect("clean shutdown");
}

#[tokio::test]
async fn shutdown_reports_not_serving_and_finishes_in_flight_calls() {
    let gate = Arc::new(Gate::default());
    let server = start(gate.clone(), WAIT).await;
    let addr = server.local_addr();
    let token = server.shutdown_token();
    let channel = channel(addr).await;

    let mut health = HealthClient::new(channel.clone());
    let mut watch = health
        .watch(HealthCheckRequest {
            service: SERVICE.to_owned(),
        })
        .await
        .expect("watch")
        .into_inner();
    let first = watch
        .message()
        .await
        .expect("first status")
        .expect("a status");
    assert_eq!(first.status, ServingStatus::Serving as i32);

    let held = tokio::spawn(whoami(
        channel.clone(),
        WhoamiRequest {
            hold: true,
            ..demand("", "")
        },
        CallOptions::default(),
    ));
    timeout(WAIT, gate.started.notified())
        .await
        .expect("the held call started");

    token.cancel();
    let mut last = None;
    while let Some(status) = timeout(WAIT, watch.message())
        .await
        .expect("watch ends on shutdown")
        .expect("watch stream")
    {
        last = Some(status.status);
    }
    assert_eq!(last, Some(ServingStatus::NotServing as i32));
    assert!(!held.is_finished(), "the in-flight call is still running");

    gate.release.notify_one();
    let response = timeout(WAIT, held)
        .await
        .expect("the held call finishes")
        .expect("task")
        .expect("the in-flight call succeeds during the drain");
    assert_eq!(response.subject, "");
    timeout(WAIT, server.wait())
        .await
        .expect("server stops after the drain")
        .expect("clean shutdown");

    assert!(
        tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("endpoint")
            .connect()
            .await
            .is_err(),
        "no longer accepting connections"
    );
}

#[tokio::test]
async fn shutdown_gives_up_on_calls_that_outlast_the_timeout() {
    let gate = Arc::new(Gate::default());
    let server = start(gate.clone(), Duration::from_millis(200)).await;
    let channel = channel(server.local_addr()).await;
    let held = tokio::spawn(whoami(
        channel,
        WhoamiRequest {
            hold: true,
            ..demand("", "")
        },
        CallOptions::default(),
    ));
    timeout(WAIT, gate.started.notified())
        .await
        .expect("the held call started");
    let result = timeout(WAIT, server.shutdown())
        .await
        .expect("shutdown returns");
    assert!(
        matches!(result, Err(ServerError::ShutdownTimedOut(_))),
        "{result:?}"
    );
    gate.release.notify_one();
    held.abort();
}

#[tokio::test]
async fn a_taken_port_is_a_bind_error() {
    let server = start(Arc::default(), WAIT).await;
    let second = ServerBuilder::new(server.local_addr(), authenticator())
        .shutdown_token(CancellationToken::new())
        .build()
        .await;
    assert!(
        matches!(second, Err(ServerError::Bind { .. })),
        "{second:?}"
    );
    server.shutdown().await.expect("clean shutdown");
}
