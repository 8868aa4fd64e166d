//! Child welfare (儿童福利与未成年人保护) with the services whose events it follows, as they run
//! side by side over PostgreSQL and NATS, each service its own host: the real place-names service
//! (Benxi's divisions), the real civil registry, the real data-sharing service and the
//! child-welfare service, all on one clock.
//!
//! The scenario: public security's household registration of a family in 南地街道 (the father,
//! the mother and their son of 10) is loaded into the data-sharing service → both parents' deaths
//! are recorded in the civil registry → the data-sharing service raises `GuardiansDeceased` for
//! the son → child welfare opens a high-risk protection case for him at the household's
//! division, emergency handling due the next day, and lists it as overdue once that day has
//! passed.
//!
//! And the data-sharing projections of child welfare's events: an agency's agreement granting
//! `ProtectionCaseOpened` receives the case (the child under the agency's own pseudonym), and a
//! case opened from a mandatory report reaches it with the reporter sealed, never in clear; the
//! son's audit trail names child welfare's read of his case and the agency that received it.

use std::{sync::Arc, time::Duration};

use futures::StreamExt as _;
use minzheng_host::testing::{TestHost, TestHostBuilder, agency_token, token, with_token};
use minzheng_kit::{auth::Role, clock::FixedClock, pseudonym::Pseudonymizer};
use minzheng_proto::{
    audit::v1::AccessOutcome,
    childwelfare::v1::{self as cw, child_welfare_service_client::ChildWelfareServiceClient},
    civilregistry::v1::{self as cr, civil_registry_service_client::CivilRegistryServiceClient},
    datasharing::v1::{self as ds, data_sharing_service_client::DataSharingServiceClient},
};
use prost::Message as _;
use secrecy::SecretString;
use time::{Date, macros::date};
use tonic::transport::Channel;

use minzheng_tests::scenario::{NANDI, PINGSHAN, citizen, day, metadata, money, region};

const KEY: &str = "childwelfare-flow-test-pseudonym-key-32-bytes";
/// The child-welfare service's own key for sealing reporters, distinct from every other key.
const REPORTER_KEY: &str = "childwelfare-flow-test-reporter-key-32-bytes!";
/// A family registered in one household of 南地街道: the father (户主), the mother (配偶) and
/// their son, born 2015-09-18 (10 years old).
const FATHER: &str = "210502198503020018";
const MOTHER: &str = "210502198607110026";
const SON: &str = "210502201509180033";
/// A girl of 南地街道, born 2014, whose school reports her.
const GIRL: &str = "210502201405060045";
/// The deaths, and the day the mother's is notified: the data-sharing alert's day.
const FATHER_DIED: Date = date!(2026 - 04 - 01);
const MOTHER_DIED: Date = date!(2026 - 04 - 08);
const TODAY: Date = date!(2026 - 04 - 10);
/// The agency whose agreement receives the protection cases: the procuratorate, which
/// supervises the protection of minors.
const AGENCY: &str = "procuratorate";
const OPENED: &str = "minzheng.childwelfare.v1.ProtectionCaseOpened";
/// The school's reporter, who must never be readable outside the child-welfare service.
const REPORTER_NAME: &str = "王报告";
const REPORTER_PHONE: &str = "13900002222";

fn county_caseworker() -> String {
    token(&[Role::Caseworker], &[PINGSHAN])
}

/// The four services on one clock, each its own host, producers before their consumers.
fn services(builder: TestHostBuilder, clock: &FixedClock) -> TestHostBuilder {
    builder
        .service(minzheng_placenames::Module::default().with_seed(minzheng_placenames::BENXI))
        .service(
            minzheng_civilregistry::Module::new(SecretString::from(KEY))
                .with_clock(Arc::new(clock.clone())),
        )
        .service(
            minzheng_datasharing::Module::default()
                .with_pseudonym_key(SecretString::from(KEY))
                .with_clock(Arc::new(clock.clone())),
        )
        .service(
            minzheng_childwelfare::Module::new(
                SecretString::from(KEY),
                SecretString::from(REPORTER_KEY),
            )
            .with_clock(Arc::new(clock.clone())),
        )
}

struct Clients {
    registry: CivilRegistryServiceClient<Channel>,
    sharing: DataSharingServiceClient<Channel>,
    welfare: ChildWelfareServiceClient<Channel>,
}

impl Clients {
    async fn of(host: &TestHost) -> Self {
        Self {
            registry: CivilRegistryServiceClient::new(host.channel("civilregistry").await),
            sharing: DataSharingServiceClient::new(host.channel("datasharing").await),
            welfare: ChildWelfareServiceClient::new(host.channel("childwelfare").await),
        }
    }

