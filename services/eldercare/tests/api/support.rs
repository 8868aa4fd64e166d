//! What the tests share: the stand-ins for the services this one follows (the place-names
//! service's divisions at start; the civil registry's deaths, the assistance service's grants and
//! the data-sharing service's alerts whenever a test has them recorded), the hosts they start,
//! tokens, persons, request builders, the steps several tests go through, and a look into the
//! service's own store (what it recorded).

use std::sync::Arc;

use async_trait::async_trait;
use minzheng_eldercare::Module;
use minzheng_eventstore::RecordedEvent;
use minzheng_host::{
    ServiceContext, ServiceModule,
    testing::{PlaceNamesStandIn, ProducerStandIn, TestHost, TestHostBuilder, token, with_token},
};
use minzheng_kit::{auth::Role, clock::FixedClock, server::ServerBuilder};
use minzheng_proto::{
    assistance::v1 as assistance,
    civilregistry::v1 as civil,
    common::v1 as common,
    datasharing::v1 as sharing,
    eldercare::v1::{self as pb, elder_care_service_client::ElderCareServiceClient},
};
use minzheng_types::CitizenId;
use prost::Message as _;
use secrecy::SecretString;
use time::macros::date;
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt as _;

pub const PSEUDONYM_KEY: &str = "eldercare-test-pseudonym-key-32-bytes!!!";

pub const LIAONING: &str = "210000000000";
pub const BENXI_CITY: &str = "210500000000";
/// 平山区 and two of its subdistricts.
pub const PINGSHAN: &str = "210502000000";
pub const PINGSHAN_STREET: &str = "210502001000";
pub const DONGMING_STREET: &str = "210502002000";
/// A community (village-level) of 平山街道; the place-names stand-in does not record it.
pub const PINGSHAN_COMMUNITY: &str = "210502001001";
/// 溪湖区 and one of its subdistricts.
pub const XIHU: &str = "210503000000";
pub const HEXI_STREET: &str = "210503001000";
/// A township code of 平山区 the place-names service does not know.
pub const UNKNOWN_STREET: &str = "210502099000";

/// The day the tests start on (the service's today until a test moves the clock).
pub const FIRST_DAY: time::Date = date!(2025 - 07 - 01);
/// The day the tests' institutions were registered.
pub const REGISTERED_ON: time::Date = date!(2025 - 01 - 02);

pub type Client = ElderCareServiceClient<Channel>;

/// Benxi's city, its six counties and three subdistricts, as the place-names service records
/// them: `(code, name, level, parent)`.
const DIVISIONS: [(&str, &str, common::RegionLevel, &str); 10] = [
    (BENXI_CITY, "本溪市", common::RegionLevel::City, LIAONING),
    (PINGSHAN, "平山区", common::RegionLevel::County, BENXI_CITY),
    (XIHU, "溪湖区", common::RegionLevel::County, BENXI_CITY),
    (
        "210504000000",
        "明山区",
        common::RegionLevel::County,
        BENXI_CITY,
    ),
    (
        "210505000000",
        "南芬区",
        common::RegionLevel::County,
        BENXI_CITY,
    ),
    (
        "210521000000",
        "本溪满族自治县",
        common::RegionLevel::County,
        BENXI_CITY,
    ),
    (
        "210522000000",
        "桓仁满族自治县",
        common::RegionLevel::County,
        BENXI_CITY,
    ),
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
];

/// Plays the place-names service: Benxi's divisions the tests use ([`DIVISIONS`]), valid from
/// 2020-01-01.
pub fn place_names() -> PlaceNamesStandIn {
    PlaceNamesStandIn::new(&DIVISIONS, date!(2020 - 01 - 01))
}

/// Plays another service whose public events this one follows.
pub type Producer = ProducerStandIn;

/// Plays the civil registry: records deaths (`minzheng.civilregistry.v1.DeathRecorded`).
#[derive(Debug, Clone)]
pub struct CivilRegistryStandIn(pub Producer);

impl Default for CivilRegistryStandIn {
    fn default() -> Self {
        Self(ProducerStandIn::new("civilregistry"))
    }
}

