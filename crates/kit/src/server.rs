//! The gRPC server every service runs: the caller adds its services and descriptor sets, the
//! builder adds what every service must have.
//!
//! Always added:
//! - gRPC health (`grpc.health.v1.Health`): every added service and the server as a whole (`""`)
//!   report SERVING once bound and NOT_SERVING as soon as shutdown begins; open `Watch` streams
//!   see NOT_SERVING and then end, so they do not hold the drain open;
//! - reflection, both `grpc.reflection.v1` and `grpc.reflection.v1alpha` (stock Python grpcio and
//!   older grpcurl only speak v1alpha), serving the registered descriptor sets plus health's;
//! - authentication ([`crate::auth::AuthLayer`]);
//! - for every RPC but health checks, a server span named after the method (never carrying
//!   request fields), whose parent is the caller's `traceparent` metadata, and the
//!   `rpc.server.duration` histogram (milliseconds) per service, method and numeric gRPC
//!   status code; the span carries the code too (`rpc.grpc.status_code`), and the error status
//!   for the codes OpenTelemetry counts as server errors. Both are recorded when the caller's
//!   status is known, which for an answer with a body is its trailers (see `rpc_telemetry`).
//!   Measurements go to the global meter (a no-op until telemetry exports metrics) unless
//!   [`ServerBuilder::meter`] gives another.
//!
//! [`ServerBuilder::build`] binds (port 0 picks a free port) and returns a [`RunningServer`]
//! that knows its address. Shutdown is graceful: on the cancellation token (or SIGTERM/SIGINT
//! when no token was given) the server reports NOT_SERVING, stops accepting connections,
//! finishes in-flight calls and stops, giving up after the shutdown timeout.
//!
//! This module deliberately knows no service: it takes them as tonic services and descriptor
//! bytes from the caller.

use std::{convert::Infallible, net::SocketAddr, time::Duration};

use futures::{StreamExt, stream::BoxStream};
use opentelemetry::metrics::Meter;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use tonic::{
    Request, Response, Status, server::NamedService, service::RoutesBuilder,
    transport::server::TcpIncoming,
};
use tonic_health::{
    ServingStatus,
    pb::{
        HealthCheckRequest, HealthCheckResponse, health_check_response,
        health_server::{Health, HealthServer},
    },
    server::{HealthReporter, HealthService},
};

use crate::{
    auth::{AuthError, AuthLayer, Authenticator},
    rpc_telemetry::{KnownMethods, RpcTelemetryLayer},
    settings::PlatformSettings,
};

/// How long a graceful shutdown waits for in-flight calls by default.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the server could not start, or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid file descriptor set for reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("cannot listen for shutdown signals: {0}")]
    Signal(#[source] std::io::Error),
    #[error("grpc server failed: {0}")]
    Serve(#[source] tonic::transport::Error),
    #[error("in-flight calls did not finish within {0:?} of shutdown")]
    ShutdownTimedOut(Duration),
    #[error("grpc server task failed: {0}")]
    Task(String),
}

/// Collects services and options; [`ServerBuilder::build`] starts the server.
#[derive(Debug)]
pub struct ServerBuilder {
    listen: SocketAddr,
    authenticator: Authenticator,
    routes: RoutesBuilder,
    service_names: Vec<&'static str>,
    descriptor_sets: Vec<&'static [u8]>,
    shutdown: Option<CancellationToken>,
    shutdown_timeout: Duration,
    meter: Option<Meter>,
}

impl ServerBuilder {
    pub fn new(listen: SocketAddr, authenticator: Authenticator) -> Self {
        Self {
            listen,
            authenticator,
            routes: RoutesBuilder::default(),
            service_names: Vec::new(),
            descriptor_sets: Vec::new(),
            shutdown: None,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            meter: None,
        }
    }

    /// A builder for the settings' listen address, token verification and shutdown timeout.
    pub fn from_settings(settings: &PlatformSettings) -> Result<Self, ServerError> {
        let authenticator = Authenticator::from_settings(&settings.auth)?;
        Ok(Self::new(settings.listen, authenticator).shutdown_timeout(settings.shutdown_timeout()))
    }

    /// Serves a generated tonic service (`FooServiceServer::new(handler)`); health reports it
    /// by its full name.
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.service_names.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Registers an encoded `FileDescriptorSet` (from `tonic-prost-build`) for reflection.
    pub fn file_descriptor_set(mut self, set: &'static [u8]) -> Self {
        self.descriptor_sets.push(set);
        self
    }

    /// Stops the server when `token` is cancelled. Without one, the server stops on SIGTERM or
    /// SIGINT.
    pub fn shutdown_token(mut self, token: CancellationToken) -> Self {
        self.shutdown = Some(token);
        self
    }

    /// How long shutdown waits for in-flight calls before giving up.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Records the RPC metrics with `meter` instead of the global one (tests read their own).
    pub fn meter(mut self, meter: Meter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// Binds the listen address and starts serving in a background task.
    pub async fn build(self) -> Result<RunningServer, ServerError> {
        let Self {
            listen,
            authenticator,
            mut routes,
            service_names,
            descriptor_sets,
            shutdown,
            shutdown_timeout,
            meter,
        } = self;

        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| ServerError::Bind {
                addr: listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: listen,
            source,
        })?;

        let health = HealthReporter::new();
        for name in &service_names {
            health
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        let draining = CancellationToken::new();
        routes.add_service(HealthServer::new(DrainingHealth {
            inner: HealthService::from_health_reporter(health.clone()),
            draining: draining.clone(),
        }));
        add_reflection(&mut routes, &descriptor_sets)?;
        let telemetry = RpcTelemetryLayer::new(
            &meter.unwrap_or_else(minzheng_telemetry::meter),
            known_methods(&service_names, &descriptor_sets),
        );

        let token = match shutdown {
            Some(token) => token,
            None => crate::shutdown::signal_token().map_err(ServerError::Signal)?,
        };
        let signal = {
            let token = token.clone();
            let health = health.clone();
            let names = service_names.clone();
            async move {
                token.cancelled().await;
                tracing::info!("grpc server draining");
                // Report NOT_SERVING before refusing connections, so that probes and
                // load balancers stop sending work while in-flight calls finish.
                for name in names.iter().copied().chain([""]) {
                    health
                        .set_service_status(name, ServingStatus::NotServing)
                        .await;
                }
                draining.cancel();
            }
        };

        // Telemetry outside authentication, so that refused calls are observed too.
        let serve = tonic::transport::Server::builder()
            .layer(telemetry)
            .layer(AuthLayer::new(authenticator))
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                signal,
            );
        let task = {
            let token = token.clone();
            tokio::spawn(async move {
                let deadline = async {
                    token.cancelled().await;
                    tokio::time::sleep(shutdown_timeout).await;
                };
                let result = tokio::select! {
                    result = serve => result.map_err(ServerError::Serve),
                    () = deadline => Err(ServerError::ShutdownTimedOut(shutdown_timeout)),
                };
                match &result {
                    Ok(()) => tracing::info!("grpc server stopped"),
                    Err(error) => tracing::error!(%error, "grpc server stopped with an error"),
                }
                result
            })
        };
        tracing::info!(address = %local_addr, services = ?service_names, "grpc server listening");
        Ok(RunningServer {
            local_addr,
            token,
            health,
            task,
        })
    }
}

/// A server running in a background task.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    token: CancellationToken,
    health: HealthReporter,
    task: JoinHandle<Result<(), ServerError>>,
}

