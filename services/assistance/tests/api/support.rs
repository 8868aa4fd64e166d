//! What the tests share: the stand-ins for the services this one works with (the place-names
//! service's divisions, the data-sharing service's verification results), the hosts they start,
//! tokens, request builders, and the steps several tests go through (an application submitted,
//! reviewed, posted and decided).

use std::sync::Arc;

use async_trait::async_trait;
use minzheng_assistance::{Module, module::Seed};
use minzheng_eventstore::{AppendRequest, ExpectedVersion, Metadata, NewEvent, StreamId};
use minzheng_host::{
    ServiceContext, ServiceModule,
    testing::{PlaceNamesStandIn, TestHost, TestHostBuilder, token, with_token},
};
use minzheng_kit::{auth::Role, clock::FixedClock, server::ServerBuilder};
use minzheng_proto::{
    assistance::v1::{self as pb, assistance_service_client::AssistanceServiceClient},
    common::v1 as common,
    placenames::v1 as placenames,
};
use prost::Message as _;
use secrecy::SecretString;
use time::macros::date;
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt as _;

pub const PSEUDONYM_KEY: &str = "assistance-test-pseudonym-key-32-bytes!!";

pub const LIAONING: &str = "210000000000";
pub const BENXI_CITY: &str = "210500000000";
/// 平山区 and two of its subdistricts.
pub const PINGSHAN: &str = "210502000000";
pub const PINGSHAN_STREET: &str = "210502001000";
pub const DONGMING_STREET: &str = "210502002000";
/// 溪湖区 and one of its subdistricts.
pub const XIHU: &str = "210503000000";
pub const HEXI_STREET: &str = "210503001000";
/// 桓仁满族自治县 and the town that absorbed a township of 本溪满族自治县.
pub const HUANREN: &str = "210522000000";
pub const MERGED_SUCCESSOR: &str = "210522101000";
/// A township of 本溪满族自治县 merged into [`MERGED_SUCCESSOR`] (in another county) on
/// [`ADJUSTED_ON`].
pub const MERGED_OLD: &str = "210521100000";
/// A township of 溪湖区 split into [`SPLIT_SUCCESSORS`] on [`ADJUSTED_ON`].
pub const SPLIT_OLD: &str = "210503100000";
pub const SPLIT_SUCCESSORS: [&str; 2] = ["210503101000", "210503102000"];
/// The day the adjustments took effect.
pub const ADJUSTED_ON: time::Date = date!(2024 - 01 - 01);

/// A household of three in 平山区: a man born 1985-03-01, his wife born 1987-06-15 and their
/// son born 2015-09-01 (a minor, who signs no authorization).
pub const HUSBAND: &str = "210502198503010012";
pub const WIFE: &str = "210502198706150023";
pub const SON: &str = "210502201509010034";
/// A couple in 平山区 (born 1970 and 1972).
pub const OLD_MAN: &str = "210502197001010050";
pub const OLD_WOMAN: &str = "210502197202020060";
/// A couple registered in 本溪满族自治县 (born 1980 and 1982).
pub const RURAL_MAN: &str = "210521198001010070";
pub const RURAL_WOMAN: &str = "210521198202020080";
/// A couple registered in 溪湖区 (born 1975 and 1977).
pub const XIHU_MAN: &str = "210503197505050095";
pub const XIHU_WOMAN: &str = "210503197707070000";
/// Two more adults of 明山区.
pub const MINGSHAN_MAN: &str = "210504199001010116";
pub const MINGSHAN_WOMAN: &str = "210504199202020222";

/// Every citizen id the tests use (none may show outside a payload).
pub const EVERY_CITIZEN: [&str; 13] = [
    HUSBAND,
    WIFE,
    SON,
    OLD_MAN,
    OLD_WOMAN,
    RURAL_MAN,
    RURAL_WOMAN,
    XIHU_MAN,
    XIHU_WOMAN,
    MINGSHAN_MAN,
    MINGSHAN_WOMAN,
    "21052219880808013X",
    "210522198909090249",
];

/// The day the tests start on: a Monday, a week before the National Day holiday
/// (2025-10-01 to 2025-10-08, with 2025-09-28 and 2025-10-11 working days).
pub const FIRST_DAY: time::Date = date!(2025 - 09 - 22);

pub type Client = AssistanceServiceClient<Channel>;

