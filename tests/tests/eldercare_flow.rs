//! Elderly care (养老服务) with the services whose events it follows, as they run side by side
//! over PostgreSQL and NATS, each service its own host: the real place-names service (Benxi's
//! divisions), the real civil registry, the real assistance service, the real data-sharing
//! service and the elderly-care service, all on one clock.
//!
//! The scenario: Benxi's subsidy standards are recorded; the wife (born 1952) of a couple in
//! 南地街道 is assessed; the couple's dibao application is approved as in `assistance_flow.rs`
//! (`AssistanceGranted` from February) → the wife is low-income in elderly care: her February
//! service subsidy (养老服务补贴) is paid, naming her low income → she is admitted to a nursing-type
//! bed → her death recorded in the civil registry frees the bed and ends her subsidies from March
//! → the data-sharing service finds her husband (born 1950) now alone in the case's household and
//! raises `ElderlyLeftAlone` → elderly care opens a visit plan for him naming the alert.
//!
//! And the data-sharing service's citizens' audit trail collects elderly care's reads of personal
//! data (`GetElder`).

use std::sync::Arc;

use minzheng_host::testing::{TestHost, TestHostBuilder, agency_token, token, with_token};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::{
    assistance::v1::assistance_service_client::AssistanceServiceClient,
    civilregistry::v1::{self as cr, civil_registry_service_client::CivilRegistryServiceClient},
    datasharing::v1::{self as ds, data_sharing_service_client::DataSharingServiceClient},
    eldercare::v1::{self as ec, elder_care_service_client::ElderCareServiceClient},
};
use secrecy::SecretString;
use time::{Date, macros::date};
use tonic::transport::Channel;

use minzheng_tests::scenario::{
    APPLICANT, NANDI, PINGSHAN, SUBMITTED, WIFE, application, caseworker, citizen, day, metadata,
    money, region, review_notice_and_approve,
};

const KEY: &str = "eldercare-flow-test-pseudonym-key-32-bytes";
/// 本溪市.
const BENXI: &str = "210500000000";
/// The wife's admission, and her death.
const ADMITTED: Date = date!(2026 - 02 - 02);
const DIED: Date = date!(2026 - 02 - 10);
/// The service subsidy for low-income elderly: 150.00 元 a month.
const SERVICE_FEN: i64 = 15_000;

fn county_caseworker() -> String {
    token(&[Role::Caseworker], &[PINGSHAN])
}

/// The five services on one clock, each its own host, producers before their consumers.
fn services(builder: TestHostBuilder, clock: &FixedClock) -> TestHostBuilder {
    builder
        .service(minzheng_placenames::Module::default().with_seed(minzheng_placenames::BENXI))
        .service(
            minzheng_civilregistry::Module::new(SecretString::from(KEY))
                .with_clock(Arc::new(clock.clone())),
        )
        .service(
            minzheng_assistance::Module::new(SecretString::from(KEY))
                .with_clock(Arc::new(clock.clone()))
                .with_seed(minzheng_assistance::module::Seed::benxi()),
        )
        .service(
            minzheng_datasharing::Module::default()
                .with_pseudonym_key(SecretString::from(KEY))
                .with_clock(Arc::new(clock.clone())),
        )
        .service(
            minzheng_eldercare::Module::new(SecretString::from(KEY))
                .with_clock(Arc::new(clock.clone())),
        )
}

struct Clients {
    assistance: AssistanceServiceClient<Channel>,
    registry: CivilRegistryServiceClient<Channel>,
    sharing: DataSharingServiceClient<Channel>,
    care: ElderCareServiceClient<Channel>,
}

impl Clients {
    async fn of(host: &TestHost) -> Self {
        Self {
            assistance: AssistanceServiceClient::new(host.channel("assistance").await),
            registry: CivilRegistryServiceClient::new(host.channel("civilregistry").await),
            sharing: DataSharingServiceClient::new(host.channel("datasharing").await),
            care: ElderCareServiceClient::new(host.channel("eldercare").await),
        }
    }

    async fn elder(&mut self, number: &str) -> ec::GetElderResponse {
        self.care
            .get_elder(with_token(
                ec::GetElderRequest {
                    person: citizen(number),
                    read: None,
                },
                &county_caseworker(),
            ))
            .await
            .unwrap_or_else(|e| panic!("the record of {number}: {e}"))
            .into_inner()
    }

    async fn subsidy(&mut self, number: &str, month: Date) -> ec::GetMonthlySubsidyResponse {
        self.care
            .get_monthly_subsidy(with_token(
                ec::GetMonthlySubsidyRequest {
                    person: citizen(number),
                    month: day(month),
                    read: None,
                },
                &county_caseworker(),
            ))
            .await
            .expect("the month's subsidies")
            .into_inner()
    }

