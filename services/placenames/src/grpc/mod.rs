//! `minzheng.placenames.v1.PlaceNamesService`: request conversion (every field parsed into a
//! domain value, every violation reported at once), access checks, and the answers built from the
//! directory. Proto types stop here. A refused call is logged at INFO (the caller's mistake, not
//! the service's); internal errors are logged at ERROR where they become a status. The boundary and sign RPCs live in `boundaries` and
//! `signs`; the trait implementation below delegates to them.

mod adjustments;
mod boundaries;
mod divisions;
mod place_names;
mod signs;

use minzheng_kit::{
    Error,
    auth::{self, Principal, Role},
};
use minzheng_proto::{
    common::v1 as common,
    convert,
    placenames::v1::{
        self as pb,
        place_names_service_server::{PlaceNamesService, PlaceNamesServiceServer},
    },
};
use minzheng_types::{BoundedText, FieldViolation, RegionCode, RegionLevel, Violations};
use time::Date;
use tonic::{Request, Response, Status};

use minzheng_host::edge::{self, command_context, page, result};
/// Today in China Standard Time, the day queries answer for when none is given.
pub use minzheng_kit::clock::today_in_china as today;

use crate::{PlaceNameId, app::PlaceNames, import};

/// Longest free text (justifications, summaries, reasons), in characters.
const TEXT_MAX_CHARS: usize = 2_000;
/// Longest approval reference, in characters.
const REFERENCE_MAX_CHARS: usize = 200;

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct PlaceNamesApi {
    app: PlaceNames,
}

impl PlaceNamesApi {
    pub fn new(app: PlaceNames) -> Self {
        Self { app }
    }

    pub fn into_server(self) -> PlaceNamesServiceServer<Self> {
        PlaceNamesServiceServer::new(self).max_decoding_message_size(import::MAX_BYTES + (1 << 20))
    }

    /// Waits for read-your-writes, bounded by the call's deadline.
    async fn wait<T>(
        &self,
        request: &Request<T>,
        read: &Option<common::ReadOptions>,
    ) -> Result<(), Error> {
        self.app
            .view()
            .wait_for(edge::min_position(read), edge::deadline(request))
            .await
    }
}

fn day_or_today(field: &str, date: &Option<common::Date>) -> Result<Date, FieldViolation> {
    match date {
        None => Ok(today()),
        Some(_) => convert::date(field, date),
    }
}

/// Every code in `codes` must lie in the principal's scope.
fn require_scope(principal: &Principal, codes: &[RegionCode]) -> Result<(), Error> {
    for &code in codes {
        principal.require_region(code)?;
    }
    Ok(())
}

/// Approvals need a scope at county level or above containing every code.
fn require_approver_scope(principal: &Principal, codes: &[RegionCode]) -> Result<(), Error> {
    principal.require_role(Role::Approver)?;
    for &code in codes {
        let covered = principal
            .regions()
            .iter()
            .any(|scope| scope.level() <= RegionLevel::County && scope.contains(code));
        if !covered {
            return Err(Error::PermissionDenied(format!(
                "approving needs a scope at county level or above that contains {code}"
            )));
        }
    }
    Ok(())
}

fn text(field: &str, value: &str, max: usize, violations: &mut Violations) -> Option<BoundedText> {
    violations.record(convert::bounded_text(field, value, max))
}

fn violations_ok(violations: Violations) -> Result<(), Error> {
    violations.into_result().map_err(Error::from)
}

fn place_name_id(field: &str, id: &str, violations: &mut Violations) -> Option<PlaceNameId> {
    violations.check(field, PlaceNameId::parse(id))
}

/// Who may run a workflow command.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// Caseworkers and approvers (scoped to what the command touches).
    Staff,
    /// Approvers (scoped to its county or above).
    Approver,
}

impl Who {
    /// The call's principal, if it has one of these roles.
    fn authenticate<T>(self, request: &Request<T>) -> Result<Principal, Error> {
        match self {
            Who::Staff => auth::require_any(request, &[Role::Caseworker, Role::Approver]),
            Who::Approver => auth::require(request, Role::Approver),
        }
        .cloned()
    }
}

