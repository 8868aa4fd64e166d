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

use std::sync::Arc;

use minzheng_host::{
    audit::AuditLog,
    edge::{Call, Edge},
};
use minzheng_kit::{
    Error,
    access::{AccessPolicy, RpcAccess, Rule},
    auth::Role,
    clock::Clock,
};
use minzheng_proto::{
    common::v1 as common,
    convert,
    placenames::v1::{
        self as pb,
        place_names_service_server::{PlaceNamesService, PlaceNamesServiceServer},
    },
};
use minzheng_types::{BoundedText, FieldViolation, RegionLevel, Violations};
use time::Date;

use minzheng_host::edge::{self, page, result};

use crate::{PlaceNameId, app::PlaceNames, import};

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

    /// The access policy: the table behind the access matrix in the docs.
    pub fn access() -> AccessPolicy {
        ACCESS
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

/// `date`, or `today` when absent.
fn day_or_today(
    field: &str,
    date: &Option<common::Date>,
    today: Date,
) -> Result<Date, FieldViolation> {
    match date {
        None => Ok(today),
        Some(_) => convert::date(field, date),
    }
}

fn text(field: &str, value: &str, max: usize, violations: &mut Violations) -> Option<BoundedText> {
    violations.record(convert::bounded_text(field, value, max))
}

fn place_name_id(field: &str, id: &str, violations: &mut Violations) -> Option<PlaceNameId> {
    violations.check(field, PlaceNameId::parse(id))
}

/// Caseworkers and approvers.
const STAFF: &[Role] = &[Role::Caseworker, Role::Approver];
const APPROVER: &[Role] = &[Role::Approver];

const ADJUSTED: &str = "every division it changes";
const PLACE: &str = "the place's division";
const SIDES: &str = "both sides of the boundary";

/// Who may call each RPC, and where. Division, standard-name, boundary and sign queries are
/// public; `GetPlaceName` answers a name still in its workflow only to a caller with a token.
/// Changes need staff scoped to every division they touch; decisions need an approver scoped
/// at county level or above. Nothing here is personal data.
const ACCESS: AccessPolicy = AccessPolicy {
    service: "minzheng.placenames.v1.PlaceNamesService",
    rpcs: &[
        rpc(
            "ImportDivisions",
            Rule::roles(&[Role::Operator]).in_record("every division in the file"),
        ),
        rpc("GetDivision", Rule::public()),
        rpc("ListChildren", Rule::public()),
        rpc("SearchDivisions", Rule::public()),
        rpc("ResolveDivision", Rule::public()),
        rpc("ProposeAdjustment", Rule::roles(STAFF).in_record(ADJUSTED)),
        rpc(
            "RecordAdjustmentReview",
            Rule::roles(STAFF).in_record(ADJUSTED),
        ),
        rpc("ApproveAdjustment", decision(ADJUSTED)),
        rpc("RejectAdjustment", decision(ADJUSTED)),
        rpc("PutAdjustmentIntoEffect", decision(ADJUSTED)),
        rpc("GetAdjustment", Rule::roles(&Role::ALL)),
        rpc("ProposePlaceName", Rule::roles(STAFF).in_field("division")),
        rpc(
            "RecordPlaceNameEvaluation",
            Rule::roles(STAFF).in_record(PLACE),
        ),
        rpc(
            "OpenPlaceNameCommentPeriod",
            Rule::roles(STAFF).in_record(PLACE),
        ),
        rpc(
            "RecordPlaceNameComment",
            Rule::roles(STAFF).in_record(PLACE),
        ),
        rpc(
            "ClosePlaceNameCommentPeriod",
            Rule::roles(STAFF).in_record(PLACE),
        ),
        rpc("ApprovePlaceName", decision(PLACE)),
        rpc("RejectPlaceName", decision(PLACE)),
        rpc("PublishPlaceName", decision(PLACE)),
        rpc("RetirePlaceName", decision(PLACE)),
        rpc("GetPlaceName", Rule::public()),
        rpc("SearchPlaceNames", Rule::public()),
        rpc("RecordBoundary", Rule::roles(STAFF).in_field("between")),
        rpc("StartInspectionRound", Rule::roles(STAFF).in_record(SIDES)),
        rpc(
            "RecordInspectionFinding",
            Rule::roles(STAFF).in_record(SIDES),
        ),
        rpc(
            "ResolveInspectionFinding",
            Rule::roles(STAFF).in_record(SIDES),
        ),
        rpc(
            "CompleteInspectionRound",
            Rule::roles(STAFF).in_record(SIDES),
        ),
        rpc("GetBoundary", Rule::public()),
        rpc("ListBoundaries", Rule::public()),
        rpc("InstallSign", Rule::roles(STAFF).in_record(PLACE)),
        rpc("InspectSign", Rule::roles(STAFF).in_record(PLACE)),
        rpc("ReplaceSign", Rule::roles(STAFF).in_record(PLACE)),
        rpc("RemoveSign", Rule::roles(STAFF).in_record(PLACE)),
        rpc("GetSign", Rule::public()),
        rpc("ListSigns", Rule::public()),
    ],
};

const fn rpc(method: &'static str, rule: Rule) -> RpcAccess {
    RpcAccess { method, rule }
}

/// A decision: an approver scoped to `what` at county level or above.
const fn decision(what: &'static str) -> Rule {
    Rule::roles(APPROVER)
        .in_record(what)
        .scope_at_least(RegionLevel::County)
}

impl Edge for PlaceNamesApi {
    const ACCESS: AccessPolicy = ACCESS;

    fn audit_log(&self) -> &AuditLog {
        &self.audit
    }
}

minzheng_host::grpc_service! {
    impl PlaceNamesService for PlaceNamesApi {
        import_divisions(ImportDivisions): pb::ImportDivisionsRequest => pb::ImportDivisionsResponse;
        get_division(GetDivision): pb::GetDivisionRequest => pb::GetDivisionResponse;
        list_children(ListChildren): pb::ListChildrenRequest => pb::ListChildrenResponse;
        search_divisions(SearchDivisions): pb::SearchDivisionsRequest => pb::SearchDivisionsResponse;
        resolve_division(ResolveDivision): pb::ResolveDivisionRequest => pb::ResolveDivisionResponse;
        propose_adjustment(ProposeAdjustment): pb::ProposeAdjustmentRequest => pb::ProposeAdjustmentResponse;
        record_adjustment_review(RecordAdjustmentReview): pb::RecordAdjustmentReviewRequest => pb::RecordAdjustmentReviewResponse;
        approve_adjustment(ApproveAdjustment): pb::ApproveAdjustmentRequest => pb::ApproveAdjustmentResponse;
        reject_adjustment(RejectAdjustment): pb::RejectAdjustmentRequest => pb::RejectAdjustmentResponse;
        put_adjustment_into_effect(PutAdjustmentIntoEffect): pb::PutAdjustmentIntoEffectRequest => pb::PutAdjustmentIntoEffectResponse;
        get_adjustment(GetAdjustment): pb::GetAdjustmentRequest => pb::GetAdjustmentResponse;
        propose_place_name(ProposePlaceName): pb::ProposePlaceNameRequest => pb::ProposePlaceNameResponse;
        record_place_name_evaluation(RecordPlaceNameEvaluation): pb::RecordPlaceNameEvaluationRequest => pb::RecordPlaceNameEvaluationResponse;
        open_place_name_comment_period(OpenPlaceNameCommentPeriod): pb::OpenPlaceNameCommentPeriodRequest => pb::OpenPlaceNameCommentPeriodResponse;
        record_place_name_comment(RecordPlaceNameComment): pb::RecordPlaceNameCommentRequest => pb::RecordPlaceNameCommentResponse;
        close_place_name_comment_period(ClosePlaceNameCommentPeriod): pb::ClosePlaceNameCommentPeriodRequest => pb::ClosePlaceNameCommentPeriodResponse;
        approve_place_name(ApprovePlaceName): pb::ApprovePlaceNameRequest => pb::ApprovePlaceNameResponse;
        reject_place_name(RejectPlaceName): pb::RejectPlaceNameRequest => pb::RejectPlaceNameResponse;
        publish_place_name(PublishPlaceName): pb::PublishPlaceNameRequest => pb::PublishPlaceNameResponse;
        retire_place_name(RetirePlaceName): pb::RetirePlaceNameRequest => pb::RetirePlaceNameResponse;
        get_place_name(GetPlaceName): pb::GetPlaceNameRequest => pb::GetPlaceNameResponse;
        search_place_names(SearchPlaceNames): pb::SearchPlaceNamesRequest => pb::SearchPlaceNamesResponse;
        record_boundary(RecordBoundary): pb::RecordBoundaryRequest => pb::RecordBoundaryResponse;
        start_inspection_round(StartInspectionRound): pb::StartInspectionRoundRequest => pb::StartInspectionRoundResponse;
        record_inspection_finding(RecordInspectionFinding): pb::RecordInspectionFindingRequest => pb::RecordInspectionFindingResponse;
        resolve_inspection_finding(ResolveInspectionFinding): pb::ResolveInspectionFindingRequest => pb::ResolveInspectionFindingResponse;
        complete_inspection_round(CompleteInspectionRound): pb::CompleteInspectionRoundRequest => pb::CompleteInspectionRoundResponse;
        get_boundary(GetBoundary): pb::GetBoundaryRequest => pb::GetBoundaryResponse;
        list_boundaries(ListBoundaries): pb::ListBoundariesRequest => pb::ListBoundariesResponse;
        install_sign(InstallSign): pb::InstallSignRequest => pb::InstallSignResponse;
        inspect_sign(InspectSign): pb::InspectSignRequest => pb::InspectSignResponse;
        replace_sign(ReplaceSign): pb::ReplaceSignRequest => pb::ReplaceSignResponse;
        remove_sign(RemoveSign): pb::RemoveSignRequest => pb::RemoveSignResponse;
        get_sign(GetSign): pb::GetSignRequest => pb::GetSignResponse;
        list_signs(ListSigns): pb::ListSignsRequest => pb::ListSignsResponse;
    }
}
