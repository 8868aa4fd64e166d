//! What the tests share: the stand-ins for the services this one follows, the hosts they start,
//! tokens, request builders, and the steps several tests go through (a slot published, a couple
//! booked, checked in and married, a spouse's death).

use std::{sync::Arc, time::Duration};

use minzheng_civilregistry::Module;
use minzheng_eventstore::{AppendRequest, ExpectedVersion, Metadata, NewEvent, StreamId};
use minzheng_host::{
    ServiceContext, ServiceModule,
    testing::{PlaceNamesStandIn, TestHost, TestHostBuilder, token, with_token},
};
use minzheng_kit::{auth::Role, clock::FixedClock, server::ServerBuilder};
use minzheng_proto::{
    civilregistry::v1::{self as pb, civil_registry_service_client::CivilRegistryServiceClient},
    common::v1 as common,
};
use secrecy::SecretString;
use time::macros::date;
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt as _;

pub const PSEUDONYM_KEY: &str = "civilregistry-test-pseudonym-key-32-bytes";
pub const PINGSHAN: &str = "210502000000";
pub const XIHU: &str = "210503000000";
pub const BENXI_CITY: &str = "210500000000";
pub const LIAONING: &str = "210000000000";
/// A man born 1990-05-01 and a woman born 1995-03-08.
pub const HUSBAND: &str = "210502199005010014";
pub const WIFE: &str = "210502199503080023";
pub const OTHER_WOMAN: &str = "210502199601010029";
pub const OTHER_MAN: &str = "210502198801010010";
/// The day the tests start on.
pub const FIRST_DAY: time::Date = date!(2025 - 06 - 01);

pub type Client = CivilRegistryServiceClient<Channel>;

/// Benxi's city and its six county-level divisions (one marriage registry each), as the
/// place-names service records them from its reference file.
const BENXI_DIVISIONS: [(&str, &str, common::RegionLevel, &str); 7] = [
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
];

/// Plays the place-names service: Benxi's city and six county-level divisions
/// ([`BENXI_DIVISIONS`]), valid from 2023-06-30.
pub fn place_names() -> PlaceNamesStandIn {
    PlaceNamesStandIn::new(&BENXI_DIVISIONS, date!(2023 - 06 - 30))
}

/// Plays the assistance service, which does not exist yet: its store holds the events its
/// contract (`proto/minzheng/assistance/v1/events.proto`) describes, written at start.
#[derive(Debug)]
pub struct AssistanceStandIn {
    pub events: Vec<(&'static str, Vec<u8>)>,
}

#[async_trait::async_trait]
impl ServiceModule for AssistanceStandIn {
    fn name(&self) -> &'static str {
        "assistance"
    }

    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder> {
        for (event_type, payload) in &self.events {
            context
                .store()
                .append(AppendRequest {
                    stream: StreamId::new("case", "210502-DB-2025-000123")?,
                    expected: ExpectedVersion::Any,
                    events: vec![NewEvent::new(*event_type, 1, payload.clone())],
                    metadata: Metadata::default(),
                })
                .await?;
        }
        Ok(server)
    }
}

/// The civil registry, its person streams keyed under the test key, today given by `clock`.
pub fn civil_registry(clock: &FixedClock) -> Module {
    Module::new(SecretString::from(PSEUDONYM_KEY)).with_clock(Arc::new(clock.clone()))
}

/// The civil registry embedded beside the place-names stand-in, on a clock at [`FIRST_DAY`],
/// once it knows Benxi's six registries.
pub async fn embedded() -> (TestHost, Client, FixedClock) {
    let clock = FixedClock::new(FIRST_DAY);
    let (host, client) = start(
        TestHost::embedded()
            .service(place_names())
            .service(civil_registry(&clock)),
    )
    .await;
    (host, client, clock)
}

/// Starts `services` (the civil registry among them, beside the place-names stand-in) and
/// waits until the civil registry knows Benxi's six registries.
pub async fn start(services: TestHostBuilder) -> (TestHost, Client) {
    let host = services.start().await;
    let mut client = client(&host).await;
    let registries = registries(&mut client).await;
    assert_eq!(registries.len(), 6, "{registries:?}");
    (host, client)
}

pub async fn client(host: &TestHost) -> Client {
    CivilRegistryServiceClient::new(host.channel("civilregistry").await)
}