impl CivilRegistryStandIn {
    /// The civil registry records the death of `citizen` on `died_on` in 平山区 (death record
    /// `death_id`, 32 hex digits).
    pub async fn record_death(&self, death_id: &str, citizen: &str, died_on: time::Date) {
        let recorded = civil::DeathRecorded {
            death_id: death_id.to_owned(),
            citizen: citizen_ref(citizen),
            name: "王淑兰".to_owned(),
            died_on: day(died_on),
            county: region(PINGSHAN),
            source: civil::DeathSource::Hospital.into(),
            source_reference: "BX-2025-0715".to_owned(),
            recorded_on: day(died_on),
        };
        self.0
            .record(
                "death",
                death_id,
                "minzheng.civilregistry.v1.DeathRecorded",
                recorded.encode_to_vec(),
            )
            .await;
    }
}

/// Plays the assistance service: records grants (`minzheng.assistance.v1.AssistanceGranted`).
#[derive(Debug, Clone)]
pub struct AssistanceStandIn(pub Producer);

impl Default for AssistanceStandIn {
    fn default() -> Self {
        Self(ProducerStandIn::new("assistance"))
    }
}

impl AssistanceStandIn {
    /// 平山区 grants dibao to case `case_id` covering `members` from `from`.
    pub async fn grant(&self, case_id: &str, members: &[&str], from: time::Date) {
        let granted = assistance::AssistanceGranted {
            case_id: case_id.to_owned(),
            category: assistance::AssistanceCategory::Dibao.into(),
            county: region(PINGSHAN),
            members: members.iter().filter_map(|m| citizen_ref(m)).collect(),
            effective_from: day(from),
            single_person: false,
        };
        self.0
            .record(
                "case",
                case_id,
                "minzheng.assistance.v1.AssistanceGranted",
                granted.encode_to_vec(),
            )
            .await;
    }
}

impl AssistanceStandIn {
    /// Case `case_id` covers `members` (the full list) from `on`.
    pub async fn change_members(&self, case_id: &str, members: &[&str], on: time::Date) {
        let changed = assistance::AssistanceMembersChanged {
            case_id: case_id.to_owned(),
            members: members.iter().filter_map(|m| citizen_ref(m)).collect(),
            effective_on: day(on),
        };
        self.0
            .record(
                "case",
                case_id,
                "minzheng.assistance.v1.AssistanceMembersChanged",
                changed.encode_to_vec(),
            )
            .await;
    }
}

/// Plays the data-sharing service: raises "now living alone" alerts
/// (`minzheng.datasharing.v1.ElderlyLeftAlone`).
#[derive(Debug, Clone)]
pub struct DataSharingStandIn(pub Producer);

impl Default for DataSharingStandIn {
    fn default() -> Self {
        Self(ProducerStandIn::new("datasharing"))
    }
}

impl DataSharingStandIn {
    /// Alert `alert_id`: `person`'s spouse died and they live alone in `township` since
    /// `raised_on`.
    pub async fn left_alone(
        &self,
        alert_id: &str,
        person: &str,
        township: &str,
        raised_on: time::Date,
    ) {
        let alert = sharing::ElderlyLeftAlone {
            alert_id: alert_id.to_owned(),
            person: citizen_ref(person),
            spouse_death: Some(sharing::DeathSource {
                death_id: "0f".repeat(16),
                died_on: day(raised_on),
            }),
            household_source: sharing::HouseholdSource::Registration.into(),
            division: region(township),
            raised_on: day(raised_on),
        };
        self.0
            .record(
                "alert",
                alert_id,
                "minzheng.datasharing.v1.ElderlyLeftAlone",
                alert.encode_to_vec(),
            )
            .await;
    }
}

macro_rules! stand_in_module {
    ($($name:ident),*) => {$(
        #[async_trait]
        impl ServiceModule for $name {
            fn name(&self) -> &'static str {
                self.0.name()
            }

            async fn start(
                &self,
                context: &ServiceContext,
                server: ServerBuilder,
            ) -> anyhow::Result<ServerBuilder> {
                self.0.start(context, server).await
            }
        }
    )*};
}

stand_in_module!(CivilRegistryStandIn, AssistanceStandIn, DataSharingStandIn);

/// The elderly-care service, its person streams keyed under the test key, today given by
/// `clock`.
pub fn eldercare(clock: &FixedClock) -> Module {
    Module::new(SecretString::from(PSEUDONYM_KEY)).with_clock(Arc::new(clock.clone()))
}

/// The service embedded beside the place-names stand-in, settled (the divisions are known), on a
/// clock at [`FIRST_DAY`].
pub async fn embedded() -> (TestHost, Client, FixedClock) {
    let clock = FixedClock::new(FIRST_DAY);
    let (host, client) = start(
        TestHost::embedded()
            .service(place_names())
            .service(eldercare(&clock)),
    )
    .await;
    (host, client, clock)
}