/// The divisions the place-names stand-in records: Benxi's city, its six counties and a few
/// townships, each `(code, name, level, parent)`.
const DIVISIONS: [(&str, &str, common::RegionLevel, &str); 19] = [
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
        HUANREN,
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
    (
        "210504001000",
        "新明街道",
        common::RegionLevel::Township,
        "210504000000",
    ),
    (
        "210505001000",
        "铁山街道",
        common::RegionLevel::Township,
        "210505000000",
    ),
    (
        "210521001000",
        "小市镇",
        common::RegionLevel::Township,
        "210521000000",
    ),
    (
        MERGED_OLD,
        "草河掌镇",
        common::RegionLevel::Township,
        "210521000000",
    ),
    (
        MERGED_SUCCESSOR,
        "二棚甸子镇",
        common::RegionLevel::Township,
        HUANREN,
    ),
    (
        "210522001000",
        "桓仁镇",
        common::RegionLevel::Township,
        HUANREN,
    ),
    (SPLIT_OLD, "火连寨镇", common::RegionLevel::Township, XIHU),
    (
        SPLIT_SUCCESSORS[0],
        "火连寨东镇",
        common::RegionLevel::Township,
        XIHU,
    ),
    (
        SPLIT_SUCCESSORS[1],
        "火连寨西镇",
        common::RegionLevel::Township,
        XIHU,
    ),
];

/// Plays the place-names service: Benxi's divisions the tests use ([`DIVISIONS`], valid from
/// 2020-01-01) and, for the adjustments of [`ADJUSTED_ON`], a township merged into a town of
/// another county ([`MERGED_OLD`]) and one split in two ([`SPLIT_OLD`]).
pub fn place_names() -> PlaceNamesStandIn {
    PlaceNamesStandIn::new(&DIVISIONS, date!(2020 - 01 - 01))
        .superseding(
            MERGED_OLD,
            &[MERGED_SUCCESSOR],
            ADJUSTED_ON,
            "BX-2023-merge",
        )
        .superseding(SPLIT_OLD, &SPLIT_SUCCESSORS, ADJUSTED_ON, "BX-2023-split")
}

pub use minzheng_assistance::stand_in::{DataSharingStandIn, Verifications};

/// The assistance service with the Benxi seed (standards and holiday calendars), its audit
/// pseudonyms keyed under the test key, today given by `clock`.
pub fn assistance(clock: &FixedClock) -> Module {
    Module::new(SecretString::from(PSEUDONYM_KEY))
        .with_clock(Arc::new(clock.clone()))
        .with_seed(Seed::benxi())
}

/// A host of the assistance service beside its stand-ins, settled, on a clock at
/// [`FIRST_DAY`], with the data-sharing stand-in's answers.
pub struct Hosted {
    pub host: TestHost,
    pub client: Client,
    pub clock: FixedClock,
    pub answers: Verifications,
}

/// The assistance service embedded beside the place-names stand-in, settled (the divisions are
/// known). No data-sharing stand-in: verification requests wait (see [`embedded_verified`] for
/// one that answers).
pub async fn embedded() -> Hosted {
    let clock = FixedClock::new(FIRST_DAY);
    let (host, client) = start(
        TestHost::embedded()
            .service(place_names())
            .service(assistance(&clock)),
    )
    .await;
    Hosted {
        host,
        client,
        clock,
        answers: Verifications::default(),
    }
}

/// The assistance service embedded beside both stand-ins, settled: the data-sharing
/// stand-in answers through the store's feed (it appends outside the consumer's transaction),
/// so applications are verified as when distributed.
pub async fn embedded_verified() -> Hosted {
    let clock = FixedClock::new(FIRST_DAY);
    let answers = Verifications::default();
    let (host, client) = start(hosted(TestHost::embedded(), &clock, &answers)).await;
    Hosted {
        host,
        client,
        clock,
        answers,
    }
}

/// The assistance service and both stand-ins distributed (PostgreSQL and NATS JetStream),
/// settled: the divisions are known, and verification requests are answered through the bus.
pub async fn distributed() -> Hosted {
    let clock = FixedClock::new(FIRST_DAY);
    let answers = Verifications::default();
    let (host, client) = start(hosted(TestHost::distributed(), &clock, &answers)).await;
    Hosted {
        host,
        client,
        clock,
        answers,
    }
}

