//! The civil-registry service over real gRPC. Distributed (PostgreSQL + NATS JetStream, as
//! `minzheng civilregistry` runs beside `minzheng placenames`): the registries arrive from the
//! place-names service's events; a marriage and then the death of one spouse reach JetStream on
//! the documented subjects, without personal data in any subject or header; the survivor is
//! widowed. Embedded (SQLite, as `minzheng dev`): the same registries through the in-process
//! feed, and the indicators. Both check that malformed input is INVALID_ARGUMENT naming the
//! field.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use futures::StreamExt as _;
use minzheng_host::{
    Host, Mode, RunningHost,
    testing::{self, TestHost},
};
use minzheng_kit::{
    auth::{Authenticator, Role, mint_dev_token},
    clock::FixedClock,
    settings::PlatformSettings,
};
use minzheng_proto::{
    civilregistry::v1::{self as pb, civil_registry_service_client::CivilRegistryServiceClient},
    common::v1 as common,
    placenames::v1::{self as placenames, place_names_service_client::PlaceNamesServiceClient},
};
use minzheng_testkit::{TestDatabase, nats, nats_url, unique_name};
use prost::Message as _;
use secrecy::SecretString;
use time::macros::date;
use tonic::{Code, Request, transport::Channel};
use tonic_types::StatusExt as _;

const SECRET: &str = "civilregistry-test-secret-at-least-32-bytes";
const PSEUDONYM_KEY: &str = "civilregistry-test-pseudonym-key-32-bytes";
const BENXI: &str = include_str!("../../placenames/data/benxi-divisions.csv");
const PINGSHAN: &str = "210502000000";
/// A man born 1990-05-01 and a woman born 1995-03-08.
const HUSBAND: &str = "210502199005010014";
const WIFE: &str = "210502199503080023";
const OTHER_WOMAN: &str = "210502199601010029";
const OTHER_MAN: &str = "210502198801010010";

type Client = CivilRegistryServiceClient<Channel>;

fn code(digits: &str) -> Option<common::RegionCode> {
    Some(common::RegionCode {
        code: digits.to_owned(),
    })
}

fn day(d: time::Date) -> Option<common::Date> {
    Some(d.into())
}

fn citizen(number: &str) -> Option<common::CitizenRef> {
    Some(common::CitizenRef {
        citizen_id: number.to_owned(),
    })
}

fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

fn token(roles: &[Role], region: &str) -> String {
    mint_dev_token(
        &SecretString::from(SECRET),
        "tester",
        roles,
        &[minzheng_types::RegionCode::parse(region).expect("valid region")],
        Duration::from_secs(600),
    )
    .expect("token")
}

fn as_<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}

fn staff() -> String {
    token(&[Role::Caseworker], PINGSHAN)
}

fn approver() -> String {
    token(&[Role::Approver], PINGSHAN)
}

fn agency() -> String {
    token(&[Role::Agency], "210500000000")
}

fn parties() -> Vec<pb::Party> {
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

fn checks(numbers: &[&str]) -> Vec<pb::Verification> {
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

fn civil_registry(clock: &FixedClock) -> minzheng_civilregistry::Module {
    minzheng_civilregistry::Module::new(SecretString::from(PSEUDONYM_KEY))
        .with_clock(Arc::new(clock.clone()))
}

async fn client(host: &RunningHost) -> Client {
    CivilRegistryServiceClient::connect(format!("http://{}", host.local_addr()))
        .await
        .expect("connects")
}

/// The field named by an INVALID_ARGUMENT status.
fn bad_fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// Waits until the registries of Benxi's six county-level divisions are known.
async fn registries(client: &mut Client) -> Vec<pb::Registry> {
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

/// Malformed requests are INVALID_ARGUMENT naming each bad field; nothing is recorded.
async fn malformed_input_is_refused_by_field(client: &mut Client) {
    let status = client
        .book_appointment(as_(
            pb::BookAppointmentRequest {
                metadata: metadata(),
                registry: code("210502001000"),
                day: Some(common::Date {
                    year: 2025,
                    month: 2,
                    day: 30,
                }),
                slot_id: "2500".into(),
                service: 0,
                parties: vec![common::CitizenRef {
                    citizen_id: "210502199005010015".into(),
                }],
            },
            &staff(),
        ))
        .await
        .expect_err("malformed");
    let fields = bad_fields(&status);
    for field in [
        "registry.code",
        "day",
        "slot_id",
        "service",
        "parties[0].citizen_id",
    ] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not in {fields:?}"
        );
    }
    assert!(!status.message().contains("210502199005010015"));

    let status = client
        .register_marriage(as_(
            pb::RegisterMarriageRequest {
                metadata: None,
                appointment_id: "210502-2025-001".into(),
                parties: vec![parties()[0].clone()],
                verifications: vec![pb::Verification::default()],
            },
            &staff(),
        ))
        .await
        .expect_err("malformed");
    let fields = bad_fields(&status);
    for field in [
        "metadata.idempotency_key",
        "appointment_id",
        "parties",
        "verifications[0].kind",
    ] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not in {fields:?}"
        );
    }

    let status = client
        .get_marital_status(pb::GetMaritalStatusRequest {
            citizen: citizen(WIFE),
            as_of: None,
            read: None,
        })
        .await
        .expect_err("needs a token");
    assert_eq!(status.code(), Code::Unauthenticated);
}

