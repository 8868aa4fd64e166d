//! Malformed requests are INVALID_ARGUMENT naming each bad field (the value never echoed);
//! nothing is recorded.

use minzheng_host::testing::with_token;
use minzheng_proto::{civilregistry::v1 as pb, common::v1 as common};

use crate::support::{self, approver, bad_fields, metadata, parties, staff};

#[tokio::test]
async fn a_malformed_booking_and_registration_name_every_bad_field() {
    let (host, mut client, _clock) = support::embedded().await;
    let status = client
        .book_appointment(with_token(
            pb::BookAppointmentRequest {
                metadata: metadata(),
                registry: support::region("210502001000"),
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
        .register_marriage(with_token(
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
    host.shutdown().await;
}

/// Every RPC answers a malformed request with INVALID_ARGUMENT naming at least the field given
/// here (an empty request leaves required fields out; the rest get a bad value).
#[tokio::test]
async fn every_rpc_names_the_malformed_field() {
    let (host, mut client, _clock) = support::embedded().await;
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
                .$rpc(with_token($request, &t))
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
        .publish_slots(with_token(pb::PublishSlotsRequest::default(), &a))
        .await
        .expect_err("publish_slots must refuse");
    assert!(bad_fields(&status).iter().any(|f| f == "registry.code"));
    let status = client
        .set_counselling_room(with_token(pb::SetCounsellingRoomRequest::default(), &a))
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
    host.shutdown().await;
}