/// `builder` with the place-names stand-in, the data-sharing stand-in answering `answers`, and
/// the assistance service on `clock`.
pub fn hosted(
    builder: TestHostBuilder,
    clock: &FixedClock,
    answers: &Verifications,
) -> TestHostBuilder {
    builder
        .service(place_names())
        .service(DataSharingStandIn {
            answers: answers.clone(),
        })
        .service(assistance(clock))
}

/// Starts `services` and settles them (the divisions are projected).
pub async fn start(services: TestHostBuilder) -> (TestHost, Client) {
    let host = services.start().await;
    host.settle().await;
    let client = client(&host).await;
    (host, client)
}

pub async fn client(host: &TestHost) -> Client {
    AssistanceServiceClient::new(host.channel("assistance").await)
}

pub fn region(digits: &str) -> Option<common::RegionCode> {
    Some(common::RegionCode {
        code: digits.to_owned(),
    })
}

pub fn day(d: time::Date) -> Option<common::Date> {
    Some(d.into())
}

pub fn citizen(number: &str) -> Option<common::CitizenRef> {
    Some(common::CitizenRef {
        citizen_id: number.to_owned(),
    })
}

pub fn yuan(fen: i64) -> Option<common::Money> {
    Some(common::Money { fen })
}

/// 平山区's urban dibao standard of 700.00 元 a month from `effective_from`.
pub fn urban_700(effective_from: time::Date) -> pb::RecordStandardRequest {
    pb::RecordStandardRequest {
        metadata: metadata(),
        county: region(PINGSHAN),
        standard: Some(pb::record_standard_request::Standard::Dibao(
            pb::DibaoStandard {
                area: pb::ResidenceArea::Urban.into(),
                amount: yuan(70_000),
                period: pb::AmountPeriod::Month.into(),
            },
        )),
        effective_from: day(effective_from),
        decided_by: "本政发〔2025〕18号".to_owned(),
    }
}

pub fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

/// Read-your-writes of `result`.
pub fn after(result: &Option<common::CommandResult>) -> Option<common::ReadOptions> {
    Some(common::ReadOptions {
        min_position: result.as_ref().map_or(0, |r| r.position),
    })
}

/// A caseworker of `township`.
pub fn caseworker(township: &str) -> String {
    token(&[Role::Caseworker], &[township])
}

/// An approver of `county`.
pub fn approver(county: &str) -> String {
    token(&[Role::Approver], &[county])
}

/// An auditor of `region`.
pub fn auditor(region: &str) -> String {
    token(&[Role::Auditor], &[region])
}

/// A member of a household.
pub fn member(number: &str, name: &str, relation: pb::Relation) -> pb::HouseholdMember {
    pb::HouseholdMember {
        citizen: citizen(number),
        name: name.to_owned(),
        relation: relation.into(),
        seriously_ill: false,
        severely_disabled: false,
        work_capacity: pb::WorkCapacity::Full.into(),
        self_care: pb::SelfCareLevel::Able.into(),
    }
}

/// `number`'s authorization of every data class, signed a week before [`FIRST_DAY`], valid
/// for a year.
pub fn authorization(number: &str) -> pb::Authorization {
    pb::Authorization {
        signed_by: citizen(number),
        signed_on: day(date!(2025 - 09 - 15)),
        data_classes: [
            pb::DataClass::Income,
            pb::DataClass::BankDeposits,
            pb::DataClass::RealEstate,
            pb::DataClass::Vehicles,
            pb::DataClass::BusinessRegistration,
            pb::DataClass::Tax,
            pb::DataClass::SocialInsurance,
            pb::DataClass::HousingFund,
            pb::DataClass::Securities,
        ]
        .into_iter()
        .map(i32::from)
        .collect(),
        expires_on: day(date!(2026 - 09 - 14)),
    }
}

/// A dibao application of an urban household registered in `division`, received at `window`:
/// `adults` (the first the applicant, the second the spouse) and `children`, each adult's
/// authorization signed.
pub fn dibao(
    division: &str,
    window: &str,
    adults: &[&str],
    children: &[&str],
) -> pb::SubmitApplicationRequest {
    let mut members = Vec::new();
    for (n, adult) in adults.iter().enumerate() {
        let relation = if n == 0 {
            pb::Relation::Applicant
        } else {
            pb::Relation::Spouse
        };
        members.push(member(adult, "成员", relation));
    }
    for child in children {
        members.push(member(child, "子女", pb::Relation::Child));
    }
    pb::SubmitApplicationRequest {
        metadata: metadata(),
        category: pb::AssistanceCategory::Dibao.into(),
        registered_division: region(division),
        window: region(window),
        area: pb::ResidenceArea::Urban.into(),
        applicant: citizen(adults[0]),
        members,
        incomes: vec![],
        assets: vec![],
        authorizations: adults.iter().map(|a| authorization(a)).collect(),
        payment_account: "6222020000000000012".to_owned(),
        ..Default::default()
    }
}