/// Every RPC answers a malformed request with INVALID_ARGUMENT naming at least the field given
/// here (an empty request leaves required fields out; the rest get a bad value).
async fn every_rpc_names_the_malformed_field(client: &mut Client) {
    let bad_date = Some(common::Date {
        year: 2025,
        month: 13,
        day: 1,
    });
    let t = staff();
    let a = approver();
    macro_rules! check {
        ($rpc:ident, $request:expr, $field:expr) => {{
            let status = client
                .$rpc(as_($request, &t))
                .await
                .expect_err(concat!(stringify!($rpc), " must refuse"));
            let fields = bad_fields(&status);
            assert!(
                fields.iter().any(|f| f == $field),
                "{}: {} not in {fields:?}",
                stringify!($rpc),
                $field
            );
        }};
    }
    let status = client
        .publish_slots(as_(pb::PublishSlotsRequest::default(), &a))
        .await
        .expect_err("publish_slots must refuse");
    assert!(bad_fields(&status).iter().any(|f| f == "registry.code"));
    let status = client
        .set_counselling_room(as_(pb::SetCounsellingRoomRequest::default(), &a))
        .await
        .expect_err("set_counselling_room must refuse");
    assert!(bad_fields(&status).iter().any(|f| f == "since"));
    check!(list_slots, pb::ListSlotsRequest::default(), "registry.code");
    check!(
        book_appointment,
        pb::BookAppointmentRequest::default(),
        "slot_id"
    );
    check!(
        reschedule_appointment,
        pb::RescheduleAppointmentRequest::default(),
        "appointment_id"
    );
    check!(
        cancel_appointment,
        pb::CancelAppointmentRequest::default(),
        "appointment_id"
    );
    check!(
        check_in_appointment,
        pb::CheckInAppointmentRequest::default(),
        "appointment_id"
    );
    check!(
        get_appointment,
        pb::GetAppointmentRequest::default(),
        "appointment_id"
    );
    check!(
        list_registries,
        pb::ListRegistriesRequest {
            as_of: bad_date,
            read: None
        },
        "as_of"
    );
    check!(
        register_marriage,
        pb::RegisterMarriageRequest::default(),
        "appointment_id"
    );
    check!(
        reissue_marriage_certificate,
        pb::ReissueMarriageCertificateRequest::default(),
        "marriage_id"
    );
    check!(
        backfill_marriage,
        pb::BackfillMarriageRequest::default(),
        "archive_reference"
    );
    check!(
        attach_archive_document,
        pb::AttachArchiveDocumentRequest {
            metadata: metadata(),
            record_id: "J210502-20250610-001".into(),
            document: Some(pb::ArchiveDocument {
                document_id: "p1".into(),
                sha256: "not-a-hash".into(),
                storage_uri: "s3://archive/p1.pdf".into(),
                media_type: "application/pdf".into(),
            }),
        },
        "document.sha256"
    );
    check!(
        get_marriage,
        pb::GetMarriageRequest::default(),
        "marriage_id"
    );
    check!(
        get_marital_status,
        pb::GetMaritalStatusRequest::default(),
        "citizen.citizen_id"
    );
    check!(
        apply_for_divorce,
        pb::ApplyForDivorceRequest::default(),
        "marriage_id"
    );
    check!(
        withdraw_divorce_application,
        pb::WithdrawDivorceApplicationRequest::default(),
        "application_id"
    );
    check!(
        register_divorce,
        pb::RegisterDivorceRequest::default(),
        "application_id"
    );
    check!(
        backfill_divorce,
        pb::BackfillDivorceRequest::default(),
        "archive_reference"
    );
    check!(
        get_divorce_application,
        pb::GetDivorceApplicationRequest::default(),
        "application_id"
    );
    check!(
        record_death,
        pb::RecordDeathRequest::default(),
        "citizen.citizen_id"
    );
    check!(
        record_funeral_service,
        pb::RecordFuneralServiceRequest::default(),
        "death_id"
    );
    check!(get_death, pb::GetDeathRequest::default(), "death_id");
    check!(get_indicators, pb::GetIndicatorsRequest::default(), "from");
}