#[tonic::async_trait]
impl PlaceNamesService for PlaceNamesApi {
    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn import_divisions(
        &self,
        request: Request<pb::ImportDivisionsRequest>,
    ) -> Result<Response<pb::ImportDivisionsResponse>, Status> {
        Ok(self.do_import_divisions(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_division(
        &self,
        request: Request<pb::GetDivisionRequest>,
    ) -> Result<Response<pb::GetDivisionResponse>, Status> {
        Ok(self.do_get_division(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn list_children(
        &self,
        request: Request<pb::ListChildrenRequest>,
    ) -> Result<Response<pb::ListChildrenResponse>, Status> {
        Ok(self.do_list_children(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn search_divisions(
        &self,
        request: Request<pb::SearchDivisionsRequest>,
    ) -> Result<Response<pb::SearchDivisionsResponse>, Status> {
        Ok(self.do_search_divisions(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn resolve_division(
        &self,
        request: Request<pb::ResolveDivisionRequest>,
    ) -> Result<Response<pb::ResolveDivisionResponse>, Status> {
        Ok(self.do_resolve_division(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn propose_adjustment(
        &self,
        request: Request<pb::ProposeAdjustmentRequest>,
    ) -> Result<Response<pb::ProposeAdjustmentResponse>, Status> {
        Ok(self.do_propose_adjustment(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn record_adjustment_review(
        &self,
        request: Request<pb::RecordAdjustmentReviewRequest>,
    ) -> Result<Response<pb::RecordAdjustmentReviewResponse>, Status> {
        Ok(self.do_record_adjustment_review(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn approve_adjustment(
        &self,
        request: Request<pb::ApproveAdjustmentRequest>,
    ) -> Result<Response<pb::ApproveAdjustmentResponse>, Status> {
        Ok(self.do_approve_adjustment(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn reject_adjustment(
        &self,
        request: Request<pb::RejectAdjustmentRequest>,
    ) -> Result<Response<pb::RejectAdjustmentResponse>, Status> {
        Ok(self.do_reject_adjustment(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn put_adjustment_into_effect(
        &self,
        request: Request<pb::PutAdjustmentIntoEffectRequest>,
    ) -> Result<Response<pb::PutAdjustmentIntoEffectResponse>, Status> {
        Ok(self.do_put_adjustment_into_effect(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_adjustment(
        &self,
        request: Request<pb::GetAdjustmentRequest>,
    ) -> Result<Response<pb::GetAdjustmentResponse>, Status> {
        Ok(self.do_get_adjustment(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn propose_place_name(
        &self,
        request: Request<pb::ProposePlaceNameRequest>,
    ) -> Result<Response<pb::ProposePlaceNameResponse>, Status> {
        Ok(self.do_propose_place_name(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn record_place_name_evaluation(
        &self,
        request: Request<pb::RecordPlaceNameEvaluationRequest>,
    ) -> Result<Response<pb::RecordPlaceNameEvaluationResponse>, Status> {
        Ok(self.do_record_place_name_evaluation(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn open_place_name_comment_period(
        &self,
        request: Request<pb::OpenPlaceNameCommentPeriodRequest>,
    ) -> Result<Response<pb::OpenPlaceNameCommentPeriodResponse>, Status> {
        Ok(self.do_open_place_name_comment_period(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn record_place_name_comment(
        &self,
        request: Request<pb::RecordPlaceNameCommentRequest>,
    ) -> Result<Response<pb::RecordPlaceNameCommentResponse>, Status> {
        Ok(self.do_record_place_name_comment(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn close_place_name_comment_period(
        &self,
        request: Request<pb::ClosePlaceNameCommentPeriodRequest>,
    ) -> Result<Response<pb::ClosePlaceNameCommentPeriodResponse>, Status> {
        Ok(self.do_close_place_name_comment_period(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn approve_place_name(
        &self,
        request: Request<pb::ApprovePlaceNameRequest>,
    ) -> Result<Response<pb::ApprovePlaceNameResponse>, Status> {
        Ok(self.do_approve_place_name(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn reject_place_name(
        &self,
        request: Request<pb::RejectPlaceNameRequest>,
    ) -> Result<Response<pb::RejectPlaceNameResponse>, Status> {
        Ok(self.do_reject_place_name(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn publish_place_name(
        &self,
        request: Request<pb::PublishPlaceNameRequest>,
    ) -> Result<Response<pb::PublishPlaceNameResponse>, Status> {
        Ok(self.do_publish_place_name(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn retire_place_name(
        &self,
        request: Request<pb::RetirePlaceNameRequest>,
    ) -> Result<Response<pb::RetirePlaceNameResponse>, Status> {
        Ok(self.do_retire_place_name(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_place_name(
        &self,
        request: Request<pb::GetPlaceNameRequest>,
    ) -> Result<Response<pb::GetPlaceNameResponse>, Status> {
        Ok(self.do_get_place_name(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn search_place_names(
        &self,
        request: Request<pb::SearchPlaceNamesRequest>,
    ) -> Result<Response<pb::SearchPlaceNamesResponse>, Status> {
        Ok(self.do_search_place_names(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn record_boundary(
        &self,
        request: Request<pb::RecordBoundaryRequest>,
    ) -> Result<Response<pb::RecordBoundaryResponse>, Status> {
        Ok(self.do_record_boundary(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn start_inspection_round(
        &self,
        request: Request<pb::StartInspectionRoundRequest>,
    ) -> Result<Response<pb::StartInspectionRoundResponse>, Status> {
        Ok(self.do_start_inspection_round(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn record_inspection_finding(
        &self,
        request: Request<pb::RecordInspectionFindingRequest>,
    ) -> Result<Response<pb::RecordInspectionFindingResponse>, Status> {
        Ok(self.do_record_inspection_finding(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn resolve_inspection_finding(
        &self,
        request: Request<pb::ResolveInspectionFindingRequest>,
    ) -> Result<Response<pb::ResolveInspectionFindingResponse>, Status> {
        Ok(self.do_resolve_inspection_finding(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn complete_inspection_round(
        &self,
        request: Request<pb::CompleteInspectionRoundRequest>,
    ) -> Result<Response<pb::CompleteInspectionRoundResponse>, Status> {
        Ok(self.do_complete_inspection_round(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_boundary(
        &self,
        request: Request<pb::GetBoundaryRequest>,
    ) -> Result<Response<pb::GetBoundaryResponse>, Status> {
        Ok(self.do_get_boundary(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn list_boundaries(
        &self,
        request: Request<pb::ListBoundariesRequest>,
    ) -> Result<Response<pb::ListBoundariesResponse>, Status> {
        Ok(self.do_list_boundaries(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn install_sign(
        &self,
        request: Request<pb::InstallSignRequest>,
    ) -> Result<Response<pb::InstallSignResponse>, Status> {
        Ok(self.do_install_sign(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn inspect_sign(
        &self,
        request: Request<pb::InspectSignRequest>,
    ) -> Result<Response<pb::InspectSignResponse>, Status> {
        Ok(self.do_inspect_sign(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn replace_sign(
        &self,
        request: Request<pb::ReplaceSignRequest>,
    ) -> Result<Response<pb::ReplaceSignResponse>, Status> {
        Ok(self.do_replace_sign(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn remove_sign(
        &self,
        request: Request<pb::RemoveSignRequest>,
    ) -> Result<Response<pb::RemoveSignResponse>, Status> {
        Ok(self.do_remove_sign(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_sign(
        &self,
        request: Request<pb::GetSignRequest>,
    ) -> Result<Response<pb::GetSignResponse>, Status> {
        Ok(self.do_get_sign(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn list_signs(
        &self,
        request: Request<pb::ListSignsRequest>,
    ) -> Result<Response<pb::ListSignsResponse>, Status> {
        Ok(self.do_list_signs(request).await?)
    }
}
