//! `minzheng.placenames.v1.PlaceNamesService`: request conversion (every field parsed into a
//! domain value, every violation reported at once) and the answers built from the directory.
//! Proto types stop here. The RPCs live in `divisions`, `adjustments`, `place_names`,
//! `boundaries` and `signs`; the table at the end of this file declares each with its access
//! rule, and `grpc_service!` serves each through the shared edge (admission, region scope,
//! refusals logged at INFO and internal errors at ERROR).

mod adjustments;
mod boundaries;
mod divisions;
mod place_names;
mod signs;

use std::sync::Arc;

use minzheng_host::{audit::AuditLog, edge::Call};
use minzheng_kit::{Error, access::Rule, auth::Role, clock::Clock};
use minzheng_proto::{
    common::v1 as common,
    placenames::v1::{
        self as pb,
        place_names_service_server::{PlaceNamesService, PlaceNamesServiceServer},
    },
};
use minzheng_types::RegionLevel;
use time::Date;

use minzheng_host::edge::{self, page, result};

use crate::{app::PlaceNames, import};

/// Longest free text (justifications, summaries, reasons), in characters.
const TEXT_MAX_CHARS: usize = 2_000;
/// Longest approval reference, in characters.
const REFERENCE_MAX_CHARS: usize = 200;

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct PlaceNamesApi {
    app: PlaceNames,
    audit: AuditLog,
    clock: Arc<dyn Clock>,
}

impl PlaceNamesApi {
    /// The API of `app`; queries without a day answer for `clock`'s today.
    pub fn new(app: PlaceNames, audit: AuditLog, clock: Arc<dyn Clock>) -> Self {
        Self { app, audit, clock }
    }

    /// Today, China Standard Time: the day queries answer for when none is given.
    fn today(&self) -> Date {
        self.clock.today()
    }

    pub fn into_server(self) -> PlaceNamesServiceServer<Self> {
        PlaceNamesServiceServer::new(self).max_decoding_message_size(import::MAX_BYTES + (1 << 20))
    }

    /// Waits for read-your-writes, bounded by the call's deadline.
    async fn wait<T>(
        &self,
        call: &Call<T>,
        read: &Option<common::ReadOptions>,
    ) -> Result<(), Error> {
        self.app
            .view()
            .wait_for(edge::min_position(read), call.deadline())
            .await
    }
}

/// Caseworkers and approvers.
const STAFF: &[Role] = &[Role::Caseworker, Role::Approver];
const APPROVER: &[Role] = &[Role::Approver];

const ADJUSTED: &str = "every division it changes";
const PLACE: &str = "the place's division";
const SIDES: &str = "both sides of the boundary";

/// A decision: an approver scoped to `what` at county level or above.
const fn decision(what: &'static str) -> Rule {
    Rule::roles(APPROVER)
        .in_record(what)
        .scope_at_least(RegionLevel::County)
}

// The RPCs and their access rules, declared once. Who may call each RPC, and where. Division,
// standard-name, boundary and sign queries are public; `GetPlaceName` answers a name still in its
// workflow only to a caller with a token. Changes need staff scoped to every division they touch;
// decisions need an approver scoped at county level or above. Nothing here is personal data.
/// Every role but the citizen's: an adjustment under way is the bureau's and its partners'.
const STAFF_AND_AGENCIES: &[Role] = &[
    Role::Caseworker,
    Role::Approver,
    Role::Auditor,
    Role::Operator,
    Role::Agency,
];