/// A marriage on a fully used slot is refused; the marriage is registered; one spouse dies and
/// the other is widowed. Returns the marriage id and the death id.
async fn marriage_then_death(client: &mut Client, clock: &FixedClock) -> (String, String) {
    let wedding_day = date!(2025 - 06 - 10);
    publish(client, wedding_day, "0900", 1).await;
    let book = |who: Vec<&str>| pb::BookAppointmentRequest {
        metadata: metadata(),
        registry: code(PINGSHAN),
        day: day(wedding_day),
        slot_id: "0900".into(),
        service: pb::AppointmentService::Marriage.into(),
        parties: who.into_iter().filter_map(citizen).collect(),
    };
    let appointment = client
        .book_appointment(as_(book(vec![HUSBAND, WIFE]), &agency()))
        .await
        .expect("booked through the portal")
        .into_inner()
        .appointment_id;
    let full = client
        .book_appointment(as_(book(vec![OTHER_MAN, OTHER_WOMAN]), &agency()))
        .await
        .expect_err("the slot is full");
    assert_eq!(full.code(), Code::FailedPrecondition);
    assert_eq!(
        full.get_details_error_info()
            .map(|info| info.reason)
            .as_deref(),
        Some("slot_fully_booked"),
        "{full:?}"
    );

    check_in(client, clock, wedding_day, &appointment).await;
    let married = client
        .register_marriage(as_(
            pb::RegisterMarriageRequest {
                metadata: metadata(),
                appointment_id: appointment.clone(),
                parties: parties(),
                verifications: checks(&[HUSBAND, WIFE]),
            },
            &staff(),
        ))
        .await
        .expect("registered")
        .into_inner();
    assert_eq!(married.certificate_number, format!("J{appointment}"));

    clock.set(date!(2026 - 01 - 05));
    let death = client
        .record_death(as_(
            pb::RecordDeathRequest {
                metadata: metadata(),
                citizen: citizen(HUSBAND),
                name: "张三".into(),
                died_on: day(date!(2026 - 01 - 03)),
                county: code(PINGSHAN),
                source: pb::DeathSource::Hospital.into(),
                source_reference: "BX-2026-0001".into(),
            },
            &agency(),
        ))
        .await
        .expect("death notified by the hospital's system")
        .into_inner();

    let status = |as_of| pb::GetMaritalStatusRequest {
        citizen: citizen(WIFE),
        as_of: day(as_of),
        read: death.result.map(|r| common::ReadOptions {
            min_position: r.position,
        }),
    };
    let before = client
        .get_marital_status(as_(status(date!(2026 - 01 - 03)), &staff()))
        .await
        .expect("status")
        .into_inner();
    assert_eq!(before.status(), pb::MaritalStatus::Married);
    let after = client
        .get_marital_status(as_(status(date!(2026 - 01 - 05)), &staff()))
        .await
        .expect("status")
        .into_inner();
    assert_eq!(after.status(), pb::MaritalStatus::Widowed);
    assert_eq!(after.since, day(date!(2026 - 01 - 04)));
    assert_eq!(after.marriage_id, married.marriage_id);
    assert_eq!(after.record_id, death.death_id);
    assert_eq!(after.certificate_number, married.certificate_number);
    (married.marriage_id, death.death_id)
}

