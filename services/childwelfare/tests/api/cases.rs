//! Protection cases: the deadline of each step by risk, the overdue list, the escalation sweep
//! (once per due day, across restarts), and the reporter's confidentiality — a caseworker sees
//! the case, never the reporter; an auditor who says why reads the reporter, and that reading is
//! itself in the read audit; no stored event carries the reporter in clear.

use std::time::Duration;

use minzheng_host::{edge::PURPOSE_HEADER, testing::with_token};
use minzheng_proto::childwelfare::v1 as pb;
use prost::Message as _;
use time::macros::date;
use tonic::Code;

use crate::support::{
    self, DONGMING_STREET, FIRST_DAY, PINGSHAN, PINGSHAN_STREET, REPORTER_NAME, REPORTER_PHONE,
    after, boy_2015, case, city_auditor, day, file, metadata, recorded, refusal_rule, region,
    staff,
};

/// An urgent report is due for emergency handling the same day, a normal one three days later;
/// the assessment is due 7 days after the handling, the plan 15 days after the assessment.
#[tokio::test]
async fn each_step_is_due_a_number_of_days_after_the_one_before() {
    let (host, mut client, _clock, _producers) = support::embedded().await;
    let urgent = file(&mut client, &boy_2015(), pb::RiskLevel::Urgent, FIRST_DAY).await;
    assert_eq!(urgent.emergency_due_on, day(FIRST_DAY));
    let normal = file(&mut client, &boy_2015(), pb::RiskLevel::Normal, FIRST_DAY).await;
    assert_eq!(normal.emergency_due_on, day(date!(2025 - 07 - 04)));
    assert_ne!(urgent.case_id, normal.case_id);

    let id = normal.case_id;
    assign(&mut client, &id).await;
    let handled = client
        .record_emergency_handling(with_token(
            pb::RecordEmergencyHandlingRequest {
                metadata: metadata(),
                case_id: id.clone(),
                measures: "已联系派出所，儿童暂由祖母照料".to_owned(),
                handled_on: day(FIRST_DAY),
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("handled")
        .into_inner();
    assert_eq!(handled.next_due_on, day(date!(2025 - 07 - 08)));
    let assessed = client
        .record_case_assessment(with_token(
            pb::RecordCaseAssessmentRequest {
                metadata: metadata(),
                case_id: id.clone(),
                findings: "父亲长期酗酒，有家庭暴力".to_owned(),
                needs: "临时监护，心理疏导".to_owned(),
                assessed_on: day(FIRST_DAY),
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("assessed")
        .into_inner();
    assert_eq!(assessed.next_due_on, day(date!(2025 - 07 - 16)));

    // Out of order: a second assessment, and a revocation without the court referral.
    let again = client
        .record_case_assessment(with_token(
            pb::RecordCaseAssessmentRequest {
                metadata: metadata(),
                case_id: id.clone(),
                findings: "再次评估".to_owned(),
                needs: "无".to_owned(),
                assessed_on: day(FIRST_DAY),
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect_err("assessed once");
    assert_eq!(refusal_rule(&again), "step_out_of_order");
    let revocation = client
        .record_guardianship_intervention(with_token(
            pb::RecordGuardianshipInterventionRequest {
                metadata: metadata(),
                case_id: id.clone(),
                kind: pb::InterventionKind::CourtRevocation.into(),
                court_referral: None,
                intervened_on: day(FIRST_DAY),
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect_err("a revocation names its court referral");
    assert_eq!(refusal_rule(&revocation), "court_referral_required");

    let read = case(&mut client, &id).await;
    assert_eq!(read.step, i32::from(pb::ProtectionStep::Assessed));
    assert_eq!(read.due_step, i32::from(pb::ProtectionStep::PlanAgreed));
    assert_eq!(read.due_on, day(date!(2025 - 07 - 16)));
    host.shutdown().await;
}

async fn assign(client: &mut support::Client, case_id: &str) {
    client
        .assign_caseworker(with_token(
            pb::AssignCaseworkerRequest {
                metadata: metadata(),
                case_id: case_id.to_owned(),
                caseworker: "平山区儿童福利 社工 017".to_owned(),
                assigned_on: day(FIRST_DAY),
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("assigned");
}

async fn overdue(
    client: &mut support::Client,
    region_code: &str,
    read: Option<minzheng_proto::common::v1::ReadOptions>,
) -> Vec<pb::CaseSummary> {
    client
        .list_cases(with_token(
            pb::ListCasesRequest {
                region: region(region_code),
                step: pb::ProtectionStep::Unspecified.into(),
                overdue_only: true,
                as_of: None,
                page: None,
                read,
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("listed")
        .into_inner()
        .cases
}

/// Escalations the service recorded.
async fn escalations(host: &minzheng_host::testing::TestHost) -> Vec<pb::ProtectionStepEscalated> {
    recorded(host)
        .await
        .into_iter()
        .filter(|e| e.event_type == "minzheng.childwelfare.v1.ProtectionStepEscalated")
        .map(|e| pb::ProtectionStepEscalated::decode(e.payload).expect("protobuf"))
        .collect()
}

/// A normal report of 1 July is due for emergency handling on 4 July: listed overdue from
/// 5 July for its township and county (not another township), escalated to the county by the
/// sweep at start once, and not again at the next start.
#[tokio::test]
async fn an_overdue_step_is_listed_and_escalated_to_the_county_once() {
    let (host, mut client, clock, _producers) = support::embedded().await;
    let filed = file(&mut client, &boy_2015(), pb::RiskLevel::Normal, FIRST_DAY).await;
    let read = after(&filed.result);
    clock.set(date!(2025 - 07 - 04));
    assert!(overdue(&mut client, PINGSHAN, read).await.is_empty());

    clock.set(date!(2025 - 07 - 05));
    let listed = overdue(&mut client, PINGSHAN_STREET, read).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].case_id, filed.case_id);
    assert_eq!(listed[0].days_overdue, 1);
    assert_eq!(
        listed[0].due_step,
        i32::from(pb::ProtectionStep::EmergencyHandled)
    );
    assert!(overdue(&mut client, DONGMING_STREET, read).await.is_empty());

    let host = host.stop().await.start().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut found = escalations(&host).await;
    while found.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        found = escalations(&host).await;
    }
    assert_eq!(found.len(), 1, "escalated at start");
    assert_eq!(found[0].due_on, day(date!(2025 - 07 - 04)));
    assert_eq!(found[0].county, region(PINGSHAN));
    assert_eq!(found[0].escalated_on, day(date!(2025 - 07 - 05)));
    let mut client = support::client(&host).await;
    let listed = overdue(&mut client, PINGSHAN, None).await;
    assert!(listed[0].escalated, "{listed:?}");

    clock.set(date!(2025 - 07 - 06));
    let host = host.stop().await.start().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(escalations(&host).await.len(), 1, "once per due day");
    host.shutdown().await;
}

/// Whether `haystack` holds `needle`'s bytes.
fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// A caseworker reads the case without the reporter; a caseworker asking for the reporter is
/// refused; an auditor must say why, and then reads them, the reading recorded in the read audit
/// with the case and the purpose. No stored event holds the reporter's name or phone.
#[tokio::test]
async fn the_reporter_is_confidential_and_every_reading_of_them_is_audited() {
    let (host, mut client, _clock, _producers) = support::embedded().await;
    let filed = file(&mut client, &boy_2015(), pb::RiskLevel::High, FIRST_DAY).await;
    let seen = case(&mut client, &filed.case_id).await;
    assert_eq!(seen.reporter_kind, i32::from(pb::ReporterKind::Education));
    let bytes = seen.encode_to_vec();
    assert!(!holds(&bytes, REPORTER_NAME) && !holds(&bytes, REPORTER_PHONE));

    let ask = |token: &str, purpose: Option<&str>| {
        let mut request = with_token(
            pb::GetCaseReporterRequest {
                case_id: filed.case_id.clone(),
            },
            token,
        );
        if let Some(purpose) = purpose {
            request
                .metadata_mut()
                .insert(PURPOSE_HEADER, purpose.parse().expect("ascii"));
        }
        request
    };
    let caseworker = client
        .get_case_reporter(ask(&staff(PINGSHAN), Some("follow-up")))
        .await
        .expect_err("a caseworker has no need to know");
    assert_eq!(caseworker.code(), Code::PermissionDenied);
    let silent = client
        .get_case_reporter(ask(&city_auditor(), None))
        .await
        .expect_err("an auditor says why");
    assert_eq!(silent.code(), Code::InvalidArgument);
    let reporter = client
        .get_case_reporter(ask(&city_auditor(), Some("court-order-2025-17")))
        .await
        .expect("read with a purpose")
        .into_inner();
    let identity = reporter.reporter.expect("the reporter");
    assert_eq!(identity.name, REPORTER_NAME);
    assert_eq!(identity.phone, REPORTER_PHONE);

    // The refused readings' audits are stored after their answers: wait for all three.
    let reporter_reads = support::audits_of(&host, "GetCaseReporter", 3).await;
    for event in &recorded(&host).await {
        assert!(
            !holds(&event.payload, REPORTER_NAME) && !holds(&event.payload, REPORTER_PHONE),
            "{} holds the reporter in clear",
            event.event_type
        );
    }
    assert!(
        reporter_reads.iter().any(
            |a| a.purpose == "court-order-2025-17" && format!("{a:?}").contains(&filed.case_id)
        ),
        "{reporter_reads:?}"
    );
    assert_eq!(
        reporter_reads.len(),
        3,
        "the refused readings are audited too: {reporter_reads:?}"
    );
    host.shutdown().await;
}

/// A report retried with its idempotency key answers the first case and opens no second one.
#[tokio::test]
async fn a_retried_report_opens_one_case() {
    let (host, mut client, _clock, _producers) = support::embedded().await;
    let request = support::report(&boy_2015(), pb::RiskLevel::High, FIRST_DAY);
    let first = client
        .file_report(with_token(request.clone(), &staff(PINGSHAN)))
        .await
        .expect("filed")
        .into_inner();
    let again = client
        .file_report(with_token(request, &staff(PINGSHAN)))
        .await
        .expect("answered again")
        .into_inner();
    assert_eq!(first.case_id, again.case_id);
    let opened = support::recorded_types(&host)
        .await
        .iter()
        .filter(|t| *t == "minzheng.childwelfare.v1.ProtectionCaseOpened")
        .count();
    assert_eq!(opened, 1);
    host.shutdown().await;
}