minzheng_host::grpc_service! {
    impl PlaceNamesService for PlaceNamesApi {
        server: PlaceNamesServiceServer<PlaceNamesApi>,
        audit: audit,
        import_divisions(ImportDivisions):
            pb::ImportDivisionsRequest => pb::ImportDivisionsResponse
            = Rule::roles(&[Role::Operator]).in_record("every division in the file");
        get_division(GetDivision):
            pb::GetDivisionRequest => pb::GetDivisionResponse
            = Rule::public();
        list_children(ListChildren):
            pb::ListChildrenRequest => pb::ListChildrenResponse
            = Rule::public();
        search_divisions(SearchDivisions):
            pb::SearchDivisionsRequest => pb::SearchDivisionsResponse
            = Rule::public();
        resolve_division(ResolveDivision):
            pb::ResolveDivisionRequest => pb::ResolveDivisionResponse
            = Rule::public();
        propose_adjustment(ProposeAdjustment):
            pb::ProposeAdjustmentRequest => pb::ProposeAdjustmentResponse
            = Rule::roles(STAFF).in_record(ADJUSTED);
        record_adjustment_review(RecordAdjustmentReview):
            pb::RecordAdjustmentReviewRequest => pb::RecordAdjustmentReviewResponse
            = Rule::roles(STAFF).in_record(ADJUSTED);
        approve_adjustment(ApproveAdjustment):
            pb::ApproveAdjustmentRequest => pb::ApproveAdjustmentResponse
            = decision(ADJUSTED);
        reject_adjustment(RejectAdjustment):
            pb::RejectAdjustmentRequest => pb::RejectAdjustmentResponse
            = decision(ADJUSTED);
        put_adjustment_into_effect(PutAdjustmentIntoEffect):
            pb::PutAdjustmentIntoEffectRequest => pb::PutAdjustmentIntoEffectResponse
            = decision(ADJUSTED);
        get_adjustment(GetAdjustment):
            pb::GetAdjustmentRequest => pb::GetAdjustmentResponse
            = Rule::roles(STAFF_AND_AGENCIES);
        propose_place_name(ProposePlaceName):
            pb::ProposePlaceNameRequest => pb::ProposePlaceNameResponse
            = Rule::roles(STAFF).in_field("division");
        record_place_name_evaluation(RecordPlaceNameEvaluation):
            pb::RecordPlaceNameEvaluationRequest => pb::RecordPlaceNameEvaluationResponse
            = Rule::roles(STAFF).in_record(PLACE);
        open_place_name_comment_period(OpenPlaceNameCommentPeriod):
            pb::OpenPlaceNameCommentPeriodRequest => pb::OpenPlaceNameCommentPeriodResponse
            = Rule::roles(STAFF).in_record(PLACE);
        record_place_name_comment(RecordPlaceNameComment):
            pb::RecordPlaceNameCommentRequest => pb::RecordPlaceNameCommentResponse
            = Rule::roles(STAFF).in_record(PLACE);
        close_place_name_comment_period(ClosePlaceNameCommentPeriod):
            pb::ClosePlaceNameCommentPeriodRequest => pb::ClosePlaceNameCommentPeriodResponse
            = Rule::roles(STAFF).in_record(PLACE);
        approve_place_name(ApprovePlaceName):
            pb::ApprovePlaceNameRequest => pb::ApprovePlaceNameResponse
            = decision(PLACE);
        reject_place_name(RejectPlaceName):
            pb::RejectPlaceNameRequest => pb::RejectPlaceNameResponse
            = decision(PLACE);
        publish_place_name(PublishPlaceName):
            pb::PublishPlaceNameRequest => pb::PublishPlaceNameResponse
            = decision(PLACE);
        retire_place_name(RetirePlaceName):
            pb::RetirePlaceNameRequest => pb::RetirePlaceNameResponse
            = decision(PLACE);
        get_place_name(GetPlaceName):
            pb::GetPlaceNameRequest => pb::GetPlaceNameResponse
            = Rule::public();
        search_place_names(SearchPlaceNames):
            pb::SearchPlaceNamesRequest => pb::SearchPlaceNamesResponse
            = Rule::public();
        record_boundary(RecordBoundary):
            pb::RecordBoundaryRequest => pb::RecordBoundaryResponse
            = Rule::roles(STAFF).in_field("between");
        start_inspection_round(StartInspectionRound):
            pb::StartInspectionRoundRequest => pb::StartInspectionRoundResponse
            = Rule::roles(STAFF).in_record(SIDES);
        record_inspection_finding(RecordInspectionFinding):
            pb::RecordInspectionFindingRequest => pb::RecordInspectionFindingResponse
            = Rule::roles(STAFF).in_record(SIDES);
        resolve_inspection_finding(ResolveInspectionFinding):
            pb::ResolveInspectionFindingRequest => pb::ResolveInspectionFindingResponse
            = Rule::roles(STAFF).in_record(SIDES);
        complete_inspection_round(CompleteInspectionRound):
            pb::CompleteInspectionRoundRequest => pb::CompleteInspectionRoundResponse
            = Rule::roles(STAFF).in_record(SIDES);
        get_boundary(GetBoundary):
            pb::GetBoundaryRequest => pb::GetBoundaryResponse
            = Rule::public();
        list_boundaries(ListBoundaries):
            pb::ListBoundariesRequest => pb::ListBoundariesResponse
            = Rule::public();
        install_sign(InstallSign):
            pb::InstallSignRequest => pb::InstallSignResponse
            = Rule::roles(STAFF).in_record(PLACE);
        inspect_sign(InspectSign):
            pb::InspectSignRequest => pb::InspectSignResponse
            = Rule::roles(STAFF).in_record(PLACE);
        replace_sign(ReplaceSign):
            pb::ReplaceSignRequest => pb::ReplaceSignResponse
            = Rule::roles(STAFF).in_record(PLACE);
        remove_sign(RemoveSign):
            pb::RemoveSignRequest => pb::RemoveSignResponse
            = Rule::roles(STAFF).in_record(PLACE);
        get_sign(GetSign):
            pb::GetSignRequest => pb::GetSignResponse
            = Rule::public();
        list_signs(ListSigns):
            pb::ListSignsRequest => pb::ListSignsResponse
            = Rule::public();
    }
}
