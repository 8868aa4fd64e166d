//! With its database cut, every RPC of the civil registry answers UNAVAILABLE (retry later),
//! promptly, and the service writes again once the database is back.

use std::time::Duration;

use bytes::Bytes;
use minzheng_civilregistry::grpc::CivilRegistryApi;
use minzheng_host::testing::{self, DatabaseCut, TestHost};
use minzheng_kit::clock::FixedClock;
use minzheng_proto::{civilregistry::v1 as pb, common::v1 as common};
use prost::Message as _;
use time::macros::date;

use crate::support::{
    FIRST_DAY, HUSBAND, OTHER_MAN, PINGSHAN, WIFE, checks, citizen, civil_registry, day, metadata,
    parties, place_names, region,
};

/// Small, so the test is quick; the bound on the answers is a few of these.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

const APPOINTMENT: &str = "210502-20250610-001";
const MARRIAGE: &str = "J210502-20250610-001";
const APPLICATION: &str = "D210502-20250610-001";
const DEATH: &str = "5f0c1d2e3f405162738495a6b7c8d9e0";

#[tokio::test]
async fn every_rpc_is_unavailable_while_the_database_is_cut_and_recovers() {
    let clock = FixedClock::new(FIRST_DAY);
    let host = TestHost::distributed()
        .through_proxy()
        .database_acquire_timeout(ACQUIRE_TIMEOUT)
        .service(place_names())
        .service(civil_registry(&clock))
        .start()
        .await;
    host.settle().await;
    let answers = testing::assert_every_rpc_unavailable_while_database_cut(
        &host,
        DatabaseCut {
            service: "civilregistry",
            policy: &CivilRegistryApi::access(),
            request: &valid_request,
            answered_from_memory: &[],
            recovery: (
                "PublishSlots",
                publish_slots(date!(2025 - 06 - 20)).encode_to_vec().into(),
            ),
        },
    )
    .await;
    let slowest = answers.iter().map(|a| a.took).max().unwrap_or_default();
    println!("civilregistry: slowest answer with the database cut {slowest:?}: {answers:?}");
    host.shutdown().await;
}

fn publish_slots(on: time::Date) -> pb::PublishSlotsRequest {
    pb::PublishSlotsRequest {
        metadata: metadata(),
        registry: region(PINGSHAN),
        day: day(on),
        slots: vec![pb::Slot {
            slot_id: "0900".into(),
            capacity: 2,
        }],
    }
}