    /// The open cases of 平山区, overdue ones only when asked.
    async fn cases(&mut self, overdue_only: bool) -> Vec<cw::CaseSummary> {
        self.welfare
            .list_cases(with_token(
                cw::ListCasesRequest {
                    region: region(PINGSHAN),
                    overdue_only,
                    ..Default::default()
                },
                &county_caseworker(),
            ))
            .await
            .expect("the county's cases")
            .into_inner()
            .cases
    }

    async fn case(&mut self, case_id: &str) -> cw::GetCaseResponse {
        self.welfare
            .get_case(with_token(
                cw::GetCaseRequest {
                    case_id: case_id.to_owned(),
                    read: None,
                },
                &county_caseworker(),
            ))
            .await
            .unwrap_or_else(|e| panic!("case {case_id}: {e}"))
            .into_inner()
    }

    async fn trail(&mut self, number: &str) -> Vec<ds::AuditTrailEntry> {
        self.sharing
            .audit_trail(with_token(
                ds::AuditTrailRequest {
                    citizen: citizen(number),
                    limit: 0,
                },
                &token(&[Role::Auditor], &[PINGSHAN]),
            ))
            .await
            .expect("the trail")
            .into_inner()
            .entries
    }
}

/// The procuratorate's agreement: the protection cases opened, without the concern (free text
/// that may name persons), the child under its own pseudonym.
async fn record_agreement(clients: &mut Clients) {
    let fields = [
        "case_id",
        "child",
        "division",
        "risk",
        "report",
        "alert",
        "reported_on",
    ];
    clients
        .sharing
        .record_agreement(with_token(
            ds::RecordAgreementRequest {
                metadata: metadata(),
                agency: AGENCY.into(),
                events: vec![ds::SharedEventType {
                    event_type: OPENED.into(),
                    fields: fields.into_iter().map(str::to_owned).collect(),
                }],
                purpose: "未成年人保护法律监督".into(),
                expires_on: day(date!(2026 - 12 - 31)),
                real_id_granted: false,
            },
            &token(&[Role::Operator], &["210000000000"]),
        ))
        .await
        .expect("agreement recorded");
}

fn registration(line: u64, who: &str, relation: &str) -> ds::LoadedRecord {
    ds::LoadedRecord {
        line,
        record: Some(ds::AgencyRecord {
            reference: format!("HJ-0077-{line}"),
            kind: ds::RecordKind::HouseholdRegistration.into(),
            citizen: citizen(who),
            as_of: day(date!(2026 - 01 - 01)),
            amount: money(0),
            division: region(NANDI),
            household_number: "H0077".into(),
            relation_to_head: relation.into(),
            ..Default::default()
        }),
    }
}

/// Public security's registration of the family in 南地街道, as `discovery.rs` loads it.
async fn load_the_family(clients: &mut Clients) {
    let loaded = clients
        .sharing
        .load_agency_records(with_token(
            futures::stream::iter([ds::LoadAgencyRecordsRequest {
                agency: ds::Agency::PublicSecurity.into(),
                extract: "户籍 2026-01".into(),
                metadata: metadata(),
                records: vec![
                    registration(2, FATHER, "户主"),
                    registration(3, MOTHER, "配偶"),
                    registration(4, SON, "子"),
                ],
            }]),
            &agency_token("public_security"),
        ))
        .await
        .expect("loaded")
        .into_inner();
    assert_eq!(loaded.load.map(|l| l.recorded), Some(3));
}

/// A death notified by the hospital through the civil registry's API; answers its id.
async fn record_death(clients: &mut Clients, who: &str, name: &str, died_on: Date) -> String {
    clients
        .registry
        .record_death(with_token(
            cr::RecordDeathRequest {
                metadata: metadata(),
                citizen: citizen(who),
                name: name.into(),
                died_on: day(died_on),
                county: region(PINGSHAN),
                source: cr::DeathSource::Hospital.into(),
                source_reference: format!("BX-{who}"),
            },
            &token(&[Role::Agency], &[PINGSHAN]),
        ))
        .await
        .expect("death notified")
        .into_inner()
        .death_id
}

/// The data-sharing service's child-welfare alerts, as they are published.
async fn subscribe_to_alerts(host: &TestHost) -> async_nats::Subscriber {
    let alerts = host
        .nats()
        .subscribe(format!(
            "{}.datasharing.alert.guardians_deceased",
            host.bus_prefix()
        ))
        .await
        .expect("subscribed");
    host.nats().flush().await.expect("flushed");
    alerts
}