#[tokio::test]
async fn a_marriage_and_a_death_reach_jetstream_and_the_survivor_is_widowed() {
    let placenames_db = TestDatabase::create().await;
    let registry_db = TestDatabase::create().await;
    let prefix = unique_name("cr").to_lowercase();
    let nats_client = nats().await;
    let mut subscriber = nats_client
        .subscribe(format!("{prefix}.civilregistry.>"))
        .await
        .expect("subscribed");
    nats_client.flush().await.expect("flushed");
    let settings = |db: &TestDatabase| PlatformSettings {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: Some(SecretString::from(db.url.clone())),
        nats_url: Some(nats_url()),
        ..PlatformSettings::default()
    };
    let authenticator = || Authenticator::dev(&SecretString::from(SECRET)).expect("secret");

    // The place-names service, as `minzheng placenames`, with Benxi's divisions.
    let places = Host::new(Mode::Distributed, settings(&placenames_db))
        .module(minzheng_placenames::Module::default())
        .authenticator(authenticator())
        .bus_prefix(&prefix)
        .start()
        .await
        .expect("placenames starts");
    PlaceNamesServiceClient::connect(format!("http://{}", places.local_addr()))
        .await
        .expect("connects")
        .import_divisions(as_(
            placenames::ImportDivisionsRequest {
                metadata: metadata(),
                csv: BENXI.as_bytes().to_vec(),
                valid_from: day(date!(2023 - 06 - 30)),
            },
            &token(&[Role::Operator], "210000000000"),
        ))
        .await
        .expect("imported");

    // The civil registry, as `minzheng civilregistry`, on its own database.
    let clock = FixedClock::new(date!(2025 - 06 - 01));
    let host = Host::new(Mode::Distributed, settings(&registry_db))
        .module(civil_registry(&clock))
        .authenticator(authenticator())
        .bus_prefix(&prefix)
        .start()
        .await
        .expect("civilregistry starts");
    let mut client = client(&host).await;
    let registries = registries(&mut client).await;
    assert_eq!(registries.len(), 6, "{registries:?}");
    assert!(registries.iter().any(|r| r.name == "平山区"));

    malformed_input_is_refused_by_field(&mut client).await;
    let (marriage_id, death_id) = marriage_then_death(&mut client, &clock).await;

    // What an agency subscribed to the service's subjects receives.
    let expected = [
        "registry_day.slots_published",
        "registry_day.appointment_booked",
        "registry_day.appointment_checked_in",
        "marriage.registered",
        "person.marital_status_changed",
        "death.recorded",
        "person.deceased",
        "marriage.dissolved",
    ];
    let mut subjects: BTreeMap<String, usize> = BTreeMap::new();
    let mut death_message = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let status_changes = format!("{prefix}.civilregistry.person.marital_status_changed");
    // Both spouses married, then the survivor widowed: three status changes.
    while !expected
        .iter()
        .all(|e| subjects.contains_key(&format!("{prefix}.civilregistry.{e}")))
        || subjects.get(&status_changes) < Some(&3)
    {
        let message = tokio::time::timeout_at(deadline, subscriber.next())
            .await
            .unwrap_or_else(|_| panic!("events missing; got {subjects:?}"))
            .expect("subscription open");
        let headers = message.headers.clone().unwrap_or_default();
        // No personal data in any subject or header.
        let mut visible = message.subject.to_string();
        for (name, values) in headers.iter() {
            visible.push_str(name.as_ref());
            for value in values {
                visible.push_str(value.as_str());
            }
        }
        for number in [HUSBAND, WIFE, OTHER_WOMAN, OTHER_MAN] {
            assert!(
                !visible.contains(number),
                "a citizen id in {}",
                message.subject
            );
        }
        let header = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
        assert!(header("ce-id").is_some() && header("Nats-Msg-Id") == header("ce-id"));
        assert_eq!(
            header("content-type").as_deref(),
            Some("application/protobuf")
        );
        if message.subject.as_str() == format!("{prefix}.civilregistry.death.recorded") {
            assert_eq!(
                header("ce-type").as_deref(),
                Some("minzheng.civilregistry.v1.DeathRecorded")
            );
            death_message = Some(message.payload.clone());
        }
        *subjects.entry(message.subject.to_string()).or_default() += 1;
    }
    let death = pb::DeathRecorded::decode(death_message.expect("seen")).expect("protobuf");
    assert_eq!(death.death_id, death_id);
    assert_eq!(
        death.citizen.map(|c| c.citizen_id).as_deref(),
        Some(HUSBAND)
    );
    assert!(!marriage_id.is_empty());

    host.shutdown().await.expect("stops");
    places.shutdown().await.expect("stops");
    let js = async_nats::jetstream::new(nats_client);
    for stream in ["CIVILREGISTRY", "PLACENAMES"] {
        let _ = js
            .delete_stream(format!("{}_{stream}", prefix.to_ascii_uppercase()))
            .await;
    }
}