/// The dibao application of the household of three (HUSBAND, WIFE, SON) of 平山街道, at its
/// own window.
pub fn family_of_three() -> pb::SubmitApplicationRequest {
    dibao(PINGSHAN_STREET, PINGSHAN_STREET, &[HUSBAND, WIFE], &[SON])
}

/// Submits `request` as a caseworker of `window`.
pub async fn submit(
    client: &mut Client,
    request: pb::SubmitApplicationRequest,
) -> pb::SubmitApplicationResponse {
    let window = request
        .window
        .as_ref()
        .map(|w| w.code.clone())
        .unwrap_or_default();
    client
        .submit_application(with_token(request, &caseworker(&window)))
        .await
        .expect("submitted")
        .into_inner()
}

/// The case `id` as a caseworker of `township` reads it, after `read`.
pub async fn get_case(
    client: &mut Client,
    id: &str,
    township: &str,
    read: Option<common::ReadOptions>,
) -> pb::Case {
    client
        .get_case(with_token(
            pb::GetCaseRequest {
                case_id: id.to_owned(),
                read,
            },
            &caseworker(township),
        ))
        .await
        .expect("the case is read")
        .into_inner()
        .case
        .expect("a case")
}

/// The township of 平山街道 reviews case `id` on today's date (the home visit today),
/// recommending approval.
pub async fn review(client: &mut Client, id: &str, today: time::Date) -> common::CommandResult {
    review_as(client, id, PINGSHAN_STREET, today)
        .await
        .expect("reviewed")
        .result
        .expect("a result")
}

