//! With its database cut, every RPC of the elderly-care service answers UNAVAILABLE (retry
//! later), promptly, or — for the public lists and indicators kept in memory — from memory; and
//! the service writes again once the database is back.

use std::time::Duration;

use bytes::Bytes;
use minzheng_eldercare::grpc::ElderCareApi;
use minzheng_host::testing::{self, DatabaseCut, TestHost};
use minzheng_kit::clock::FixedClock;
use minzheng_proto::eldercare::v1 as pb;
use prost::Message as _;
use time::macros::date;

use crate::support::{
    BENXI_CITY, FIRST_DAY, PINGSHAN, PINGSHAN_STREET, assessment, benxi_standard, born_1940,
    born_1950, citizen_ref, day, eldercare, metadata, place_names, region, registration, resident,
};

/// Small, so the test is quick; the bound on the answers is a few of these.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// The first institution and service point of 平山区, which the requests below create.
const INSTITUTION: &str = "EC-210502-0001";
const SERVICE_POINT: &str = "SP-210502-0001";

#[tokio::test]
async fn every_rpc_is_unavailable_while_the_database_is_cut_and_recovers() {
    let clock = FixedClock::new(FIRST_DAY);
    let host = TestHost::distributed()
        .through_proxy()
        .database_acquire_timeout(ACQUIRE_TIMEOUT)
        .service(place_names())
        .service(eldercare(&clock))
        .start()
        .await;
    host.settle().await;
    let answers = testing::assert_every_rpc_unavailable_while_database_cut(
        &host,
        DatabaseCut {
            service: "eldercare",
            policy: &ElderCareApi::access(),
            request: &valid_request,
            answered_from_memory: &[
                (
                    "ListInstitutions",
                    "the institutions are public and come from the in-memory overview",
                ),
                (
                    "ListServicePoints",
                    "the service points are public and come from the in-memory overview",
                ),
                (
                    "GetIndicators",
                    "the indicators are public and come from the in-memory overview and the \
                     divisions cached in memory",
                ),
            ],
            recovery: (
                "RecordElderlyPopulation",
                population(date!(2025 - 06 - 30)).encode_to_vec().into(),
            ),
        },
    )
    .await;
    let slowest = answers.iter().map(|a| a.took).max().unwrap_or_default();
    println!("eldercare: slowest answer with the database cut {slowest:?}: {answers:?}");
    host.shutdown().await;
}

fn population(as_of: time::Date) -> pb::RecordElderlyPopulationRequest {
    pb::RecordElderlyPopulationRequest {
        metadata: metadata(),
        county: region(PINGSHAN),
        persons: 61_234,
        as_of: day(as_of),
        source: "本溪市统计局 2024年人口变动抽样调查".into(),
    }
}