/// Plays the assistance service, which does not exist yet: its store holds the events its
/// contract (`proto/minzheng/assistance/v1/events.proto`) describes, written at start.
struct AssistanceStandIn {
    events: Vec<(&'static str, Vec<u8>)>,
}

#[async_trait::async_trait]
impl minzheng_host::ServiceModule for AssistanceStandIn {
    fn name(&self) -> &'static str {
        "assistance"
    }

    async fn start(
        &self,
        context: &minzheng_host::ServiceContext,
        server: minzheng_kit::server::ServerBuilder,
    ) -> anyhow::Result<minzheng_kit::server::ServerBuilder> {
        use minzheng_eventstore::{AppendRequest, ExpectedVersion, Metadata, NewEvent, StreamId};
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

#[tokio::test]
async fn a_household_in_assistance_has_the_basic_funeral_fee_waived() {
    use minzheng_proto::assistance::v1 as assistance;
    let dir = tempfile::tempdir().expect("temporary directory");
    let settings = PlatformSettings {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: dir.path().to_owned(),
        ..PlatformSettings::default()
    };
    let granted = assistance::AssistanceGranted {
        case_id: "210502-DB-2025-000123".into(),
        category: assistance::AssistanceCategory::Dibao.into(),
        county: code(PINGSHAN),
        members: vec![
            common::CitizenRef {
                citizen_id: HUSBAND.into(),
            },
            common::CitizenRef {
                citizen_id: WIFE.into(),
            },
        ],
        effective_from: day(date!(2025 - 01 - 01)),
    };
    let clock = FixedClock::new(date!(2025 - 06 - 01));
    let host = Host::new(Mode::Embedded, settings)
        .module(minzheng_placenames::Module::default().with_seed(minzheng_placenames::BENXI))
        .module(AssistanceStandIn {
            events: vec![(
                "minzheng.assistance.v1.AssistanceGranted",
                granted.encode_to_vec(),
            )],
        })
        .module(civil_registry(&clock))
        .authenticator(Authenticator::dev(&SecretString::from(SECRET)).expect("secret"))
        .start()
        .await
        .expect("host starts");
    let mut client = client(&host).await;
    assert_eq!(registries(&mut client).await.len(), 6);
    // The grant has reached the civil registry once its consumer has stored it.
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("civilregistry.db").display()
    ))
    .await
    .expect("the service's database");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM cr_assistance_events")
        .fetch_one(&db)
        .await
        .expect("table exists")
        == 0
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the grant never arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (_, death_id) = marriage_then_death(&mut client, &clock).await;
    let funeral = client
        .record_funeral_service(as_(
            pb::RecordFuneralServiceRequest {
                metadata: metadata(),
                death_id,
                funeral_home: "本溪市殡仪馆".into(),
                cremated_on: day(date!(2026 - 01 - 04)),
                burial: pb::BurialType::Sea.into(),
                buried_on: day(date!(2026 - 01 - 05)),
                basic_fee: Some(common::Money { fen: 180_000 }),
            },
            &staff(),
        ))
        .await
        .expect("funeral recorded")
        .into_inner();
    let waiver = funeral
        .waiver
        .expect("a 低保 household's basic fee is waived");
    assert_eq!(waiver.category(), assistance::AssistanceCategory::Dibao);
    assert_eq!(waiver.case_id, "210502-DB-2025-000123");
    assert_eq!(waiver.waived.map(|m| m.fen), Some(180_000));
    assert_eq!(funeral.payable.map(|m| m.fen), Some(0));
    db.close().await;
    host.shutdown().await.expect("stops");
}