    async fn institution(&mut self, id: &str) -> ec::GetInstitutionResponse {
        self.care
            .get_institution(with_token(
                ec::GetInstitutionRequest {
                    institution_id: id.to_owned(),
                    as_of: None,
                    read: None,
                },
                &county_caseworker(),
            ))
            .await
            .expect("the institution")
            .into_inner()
    }
}

// ---- The assistance flow, as `assistance_flow.rs` drives it. ----

/// The human resources agency sends the applicant's pension, which the verification finds.
async fn pension_on_record(clients: &mut Clients) {
    let message = ds::LoadAgencyRecordsRequest {
        agency: ds::Agency::HumanResources.into(),
        extract: "人社养老金发放 2025-12".into(),
        metadata: metadata(),
        records: vec![ds::LoadedRecord {
            line: 2,
            record: Some(ds::AgencyRecord {
                reference: "YL-2025-000017".into(),
                kind: ds::RecordKind::Pension.into(),
                citizen: citizen(APPLICANT),
                as_of: day(date!(2025 - 12 - 31)),
                amount: money(40_000),
                ..Default::default()
            }),
        }],
    };
    let loaded = clients
        .sharing
        .load_agency_records(with_token(
            futures::stream::iter([message]),
            &agency_token("human_resources"),
        ))
        .await
        .expect("the agency's records load")
        .into_inner();
    assert_eq!(loaded.load.map(|l| l.recorded), Some(1));
}

/// The application, its verification through the bus, the township's review, 7 days of notice
/// and the county's approval on 2026-01-12: `AssistanceGranted`. Answers the case id.
async fn apply_and_grant(host: &TestHost, clients: &mut Clients, clock: &FixedClock) -> String {
    let submitted = clients
        .assistance
        .submit_application(with_token(application(), &caseworker()))
        .await
        .expect("submitted at the window")
        .into_inner();
    host.settle().await;
    let decided =
        review_notice_and_approve(&mut clients.assistance, clock, &submitted.case_id).await;
    assert!(
        decided
            .calculation
            .and_then(|c| c.monthly_amount)
            .is_some_and(|m| m.fen > 0),
        "granted with an amount"
    );
    submitted.case_id
}

// ---- Elderly care. ----

/// Benxi's standards from January 2026: advanced-age allowance from 80, nursing subsidy for
/// moderate to complete loss of capacity, and 150.00 元 of service subsidy for the low-income.
async fn record_standards(clients: &mut Clients) {
    let recorded = clients
        .care
        .record_subsidy_standard(with_token(
            ec::RecordSubsidyStandardRequest {
                metadata: metadata(),
                city: region(BENXI),
                effective_from: day(date!(2026 - 01 - 01)),
                advanced_age: vec![
                    ec::AgeBand {
                        from_age: 80,
                        monthly: money(10_000),
                    },
                    ec::AgeBand {
                        from_age: 90,
                        monthly: money(20_000),
                    },
                ],
                nursing: [
                    (ec::CapacityLevel::Moderate, 20_000),
                    (ec::CapacityLevel::Severe, 30_000),
                    (ec::CapacityLevel::Complete, 40_000),
                ]
                .into_iter()
                .map(|(level, fen)| ec::LevelAmount {
                    level: level.into(),
                    monthly: money(fen),
                })
                .collect(),
                nursing_requires_low_income: false,
                service_low_income: money(SERVICE_FEN),
                decided_by: "本溪市民政局 本民发〔2021〕8号".into(),
            },
            &token(&[Role::Approver], &[BENXI]),
        ))
        .await
        .expect("standards recorded")
        .into_inner();
    assert_eq!(recorded.version, 1);
}

/// The wife's capacity assessment in 南地街道: 56 points, moderately impaired.
async fn assess_the_wife(clients: &mut Clients) {
    let assessed = clients
        .care
        .record_assessment(with_token(
            ec::RecordAssessmentRequest {
                metadata: metadata(),
                person: citizen(WIFE),
                scores: Some(ec::AssessmentScores {
                    self_care: vec![3, 2, 2, 3, 2, 3, 3, 2],
                    basic_motor: vec![2, 2, 2, 1],
                    mental_state: vec![3, 3, 4, 2, 3, 3, 1, 1, 2],
                    perception: vec![1, 1, 2, 1, 2],
                }),
                adjustments: None,
                assessor: "本溪市老年人能力评估中心 评估员 P-0012".into(),
                assessed_on: day(SUBMITTED),
                division: region(NANDI),
                reassessment_due_on: None,
            },
            &caseworker(),
        ))
        .await
        .expect("assessed")
        .into_inner();
    assert_eq!(assessed.total_score, 56);
    assert_eq!(assessed.level(), ec::CapacityLevel::Moderate);
}