/// A caseworker of `township` records the township's review of case `id` (the home visit on
/// `visited_on`), recommending approval.
pub async fn review_as(
    client: &mut Client,
    id: &str,
    township: &str,
    visited_on: time::Date,
) -> Result<pb::RecordTownshipReviewResponse, tonic::Status> {
    client
        .record_township_review(with_token(
            pb::RecordTownshipReviewRequest {
                metadata: metadata(),
                case_id: id.to_owned(),
                recommends_approval: true,
                opinion: "入户调查属实，建议确认".to_owned(),
                visited_on: day(visited_on),
            },
            &caseworker(township),
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// 平山街道 posts case `id` for notice today.
pub async fn post_notice(client: &mut Client, id: &str) -> pb::PostNoticeResponse {
    client
        .post_notice(with_token(
            pb::PostNoticeRequest {
                metadata: metadata(),
                case_id: id.to_owned(),
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect("posted")
        .into_inner()
}

/// 平山区's approver decides case `id`.
pub async fn decide(
    client: &mut Client,
    id: &str,
    decision: pb::Decision,
    reason: &str,
) -> Result<pb::DecideApplicationResponse, tonic::Status> {
    decide_in(client, id, PINGSHAN, decision, reason).await
}

/// The rule of a FAILED_PRECONDITION refusal.
pub fn refusal_rule(status: &tonic::Status) -> String {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

/// The fields an INVALID_ARGUMENT status names.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// HUSBAND's and WIFE's verified wages: 630.00 元 a month together (400.00 + 230.00).
pub fn family_earns_630(answers: &Verifications) {
    answers.income(HUSBAND, 40_000);
    answers.income(WIFE, 23_000);
}

/// The family of three submitted on [`FIRST_DAY`] and verified (630.00 元), reviewed and posted
/// for notice on the same day: returns the case id and the notice's answer.
pub async fn family_in_notice(
    client: &mut Client,
    host: &TestHost,
    answers: &Verifications,
) -> (String, pb::PostNoticeResponse) {
    family_earns_630(answers);
    let submitted = submit(client, family_of_three()).await;
    host.settle().await;
    review(client, &submitted.case_id, FIRST_DAY).await;
    let posted = post_notice(client, &submitted.case_id).await;
    (submitted.case_id, posted)
}

/// Submits `request` (a dibao application at its registered township's window), lets the
/// data-sharing stand-in answer, and has that township review it and post it for notice today;
/// returns the case id.
pub async fn in_notice(
    client: &mut Client,
    host: &TestHost,
    request: pb::SubmitApplicationRequest,
) -> String {
    let township = request
        .window
        .as_ref()
        .map(|w| w.code.clone())
        .unwrap_or_default();
    let submitted = submit(client, request).await;
    host.settle().await;
    let case_id = submitted.case_id;
    client
        .record_township_review(with_token(
            pb::RecordTownshipReviewRequest {
                metadata: metadata(),
                case_id: case_id.clone(),
                recommends_approval: true,
                opinion: "入户调查属实，建议确认".to_owned(),
                visited_on: day(FIRST_DAY),
            },
            &caseworker(&township),
        ))
        .await
        .expect("reviewed");
    client
        .post_notice(with_token(
            pb::PostNoticeRequest {
                metadata: metadata(),
                case_id: case_id.clone(),
            },
            &caseworker(&township),
        ))
        .await
        .expect("posted");
    case_id
}

/// `county`'s approver approves case `id` today.
pub async fn approve_in(
    client: &mut Client,
    id: &str,
    county: &str,
) -> pb::DecideApplicationResponse {
    client
        .decide_application(with_token(
            pb::DecideApplicationRequest {
                metadata: metadata(),
                case_id: id.to_owned(),
                decision: pb::Decision::Approve.into(),
                reason: String::new(),
                amount: None,
            },
            &approver(county),
        ))
        .await
        .expect("approved")
        .into_inner()
}

/// The messages of an INVALID_ARGUMENT status's violations of `field`.
pub fn violations_of(status: &tonic::Status, field: &str) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .map(|bad| {
            bad.field_violations
                .into_iter()
                .filter(|v| v.field == field)
                .map(|v| v.description)
                .collect()
        })
        .unwrap_or_default()
}

/// A temporary-assistance application (an accident) of the household of three, at `window`,
/// asking `requested` fen.
pub fn temporary(window: &str, requested: i64) -> pb::SubmitApplicationRequest {
    let mut request = dibao(PINGSHAN_STREET, window, &[HUSBAND, WIFE], &[SON]);
    request.category = pb::AssistanceCategory::Temporary.into();
    request.hardship = pb::Hardship::Accident.into();
    request.requested_amount = yuan(requested);
    request
}

/// The approver of `county` decides case `id` (`decision`, with `reason` for a rejection).
pub async fn decide_in(
    client: &mut Client,
    id: &str,
    county: &str,
    decision: pb::Decision,
    reason: &str,
) -> Result<pb::DecideApplicationResponse, tonic::Status> {
    client
        .decide_application(with_token(
            pb::DecideApplicationRequest {
                metadata: metadata(),
                case_id: id.to_owned(),
                decision: decision.into(),
                reason: reason.to_owned(),
                amount: None,
            },
            &approver(county),
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// The place-names stand-in ([`place_names`]'s divisions and adjustments at its first
/// start) that a test can also make publish a later adjustment ([`AdjustablePlaceNames::supersede`]),
/// as the place-names service does when a division is merged after cases were filed under it.
#[derive(Debug, Clone, Default)]
pub struct AdjustablePlaceNames {
    store: Arc<std::sync::Mutex<Option<minzheng_eventstore::SharedStore>>>,
}

impl AdjustablePlaceNames {
    /// The place-names service records that `code` ceased on `valid_to`, superseded by
    /// `successors` under `adjustment_id`: a `minzheng.placenames.v1.DivisionSuperseded` on the
    /// division's stream, published by its relay (distributed) or fed (embedded).
    pub async fn supersede(
        &self,
        code: &str,
        successors: &[&str],
        valid_to: time::Date,
        adjustment_id: &str,
    ) {
        let store = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .expect("the place-names stand-in has started");
        let superseded = placenames::DivisionSuperseded {
            code: region(code),
            successors: successors.iter().filter_map(|s| region(s)).collect(),
            valid_to: day(valid_to),
            adjustment_id: adjustment_id.to_owned(),
        };
        store
            .append(AppendRequest {
                stream: StreamId::new("division", code).expect("a valid stream id"),
                expected: ExpectedVersion::Any,
                events: vec![NewEvent::new(
                    "minzheng.placenames.v1.DivisionSuperseded",
                    1,
                    superseded.encode_to_vec(),
                )],
                metadata: Metadata::default(),
            })
            .await
            .expect("the adjustment recorded");
    }
}

#[async_trait]
impl ServiceModule for AdjustablePlaceNames {
    fn name(&self) -> &'static str {
        "placenames"
    }

    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder> {
        let server = place_names().start(context, server).await?;
        *self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(context.store().clone());
        Ok(server)
    }
}

/// The assistance service embedded beside the data-sharing stand-in and a place-names stand-in
/// the test can make publish later adjustments, settled.
pub async fn embedded_adjustable() -> (Hosted, AdjustablePlaceNames) {
    let clock = FixedClock::new(FIRST_DAY);
    let answers = Verifications::default();
    let places = AdjustablePlaceNames::default();
    let (host, client) = start(
        TestHost::embedded()
            .service(places.clone())
            .service(DataSharingStandIn {
                answers: answers.clone(),
            })
            .service(assistance(&clock)),
    )
    .await;
    let hosted = Hosted {
        host,
        client,
        clock,
        answers,
    };
    (hosted, places)
}

/// The service and both stand-ins in one embedded host built directly (not a [`TestHost`]), its
/// consumers parking an event after 3 attempts 20 ms apart instead of the platform's minutes of
/// back-off, so that a test sees what is parked: the rows of `mz_parked` in the service's
/// database ([`QuickParking::parked`]).
pub struct QuickParking {
    pub host: minzheng_host::RunningHost,
    pub client: Client,
    pub answers: Verifications,
    dir: tempfile::TempDir,
}

impl QuickParking {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // On FIRST_DAY for good: nothing here moves the clock.
        let clock = FixedClock::new(FIRST_DAY);
        let answers = Verifications::default();
        let settings = minzheng_kit::settings::PlatformSettings {
            listen: "127.0.0.1:0".parse().expect("a valid address"),
            data_dir: dir.path().to_owned(),
            ..Default::default()
        };
        let host = minzheng_host::Host::new(minzheng_host::Mode::Embedded, settings)
            .module(place_names())
            .module(DataSharingStandIn {
                answers: answers.clone(),
            })
            .module(assistance(&clock))
            .authenticator(
                minzheng_kit::auth::Authenticator::dev(&SecretString::from(
                    minzheng_host::testing::TOKEN_SECRET,
                ))
                .expect("a valid test secret"),
            )
            .consumer_settings(minzheng_bus::ConsumerSettings {
                max_attempts: 3,
                retry_delays: vec![std::time::Duration::from_millis(20)],
                ..Default::default()
            })
            .start()
            .await
            .expect("the embedded host starts");
        let channel =
            tonic::transport::Channel::from_shared(format!("http://{}", host.local_addr()))
                .expect("a valid endpoint")
                .connect()
                .await
                .expect("the host accepts connections");
        let parking = Self {
            host,
            client: AssistanceServiceClient::new(channel),
            answers,
            dir,
        };
        parking.settle().await;
        parking
    }

    /// Every relay and consumer has caught up (a parked event counts as passed).
    pub async fn settle(&self) {
        for _ in 0..2 {
            self.host
                .settle(std::time::Duration::from_secs(60))
                .await
                .expect("the host settles");
        }
    }

    /// The events consumer `consumer` of the assistance service parked: `(stream, event type,
    /// last error)`, by stream.
    pub async fn parked(&self, consumer: &str) -> Vec<(String, String, String)> {
        use sqlx::Row as _;
        let url = format!(
            "sqlite://{}?mode=ro",
            self.dir.path().join("assistance.db").display()
        );
        let pool = minzheng_bus::connect_any(&url, std::time::Duration::from_secs(10))
            .await
            .expect("the service's database opens");
        let rows = sqlx::query(
            "SELECT stream_id, event_type, last_error FROM mz_parked WHERE consumer = $1 \
             ORDER BY stream_id",
        )
        .bind(consumer)
        .fetch_all(&pool)
        .await
        .expect("mz_parked is read");
        pool.close().await;
        rows.iter()
            .map(|row| {
                (
                    row.get::<String, _>("stream_id"),
                    row.get::<String, _>("event_type"),
                    row.get::<String, _>("last_error"),
                )
            })
            .collect()
    }

    pub async fn shutdown(self) {
        self.host.shutdown().await.expect("the host stops cleanly");
    }
}