/// Moves the clock to `on` and checks `appointment` in.
async fn check_in(client: &mut Client, clock: &FixedClock, on: time::Date, appointment: &str) {
    clock.set(on);
    client
        .check_in_appointment(as_(
            pb::CheckInAppointmentRequest {
                metadata: metadata(),
                appointment_id: appointment.to_owned(),
            },
            &staff(),
        ))
        .await
        .expect("checked in");
}

/// Publishes one slot at 平山区 on `on`.
async fn publish(client: &mut Client, on: time::Date, slot: &str, capacity: u32) {
    client
        .publish_slots(as_(
            pb::PublishSlotsRequest {
                metadata: metadata(),
                registry: code(PINGSHAN),
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

/// Books `service` for HUSBAND and WIFE on `on` at 平山区 and checks them in (the clock moves to
/// `on`); returns the appointment id.
async fn attend(
    client: &mut Client,
    clock: &FixedClock,
    on: time::Date,
    service: pb::AppointmentService,
) -> String {
    publish(client, on, "1000", 10).await;
    let appointment = client
        .book_appointment(as_(
            pb::BookAppointmentRequest {
                metadata: metadata(),
                registry: code(PINGSHAN),
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

/// The service is stopped the day after a divorce application and started again on day 61:
/// the scheduler's first pass at start lapses it.
#[tokio::test]
async fn a_divorce_application_lapses_when_the_service_comes_back_after_day_60() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let settings = PlatformSettings {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: dir.path().to_owned(),
        ..PlatformSettings::default()
    };
    let start = |clock: &FixedClock| {
        Host::new(Mode::Embedded, settings.clone())
            .module(minzheng_placenames::Module::default().with_seed(minzheng_placenames::BENXI))
            .module(civil_registry(clock))
            .authenticator(Authenticator::dev(&SecretString::from(SECRET)).expect("secret"))
            .start()
    };
    let clock = FixedClock::new(date!(2025 - 06 - 01));
    let host = start(&clock).await.expect("host starts");
    let mut client = client(&host).await;
    assert_eq!(registries(&mut client).await.len(), 6);
    let wedding = attend(
        &mut client,
        &clock,
        date!(2025 - 06 - 10),
        pb::AppointmentService::Marriage,
    )
    .await;
    let married = client
        .register_marriage(as_(
            pb::RegisterMarriageRequest {
                metadata: metadata(),
                appointment_id: wedding,
                parties: parties(),
                verifications: checks(&[HUSBAND, WIFE]),
            },
            &staff(),
        ))
        .await
        .expect("registered")
        .into_inner();
    let applied_on = date!(2025 - 08 - 01);
    let filing = attend(
        &mut client,
        &clock,
        applied_on,
        pb::AppointmentService::DivorceApplication,
    )
    .await;
    let application = client
        .apply_for_divorce(as_(
            pb::ApplyForDivorceRequest {
                metadata: metadata(),
                appointment_id: filing,
                marriage_id: married.marriage_id,
                verifications: checks(&[HUSBAND, WIFE]),
            },
            &staff(),
        ))
        .await
        .expect("received")
        .into_inner();
    assert_eq!(application.last_day_to_register, day(date!(2025 - 09 - 30)));
    host.shutdown().await.expect("stops");

    clock.set(date!(2025 - 10 - 01));
    let host = start(&clock).await.expect("host starts again");
    let mut client = self::client(&host).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let state = loop {
        let found = client
            .get_divorce_application(as_(
                pb::GetDivorceApplicationRequest {
                    application_id: application.application_id.clone(),
                },
                &staff(),
            ))
            .await
            .expect("kept")
            .into_inner()
            .application
            .expect("an application");
        if found.state() != pb::DivorceApplicationState::Pending
            || tokio::time::Instant::now() > deadline
        {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(state.state(), pb::DivorceApplicationState::Lapsed);
    assert_eq!(state.closed_on, day(date!(2025 - 10 - 01)));
    host.shutdown().await.expect("stops");
}

#[tokio::test]
async fn embedded_mode_knows_the_registries_and_computes_the_indicators() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let settings = PlatformSettings {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: dir.path().to_owned(),
        ..PlatformSettings::default()
    };
    let clock = FixedClock::new(date!(2025 - 06 - 01));
    let host = Host::new(Mode::Embedded, settings)
        .module(minzheng_placenames::Module::default().with_seed(minzheng_placenames::BENXI))
        .module(civil_registry(&clock))
        .authenticator(Authenticator::dev(&SecretString::from(SECRET)).expect("secret"))
        .start()
        .await
        .expect("host starts");
    let mut client = client(&host).await;
    assert_eq!(registries(&mut client).await.len(), 6);
    malformed_input_is_refused_by_field(&mut client).await;
    every_rpc_names_the_malformed_field(&mut client).await;

    let opened = client
        .set_counselling_room(as_(
            pb::SetCounsellingRoomRequest {
                metadata: metadata(),
                registry: code(PINGSHAN),
                open: true,
                since: day(date!(2025 - 01 - 01)),
            },
            &approver(),
        ))
        .await
        .expect("opened")
        .into_inner();
    // Another county's approver cannot.
    let denied = client
        .set_counselling_room(as_(
            pb::SetCounsellingRoomRequest {
                metadata: metadata(),
                registry: code("210503000000"),
                open: true,
                since: day(date!(2025 - 01 - 01)),
            },
            &approver(),
        ))
        .await
        .expect_err("out of scope");
    assert_eq!(denied.code(), Code::PermissionDenied);

    let (_, death_id) = marriage_then_death(&mut client, &clock).await;
    let funeral = client
        .record_funeral_service(as_(
            pb::RecordFuneralServiceRequest {
                metadata: metadata(),
                death_id,
                funeral_home: "本溪市殡仪馆".into(),
                cremated_on: day(date!(2026 - 01 - 04)),
                burial: pb::BurialType::Tree.into(),
                buried_on: day(date!(2026 - 01 - 05)),
                basic_fee: Some(common::Money { fen: 180_000 }),
            },
            &staff(),
        ))
        .await
        .expect("funeral recorded")
        .into_inner();
    // Not in an assistance household: the family pays the basic fee.
    assert!(funeral.waiver.is_none());
    assert_eq!(funeral.payable.map(|m| m.fen), Some(180_000));

    let indicators = client
        .get_indicators(pb::GetIndicatorsRequest {
            from: day(date!(2026 - 01 - 01)),
            to: day(date!(2026 - 12 - 31)),
            read: Some(common::ReadOptions {
                min_position: opened.result.map_or(0, |r| r.position),
            }),
        })
        .await
        .expect("public")
        .into_inner();
    let city = indicators.city.expect("city-wide");
    assert_eq!(city.name, "本溪市");
    assert_eq!((city.burials, city.eco_burials), (1, 1));
    assert_eq!(city.eco_burial_rate_bp, 10_000);
    assert_eq!(
        (city.registries, city.registries_with_counselling_room),
        (6, 1)
    );
    assert_eq!(city.counselling_coverage_bp, 1_666);
    let pingshan = indicators
        .counties
        .iter()
        .find(|c| c.region.as_ref().map(|r| r.code.as_str()) == Some(PINGSHAN))
        .expect("平山区");
    assert_eq!(pingshan.counselling_coverage_bp, 10_000);
    host.shutdown().await.expect("stops");
}

/// Every RPC called with every role and without a token: the edge admits exactly what the
/// access policy says, in both hosting modes' shared edge (embedded here).
#[tokio::test]
async fn the_edge_enforces_the_access_policy_for_every_rpc_and_role() {
    let clock = FixedClock::new(date!(2025 - 06 - 01));
    let host = TestHost::embedded()
        .service(minzheng_placenames::Module::default())
        .service(civil_registry(&clock))
        .start()
        .await;
    testing::assert_access_matrix(
        host.channel("civilregistry").await,
        &minzheng_civilregistry::grpc::CivilRegistryApi::access(),
    )
    .await;
    host.shutdown().await;
}

#[test]
fn access_matrix_doc_is_current() {
    testing::assert_access_doc(
        env!("CARGO_MANIFEST_DIR"),
        "ACCESS.md",
        "Civil registry",
        &minzheng_civilregistry::grpc::CivilRegistryApi::access(),
    );
}

/// A read of a person's marital status is audited on the bus for a plain NATS subscriber: who,
/// role, purpose, the person by pseudonym, allowed or refused; no id number anywhere.
#[tokio::test]
async fn reads_of_personal_data_are_audited_on_the_bus() {
    use minzheng_proto::audit::v1 as audit;
    let clock = FixedClock::new(date!(2025 - 06 - 01));
    let host = TestHost::distributed()
        .service(civil_registry(&clock))
        .start()
        .await;
    let subject = format!("{}.civilregistry.audit.>", host.bus_prefix());
    let mut audits = host.nats().subscribe(subject).await.expect("subscribed");
    host.nats().flush().await.expect("flushed");
    let mut client = CivilRegistryServiceClient::new(host.channel("civilregistry").await);
    let read = || pb::GetMaritalStatusRequest {
        citizen: citizen(WIFE),
        as_of: None,
        read: None,
    };

    let mut allowed =
        testing::with_token(read(), &testing::token(&[Role::Auditor], &["210500000000"]));
    allowed.metadata_mut().insert(
        "x-access-purpose",
        "dibao review 2025-06".parse().expect("ascii"),
    );
    let answer = client
        .get_marital_status(allowed)
        .await
        .expect("an auditor reads");
    assert_eq!(
        answer.get_ref().status,
        i32::from(pb::MaritalStatus::NoRecord)
    );
    let refused = client
        .get_marital_status(testing::with_token(
            read(),
            &testing::token(&[Role::Operator], &["210500000000"]),
        ))
        .await
        .expect_err("operators do not read persons");
    assert_eq!(refused.code(), Code::PermissionDenied);

    let mut seen = Vec::new();
    while seen.len() < 2 {
        let message = tokio::time::timeout(Duration::from_secs(30), audits.next())
            .await
            .expect("the audit reaches the bus")
            .expect("subscription open");
        let headers = message.headers.clone().unwrap_or_default();
        assert_eq!(
            headers
                .get("ce-type")
                .map(|v| v.as_str().to_owned())
                .as_deref(),
            Some("minzheng.audit.v1.PersonalDataAccessed")
        );
        let mut visible = message.subject.to_string();
        for (name, values) in headers.iter() {
            visible.push_str(name.as_ref());
            values.iter().for_each(|v| visible.push_str(v.as_str()));
        }
        let event = audit::PersonalDataAccessed::decode(message.payload.clone()).expect("protobuf");
        assert!(
            !visible.contains(WIFE) && !format!("{event:?}").contains(WIFE),
            "no id number in the audit"
        );
        assert_eq!(
            message.subject.as_str(),
            format!(
                "{}.civilregistry.audit.personal_data_accessed",
                host.bus_prefix()
            )
        );
        seen.push(event);
    }
    let (allowed, refused) = (&seen[0], &seen[1]);
    assert_eq!(
        allowed.method,
        "minzheng.civilregistry.v1.CivilRegistryService/GetMaritalStatus"
    );
    assert_eq!(allowed.actor, "tester");
    assert_eq!(allowed.roles, ["auditor"]);
    assert_eq!(allowed.purpose, "dibao review 2025-06");
    assert_eq!(allowed.outcome, i32::from(audit::AccessOutcome::Allowed));
    assert_eq!(allowed.records.len(), 1, "{allowed:?}");
    assert_eq!(allowed.records[0].kind, "person");
    assert!(
        allowed.records[0].id.len() >= 32,
        "a pseudonym: {allowed:?}"
    );
    assert!(allowed.accessed_at.is_some());
    assert_eq!(refused.roles, ["operator"]);
    assert_eq!(refused.outcome, i32::from(audit::AccessOutcome::Refused));
    assert_eq!(refused.status_code, Code::PermissionDenied as i32);
    host.shutdown().await;
}
