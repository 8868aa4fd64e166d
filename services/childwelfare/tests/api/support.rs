//! What the tests share: the stand-ins for the services this one follows (the place-names
//! service's divisions at start, one merger included; the civil registry's deaths and the
//! data-sharing service's alerts whenever a test records one), the hosts they start, tokens,
//! children, request builders and the steps several tests go through.

use std::sync::Arc;

use minzheng_childwelfare::Module;
use minzheng_eventstore::RecordedEvent;
use minzheng_host::testing::{
    PlaceNamesStandIn, ProducerStandIn, TestHost, TestHostBuilder, token, with_token,
};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::{
    childwelfare::v1::{self as pb, child_welfare_service_client::ChildWelfareServiceClient},
    civilregistry::v1 as civil,
    common::v1 as common,
    datasharing::v1 as sharing,
};
use minzheng_types::CitizenId;
use prost::Message as _;
use secrecy::SecretString;
use time::macros::date;
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt as _;

pub const PSEUDONYM_KEY: &str = "childwelfare-test-pseudonym-key-32-bytes";
pub const REPORTER_KEY: &str = "childwelfare-test-reporter-key-32-bytes!";

pub const LIAONING: &str = "210000000000";
pub const BENXI_CITY: &str = "210500000000";
/// 平山区, two of its subdistricts and three of their communities.
pub const PINGSHAN: &str = "210502000000";
pub const PINGSHAN_STREET: &str = "210502001000";
pub const DONGMING_STREET: &str = "210502002000";
pub const COMMUNITY_A: &str = "210502001001";
/// Merged into [`COMMUNITY_A`] on [`MERGED_ON`].
pub const COMMUNITY_B: &str = "210502001002";
pub const COMMUNITY_C: &str = "210502002001";
/// 溪湖区, a subdistrict and a community.
pub const XIHU: &str = "210503000000";
pub const HEXI_STREET: &str = "210503001000";
pub const HEXI_COMMUNITY: &str = "210503001001";

/// The day the tests start on (the service's today until a test moves the clock).
pub const FIRST_DAY: time::Date = date!(2025 - 07 - 01);
/// The day [`COMMUNITY_B`] was merged into [`COMMUNITY_A`].
pub const MERGED_ON: time::Date = date!(2025 - 03 - 01);

pub type Client = ChildWelfareServiceClient<Channel>;

const DIVISIONS: [(&str, &str, common::RegionLevel, &str); 11] = [
    (BENXI_CITY, "本溪市", common::RegionLevel::City, LIAONING),
    (PINGSHAN, "平山区", common::RegionLevel::County, BENXI_CITY),
    (XIHU, "溪湖区", common::RegionLevel::County, BENXI_CITY),
    (
        PINGSHAN_STREET,
        "平山街道",
        common::RegionLevel::Township,
        PINGSHAN,
    ),
    (
        DONGMING_STREET,
        "东明街道",
        common::RegionLevel::Township,
        PINGSHAN,
    ),
    (HEXI_STREET, "河西街道", common::RegionLevel::Township, XIHU),
    (
        COMMUNITY_A,
        "平山社区",
        common::RegionLevel::Village,
        PINGSHAN_STREET,
    ),
    (
        COMMUNITY_B,
        "北台社区",
        common::RegionLevel::Village,
        PINGSHAN_STREET,
    ),
    (
        COMMUNITY_C,
        "东明社区",
        common::RegionLevel::Village,
        DONGMING_STREET,
    ),
    (
        HEXI_COMMUNITY,
        "河西社区",
        common::RegionLevel::Village,
        HEXI_STREET,
    ),
    (
        "210503001002",
        "彩北社区",
        common::RegionLevel::Village,
        HEXI_STREET,
    ),
];

/// Plays the place-names service: the divisions above valid from 2020-01-01, and
/// [`COMMUNITY_B`] merged into [`COMMUNITY_A`] on [`MERGED_ON`].
pub fn place_names() -> PlaceNamesStandIn {
    PlaceNamesStandIn::new(&DIVISIONS, date!(2020 - 01 - 01)).superseding(
        COMMUNITY_B,
        &[COMMUNITY_A],
        MERGED_ON,
        "ADJ-2025-001",
    )
}

/// The civil registry's and the data-sharing service's stand-ins.
#[derive(Debug, Clone)]
pub struct Producers {
    pub civil: ProducerStandIn,
    pub sharing: ProducerStandIn,
}

impl Producers {
    fn new() -> Self {
        Self {
            civil: ProducerStandIn::new("civilregistry"),
            sharing: ProducerStandIn::new("datasharing"),
        }
    }

