//! With its database cut, every RPC of the place-names service that needs the store answers
//! UNAVAILABLE (retry later), promptly; the queries the in-memory directory answers go on; and
//! the service writes again once the database is back.

use std::time::Duration;

use bytes::Bytes;
use minzheng_host::testing::{self, DatabaseCut, TestHost};
use minzheng_placenames::{BENXI, Module, grpc::PlaceNamesApi};
use minzheng_proto::{common::v1 as common, placenames::v1 as pb};
use prost::Message as _;

use crate::support::{BENXI_CSV, JIADAOZI, PINGSHAN, code, date, metadata, propose_road};

/// Small, so the test is quick; the bound on the answers is a few of these.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

const XIHU: &str = "210503000000";
const ADJUSTMENT: &str = "HR-2025-rename";
const PLACE_NAME: &str = "BX-DM-001";
const BOUNDARY: &str = "BX-JX-001";
const SIGN: &str = "BX-S-1";

/// The queries of the directory, the in-memory read model that follows the store: they answer
/// from what it holds (a caller that needs its own write names its position and waits for it).
const ANSWERED_FROM_MEMORY: &[(&str, &str)] = &[
    ("GetDivision", "the directory, in memory"),
    ("ListChildren", "the directory, in memory"),
    ("SearchDivisions", "the directory, in memory"),
    ("ResolveDivision", "the directory's lineage, in memory"),
    ("GetAdjustment", "the directory's adjustments, in memory"),
    ("GetPlaceName", "the directory's place names, in memory"),
    ("SearchPlaceNames", "the directory's place names, in memory"),
    ("GetBoundary", "the directory's boundaries, in memory"),
    ("ListBoundaries", "the directory's boundaries, in memory"),
    ("GetSign", "the directory's signs, in memory"),
    ("ListSigns", "the directory's signs, in memory"),
];

#[tokio::test]
async fn every_rpc_is_unavailable_while_the_database_is_cut_and_recovers() {
    let host = TestHost::distributed()
        .through_proxy()
        .database_acquire_timeout(ACQUIRE_TIMEOUT)
        .service(Module::default().with_seed(BENXI))
        .start()
        .await;
    let answers = testing::assert_every_rpc_unavailable_while_database_cut(
        &host,
        DatabaseCut {
            service: "placenames",
            policy: &PlaceNamesApi::access(),
            request: &valid_request,
            answered_from_memory: ANSWERED_FROM_MEMORY,
            recovery: (
                "ProposePlaceName",
                propose_road("BX-DM-009", "滨河路", "Bīnhé Lù", "")
                    .encode_to_vec()
                    .into(),
            ),
        },
    )
    .await;
    let slowest = answers.iter().map(|a| a.took).max().unwrap_or_default();
    println!("placenames: slowest answer with the database cut {slowest:?}: {answers:?}");
    host.shutdown().await;
}