/// The procuratorate's copies from the start, the first `count` of them.
async fn shared_copies(clients: &mut Clients, count: usize) -> Vec<ds::SharedEvent> {
    let mut copies = clients
        .sharing
        .subscribe(with_token(
            ds::SubscribeRequest { after: 0 },
            &agency_token(AGENCY),
        ))
        .await
        .expect("subscribed")
        .into_inner();
    let mut received = Vec::with_capacity(count);
    while received.len() < count {
        let copy = tokio::time::timeout(Duration::from_secs(30), copies.message())
            .await
            .unwrap_or_else(|_| panic!("{count} copies in time, got {received:?}"))
            .expect("the stream is healthy")
            .expect("the stream is open");
        received.push(copy);
    }
    received
}

#[tokio::test]
async fn distributed_both_guardians_deaths_open_a_protection_case_whose_events_data_sharing_shares()
{
    let clock = FixedClock::new(TODAY);
    let host = services(TestHost::distributed(), &clock).start().await;
    host.settle().await;
    let mut clients = Clients::of(&host).await;
    let mut alerts = subscribe_to_alerts(&host).await;
    record_agreement(&mut clients).await;
    load_the_family(&mut clients).await;
    host.settle().await;

    // Both parents' deaths, recorded in the civil registry, reach data sharing, whose alert
    // reaches child welfare in turn.
    let father = record_death(&mut clients, FATHER, "赵父", FATHER_DIED).await;
    host.settle().await;
    assert!(
        clients.cases(false).await.is_empty(),
        "one parent's death opens nothing"
    );
    let mother = record_death(&mut clients, MOTHER, "钱母", MOTHER_DIED).await;
    host.settle().await;
    host.settle().await;

    let message = tokio::time::timeout(Duration::from_secs(30), alerts.next())
        .await
        .expect("an alert on the bus")
        .expect("subscription open");
    let alert = ds::GuardiansDeceased::decode(message.payload.as_ref()).expect("an alert");
    assert_eq!(alert.child, citizen(SON));
    let mut deaths: Vec<&str> = alert.deaths.iter().map(|d| d.death_id.as_str()).collect();
    deaths.sort_unstable();
    let mut expected = [father.as_str(), mother.as_str()];
    expected.sort_unstable();
    assert_eq!(deaths, expected, "both death records are named");
    assert_eq!(alert.raised_on, day(TODAY));

    // One open case in the county: high risk, at the household's division, emergency handling
    // due the day after the alert.
    let cases = clients.cases(false).await;
    let [summary] = cases.as_slice() else {
        panic!("one case opened by the alert: {cases:?}");
    };
    assert_eq!(summary.risk(), cw::RiskLevel::High, "{summary:?}");
    assert_eq!(summary.division, region(NANDI));
    assert_eq!(summary.step(), cw::ProtectionStep::Reported);
    assert_eq!(summary.reported_on, day(TODAY));
    assert_eq!(summary.due_step(), cw::ProtectionStep::EmergencyHandled);
    let due_on = TODAY.next_day().expect("a day");
    assert_eq!(summary.due_on, day(due_on), "{summary:?}");
    assert_eq!(summary.days_overdue, 0);
    assert!(
        clients.cases(true).await.is_empty(),
        "not overdue on the alert's day"
    );

    let case = clients.case(&summary.case_id).await;
    assert_eq!(case.alert_id, alert.alert_id, "the case names the alert");
    assert!(case.alert_id.starts_with("CW-"), "{case:?}");
    assert_eq!(case.child, citizen(SON), "the child");
    assert_eq!(case.division, region(NANDI));
    assert_eq!(case.risk(), cw::RiskLevel::High);
    assert_eq!(case.reporter_kind(), cw::ReporterKind::Unspecified);
    assert!(case.concern.contains("监护人均已死亡"), "{}", case.concern);
    assert_eq!(case.due_on, day(due_on));

    // The deadline runs: the day after the due day, the case is overdue by one day.
    let past_due = due_on.next_day().expect("a day");
    clock.set(past_due);
    let overdue = clients.cases(true).await;
    let [late] = overdue.as_slice() else {
        panic!("the case is overdue: {overdue:?}");
    };
    assert_eq!(late.case_id, summary.case_id);
    assert_eq!(late.due_step(), cw::ProtectionStep::EmergencyHandled);
    assert_eq!(late.days_overdue, 1, "{late:?}");
    assert_eq!(clients.case(&summary.case_id).await.days_overdue, 1);

    // A school's mandatory report on another child: the reporter is sealed in the event.
    let reported = clients
        .welfare
        .file_report(with_token(
            cw::FileReportRequest {
                metadata: metadata(),
                child: citizen(GIRL),
                division: region(NANDI),
                risk: cw::RiskLevel::Normal.into(),
                reporter_kind: cw::ReporterKind::Education.into(),
                reporter: Some(cw::Reporter {
                    name: REPORTER_NAME.into(),
                    phone: REPORTER_PHONE.into(),
                    organisation: "本溪市平山区南地小学".into(),
                    role: "班主任".into(),
                }),
                concern: "孩子长期无人照料".into(),
                reported_on: day(past_due),
            },
            &county_caseworker(),
        ))
        .await
        .expect("reported")
        .into_inner();
    host.settle().await;

    data_sharing_shares_the_cases_with_the_reporter_sealed(
        &mut clients,
        &summary.case_id,
        &alert.alert_id,
        &reported.case_id,
    )
    .await;
    child_welfare_reads_show_in_the_childs_audit_trail(&host, &mut clients).await;
    host.shutdown().await;
}