    /// The civil registry records the death of `citizen` on `died_on` (record `death_id`, 32
    /// hex digits).
    pub async fn record_death(&self, death_id: &str, citizen: &str, died_on: time::Date) {
        let recorded = civil::DeathRecorded {
            death_id: death_id.to_owned(),
            citizen: citizen_ref(citizen),
            name: "王小明".to_owned(),
            died_on: day(died_on),
            county: region(PINGSHAN),
            source: civil::DeathSource::Hospital.into(),
            source_reference: "BX-2025-0715".to_owned(),
            recorded_on: day(died_on),
        };
        self.civil
            .record(
                "death",
                death_id,
                "minzheng.civilregistry.v1.DeathRecorded",
                recorded.encode_to_vec(),
            )
            .await;
    }
}

impl Producers {
    /// The data-sharing service finds every guardian of `child` dead (alert `alert_id`, the
    /// household in `division`).
    pub async fn guardians_deceased(
        &self,
        alert_id: &str,
        child: &str,
        division: &str,
        raised_on: time::Date,
    ) {
        let death = |id: &str| sharing::DeathSource {
            death_id: id.repeat(16),
            died_on: day(raised_on),
        };
        let alert = sharing::GuardiansDeceased {
            alert_id: alert_id.to_owned(),
            child: citizen_ref(child),
            deaths: vec![death("0a"), death("0b")],
            household_source: sharing::HouseholdSource::Registration.into(),
            division: region(division),
            raised_on: day(raised_on),
        };
        self.sharing
            .record(
                "alert",
                alert_id,
                "minzheng.datasharing.v1.GuardiansDeceased",
                alert.encode_to_vec(),
            )
            .await;
    }
}

/// The service, its keys the tests', today given by `clock`.
pub fn childwelfare(clock: &FixedClock) -> Module {
    Module::new(
        SecretString::from(PSEUDONYM_KEY),
        SecretString::from(REPORTER_KEY),
    )
    .with_clock(Arc::new(clock.clone()))
}

/// The service embedded beside the stand-ins, settled, on a clock at [`FIRST_DAY`].
pub async fn embedded() -> (TestHost, Client, FixedClock, Producers) {
    with_producers(TestHost::embedded()).await
}

/// The service and the stand-ins distributed (PostgreSQL and NATS JetStream), settled.
pub async fn distributed() -> (TestHost, Client, FixedClock, Producers) {
    with_producers(TestHost::distributed()).await
}

async fn with_producers(builder: TestHostBuilder) -> (TestHost, Client, FixedClock, Producers) {
    let clock = FixedClock::new(FIRST_DAY);
    let producers = Producers::new();
    let host = builder
        .service(place_names())
        .service(producers.civil.clone())
        .service(producers.sharing.clone())
        .service(childwelfare(&clock))
        .start()
        .await;
    host.settle().await;
    let client = client(&host).await;
    (host, client, clock, producers)
}

pub async fn client(host: &TestHost) -> Client {
    ChildWelfareServiceClient::new(host.channel("childwelfare").await)
}

// Values.

pub use minzheng_host::testing::values::{after, citizen_ref, day, metadata, region, yuan};

/// The citizen id number of a person registered in 平山区, born on `birth`, with sequence
/// number `sequence` (0 to 999).
pub fn person(birth: time::Date, sequence: u16) -> String {
    CitizenId::from_parts("210502", birth, sequence)
        .expect("a valid citizen id")
        .expose()
        .to_owned()
}

/// A boy born 2015-06-01: 10 in July 2025.
pub fn boy_2015() -> String {
    person(date!(2015 - 06 - 01), 11)
}

/// A girl born 2007-08-20: 17 in July 2025, 18 on 2025-08-20.
pub fn girl_2007() -> String {
    person(date!(2007 - 08 - 20), 22)
}

/// A man born 1985-03-01: 40 in 2025.
pub fn man_1985() -> String {
    person(date!(1985 - 03 - 01), 31)
}

/// A woman born 1987-05-05: 38 in 2025.
pub fn woman_1987() -> String {
    person(date!(1987 - 05 - 05), 42)
}

// Tokens.

/// A caseworker of `region`.
pub fn staff(region: &str) -> String {
    token(&[Role::Caseworker], &[region])
}

/// An approver of the city.
pub fn city_approver() -> String {
    token(&[Role::Approver], &[BENXI_CITY])
}

/// An auditor of the city.
pub fn city_auditor() -> String {
    token(&[Role::Auditor], &[BENXI_CITY])
}

// Answers.

