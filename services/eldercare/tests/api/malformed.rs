//! Malformed requests are INVALID_ARGUMENT naming each bad field (google.rpc.BadRequest field
//! violations, the value never echoed), and nothing is recorded.

use minzheng_host::testing::with_token;
use minzheng_proto::{common::v1 as common, eldercare::v1 as pb};
use time::macros::date;

use crate::support::{
    self, BENXI_CITY, FIRST_DAY, HEXI_STREET, PINGSHAN, PINGSHAN_COMMUNITY, PINGSHAN_STREET,
    bad_fields, benxi_standard, born_1940, citizen_ref, city_approver, day, metadata, recorded,
    recorded_types, region, scores, yuan,
};

/// The day after the service's today.
const TOMORROW: time::Date = date!(2025 - 07 - 02);
/// A well-formed institution id nobody registered.
const INSTITUTION: &str = "EC-210502-0001";
/// A well-formed service-point id nobody opened.
const SERVICE_POINT: &str = "SP-210502-0001";

fn not_a_date() -> Option<common::Date> {
    Some(common::Date {
        year: 2025,
        month: 2,
        day: 30,
    })
}

fn no_month() -> Option<common::Date> {
    Some(common::Date {
        year: 2025,
        month: 0,
        day: 1,
    })
}

/// Every RPC, each with a request that breaks several of its rules at once: the answer names
/// every broken field (and perhaps more), and no event is recorded by any of them.
#[tokio::test]
async fn every_rpc_names_each_bad_field_and_records_nothing() {
    let (host, mut client, _clock) = support::embedded().await;
    let t = city_approver();
    let person = born_1940();
    let mut checked = Vec::new();
    macro_rules! check {
        ($rpc:ident, $request:expr, [$($field:expr),+ $(,)?]) => {{
            let status = client
                .$rpc(with_token($request, &t))
                .await
                .expect_err(concat!(stringify!($rpc), " must refuse"));
            let fields = bad_fields(&status);
            for field in [$($field),+] {
                assert!(
                    fields.iter().any(|f| f == field),
                    "{}: {field} not in {fields:?}",
                    stringify!($rpc),
                );
            }
            assert!(
                !status.message().contains(&person),
                "{}: the id number is echoed: {}",
                stringify!($rpc),
                status.message()
            );
            checked.push(stringify!($rpc));
        }};
    }

    // A division outside its county, a date after today, and what is missing.
    check!(
        register_institution,
        pb::RegisterInstitutionRequest {
            metadata: None,
            name: String::new(),
            ownership: 0,
            county: region(PINGSHAN),
            division: region(HEXI_STREET),
            registered_on: day(TOMORROW),
            general_beds: 10,
            nursing_beds: 10,
        },
        [
            "metadata.idempotency_key",
            "name",
            "ownership",
            "division.code",
            "registered_on"
        ]
    );
    // A township where a county is required, a county where a township or village is.
    check!(
        register_institution,
        pb::RegisterInstitutionRequest {
            county: region(PINGSHAN_STREET),
            division: region(PINGSHAN),
            ..support::registration(10, 10)
        },
        ["county.code", "division.code"]
    );
    check!(
        record_licence,
        pb::RecordLicenceRequest {
            metadata: metadata(),
            institution_id: "EC-21050-1".into(),
            kind: 0,
            number: String::new(),
            issued_on: not_a_date(),
        },
        ["institution_id", "kind", "number", "issued_on"]
    );
    check!(
        change_beds,
        pb::ChangeBedsRequest {
            metadata: metadata(),
            institution_id: String::new(),
            effective_on: day(TOMORROW),
            general: 10,
            nursing: 20,
            reason: String::new(),
        },
        ["institution_id", "effective_on", "reason"]
    );
    check!(
        admit_resident,
        pb::AdmitResidentRequest {
            metadata: metadata(),
            institution_id: "EC-210502-0000".into(),
            resident: citizen_ref(&wrong_check_digit(&person)),
            bed_type: 0,
            admitted_on: day(TOMORROW),
        },
        [
            "institution_id",
            "resident.citizen_id",
            "bed_type",
            "admitted_on"
        ]
    );
    check!(
        discharge_resident,
        pb::DischargeResidentRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            resident: None,
            discharged_on: None,
            reason: 0,
            to_institution_id: String::new(),
            to_bed_type: 0,
        },
        ["resident.citizen_id", "discharged_on", "reason"]
    );
    // A transfer names where to, a bed type there, and no other reason.
    check!(
        discharge_resident,
        pb::DischargeResidentRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            resident: citizen_ref(&person),
            discharged_on: day(TOMORROW),
            reason: pb::DischargeReason::Died.into(),
            to_institution_id: "EC-210502".into(),
            to_bed_type: 0,
        },
        [
            "discharged_on",
            "to_institution_id",
            "to_bed_type",
            "reason"
        ]
    );
    check!(
        move_resident,
        pb::MoveResidentRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            resident: citizen_ref("2105021940031000"),
            bed_type: 7,
            moved_on: day(TOMORROW),
        },
        ["resident.citizen_id", "bed_type", "moved_on"]
    );
    check!(
        record_quality_grade,
        pb::RecordQualityGradeRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            grade: 6,
            graded_on: None,
            assessor: String::new(),
        },
        ["grade", "graded_on", "assessor"]
    );
    check!(
        record_credit_entry,
        pb::RecordCreditEntryRequest {
            metadata: metadata(),
            institution_id: INSTITUTION.into(),
            kind: 0,
            recorded_on: day(TOMORROW),
            description: "违".repeat(501),
            source: String::new(),
        },
        ["kind", "recorded_on", "description", "source"]
    );
    check!(
        report_social_workers,
        pb::ReportSocialWorkersRequest {
            metadata: metadata(),
            institution_id: SERVICE_POINT.into(),
            social_workers: 3,
            effective_on: day(TOMORROW),
        },
        ["institution_id", "effective_on"]
    );
    check!(
        get_institution,
        pb::GetInstitutionRequest {
            institution_id: String::new(),
            as_of: not_a_date(),
            read: None,
        },
        ["institution_id", "as_of"]
    );
    check!(
        list_institutions,
        pb::ListInstitutionsRequest {
            region: region(PINGSHAN_COMMUNITY),
            as_of: no_month(),
            page: None,
            read: None,
        },
        ["region.code", "as_of"]
    );
    check!(
        open_service_point,
        pb::OpenServicePointRequest {
            metadata: metadata(),
            name: String::new(),
            kind: 0,
            county: region(PINGSHAN),
            division: region("210503001001"),
            capacity: 0,
            opened_on: day(TOMORROW),
        },
        ["name", "kind", "division.code", "capacity", "opened_on"]
    );
    check!(
        change_service_point_capacity,
        pb::ChangeServicePointCapacityRequest {
            metadata: metadata(),
            service_point_id: INSTITUTION.into(),
            capacity: 10_001,
            effective_on: day(TOMORROW),
        },
        ["service_point_id", "capacity", "effective_on"]
    );
    check!(
        close_service_point,
        pb::CloseServicePointRequest {
            metadata: None,
            service_point_id: String::new(),
            closed_on: day(TOMORROW),
        },
        ["metadata.idempotency_key", "service_point_id", "closed_on"]
    );
    check!(
        list_service_points,
        pb::ListServicePointsRequest {
            region: region("21050200000"),
            as_of: not_a_date(),
            page: None,
            read: None,
        },
        ["region.code", "as_of"]
    );
    // Scores out of range, a wrong item count, a comatose person conscious, a county where the
    // person's township or village is required, a date after today.
    let mut out_of_range = scores(70);
    out_of_range.self_care[3] = 5;
    out_of_range.basic_motor.pop();
    out_of_range.mental_state[8] = 1;
    out_of_range.perception[0] = 3;
    check!(
        record_assessment,
        pb::RecordAssessmentRequest {
            metadata: metadata(),
            person: citizen_ref(&person),
            scores: Some(out_of_range),
            adjustments: Some(pb::AssessmentAdjustments {
                comatose: true,
                ..Default::default()
            }),
            assessor: String::new(),
            assessed_on: day(TOMORROW),
            division: region(PINGSHAN),
            reassessment_due_on: None,
        },
        [
            "scores.self_care[3]",
            "scores.basic_motor",
            "scores.mental_state[8]",
            "scores.perception[0]",
            "assessor",
            "assessed_on",
            "division.code"
        ]
    );
    // No scores at all; a re-assessment due before the assessment.
    check!(
        record_assessment,
        pb::RecordAssessmentRequest {
            scores: None,
            reassessment_due_on: day(date!(2025 - 06 - 30)),
            ..support::assessment(&person, 60, Default::default())
        },
        ["scores", "reassessment_due_on"]
    );
    check!(
        get_elder,
        pb::GetElderRequest {
            person: citizen_ref(&wrong_check_digit(&born_1940())),
            read: None,
        },
        ["person.citizen_id"]
    );
    check!(
        record_subsidy_standard,
        pb::RecordSubsidyStandardRequest {
            metadata: metadata(),
            city: region(PINGSHAN),
            effective_from: None,
            advanced_age: vec![pb::AgeBand {
                from_age: 300,
                monthly: Some(common::Money { fen: -1 }),
            }],
            nursing: vec![pb::LevelAmount {
                level: 0,
                monthly: None,
            }],
            nursing_requires_low_income: false,
            service_low_income: None,
            decided_by: String::new(),
        },
        [
            "city.code",
            "effective_from",
            "advanced_age[0].from_age",
            "advanced_age[0].monthly.fen",
            "nursing[0].level",
            "nursing[0].monthly.fen",
            "service_low_income.fen",
            "decided_by"
        ]
    );
    // The standard's shape: the first of a month, bands from 60 and increasing, each level
    // once, amounts up to 100,000 yuan.
    let mut misshapen = benxi_standard();
    misshapen.effective_from = day(date!(2025 - 07 - 15));
    misshapen.advanced_age[0].from_age = 59;
    misshapen.advanced_age[2].from_age = 85;
    misshapen.nursing[1].level = pb::CapacityLevel::Moderate.into();
    misshapen.service_low_income = yuan(100_001);
    check!(
        record_subsidy_standard,
        misshapen,
        [
            "effective_from",
            "advanced_age[0].from_age",
            "advanced_age[2].from_age",
            "nursing[1].level",
            "service_low_income"
        ]
    );
    check!(
        list_subsidy_standards,
        pb::ListSubsidyStandardsRequest {
            city: region(PINGSHAN_STREET),
            read: None,
        },
        ["city.code"]
    );
    check!(
        get_monthly_subsidy,
        pb::GetMonthlySubsidyRequest {
            person: None,
            month: no_month(),
            read: None,
        },
        ["person.citizen_id", "month"]
    );
    // A village where the township is required.
    check!(
        open_visit_plan,
        pb::OpenVisitPlanRequest {
            metadata: metadata(),
            person: citizen_ref(&person),
            difficulties: Vec::new(),
            interval_days: 93,
            township: region(PINGSHAN_COMMUNITY),
            opened_on: day(TOMORROW),
        },
        [
            "difficulties",
            "interval_days",
            "township.code",
            "opened_on"
        ]
    );
    check!(
        open_visit_plan,
        pb::OpenVisitPlanRequest {
            metadata: metadata(),
            person: citizen_ref(&person),
            difficulties: vec![
                pb::DifficultyKind::LivingAlone.into(),
                pb::DifficultyKind::LivingAlone.into(),
                9,
            ],
            interval_days: 0,
            township: region(PINGSHAN_STREET),
            opened_on: day(FIRST_DAY),
        },
        ["difficulties[1]", "difficulties[2]", "interval_days"]
    );
    check!(
        record_visit,
        pb::RecordVisitRequest {
            metadata: metadata(),
            person: citizen_ref(&person),
            visited_on: day(TOMORROW),
            visitor: String::new(),
            findings: String::new(),
            follow_up: "跟".repeat(1_001),
        },
        ["visited_on", "visitor", "findings", "follow_up"]
    );
    check!(
        close_visit_plan,
        pb::CloseVisitPlanRequest {
            metadata: metadata(),
            person: citizen_ref("not a number"),
            closed_on: day(TOMORROW),
            reason: String::new(),
        },
        ["person.citizen_id", "closed_on", "reason"]
    );
    // The city is neither a county nor a township.
    check!(
        list_overdue_visits,
        pb::ListOverdueVisitsRequest {
            region: region(BENXI_CITY),
            as_of: not_a_date(),
            page: None,
            read: None,
        },
        ["region.code", "as_of"]
    );
    check!(
        record_elderly_population,
        pb::RecordElderlyPopulationRequest {
            metadata: metadata(),
            county: region(PINGSHAN_STREET),
            persons: 61_000,
            as_of: day(TOMORROW),
            source: String::new(),
        },
        ["county.code", "as_of", "source"]
    );
    check!(
        get_indicators,
        pb::GetIndicatorsRequest {
            as_of: no_month(),
            read: None,
        },
        ["as_of"]
    );

    // Every RPC of the service was tried.
    let every = minzheng_eldercare::grpc::ElderCareApi::access();
    for rpc in every.rpcs {
        let snake = snake_case(rpc.method);
        assert!(
            checked.contains(&snake.as_str()),
            "{} has no malformed case",
            rpc.method
        );
    }

    // Nothing recorded: no event but the read audit's, and the reads show nothing.
    assert_eq!(recorded_types(&host).await, Vec::<String>::new());
    assert!(
        recorded(&host)
            .await
            .iter()
            .all(|e| e.stream.category() == "audit")
    );
    let listed = client
        .list_institutions(pb::ListInstitutionsRequest::default())
        .await
        .expect("public")
        .into_inner();
    assert!(listed.institutions.is_empty(), "{listed:?}");
    let standards = client
        .list_subsidy_standards(pb::ListSubsidyStandardsRequest {
            city: region(BENXI_CITY),
            read: None,
        })
        .await
        .expect("public")
        .into_inner();
    assert!(standards.versions.is_empty(), "{standards:?}");
    let unknown = client
        .get_elder(with_token(
            pb::GetElderRequest {
                person: citizen_ref(&person),
                read: None,
            },
            &t,
        ))
        .await
        .expect_err("nobody was recorded");
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    host.shutdown().await;
}

/// `number` with another check character: not a citizen id number.
fn wrong_check_digit(number: &str) -> String {
    let (first17, check) = number.split_at(17);
    let other = if check == "0" { "1" } else { "0" };
    format!("{first17}{other}")
}

/// `RegisterInstitution` → `register_institution`.
fn snake_case(method: &str) -> String {
    let mut snake = String::new();
    for (i, c) in method.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

/// A subsidy standard wrong in its fields and in its shape at once (a county for the city, and
/// a day mid-month) names both: every violation is reported at once.
#[tokio::test]
async fn a_subsidy_standard_names_its_field_and_shape_faults_at_once() {
    let (host, mut client, _clock) = support::embedded().await;
    let mut request = benxi_standard();
    request.city = region(PINGSHAN);
    request.effective_from = day(date!(2025 - 07 - 15));
    let status = client
        .record_subsidy_standard(with_token(request, &city_approver()))
        .await
        .expect_err("malformed");
    let fields = bad_fields(&status);
    for field in ["city.code", "effective_from"] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not in {fields:?}"
        );
    }
    host.shutdown().await;
}