/// A well-formed request of each RPC, naming Benxi's 平山区 registry and the ids above.
fn valid_request(method: &str) -> Option<Bytes> {
    let encoded = match method {
        "PublishSlots" => publish_slots(date!(2025 - 06 - 10)).encode_to_vec(),
        "ListSlots" => pb::ListSlotsRequest {
            registry: region(PINGSHAN),
            day: day(date!(2025 - 06 - 10)),
        }
        .encode_to_vec(),
        "BookAppointment" => pb::BookAppointmentRequest {
            metadata: metadata(),
            registry: region(PINGSHAN),
            day: day(date!(2025 - 06 - 10)),
            slot_id: "0900".into(),
            service: pb::AppointmentService::Marriage.into(),
            parties: [HUSBAND, WIFE].into_iter().filter_map(citizen).collect(),
        }
        .encode_to_vec(),
        "RescheduleAppointment" => pb::RescheduleAppointmentRequest {
            metadata: metadata(),
            appointment_id: APPOINTMENT.into(),
            day: day(date!(2025 - 06 - 11)),
            slot_id: "0900".into(),
        }
        .encode_to_vec(),
        "CancelAppointment" => pb::CancelAppointmentRequest {
            metadata: metadata(),
            appointment_id: APPOINTMENT.into(),
        }
        .encode_to_vec(),
        "CheckInAppointment" => pb::CheckInAppointmentRequest {
            metadata: metadata(),
            appointment_id: APPOINTMENT.into(),
        }
        .encode_to_vec(),
        "GetAppointment" => pb::GetAppointmentRequest {
            appointment_id: APPOINTMENT.into(),
        }
        .encode_to_vec(),
        "SetCounsellingRoom" => pb::SetCounsellingRoomRequest {
            metadata: metadata(),
            registry: region(PINGSHAN),
            open: true,
            since: day(FIRST_DAY),
        }
        .encode_to_vec(),
        "ListRegistries" => pb::ListRegistriesRequest {
            as_of: day(FIRST_DAY),
            read: None,
        }
        .encode_to_vec(),
        "RegisterMarriage" => pb::RegisterMarriageRequest {
            metadata: metadata(),
            appointment_id: APPOINTMENT.into(),
            parties: parties(),
            verifications: checks(&[HUSBAND, WIFE]),
        }
        .encode_to_vec(),
        "ReissueMarriageCertificate" => pb::ReissueMarriageCertificateRequest {
            metadata: metadata(),
            marriage_id: MARRIAGE.into(),
            appointment_id: APPOINTMENT.into(),
            verifications: checks(&[HUSBAND, WIFE]),
        }
        .encode_to_vec(),
        "BackfillMarriage" => pb::BackfillMarriageRequest {
            metadata: metadata(),
            archive_reference: "A-BX-2020-0123".into(),
            certificate_number: "本结字第0123号".into(),
            registry: region(PINGSHAN),
            registered_on: day(date!(2020 - 05 - 01)),
            parties: parties(),
        }
        .encode_to_vec(),
        "AttachArchiveDocument" => pb::AttachArchiveDocumentRequest {
            metadata: metadata(),
            record_id: MARRIAGE.into(),
            document: Some(pb::ArchiveDocument {
                document_id: "p1".into(),
                sha256: "ab".repeat(32),
                storage_uri: "s3://archive/p1.pdf".into(),
                media_type: "application/pdf".into(),
            }),
        }
        .encode_to_vec(),
        "GetMarriage" => pb::GetMarriageRequest {
            marriage_id: MARRIAGE.into(),
        }
        .encode_to_vec(),
        "GetMaritalStatus" => pb::GetMaritalStatusRequest {
            citizen: citizen(WIFE),
            as_of: None,
            read: None,
        }
        .encode_to_vec(),
        "ApplyForDivorce" => pb::ApplyForDivorceRequest {
            metadata: metadata(),
            appointment_id: APPOINTMENT.into(),
            marriage_id: MARRIAGE.into(),
            verifications: checks(&[HUSBAND, WIFE]),
        }
        .encode_to_vec(),
        "WithdrawDivorceApplication" => pb::WithdrawDivorceApplicationRequest {
            metadata: metadata(),
            application_id: APPLICATION.into(),
            by: citizen(HUSBAND),
        }
        .encode_to_vec(),
        "RegisterDivorce" => pb::RegisterDivorceRequest {
            metadata: metadata(),
            application_id: APPLICATION.into(),
            appointment_id: APPOINTMENT.into(),
            verifications: checks(&[HUSBAND, WIFE]),
        }
        .encode_to_vec(),
        "BackfillDivorce" => pb::BackfillDivorceRequest {
            metadata: metadata(),
            archive_reference: "DA-BX-2021-0045".into(),
            marriage_id: "A-BX-2020-0123".into(),
            certificate_number: "本离字第0045号".into(),
            registry: region(PINGSHAN),
            registered_on: day(date!(2021 - 01 - 05)),
        }
        .encode_to_vec(),
        "GetDivorceApplication" => pb::GetDivorceApplicationRequest {
            application_id: APPLICATION.into(),
        }
        .encode_to_vec(),
        "RecordDeath" => pb::RecordDeathRequest {
            metadata: metadata(),
            citizen: citizen(OTHER_MAN),
            name: "王五".into(),
            died_on: day(date!(2025 - 05 - 30)),
            county: region(PINGSHAN),
            source: pb::DeathSource::Hospital.into(),
            source_reference: "BX-2025-0001".into(),
        }
        .encode_to_vec(),
        "RecordFuneralService" => pb::RecordFuneralServiceRequest {
            metadata: metadata(),
            death_id: DEATH.into(),
            funeral_home: "本溪市殡仪馆".into(),
            cremated_on: day(date!(2025 - 05 - 31)),
            burial: pb::BurialType::Sea.into(),
            buried_on: day(FIRST_DAY),
            basic_fee: Some(common::Money { fen: 180_000 }),
        }
        .encode_to_vec(),
        "GetDeath" => pb::GetDeathRequest {
            death_id: DEATH.into(),
        }
        .encode_to_vec(),
        "GetIndicators" => pb::GetIndicatorsRequest {
            from: day(date!(2025 - 01 - 01)),
            to: day(FIRST_DAY),
            read: None,
        }
        .encode_to_vec(),
        _ => return None,
    };
    Some(encoded.into())
}