/// The service and the place-names stand-in distributed (PostgreSQL and NATS JetStream),
/// settled, on a clock at [`FIRST_DAY`].
pub async fn distributed() -> (TestHost, Client, FixedClock) {
    let clock = FixedClock::new(FIRST_DAY);
    let (host, client) = start(
        TestHost::distributed()
            .service(place_names())
            .service(eldercare(&clock)),
    )
    .await;
    (host, client, clock)
}

/// The three producers' stand-ins, to record their events when a test needs them.
#[derive(Debug, Clone)]
pub struct Producers {
    pub deaths: CivilRegistryStandIn,
    pub cases: AssistanceStandIn,
    pub alerts: DataSharingStandIn,
}

/// The service embedded beside every stand-in (place names, civil registry, assistance, data
/// sharing), settled, on a clock at [`FIRST_DAY`].
pub async fn embedded_with_producers() -> (TestHost, Client, FixedClock, Producers) {
    with_producers(TestHost::embedded()).await
}

/// The service and every stand-in distributed (each on its own PostgreSQL database, the events
/// through NATS JetStream), settled, on a clock at [`FIRST_DAY`].
pub async fn distributed_with_producers() -> (TestHost, Client, FixedClock, Producers) {
    with_producers(TestHost::distributed()).await
}

async fn with_producers(builder: TestHostBuilder) -> (TestHost, Client, FixedClock, Producers) {
    let clock = FixedClock::new(FIRST_DAY);
    let producers = Producers {
        deaths: CivilRegistryStandIn::default(),
        cases: AssistanceStandIn::default(),
        alerts: DataSharingStandIn::default(),
    };
    let (host, client) = start(
        builder
            .service(place_names())
            .service(producers.deaths.clone())
            .service(producers.cases.clone())
            .service(producers.alerts.clone())
            .service(eldercare(&clock)),
    )
    .await;
    (host, client, clock, producers)
}

/// Starts `services` and settles them (the divisions are projected).
pub async fn start(services: TestHostBuilder) -> (TestHost, Client) {
    let host = services.start().await;
    host.settle().await;
    let client = client(&host).await;
    (host, client)
}