/// A public institution in 南地街道 with 10 general and 20 nursing-type beds; answers its id.
async fn register_institution(clients: &mut Clients) -> String {
    let registered = clients
        .care
        .register_institution(with_token(
            ec::RegisterInstitutionRequest {
                metadata: metadata(),
                name: "平山区社会福利中心".into(),
                ownership: ec::Ownership::Public.into(),
                county: region(PINGSHAN),
                division: region(NANDI),
                registered_on: day(SUBMITTED),
                general_beds: 10,
                nursing_beds: 20,
            },
            &county_caseworker(),
        ))
        .await
        .expect("registered")
        .into_inner();
    assert_eq!(registered.institution_id, "EC-210502-0001");
    registered.institution_id
}

fn occupancy(institution: &ec::GetInstitutionResponse) -> (u32, u32) {
    let i = institution.institution.as_ref().expect("an institution");
    (i.general_occupied, i.nursing_occupied)
}

fn line(subsidy: &ec::GetMonthlySubsidyResponse, kind: ec::SubsidyKind) -> &ec::SubsidyLine {
    subsidy
        .lines
        .iter()
        .find(|l| l.kind() == kind)
        .unwrap_or_else(|| panic!("a {kind:?} line in {subsidy:?}"))
}

/// The wife's death on 2026-02-10, notified by the hospital the next day.
async fn wife_dies(clients: &mut Clients, clock: &FixedClock) -> String {
    clock.set(date!(2026 - 02 - 11));
    clients
        .registry
        .record_death(with_token(
            cr::RecordDeathRequest {
                metadata: metadata(),
                citizen: citizen(WIFE),
                name: "李四".into(),
                died_on: day(DIED),
                county: region(PINGSHAN),
                source: cr::DeathSource::Hospital.into(),
                source_reference: "BX-2026-0042".into(),
            },
            &token(&[Role::Agency], &[PINGSHAN]),
        ))
        .await
        .expect("death notified")
        .into_inner()
        .death_id
}