/// Waits (60 s at most) until the registries of Benxi's six county-level divisions are known.
pub async fn registries(client: &mut Client) -> Vec<pb::Registry> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let registries = client
            .list_registries(pb::ListRegistriesRequest {
                as_of: day(date!(2025 - 06 - 01)),
                read: None,
            })
            .await
            .expect("public")
            .into_inner()
            .registries;
        if registries.len() == 6 || tokio::time::Instant::now() > deadline {
            return registries;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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

pub fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

/// A caseworker of the 平山区 registry.
pub fn staff() -> String {
    token(&[Role::Caseworker], &[PINGSHAN])
}

/// An approver of the 平山区 registry.
pub fn approver() -> String {
    token(&[Role::Approver], &[PINGSHAN])
}

/// An agency of the city: a booking portal, a hospital's system.
pub fn agency() -> String {
    token(&[Role::Agency], &[BENXI_CITY])
}

/// HUSBAND and WIFE.
pub fn parties() -> Vec<pb::Party> {
    vec![
        pb::Party {
            citizen: citizen(HUSBAND),
            name: "张三".into(),
        },
        pb::Party {
            citizen: citizen(WIFE),
            name: "李四".into(),
        },
    ]
}

/// Passed identity checks (document, face, e-signature) of each of `numbers`.
pub fn checks(numbers: &[&str]) -> Vec<pb::Verification> {
    numbers
        .iter()
        .flat_map(|n| {
            [
                pb::VerificationKind::IdDocument,
                pb::VerificationKind::FaceComparison,
                pb::VerificationKind::ESignature,
            ]
            .into_iter()
            .map(move |kind| pb::Verification {
                party: citizen(n),
                kind: kind.into(),
                method: "本溪市婚姻登记系统".into(),
                outcome: pb::VerificationOutcome::Passed.into(),
                score_permille: if kind == pb::VerificationKind::FaceComparison {
                    962
                } else {
                    0
                },
            })
        })
        .collect()
}

/// The fields an INVALID_ARGUMENT status names.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// Publishes one slot at 平山区 on `on`.
pub async fn publish(client: &mut Client, on: time::Date, slot: &str, capacity: u32) {
    client
        .publish_slots(with_token(
            pb::PublishSlotsRequest {
                metadata: metadata(),
                registry: region(PINGSHAN),
                day: day(on),
                slots: vec![pb::Slot {
                    slot_id: slot.into(),
                    capacity,
                }],
            },
            &approver(),
        ))
        .await
        .expect("slots published");
}

/// A marriage appointment at 平山区 on `on`, slot "0900", for `who`.
pub fn marriage_booking(on: time::Date, who: &[&str]) -> pb::BookAppointmentRequest {
    pb::BookAppointmentRequest {
        metadata: metadata(),
        registry: region(PINGSHAN),
        day: day(on),
        slot_id: "0900".into(),
        service: pb::AppointmentService::Marriage.into(),
        parties: who.iter().copied().filter_map(citizen).collect(),
    }
}

/// Moves the clock to `on` and checks `appointment` in.
pub async fn check_in(client: &mut Client, clock: &FixedClock, on: time::Date, appointment: &str) {
    clock.set(on);
    client
        .check_in_appointment(with_token(
            pb::CheckInAppointmentRequest {
                metadata: metadata(),
                appointment_id: appointment.to_owned(),
            },
            &staff(),
        ))
        .await
        .expect("checked in");
}

/// Books `service` for HUSBAND and WIFE on `on` at 平山区 (slot "1000", ten places) and checks
/// them in (the clock moves to `on`); returns the appointment id.
pub async fn attend(
    client: &mut Client,
    clock: &FixedClock,
    on: time::Date,
    service: pb::AppointmentService,
) -> String {
    publish(client, on, "1000", 10).await;
    let appointment = client
        .book_appointment(with_token(
            pb::BookAppointmentRequest {
                metadata: metadata(),
                registry: region(PINGSHAN),
                day: day(on),
                slot_id: "1000".into(),
                service: service.into(),
                parties: vec![citizen(HUSBAND).expect("set"), citizen(WIFE).expect("set")],
            },
            &staff(),
        ))
        .await
        .expect("booked")
        .into_inner()
        .appointment_id;
    check_in(client, clock, on, &appointment).await;
    appointment
}

/// The wedding day of [`marry`].
pub const WEDDING_DAY: time::Date = date!(2025 - 06 - 10);

/// A marriage registered, with the appointment it was registered at.
#[derive(Debug)]
pub struct Married {
    pub appointment_id: String,
    pub marriage: pb::RegisterMarriageResponse,
}

/// HUSBAND and WIFE book the one place of slot "0900" on [`WEDDING_DAY`] through the portal
/// (an agency), are checked in on the day and married.
pub async fn marry(client: &mut Client, clock: &FixedClock) -> Married {
    publish(client, WEDDING_DAY, "0900", 1).await;
    let appointment_id = client
        .book_appointment(with_token(
            marriage_booking(WEDDING_DAY, &[HUSBAND, WIFE]),
            &agency(),
        ))
        .await
        .expect("booked through the portal")
        .into_inner()
        .appointment_id;
    check_in(client, clock, WEDDING_DAY, &appointment_id).await;
    let marriage = client
        .register_marriage(with_token(
            pb::RegisterMarriageRequest {
                metadata: metadata(),
                appointment_id: appointment_id.clone(),
                parties: parties(),
                verifications: checks(&[HUSBAND, WIFE]),
            },
            &staff(),
        ))
        .await
        .expect("registered")
        .into_inner();
    Married {
        appointment_id,
        marriage,
    }
}

/// On 2026-01-05 (the clock moves there) a hospital's system notifies HUSBAND's death on
/// 2026-01-03 in 平山区.
pub async fn husband_dies(client: &mut Client, clock: &FixedClock) -> pb::RecordDeathResponse {
    clock.set(date!(2026 - 01 - 05));
    client
        .record_death(with_token(
            pb::RecordDeathRequest {
                metadata: metadata(),
                citizen: citizen(HUSBAND),
                name: "张三".into(),
                died_on: day(date!(2026 - 01 - 03)),
                county: region(PINGSHAN),
                source: pb::DeathSource::Hospital.into(),
                source_reference: "BX-2026-0001".into(),
            },
            &agency(),
        ))
        .await
        .expect("death notified by the hospital's system")
        .into_inner()
}

/// The funeral of `death_id` at the city's funeral home (cremated 2026-01-04, buried as
/// `burial` on 2026-01-05, basic fee ¥1,800).
pub async fn funeral(
    client: &mut Client,
    death_id: String,
    burial: pb::BurialType,
) -> pb::RecordFuneralServiceResponse {
    client
        .record_funeral_service(with_token(
            pb::RecordFuneralServiceRequest {
                metadata: metadata(),
                death_id,
                funeral_home: "本溪市殡仪馆".into(),
                cremated_on: day(date!(2026 - 01 - 04)),
                burial: burial.into(),
                buried_on: day(date!(2026 - 01 - 05)),
                basic_fee: Some(common::Money { fen: 180_000 }),
            },
            &staff(),
        ))
        .await
        .expect("funeral recorded")
        .into_inner()
}