/// The data-sharing service follows child welfare's events (`AUDITED` includes it): the
/// procuratorate's agreement receives both cases' `ProtectionCaseOpened`, cut to the granted
/// fields, the child under the agency's own pseudonym — and the report's reporter only as the
/// child-welfare service sealed it: neither the name nor the phone is in the copy.
async fn data_sharing_shares_the_cases_with_the_reporter_sealed(
    clients: &mut Clients,
    alert_case: &str,
    alert_id: &str,
    report_case: &str,
) {
    let copies = shared_copies(clients, 2).await;
    for copy in &copies {
        assert_eq!(copy.r#type, OPENED);
        assert!(
            copy.subject
                .ends_with("share.procuratorate.childwelfare.protection_case_opened"),
            "{}",
            copy.subject
        );
    }
    let pseudonyms = Pseudonymizer::new(&SecretString::from(KEY)).expect("a key");
    let domain = format!("share-{AGENCY}");

    let from_alert =
        cw::ProtectionCaseOpened::decode(copies[0].payload.as_slice()).expect("a case opened");
    assert_eq!(from_alert.case_id, alert_case);
    assert_eq!(
        from_alert.child.as_ref().map(|c| c.citizen_id.clone()),
        Some(pseudonyms.of_text(&domain, SON)),
        "the agency's own pseudonym of the child"
    );
    assert_eq!(from_alert.risk(), cw::RiskLevel::High);
    assert_eq!(
        from_alert.source,
        Some(cw::protection_case_opened::Source::Alert(cw::AlertSource {
            alert_id: alert_id.to_owned(),
        }))
    );
    assert_eq!(from_alert.concern, "", "the concern is not granted");

    let from_report =
        cw::ProtectionCaseOpened::decode(copies[1].payload.as_slice()).expect("a case opened");
    assert_eq!(from_report.case_id, report_case);
    assert_eq!(
        from_report.child.as_ref().map(|c| c.citizen_id.clone()),
        Some(pseudonyms.of_text(&domain, GIRL))
    );
    let Some(cw::protection_case_opened::Source::Report(report)) = &from_report.source else {
        panic!("a report's source: {from_report:?}");
    };
    assert_eq!(report.reporter_kind(), cw::ReporterKind::Education);
    assert!(!report.sealed_reporter.is_empty(), "the reporter, sealed");
    for copy in &copies {
        for clear in [REPORTER_NAME, REPORTER_PHONE, GIRL, SON] {
            assert!(
                !contains(&copy.payload, clear.as_bytes()),
                "{clear} in clear in a shared copy"
            );
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The son's audit trail (`AuditTrail`): child welfare's `GetCase` of his case, by the county's
/// caseworker, and the procuratorate's receipt of his case.
async fn child_welfare_reads_show_in_the_childs_audit_trail(
    host: &TestHost,
    clients: &mut Clients,
) {
    host.settle().await;
    host.settle().await;
    let entries = clients.trail(SON).await;
    let seen: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| (e.service.as_str(), e.method.as_str(), e.agency.as_str()))
        .collect();
    let read = entries
        .iter()
        .find(|e| e.service == "childwelfare")
        .unwrap_or_else(|| panic!("child welfare's GetCase in the trail: {seen:?}"));
    assert!(read.method.ends_with("GetCase"), "{read:?}");
    assert!(read.roles.contains(&"caseworker".to_owned()), "{read:?}");
    assert_eq!(read.outcome(), AccessOutcome::Allowed);
    assert!(
        entries
            .iter()
            .any(|e| e.method == format!("share {OPENED}") && e.agency == AGENCY),
        "the procuratorate received his case: {seen:?}"
    );
}