impl RunningServer {
    /// The bound address (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The token whose cancellation stops the server.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// The health reporter, for a service that wants to report NOT_SERVING while a dependency
    /// is down.
    pub fn health(&self) -> &HealthReporter {
        &self.health
    }

    /// Waits until the server has stopped.
    pub async fn wait(self) -> Result<(), ServerError> {
        match self.task.await {
            Ok(result) => result,
            Err(error) => Err(ServerError::Task(error.to_string())),
        }
    }

    /// Begins a graceful shutdown and waits for it to finish.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        self.token.cancel();
        self.wait().await
    }
}

/// Adds reflection v1 and v1alpha over the caller's descriptor sets and health's own.
fn add_reflection(routes: &mut RoutesBuilder, sets: &[&'static [u8]]) -> Result<(), ServerError> {
    let configure = || {
        sets.iter().fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
            |builder, set| builder.register_encoded_file_descriptor_set(set),
        )
    };
    routes.add_service(configure().build_v1()?);
    routes.add_service(configure().build_v1alpha()?);
    Ok(())
}

/// What the RPC telemetry may name: the added services and reflection, with the methods their
/// descriptor sets list (health is not observed at all).
fn known_methods(services: &[&'static str], sets: &[&'static [u8]]) -> KnownMethods {
    use tonic_reflection::pb::{v1, v1alpha};
    let services: Vec<&str> = services
        .iter()
        .copied()
        .chain([
            v1::server_reflection_server::SERVICE_NAME,
            v1alpha::server_reflection_server::SERVICE_NAME,
        ])
        .collect();
    let sets: Vec<&[u8]> = sets
        .iter()
        .copied()
        .chain([v1::FILE_DESCRIPTOR_SET, v1alpha::FILE_DESCRIPTOR_SET])
        .collect();
    KnownMethods::new(&services, &sets)
}

/// Health that ends `Watch` streams once shutdown begins, after telling them NOT_SERVING: an
/// open watch would otherwise keep its connection, and so the graceful drain, open forever.
struct DrainingHealth {
    inner: HealthService,
    draining: CancellationToken,
}

#[tonic::async_trait]
impl Health for DrainingHealth {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        self.inner.check(request).await
    }

    type WatchStream = BoxStream<'static, Result<HealthCheckResponse, Status>>;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let statuses = match self.inner.watch(request).await {
            Ok(statuses) => statuses.into_inner(),
            // The health protocol: a watch of a service the server does not know answers
            // SERVICE_UNKNOWN and stays open (until the drain), rather than failing the call.
            Err(status) if status.code() == tonic::Code::NotFound => {
                let unknown = HealthCheckResponse {
                    status: health_check_response::ServingStatus::ServiceUnknown as i32,
                };
                let stream = futures::stream::once(futures::future::ready(Ok(unknown)))
                    .chain(futures::stream::pending())
                    .take_until(self.draining.clone().cancelled_owned());
                return Ok(Response::new(stream.boxed()));
            }
            Err(status) => return Err(status),
        };
        let last = HealthCheckResponse {
            status: health_check_response::ServingStatus::NotServing as i32,
        };
        let stream = statuses
            .take_until(self.draining.clone().cancelled_owned())
            .chain(futures::stream::once(futures::future::ready(Ok(last))));
        Ok(Response::new(stream.boxed()))
    }
}