/// The fields an INVALID_ARGUMENT status names.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// The rule of a FAILED_PRECONDITION refusal.
pub fn refusal_rule(status: &tonic::Status) -> String {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

/// Every event in the service's own store, in order (audit records included).
pub async fn recorded(host: &TestHost) -> Vec<RecordedEvent> {
    host.recorded("childwelfare").await
}

/// The types of the events the service recorded, without the read audit's.
pub async fn recorded_types(host: &TestHost) -> Vec<String> {
    recorded(host)
        .await
        .into_iter()
        .filter(|e| e.stream.category() != "audit")
        .map(|e| e.event_type)
        .collect()
}

// Steps.

/// A parent's situation with its source (none for an able parent).
pub fn fact(situation: pb::ParentSituation, source: pb::FactSourceKind) -> Option<pb::ParentFact> {
    Some(pb::ParentFact {
        situation: situation.into(),
        source: (source != pb::FactSourceKind::Unspecified).then(|| pb::FactSource {
            kind: source.into(),
            reference: "本溪市平山区人民法院 (2024) 辽0502民特12号".to_owned(),
        }),
    })
}

/// Both parents dead, each death registered by the civil registry.
pub fn orphaned() -> (Option<pb::ParentFact>, Option<pb::ParentFact>) {
    let dead = || {
        fact(
            pb::ParentSituation::Dead,
            pb::FactSourceKind::CivilRegistrationDeath,
        )
    };
    (dead(), dead())
}

/// An identification of `child` at [`COMMUNITY_A`] on `on`, as an orphan in family care.
pub fn identification(child: &str, on: time::Date) -> pb::IdentifyChildRequest {
    let (father, mother) = orphaned();
    pb::IdentifyChildRequest {
        metadata: metadata(),
        child: citizen_ref(child),
        division: region(COMMUNITY_A),
        father,
        mother,
        identified_on: day(on),
        care: pb::ChildCareSetting::Family.into(),
        institution: String::new(),
    }
}

/// A caseworker of 平山区 identifies `child` as an orphan on `on`.
pub async fn identify(
    client: &mut Client,
    child: &str,
    on: time::Date,
) -> pb::IdentifyChildResponse {
    client
        .identify_child(with_token(identification(child, on), &staff(PINGSHAN)))
        .await
        .expect("identified")
        .into_inner()
}

/// The city's standard effective `from`: `centralized` and `family` yuan a month.
pub fn standard(
    from: time::Date,
    centralized: i64,
    family: i64,
    override_reason: &str,
) -> pb::RecordAllowanceStandardRequest {
    pb::RecordAllowanceStandardRequest {
        metadata: metadata(),
        city: region(BENXI_CITY),
        effective_from: day(from),
        centralized: yuan(centralized),
        family: yuan(family),
        decided_by: "本溪市民政局 本溪市财政局".to_owned(),
        override_reason: override_reason.to_owned(),
    }
}

/// The city approver records a standard.
pub async fn record_standard(
    client: &mut Client,
    request: pb::RecordAllowanceStandardRequest,
) -> Result<pb::RecordAllowanceStandardResponse, tonic::Status> {
    client
        .record_allowance_standard(with_token(request, &city_approver()))
        .await
        .map(tonic::Response::into_inner)
}

/// A report of `child` at [`COMMUNITY_A`] by a teacher, of `risk`, on `on`.
pub fn report(child: &str, risk: pb::RiskLevel, on: time::Date) -> pb::FileReportRequest {
    pb::FileReportRequest {
        metadata: metadata(),
        child: citizen_ref(child),
        division: region(COMMUNITY_A),
        risk: risk.into(),
        reporter_kind: pb::ReporterKind::Education.into(),
        reporter: Some(pb::Reporter {
            name: REPORTER_NAME.to_owned(),
            phone: REPORTER_PHONE.to_owned(),
            organisation: "本溪市平山区实验小学".to_owned(),
            role: "班主任".to_owned(),
        }),
        concern: "孩子身上多处伤痕，自述被父亲殴打".to_owned(),
        reported_on: day(on),
    }
}

/// The reporter the tests' reports name.
pub const REPORTER_NAME: &str = "李报告";
pub const REPORTER_PHONE: &str = "13900001111";

/// A caseworker of 平山区 files a report; the case's id.
pub async fn file(
    client: &mut Client,
    child: &str,
    risk: pb::RiskLevel,
    on: time::Date,
) -> pb::FileReportResponse {
    client
        .file_report(with_token(report(child, risk, on), &staff(PINGSHAN)))
        .await
        .expect("filed")
        .into_inner()
}

/// The case as a caseworker of 平山区 reads it.
pub async fn case(client: &mut Client, case_id: &str) -> pb::GetCaseResponse {
    client
        .get_case(with_token(
            pb::GetCaseRequest {
                case_id: case_id.to_owned(),
                read: None,
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("read")
        .into_inner()
}

/// The read-audit records of `method` (e.g. "GetChild") the service stored, once there are at
/// least `n` (30 s at most: the audit of a refused read is stored after the answer).
pub async fn audits_of(
    host: &TestHost,
    method: &str,
    n: usize,
) -> Vec<minzheng_proto::audit::v1::PersonalDataAccessed> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found: Vec<minzheng_proto::audit::v1::PersonalDataAccessed> = recorded(host)
            .await
            .into_iter()
            .filter(|e| e.event_type == "minzheng.audit.v1.PersonalDataAccessed")
            .map(|e| {
                minzheng_proto::audit::v1::PersonalDataAccessed::decode(e.payload)
                    .expect("protobuf")
            })
            .filter(|a| a.method.ends_with(method))
            .collect();
        if found.len() >= n || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
