//! `minzheng.platform.v1.PlatformService`: what this process runs, and dry-run checks of the
//! common values a form is about to submit (so a caseworker learns of a mistyped ID number
//! before a command is refused).

use minzheng_eventstore::SharedStore;
use minzheng_kit::Error;
use minzheng_proto::{
    common::v1 as common,
    convert,
    platform::v1::{
        CheckValuesRequest, CheckValuesResponse, GetInfoRequest, GetInfoResponse,
        RegisteredService, StoreBackend,
        platform_service_server::{PlatformService, PlatformServiceServer},
    },
};
use minzheng_types::Violations;
use tonic::{Request, Response, Status};

use crate::readiness::NotReady;

/// Longest remark `CheckValues` accepts, in characters (as documented in the proto).
const MAX_REMARK_CHARS: usize = 500;

/// A service this process hosts, as `GetInfo` reports it.
#[derive(Debug, Clone)]
pub(crate) struct HostedService {
    pub name: &'static str,
    pub store: SharedStore,
}

/// The platform service's implementation.
#[derive(Debug, Clone)]
pub struct PlatformApi {
    services: Vec<HostedService>,
    not_ready: NotReady,
}

impl PlatformApi {
    pub(crate) fn new(mut services: Vec<HostedService>, not_ready: NotReady) -> Self {
        services.sort_by_key(|s| s.name);
        Self {
            services,
            not_ready,
        }
    }

    pub(crate) fn into_server(self) -> PlatformServiceServer<Self> {
        PlatformServiceServer::new(self)
    }
}

#[tonic::async_trait]
impl PlatformService for PlatformApi {
    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_info(
        &self,
        _request: Request<GetInfoRequest>,
    ) -> Result<Response<GetInfoResponse>, Status> {
        let mut services = Vec::with_capacity(self.services.len());
        for service in &self.services {
            let head = service.store.head().await.map_err(Error::from)?;
            let backend = match service.store.backend() {
                "postgres" => StoreBackend::Postgres,
                "sqlite" => StoreBackend::Sqlite,
                _ => StoreBackend::Unspecified,
            };
            services.push(RegisteredService {
                name: service.name.to_owned(),
                store_backend: backend.into(),
                head_position: head.position,
                not_ready_reason: self.not_ready.reason(service.name).unwrap_or_default(),
            });
        }
        Ok(Response::new(GetInfoResponse {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            services,
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn check_values(
        &self,
        request: Request<CheckValuesRequest>,
    ) -> Result<Response<CheckValuesResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::new();
        let mut response = CheckValuesResponse::default();
        if request.person.is_some()
            && let Some(id) = violations.record(convert::citizen_id("person", &request.person))
        {
            response.birth_date = Some(id.birth_date().into());
            response.sex = common::Sex::from(id.sex()).into();
        }
        if request.region.is_some()
            && let Some(code) = violations.record(convert::region_code("region", &request.region))
        {
            response.region_level = common::RegionLevel::from(code.level()).into();
            response.region_parent = code.parent().map(Into::into);
        }
        if request.amount.is_some()
            && let Some(fen) =
                violations.record(convert::money_non_negative("amount", &request.amount))
        {
            response.amount = Some(fen.into());
        }
        if let Some(remark) = violations.record(convert::optional_text(
            "remark",
            &request.remark,
            MAX_REMARK_CHARS,
        )) {
            response.remark = remark.map(|r| r.into_string()).unwrap_or_default();
        }
        if !violations.is_empty() {
            return Err(Error::from(violations).into());
        }
        Ok(Response::new(response))
    }
}