pub async fn client(host: &TestHost) -> Client {
    ElderCareServiceClient::new(host.channel("eldercare").await)
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

/// A woman born 1940-03-10: 85 in July 2025.
pub fn born_1940() -> String {
    person(date!(1940 - 03 - 10), 22)
}

/// A man born 1945-08-15: 79 in July 2025, 80 from August.
pub fn born_1945() -> String {
    person(date!(1945 - 08 - 15), 31)
}

/// A man born 1950-05-01: 75 in 2025.
pub fn born_1950() -> String {
    person(date!(1950 - 05 - 01), 13)
}

/// A woman born 1990-01-01: 35 in 2025.
pub fn born_1990() -> String {
    person(date!(1990 - 01 - 01), 42)
}

/// The `n`th of a series of residents, all born 1938-06-01.
pub fn resident(n: u16) -> String {
    person(date!(1938 - 06 - 01), 100 + n)
}

// Tokens.

/// A caseworker of `region`.
pub fn staff(region: &str) -> String {
    token(&[Role::Caseworker], &[region])
}

/// An approver of the city: every RPC, everywhere in Benxi.
pub fn city_approver() -> String {
    token(&[Role::Approver], &[BENXI_CITY])
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

// What the service recorded.

/// Every event in the service's own store, in order (audit records included).
pub async fn recorded(host: &TestHost) -> Vec<RecordedEvent> {
    host.recorded("eldercare").await
}

/// The types of the events the service recorded, in order, without the read audit's.
pub async fn recorded_types(host: &TestHost) -> Vec<String> {
    recorded(host)
        .await
        .into_iter()
        .filter(|e| e.stream.category() != "audit")
        .map(|e| e.event_type)
        .collect()
}

/// How many events of type `minzheng.eldercare.v1.<name>` the service recorded.
pub async fn count_of(host: &TestHost, name: &str) -> usize {
    let wanted = format!("minzheng.eldercare.v1.{name}");
    recorded_types(host)
        .await
        .iter()
        .filter(|t| **t == wanted)
        .count()
}

// Steps.

/// A registration of 平山区's "本溪市平山区颐养院" at 平山街道 on [`REGISTERED_ON`] with
/// `general` and `nursing` beds.
pub fn registration(general: u32, nursing: u32) -> pb::RegisterInstitutionRequest {
    pb::RegisterInstitutionRequest {
        metadata: metadata(),
        name: "本溪市平山区颐养院".into(),
        ownership: pb::Ownership::Public.into(),
        county: region(PINGSHAN),
        division: region(PINGSHAN_STREET),
        registered_on: day(REGISTERED_ON),
        general_beds: general,
        nursing_beds: nursing,
    }
}

/// Registers an institution of 平山区 with `general` and `nursing` beds; returns its id.
pub async fn register(client: &mut Client, general: u32, nursing: u32) -> String {
    client
        .register_institution(with_token(registration(general, nursing), &staff(PINGSHAN)))
        .await
        .expect("registered")
        .into_inner()
        .institution_id
}

/// An admission of `citizen` to a bed of `bed` at `institution` on [`FIRST_DAY`].
pub fn admission(institution: &str, citizen: &str, bed: pb::BedType) -> pb::AdmitResidentRequest {
    pb::AdmitResidentRequest {
        metadata: metadata(),
        institution_id: institution.to_owned(),
        resident: citizen_ref(citizen),
        bed_type: bed.into(),
        admitted_on: day(FIRST_DAY),
    }
}

/// A caseworker of 平山区 admits `citizen` to a bed of `bed` at `institution` on [`FIRST_DAY`].
pub async fn admit(
    client: &mut Client,
    institution: &str,
    citizen: &str,
    bed: pb::BedType,
) -> Result<pb::AdmitResidentResponse, tonic::Status> {
    client
        .admit_resident(with_token(
            admission(institution, citizen, bed),
            &staff(PINGSHAN),
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// The institution `id` today, as a caseworker of 平山区 reads it.
pub async fn institution(client: &mut Client, id: &str) -> pb::GetInstitutionResponse {
    institution_on(client, id, None).await
}

/// The institution `id` on `as_of` (today when `None`).
pub async fn institution_on(
    client: &mut Client,
    id: &str,
    as_of: Option<time::Date>,
) -> pb::GetInstitutionResponse {
    client
        .get_institution(with_token(
            pb::GetInstitutionRequest {
                institution_id: id.to_owned(),
                as_of: as_of.and_then(day),
                read: None,
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("the institution is read")
        .into_inner()
}

/// The institution's figures, from an answer of GetInstitution.
pub fn figures(answer: &pb::GetInstitutionResponse) -> &pb::Institution {
    answer.institution.as_ref().expect("an institution")
}

/// Scores of the standard's 26 items adding up to `total` (0 to 90): each item in order gets
/// as much as it can take of what is left. A total of 89 or less leaves the last items low.
pub fn scores(total: u32) -> pb::AssessmentScores {
    assert!(total <= 90, "the standard's items add up to 90 at most");
    let maxima: [&[u32]; 4] = [
        &[4, 4, 4, 4, 4, 4, 4, 4],
        &[4, 4, 4, 3],
        &[4, 4, 4, 4, 4, 4, 1, 1, 2],
        &[2, 2, 4, 3, 4],
    ];
    let mut left = total;
    let mut groups = maxima.iter().map(|items| {
        items
            .iter()
            .map(|max| {
                let score = left.min(*max);
                left -= score;
                score
            })
            .collect::<Vec<u32>>()
    });
    let mut next = || groups.next().expect("four groups");
    pb::AssessmentScores {
        self_care: next(),
        basic_motor: next(),
        mental_state: next(),
        perception: next(),
    }
}

/// An assessment of `citizen` at 平山街道 on [`FIRST_DAY`] with item scores adding up to
/// `total`.
pub fn assessment(
    citizen: &str,
    total: u32,
    adjustments: pb::AssessmentAdjustments,
) -> pb::RecordAssessmentRequest {
    pb::RecordAssessmentRequest {
        metadata: metadata(),
        person: citizen_ref(citizen),
        scores: Some(scores(total)),
        adjustments: Some(adjustments),
        assessor: "本溪市老年人能力评估中心 评估员证 BX-PG-0031、BX-PG-0032".into(),
        assessed_on: day(FIRST_DAY),
        division: region(PINGSHAN_STREET),
        reassessment_due_on: None,
    }
}

/// Records an assessment of `citizen` totalling `total` as a caseworker of 平山区.
pub async fn assess(
    client: &mut Client,
    citizen: &str,
    total: u32,
    adjustments: pb::AssessmentAdjustments,
) -> pb::RecordAssessmentResponse {
    client
        .record_assessment(with_token(
            assessment(citizen, total, adjustments),
            &staff(PINGSHAN),
        ))
        .await
        .expect("assessed")
        .into_inner()
}

/// Benxi's subsidy standards from 2025-01-01: the advanced-age allowance 100 yuan a month from
/// 80, 200 from 90, 500 from 100; the nursing subsidy 300 yuan for moderately, 500 for severely
/// and 800 for completely impaired capacity (mildly impaired: none), for everyone; the service
/// subsidy 150 yuan for low-income elderly.
pub fn benxi_standard() -> pb::RecordSubsidyStandardRequest {
    pb::RecordSubsidyStandardRequest {
        metadata: metadata(),
        city: region(BENXI_CITY),
        effective_from: day(date!(2025 - 01 - 01)),
        advanced_age: [(80, 100), (90, 200), (100, 500)]
            .into_iter()
            .map(|(from_age, monthly)| pb::AgeBand {
                from_age,
                monthly: yuan(monthly),
            })
            .collect(),
        nursing: [
            (pb::CapacityLevel::Moderate, 300),
            (pb::CapacityLevel::Severe, 500),
            (pb::CapacityLevel::Complete, 800),
        ]
        .into_iter()
        .map(|(level, monthly)| pb::LevelAmount {
            level: level.into(),
            monthly: yuan(monthly),
        })
        .collect(),
        nursing_requires_low_income: false,
        service_low_income: yuan(150),
        decided_by: "本溪市民政局 本民发〔2021〕8号".into(),
    }
}

/// The city's approver records [`benxi_standard`].
pub async fn record_benxi_standard(client: &mut Client) -> pb::RecordSubsidyStandardResponse {
    client
        .record_subsidy_standard(with_token(benxi_standard(), &city_approver()))
        .await
        .expect("the standard is recorded")
        .into_inner()
}

/// `citizen`'s subsidies for the month of `month`, as a caseworker of 平山区 reads them.
pub async fn monthly_subsidy(
    client: &mut Client,
    citizen: &str,
    month: time::Date,
) -> pb::GetMonthlySubsidyResponse {
    client
        .get_monthly_subsidy(with_token(
            pb::GetMonthlySubsidyRequest {
                person: citizen_ref(citizen),
                month: day(month),
                read: None,
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("the subsidies are read")
        .into_inner()
}

/// The line of `kind` of a month's subsidies.
pub fn line(answer: &pb::GetMonthlySubsidyResponse, kind: pb::SubsidyKind) -> &pb::SubsidyLine {
    answer
        .lines
        .iter()
        .find(|l| l.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind:?} line in {answer:?}"))
}

/// An amount in fen (0 when not set).
pub fn fen(money: &Option<common::Money>) -> i64 {
    money.as_ref().map_or(0, |m| m.fen)
}

/// `citizen`'s record, as a caseworker of 平山区 reads it.
pub async fn elder(client: &mut Client, citizen: &str) -> pb::GetElderResponse {
    client
        .get_elder(with_token(
            pb::GetElderRequest {
                person: citizen_ref(citizen),
                read: None,
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("the person is read")
        .into_inner()
}

/// A caseworker of 平山区 opens a visit plan for `citizen` (living alone) at 平山街道 on
/// `opened_on`, a visit every `interval_days` days.
pub async fn open_plan(
    client: &mut Client,
    citizen: &str,
    interval_days: u32,
    opened_on: time::Date,
) -> pb::OpenVisitPlanResponse {
    client
        .open_visit_plan(with_token(
            pb::OpenVisitPlanRequest {
                metadata: metadata(),
                person: citizen_ref(citizen),
                difficulties: vec![pb::DifficultyKind::LivingAlone.into()],
                interval_days,
                township: region(PINGSHAN_STREET),
                opened_on: day(opened_on),
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("the visit plan is opened")
        .into_inner()
}

/// The visits overdue today in `region`, as a caseworker of `region` reads them after `read`.
pub async fn overdue(
    client: &mut Client,
    region_code: &str,
    read: Option<common::ReadOptions>,
) -> Vec<pb::OverdueVisit> {
    client
        .list_overdue_visits(with_token(
            pb::ListOverdueVisitsRequest {
                region: region(region_code),
                as_of: None,
                page: None,
                read,
            },
            &staff(region_code),
        ))
        .await
        .expect("the overdue visits are listed")
        .into_inner()
        .visits
}
