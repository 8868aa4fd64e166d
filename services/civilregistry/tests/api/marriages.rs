//! Marriage registration, and divorce applications.

use minzheng_host::testing::with_token;
use minzheng_proto::civilregistry::v1 as pb;
use time::macros::date;

use crate::support::{self, HUSBAND, WIFE, attend, checks, day, marry, metadata, parties, staff};

/// The certificate number is the appointment's, prefixed J (结婚证).
#[tokio::test]
async fn a_couple_is_married_with_a_certificate_numbered_after_their_appointment() {
    let (host, mut client, clock) = support::embedded().await;
    let married = marry(&mut client, &clock).await;
    assert_eq!(
        married.marriage.certificate_number,
        format!("J{}", married.appointment_id)
    );
    host.shutdown().await;
}

/// The service is stopped the day after a divorce application and started again on day 61:
/// the scheduler's first pass at start lapses it.
#[tokio::test]
async fn a_divorce_application_lapses_when_the_service_comes_back_after_day_60() {
    let (host, mut client, clock) = support::embedded().await;
    let wedding = attend(
        &mut client,
        &clock,
        date!(2025 - 06 - 10),
        pb::AppointmentService::Marriage,
    )
    .await;
    let married = client
        .register_marriage(with_token(
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
        .apply_for_divorce(with_token(
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

    let stopped = host.stop().await;
    clock.set(date!(2025 - 10 - 01));
    let host = stopped.start().await;
    let mut client = support::client(&host).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let state = loop {
        let found = client
            .get_divorce_application(with_token(
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
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(state.state(), pb::DivorceApplicationState::Lapsed);
    assert_eq!(state.closed_on, day(date!(2025 - 10 - 01)));
    host.shutdown().await;
}