#[tokio::test]
async fn distributed_a_grant_pays_the_service_subsidy_a_death_frees_the_bed_and_the_widower_alone_is_visited()
 {
    let clock = FixedClock::new(SUBMITTED);
    let host = services(TestHost::distributed(), &clock).start().await;
    host.settle().await;
    let mut clients = Clients::of(&host).await;
    pension_on_record(&mut clients).await;
    record_standards(&mut clients).await;
    assess_the_wife(&mut clients).await;
    let institution = register_institution(&mut clients).await;

    // Before the grant: no low income, no service subsidy.
    let january = clients.subsidy(WIFE, date!(2026 - 01 - 15)).await;
    assert_eq!(
        line(&january, ec::SubsidyKind::Service).amount,
        money(0),
        "{january:?}"
    );

    // The grant (from February) makes both spouses low-income in elderly care.
    let case_id = apply_and_grant(&host, &mut clients, &clock).await;
    host.settle().await;
    clock.set(ADMITTED);
    let wife = clients.elder(WIFE).await;
    assert!(wife.low_income, "low income from the grant: {wife:?}");
    let february = clients.subsidy(WIFE, date!(2026 - 02 - 01)).await;
    let service = line(&february, ec::SubsidyKind::Service);
    assert_eq!(service.amount, money(SERVICE_FEN), "{february:?}");
    assert_eq!(service.standard_version, 1);
    assert!(
        service.explanation.contains("low income from 2026-02-01"),
        "the line names the low income: {}",
        service.explanation
    );
    assert!(
        february.total.is_some_and(|t| t.fen >= SERVICE_FEN),
        "{february:?}"
    );
    // The moderately impaired wife's nursing subsidy, beside it.
    assert_eq!(
        line(&february, ec::SubsidyKind::Nursing).amount,
        money(20_000)
    );

    // Admitted to a nursing-type bed.
    let admitted = clients
        .care
        .admit_resident(with_token(
            ec::AdmitResidentRequest {
                metadata: metadata(),
                institution_id: institution.clone(),
                resident: citizen(WIFE),
                bed_type: ec::BedType::Nursing.into(),
                admitted_on: day(ADMITTED),
            },
            &county_caseworker(),
        ))
        .await
        .expect("admitted")
        .into_inner();
    assert_eq!(admitted.elder_id, wife.elder_id);
    assert_eq!(occupancy(&clients.institution(&institution).await), (0, 1));
    assert_eq!(clients.elder(WIFE).await.institution_id, institution);

    // Her death, recorded in the civil registry, reaches elderly care (and data sharing, whose
    // alert reaches elderly care in turn).
    let death_id = wife_dies(&mut clients, &clock).await;
    host.settle().await;
    host.settle().await;

    let home = clients.institution(&institution).await;
    assert_eq!(occupancy(&home), (0, 0), "the bed is freed: {home:?}");
    assert!(home.residents.is_empty(), "{home:?}");
    let wife = clients.elder(WIFE).await;
    assert_eq!(wife.died_on, day(DIED));
    assert_eq!(wife.institution_id, "", "{wife:?}");

    // Subsidies end with the month of death: February is still paid, March is not.
    let february = clients.subsidy(WIFE, date!(2026 - 02 - 01)).await;
    assert_eq!(
        line(&february, ec::SubsidyKind::Service).amount,
        money(SERVICE_FEN),
        "{february:?}"
    );
    let march = clients.subsidy(WIFE, date!(2026 - 03 - 01)).await;
    assert_eq!(march.total, money(0), "{march:?}");
    for subsidy in &march.lines {
        assert_eq!(subsidy.amount, money(0), "{march:?}");
        assert!(
            subsidy.explanation.contains("died on 2026-02-10"),
            "each line explains the death: {}",
            subsidy.explanation
        );
    }

    // The widower, now alone in the case's household: data sharing's alert opened a visit plan.
    let widower = clients.elder(APPLICANT).await;
    let plan = widower.visit_plan.clone().unwrap_or_else(|| {
        panic!("a visit plan opened by the alert: {widower:?} ({death_id}, case {case_id})")
    });
    assert!(
        plan.alert_id.starts_with("EA-"),
        "the plan names data sharing's alert: {plan:?}"
    );
    assert_eq!(
        plan.difficulties,
        vec![i32::from(ec::DifficultyKind::LivingAlone)]
    );
    assert_eq!(plan.township, region(NANDI));
    assert!(
        plan.closed_on.is_none() && plan.next_due_on.is_some(),
        "{plan:?}"
    );
    assert!(widower.low_income, "the case still covers him: {widower:?}");
    assert_eq!(widower.died_on, None);
    elderly_care_reads_show_in_the_citizens_audit_trail(&host, &mut clients).await;
    host.shutdown().await;
}

/// The data-sharing service's citizens' audit trail (`AuditTrail`) collects every audited
/// service's reads of personal data, elderly care's (`AUDITED` includes it) among them: a
/// caseworker's `GetElder` of the wife shows in her trail, beside data sharing's own earlier
/// `AuditTrail` read of it. Part of the scenario above: one host of five services per test
/// binary keeps `cargo test` (threads, without nextest's groups) within PostgreSQL's connections.
async fn elderly_care_reads_show_in_the_citizens_audit_trail(
    host: &TestHost,
    clients: &mut Clients,
) {
    let auditor = token(&[Role::Auditor], &[PINGSHAN]);
    let trail = |sharing: &mut DataSharingServiceClient<Channel>| {
        let mut sharing = sharing.clone();
        let auditor = auditor.clone();
        async move {
            sharing
                .audit_trail(with_token(
                    ds::AuditTrailRequest {
                        citizen: citizen(WIFE),
                        limit: 0,
                    },
                    &auditor,
                ))
                .await
                .expect("the trail")
                .into_inner()
                .entries
        }
    };
    // Data sharing's own read of the trail is in the trail (the control).
    trail(&mut clients.sharing).await;
    let wife = clients.elder(WIFE).await;
    assert!(!wife.assessments.is_empty());
    host.settle().await;
    host.settle().await;

    let entries = trail(&mut clients.sharing).await;
    let seen: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.service.as_str(), e.method.as_str()))
        .collect();
    assert!(
        seen.iter()
            .any(|(service, method)| *service == "datasharing" && method.ends_with("AuditTrail")),
        "data sharing's own read: {seen:?}"
    );
    let read = entries
        .iter()
        .find(|e| e.service == "eldercare")
        .unwrap_or_else(|| panic!("elderly care's GetElder in the trail: {seen:?}"));
    assert!(read.method.ends_with("GetElder"), "{read:?}");
    assert!(read.roles.contains(&"caseworker".to_owned()), "{read:?}");
    assert_eq!(
        read.outcome(),
        minzheng_proto::audit::v1::AccessOutcome::Allowed
    );
}