/// A well-formed request of each RPC, in 平山区 and 桓仁满族自治县, naming the ids above.
fn valid_request(method: &str) -> Option<Bytes> {
    let page = || {
        Some(common::PageRequest {
            page_size: 10,
            page_token: String::new(),
        })
    };
    let encoded = match method {
        "ImportDivisions" => pb::ImportDivisionsRequest {
            metadata: metadata(),
            csv: BENXI_CSV.as_bytes().to_vec(),
            valid_from: date(2023, 6, 30),
        }
        .encode_to_vec(),
        "GetDivision" => pb::GetDivisionRequest {
            code: code(PINGSHAN),
            as_of: None,
            read: None,
        }
        .encode_to_vec(),
        "ListChildren" => pb::ListChildrenRequest {
            code: code(PINGSHAN),
            as_of: None,
            page: page(),
            read: None,
        }
        .encode_to_vec(),
        "SearchDivisions" => pb::SearchDivisionsRequest {
            name_prefix: "平山".into(),
            within: code(PINGSHAN),
            as_of: None,
            page: page(),
            read: None,
        }
        .encode_to_vec(),
        "ResolveDivision" => pb::ResolveDivisionRequest {
            code: code(JIADAOZI),
            as_of: None,
            read: None,
        }
        .encode_to_vec(),
        "ProposeAdjustment" => pb::ProposeAdjustmentRequest {
            metadata: metadata(),
            adjustment_id: ADJUSTMENT.into(),
            kind: pb::AdjustmentKind::Rename.into(),
            before: vec![pb::DivisionRef {
                code: code(JIADAOZI),
                name: "夹道子村委会".into(),
            }],
            after: vec![pb::DivisionRef {
                code: code(JIADAOZI),
                name: "夹道河村委会".into(),
            }],
            justification: "优化行政区划设置".into(),
            proposed_on: date(2025, 1, 10),
            ..Default::default()
        }
        .encode_to_vec(),
        "RecordAdjustmentReview" => pb::RecordAdjustmentReviewRequest {
            metadata: metadata(),
            adjustment_id: ADJUSTMENT.into(),
            review: pb::ReviewKind::Expert.into(),
            favourable: true,
            summary: "论证充分".into(),
            recorded_on: date(2025, 1, 20),
        }
        .encode_to_vec(),
        "ApproveAdjustment" => pb::ApproveAdjustmentRequest {
            metadata: metadata(),
            adjustment_id: ADJUSTMENT.into(),
            approved_on: date(2025, 2, 1),
            approval_reference: "辽政函〔2025〕1号".into(),
        }
        .encode_to_vec(),
        "RejectAdjustment" => pb::RejectAdjustmentRequest {
            metadata: metadata(),
            adjustment_id: ADJUSTMENT.into(),
            rejected_on: date(2025, 2, 1),
            reason: "条件不成熟".into(),
        }
        .encode_to_vec(),
        "PutAdjustmentIntoEffect" => pb::PutAdjustmentIntoEffectRequest {
            metadata: metadata(),
            adjustment_id: ADJUSTMENT.into(),
            effective_on: date(2025, 3, 1),
        }
        .encode_to_vec(),
        "GetAdjustment" => pb::GetAdjustmentRequest {
            adjustment_id: ADJUSTMENT.into(),
            read: None,
        }
        .encode_to_vec(),
        "ProposePlaceName" => {
            propose_road(PLACE_NAME, "太子河路", "Tàizǐhé Lù", "").encode_to_vec()
        }
        "RecordPlaceNameEvaluation" => pb::RecordPlaceNameEvaluationRequest {
            metadata: metadata(),
            place_name_id: PLACE_NAME.into(),
            favourable: true,
            summary: "符合命名规则".into(),
            evaluated_on: date(2025, 3, 10),
        }
        .encode_to_vec(),
        "OpenPlaceNameCommentPeriod" => pb::OpenPlaceNameCommentPeriodRequest {
            metadata: metadata(),
            place_name_id: PLACE_NAME.into(),
            opened_on: date(2025, 3, 15),
            closes_on: date(2025, 4, 15),
        }
        .encode_to_vec(),
        "RecordPlaceNameComment" => pb::RecordPlaceNameCommentRequest {
            metadata: metadata(),
            place_name_id: PLACE_NAME.into(),
            summary: "赞成".into(),
            received_on: date(2025, 3, 20),
        }
        .encode_to_vec(),
        "ClosePlaceNameCommentPeriod" => pb::ClosePlaceNameCommentPeriodRequest {
            metadata: metadata(),
            place_name_id: PLACE_NAME.into(),
            closed_on: date(2025, 4, 15),
        }
        .encode_to_vec(),
        "ApprovePlaceName" => pb::ApprovePlaceNameRequest {
            metadata: metadata(),
            place_name_id: PLACE_NAME.into(),
            approved_on: date(2025, 5, 1),
            approval_reference: "本政地名〔2025〕1号".into(),
        }
        .encode_to_vec(),
        "RejectPlaceName" => pb::RejectPlaceNameRequest {
            metadata: metadata(),
            place_name_id: PLACE_NAME.into(),
            rejected_on: date(2025, 5, 1),
            reason: "重名".into(),
        }
        .encode_to_vec(),
        "PublishPlaceName" => pb::PublishPlaceNameRequest {
            metadata: metadata(),
            place_name_id: PLACE_NAME.into(),
            published_on: date(2025, 5, 10),
        }
        .encode_to_vec(),
        "RetirePlaceName" => pb::RetirePlaceNameRequest {
            metadata: metadata(),
            place_name_id: PLACE_NAME.into(),
            retired_on: date(2026, 1, 1),
            reason: "道路拆除".into(),
        }
        .encode_to_vec(),
        "GetPlaceName" => pb::GetPlaceNameRequest {
            place_name_id: PLACE_NAME.into(),
            read: None,
        }
        .encode_to_vec(),
        "SearchPlaceNames" => pb::SearchPlaceNamesRequest {
            prefix: "taizi".into(),
            within: code(PINGSHAN),
            as_of: None,
            page: page(),
            read: None,
        }
        .encode_to_vec(),
        "RecordBoundary" => pb::RecordBoundaryRequest {
            metadata: metadata(),
            boundary_id: BOUNDARY.into(),
            between: [XIHU, PINGSHAN].into_iter().filter_map(code).collect(),
            description: "平山区与溪湖区界线".into(),
            recorded_on: date(2024, 1, 1),
        }
        .encode_to_vec(),
        "StartInspectionRound" => pb::StartInspectionRoundRequest {
            metadata: metadata(),
            boundary_id: BOUNDARY.into(),
            round: 1,
            started_on: date(2024, 5, 1),
        }
        .encode_to_vec(),
        "RecordInspectionFinding" => pb::RecordInspectionFindingRequest {
            metadata: metadata(),
            boundary_id: BOUNDARY.into(),
            round: 1,
            kind: pb::InspectionFindingKind::MarkerDamaged.into(),
            description: "界桩破损".into(),
            recorded_on: date(2024, 5, 2),
        }
        .encode_to_vec(),
        "ResolveInspectionFinding" => pb::ResolveInspectionFindingRequest {
            metadata: metadata(),
            boundary_id: BOUNDARY.into(),
            round: 1,
            finding: 1,
            resolution: "界桩已修复".into(),
            resolved_on: date(2024, 5, 10),
        }
        .encode_to_vec(),
        "CompleteInspectionRound" => pb::CompleteInspectionRoundRequest {
            metadata: metadata(),
            boundary_id: BOUNDARY.into(),
            round: 1,
            completed_on: date(2024, 5, 20),
            conclusion: "界线清楚".into(),
        }
        .encode_to_vec(),
        "GetBoundary" => pb::GetBoundaryRequest {
            boundary_id: BOUNDARY.into(),
            read: None,
        }
        .encode_to_vec(),
        "ListBoundaries" => pb::ListBoundariesRequest {
            within: code(PINGSHAN),
            page: page(),
            read: None,
        }
        .encode_to_vec(),
        "InstallSign" => pb::InstallSignRequest {
            metadata: metadata(),
            sign_id: SIGN.into(),
            place_name_id: PLACE_NAME.into(),
            text: "太子河路".into(),
            location: "滨河路与永丰街交叉口东北角".into(),
            installed_on: date(2026, 2, 1),
        }
        .encode_to_vec(),
        "InspectSign" => pb::InspectSignRequest {
            metadata: metadata(),
            sign_id: SIGN.into(),
            condition: pb::SignCondition::Good.into(),
            note: "完好".into(),
            inspected_on: date(2026, 3, 1),
        }
        .encode_to_vec(),
        "ReplaceSign" => pb::ReplaceSignRequest {
            metadata: metadata(),
            sign_id: SIGN.into(),
            reason: "褪色".into(),
            location: "滨河路与永丰街交叉口东北角".into(),
            replaced_on: date(2026, 4, 1),
        }
        .encode_to_vec(),
        "RemoveSign" => pb::RemoveSignRequest {
            metadata: metadata(),
            sign_id: SIGN.into(),
            reason: "道路拆除".into(),
            removed_on: date(2026, 5, 1),
        }
        .encode_to_vec(),
        "GetSign" => pb::GetSignRequest {
            sign_id: SIGN.into(),
            read: None,
        }
        .encode_to_vec(),
        "ListSigns" => pb::ListSignsRequest {
            place_name_id: PLACE_NAME.into(),
            page: page(),
            read: None,
        }
        .encode_to_vec(),
        _ => return None,
    };
    Some(encoded.into())
}