/// A well-formed request of each RPC, sent in the table's order (so that the institution, the
/// service point and the persons they name exist by then): 平山区's first institution and
/// service point, a resident born 1938, a person assessed (born 1940), a person visited (born
/// 1950).
fn valid_request(method: &str) -> Option<Bytes> {
    let admitted = resident(1);
    let visited = born_1950();
    let encoded = match method {
        "RegisterInstitution" => registration(20, 20).encode_to_vec(),
        "RecordLicence" => pb::RecordLicenceRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            kind: pb::LicenceKind::Filing.into(),
            number: "辽本民养备〔2025〕3号".into(),
            issued_on: day(date!(2025 - 01 - 10)),
        }
        .encode_to_vec(),
        "ChangeBeds" => pb::ChangeBedsRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            effective_on: day(date!(2025 - 06 - 01)),
            general: 20,
            nursing: 30,
            reason: "新建护理楼".into(),
        }
        .encode_to_vec(),
        "AdmitResident" => pb::AdmitResidentRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            resident: citizen_ref(&admitted),
            bed_type: pb::BedType::General.into(),
            admitted_on: day(FIRST_DAY),
        }
        .encode_to_vec(),
        // Someone who never lived there: refused `not_resident`, which is an answer.
        "DischargeResident" => pb::DischargeResidentRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            resident: citizen_ref(&resident(2)),
            discharged_on: day(FIRST_DAY),
            reason: pb::DischargeReason::Discharged.into(),
            to_institution_id: String::new(),
            to_bed_type: 0,
        }
        .encode_to_vec(),
        "MoveResident" => pb::MoveResidentRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            resident: citizen_ref(&admitted),
            bed_type: pb::BedType::Nursing.into(),
            moved_on: day(FIRST_DAY),
        }
        .encode_to_vec(),
        "RecordQualityGrade" => pb::RecordQualityGradeRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            grade: 3,
            graded_on: day(date!(2025 - 05 - 20)),
            assessor: "本溪市养老机构等级评定委员会".into(),
        }
        .encode_to_vec(),
        "RecordCreditEntry" => pb::RecordCreditEntryRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            kind: pb::CreditEntryKind::Violation.into(),
            recorded_on: day(date!(2025 - 06 - 12)),
            description: "消防通道堆放杂物".into(),
            source: "平山区民政局 检查记录 2025-041".into(),
        }
        .encode_to_vec(),
        "ReportSocialWorkers" => pb::ReportSocialWorkersRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            social_workers: 4,
            effective_on: day(date!(2025 - 06 - 01)),
        }
        .encode_to_vec(),
        "GetInstitution" => pb::GetInstitutionRequest {
            institution_id: INSTITUTION.into(),
            as_of: None,
            read: None,
        }
        .encode_to_vec(),
        "ListInstitutions" => pb::ListInstitutionsRequest {
            region: region(PINGSHAN),
            as_of: None,
            page: None,
            read: None,
        }
        .encode_to_vec(),
        "OpenServicePoint" => pb::OpenServicePointRequest {
            metadata: metadata(),
            name: "平山街道社区养老服务中心".into(),
            kind: pb::ServicePointKind::UrbanCentre.into(),
            county: region(PINGSHAN),
            division: region(PINGSHAN_STREET),
            capacity: 40,
            opened_on: day(date!(2025 - 03 - 01)),
        }
        .encode_to_vec(),
        "ChangeServicePointCapacity" => pb::ChangeServicePointCapacityRequest {
            metadata: metadata(),
            service_point_id: SERVICE_POINT.into(),
            capacity: 60,
            effective_on: day(date!(2025 - 06 - 01)),
        }
        .encode_to_vec(),
        "CloseServicePoint" => pb::CloseServicePointRequest {
            metadata: metadata(),
            service_point_id: SERVICE_POINT.into(),
            closed_on: day(FIRST_DAY),
        }
        .encode_to_vec(),
        "ListServicePoints" => pb::ListServicePointsRequest {
            region: region(PINGSHAN),
            as_of: None,
            page: None,
            read: None,
        }
        .encode_to_vec(),
        "RecordAssessment" => {
            assessment(&born_1940(), 50, pb::AssessmentAdjustments::default()).encode_to_vec()
        }
        "GetElder" => pb::GetElderRequest {
            person: citizen_ref(&born_1940()),
            read: None,
        }
        .encode_to_vec(),
        "RecordSubsidyStandard" => benxi_standard().encode_to_vec(),
        "ListSubsidyStandards" => pb::ListSubsidyStandardsRequest {
            city: region(BENXI_CITY),
            read: None,
        }
        .encode_to_vec(),
        "GetMonthlySubsidy" => pb::GetMonthlySubsidyRequest {
            person: citizen_ref(&born_1940()),
            month: day(FIRST_DAY),
            read: None,
        }
        .encode_to_vec(),
        "OpenVisitPlan" => pb::OpenVisitPlanRequest {
            metadata: metadata(),
            person: citizen_ref(&visited),
            difficulties: vec![pb::DifficultyKind::LivingAlone.into()],
            interval_days: 30,
            township: region(PINGSHAN_STREET),
            opened_on: day(date!(2025 - 06 - 01)),
        }
        .encode_to_vec(),
        "RecordVisit" => pb::RecordVisitRequest {
            metadata: metadata(),
            person: citizen_ref(&visited),
            visited_on: day(date!(2025 - 06 - 20)),
            visitor: "平山街道 网格员 017".into(),
            findings: "独居，生活能自理，家中供暖正常".into(),
            follow_up: String::new(),
        }
        .encode_to_vec(),
        "CloseVisitPlan" => pb::CloseVisitPlanRequest {
            metadata: metadata(),
            person: citizen_ref(&visited),
            closed_on: day(FIRST_DAY),
            reason: "随子女迁居沈阳".into(),
        }
        .encode_to_vec(),
        "ListOverdueVisits" => pb::ListOverdueVisitsRequest {
            region: region(PINGSHAN),
            as_of: None,
            page: None,
            read: None,
        }
        .encode_to_vec(),
        "RecordElderlyPopulation" => population(date!(2025 - 01 - 01)).encode_to_vec(),
        "GetIndicators" => pb::GetIndicatorsRequest {
            as_of: None,
            read: None,
        }
        .encode_to_vec(),
        _ => return None,
    };
    Some(encoded.into())
}
