//! Institutions and their beds: admissions until the beds of a type are full, two admissions
//! racing for the last bed (embedded, and distributed on PostgreSQL where the race is real),
//! one institution at a time, transfers in one step, beds never below occupancy, repeated
//! admissions answered without recording twice, and divisions the place-names service does not
//! know.

use minzheng_host::testing::{TestHost, with_token};
use minzheng_proto::eldercare::v1 as pb;
use prost::Message as _;
use time::macros::date;

use crate::support::{
    self, Client, FIRST_DAY, PINGSHAN, UNKNOWN_STREET, admission, admit, born_1940, citizen_ref,
    count_of, day, elder, figures, institution, metadata, recorded, recorded_types, refusal_rule,
    region, register, registration, resident, staff,
};

/// Given an institution with 3 nursing-type beds, when three persons are admitted to them, then
/// a fourth is refused `no_free_bed` for that type (a general bed is still free), and the
/// institution shows its three residents by pseudonym.
#[tokio::test]
async fn admissions_fill_the_nursing_beds_and_the_next_is_refused_no_free_bed() {
    let (host, mut client, _clock) = support::embedded().await;
    let id = register(&mut client, 1, 3).await;

    let mut admitted = Vec::new();
    for n in 1..=3 {
        let answer = admit(&mut client, &id, &resident(n), pb::BedType::Nursing)
            .await
            .expect("a nursing-type bed is free");
        admitted.push(answer.elder_id);
    }
    let refused = admit(&mut client, &id, &resident(4), pb::BedType::Nursing)
        .await
        .expect_err("every nursing-type bed is taken");
    assert_eq!(refusal_rule(&refused), "no_free_bed");
    assert!(!refused.message().contains(&resident(4)));
    admit(&mut client, &id, &resident(4), pb::BedType::General)
        .await
        .expect("the general bed is free");

    let read = institution(&mut client, &id).await;
    let beds = figures(&read);
    assert_eq!((beds.nursing_beds, beds.nursing_occupied), (3, 3));
    assert_eq!((beds.general_beds, beds.general_occupied), (1, 1));
    let nursing: Vec<&str> = read
        .residents
        .iter()
        .filter(|r| r.bed_type() == pb::BedType::Nursing)
        .map(|r| r.elder_id.as_str())
        .collect();
    for elder_id in &admitted {
        assert!(nursing.contains(&elder_id.as_str()), "{read:?}");
    }
    assert!(
        read.residents
            .iter()
            .all(|r| r.elder_id.len() == 32 && r.admitted_on == day(FIRST_DAY)),
        "{read:?}"
    );
    // The refused admission recorded nothing.
    assert_eq!(count_of(&host, "ResidentAdmitted").await, 4);
    assert_eq!(count_of(&host, "PlacementStarted").await, 4);
    host.shutdown().await;
}

/// One nursing-type bed left and two persons admitted to it at once: exactly one wins, the
/// other is refused `no_free_bed`, and the institution holds as many residents as beds.
async fn two_admissions_race_for_the_last_bed(host: TestHost, mut client: Client) {
    let id = register(&mut client, 0, 2).await;
    admit(&mut client, &id, &resident(1), pb::BedType::Nursing)
        .await
        .expect("the first bed is free");

    let (mut first, mut second) = (client.clone(), client.clone());
    let (two, three) = (resident(2), resident(3));
    let (one, other) = tokio::join!(
        admit(&mut first, &id, &two, pb::BedType::Nursing),
        admit(&mut second, &id, &three, pb::BedType::Nursing),
    );
    let (winner, refusal) = match (one, other) {
        (Ok(winner), Err(refusal)) | (Err(refusal), Ok(winner)) => (winner, refusal),
        (one, other) => panic!("exactly one admission must win: {one:?}, {other:?}"),
    };
    assert_eq!(refusal_rule(&refusal), "no_free_bed");

    let read = institution(&mut client, &id).await;
    let beds = figures(&read);
    assert_eq!(beds.nursing_occupied, beds.nursing_beds, "{read:?}");
    assert_eq!(beds.nursing_occupied, 2);
    assert_eq!(read.residents.len(), 2);
    assert!(
        read.residents.iter().any(|r| r.elder_id == winner.elder_id),
        "{read:?}"
    );
    // The loser's bed and placement were never recorded.
    assert_eq!(count_of(&host, "ResidentAdmitted").await, 2);
    assert_eq!(count_of(&host, "PlacementStarted").await, 2);
    host.shutdown().await;
}

#[tokio::test]
async fn two_admissions_racing_for_the_last_bed_one_wins() {
    let (host, client, _clock) = support::embedded().await;
    two_admissions_race_for_the_last_bed(host, client).await;
}

/// The same race on PostgreSQL, where the two admissions run in concurrent transactions.
#[tokio::test]
async fn distributed_two_admissions_racing_for_the_last_bed_one_wins() {
    let (host, client, _clock) = support::distributed().await;
    two_admissions_race_for_the_last_bed(host, client).await;
}

/// A person living in one institution is refused `already_resident` by another, which keeps
/// its bed free.
#[tokio::test]
async fn a_resident_of_one_institution_is_refused_already_resident_in_another() {
    let (host, mut client, _clock) = support::embedded().await;
    let first = register(&mut client, 5, 5).await;
    let second = register(&mut client, 5, 5).await;
    assert_ne!(first, second);
    admit(&mut client, &first, &resident(1), pb::BedType::General)
        .await
        .expect("admitted to the first");

    let refused = admit(&mut client, &second, &resident(1), pb::BedType::General)
        .await
        .expect_err("one institution at a time");
    assert_eq!(refusal_rule(&refused), "already_resident");
    let read = institution(&mut client, &second).await;
    assert_eq!(figures(&read).general_occupied, 0);
    assert!(read.residents.is_empty());
    assert_eq!(elder(&mut client, &resident(1)).await.institution_id, first);
    host.shutdown().await;
}

/// A transfer (a discharge naming `to_institution_id`) leaves one bed and takes another in one
/// step; a transfer to an institution without a free bed changes neither.
#[tokio::test]
async fn a_transfer_moves_the_resident_in_one_step() {
    let (host, mut client, _clock) = support::embedded().await;
    let from = register(&mut client, 0, 2).await;
    let to = register(&mut client, 2, 0).await;
    let person = resident(1);
    admit(&mut client, &from, &person, pb::BedType::Nursing)
        .await
        .expect("admitted");

    let transfer = |bed_type: pb::BedType| pb::DischargeResidentRequest {
        metadata: metadata(),
        institution_id: from.clone(),
        resident: citizen_ref(&person),
        discharged_on: day(FIRST_DAY),
        reason: 0,
        to_institution_id: to.clone(),
        to_bed_type: bed_type.into(),
    };
    let refused = client
        .discharge_resident(with_token(transfer(pb::BedType::Nursing), &staff(PINGSHAN)))
        .await
        .expect_err("the other institution has no nursing-type bed");
    assert_eq!(refusal_rule(&refused), "no_free_bed");
    assert_eq!(
        figures(&institution(&mut client, &from).await).nursing_occupied,
        1
    );
    assert_eq!(elder(&mut client, &person).await.institution_id, from);

    client
        .discharge_resident(with_token(transfer(pb::BedType::General), &staff(PINGSHAN)))
        .await
        .expect("transferred");
    let left = institution(&mut client, &from).await;
    assert_eq!(figures(&left).nursing_occupied, 0);
    assert!(left.residents.is_empty());
    let arrived = institution(&mut client, &to).await;
    assert_eq!(figures(&arrived).general_occupied, 1);
    let record = elder(&mut client, &person).await;
    assert_eq!(record.institution_id, to);
    assert_eq!(record.bed_type(), pb::BedType::General);
    assert_eq!(arrived.residents.len(), 1);
    assert_eq!(arrived.residents[0].elder_id, record.elder_id);

    // Both institutions' events name each other, recorded by the one call.
    let events = recorded(&host).await;
    let discharged: Vec<pb::ResidentDischarged> = events
        .iter()
        .filter(|e| e.event_type == "minzheng.eldercare.v1.ResidentDischarged")
        .map(|e| pb::ResidentDischarged::decode(e.payload.clone()).expect("protobuf"))
        .collect();
    assert_eq!(discharged.len(), 1, "{discharged:?}");
    assert_eq!(discharged[0].transferred_to, to);
    assert_eq!(discharged[0].reason(), pb::DischargeReason::Transferred);
    let admitted: Vec<pb::ResidentAdmitted> = events
        .iter()
        .filter(|e| e.event_type == "minzheng.eldercare.v1.ResidentAdmitted")
        .map(|e| pb::ResidentAdmitted::decode(e.payload.clone()).expect("protobuf"))
        .collect();
    assert_eq!(admitted.len(), 2);
    assert_eq!(admitted[1].institution_id, to);
    assert_eq!(admitted[1].transferred_from, from);
    host.shutdown().await;
}

/// Beds of a type never drop below the residents in them: refused `beds_below_occupancy`; as
/// many as the residents is fine.
#[tokio::test]
async fn beds_cannot_drop_below_occupancy() {
    let (host, mut client, _clock) = support::embedded().await;
    let id = register(&mut client, 4, 3).await;
    for n in 1..=2 {
        admit(&mut client, &id, &resident(n), pb::BedType::Nursing)
            .await
            .expect("admitted");
    }
    let change = |nursing: u32| pb::ChangeBedsRequest {
        metadata: metadata(),
        institution_id: id.clone(),
        effective_on: day(FIRST_DAY),
        general: 4,
        nursing,
        reason: "护理楼改造".into(),
    };
    let refused = client
        .change_beds(with_token(change(1), &staff(PINGSHAN)))
        .await
        .expect_err("two residents in nursing-type beds");
    assert_eq!(refusal_rule(&refused), "beds_below_occupancy");
    assert_eq!(
        figures(&institution(&mut client, &id).await).nursing_beds,
        3
    );

    client
        .change_beds(with_token(change(2), &staff(PINGSHAN)))
        .await
        .expect("as many beds as residents");
    let beds = figures(&institution(&mut client, &id).await).clone();
    assert_eq!((beds.nursing_beds, beds.nursing_occupied), (2, 2));
    let refused = admit(&mut client, &id, &resident(3), pb::BedType::Nursing)
        .await
        .expect_err("the beds are full now");
    assert_eq!(refusal_rule(&refused), "no_free_bed");
    host.shutdown().await;
}

/// An admission repeated with the same facts (another idempotency key, as a retry after a lost
/// answer may have) answers as the first and records nothing more; the same person to another
/// bed type is no repeat.
#[tokio::test]
async fn a_repeated_admission_answers_without_recording_twice() {
    let (host, mut client, _clock) = support::embedded().await;
    let id = register(&mut client, 2, 2).await;
    let person = born_1940();
    let first = admit(&mut client, &id, &person, pb::BedType::Nursing)
        .await
        .expect("admitted");
    let recorded_before = recorded_types(&host).await;

    let again = admit(&mut client, &id, &person, pb::BedType::Nursing)
        .await
        .expect("the same admission answers");
    assert_eq!(again.elder_id, first.elder_id);
    assert_eq!(recorded_types(&host).await, recorded_before);
    assert_eq!(count_of(&host, "ResidentAdmitted").await, 1);
    let beds = figures(&institution(&mut client, &id).await).clone();
    assert_eq!((beds.nursing_occupied, beds.general_occupied), (1, 0));

    let other_bed = client
        .admit_resident(with_token(
            admission(&id, &person, pb::BedType::General),
            &staff(PINGSHAN),
        ))
        .await
        .expect_err("already living there in a nursing-type bed");
    assert_eq!(refusal_rule(&other_bed), "already_resident");
    host.shutdown().await;
}

/// An institution is registered only at a division the place-names service records.
#[tokio::test]
async fn an_institution_at_a_division_place_names_does_not_know_is_refused() {
    let (host, mut client, _clock) = support::embedded().await;
    let mut request = registration(10, 10);
    request.division = region(UNKNOWN_STREET);
    let refused = client
        .register_institution(with_token(request, &staff(PINGSHAN)))
        .await
        .expect_err("an unknown division");
    assert_eq!(refusal_rule(&refused), "unknown_division");
    assert!(recorded_types(&host).await.is_empty());
    let listed = client
        .list_institutions(pb::ListInstitutionsRequest::default())
        .await
        .expect("public")
        .into_inner();
    assert!(listed.institutions.is_empty());
    host.shutdown().await;
}

/// A registration retried with its idempotency key (the answer was lost) answers with the
/// institution it registered, and registers no second one.
#[tokio::test]
async fn a_retried_registration_answers_with_the_same_institution() {
    let (host, mut client, _clock) = support::embedded().await;
    let request = registration(10, 10);
    let first = client
        .register_institution(with_token(request.clone(), &staff(PINGSHAN)))
        .await
        .expect("registered")
        .into_inner();
    let retry = client
        .register_institution(with_token(request, &staff(PINGSHAN)))
        .await
        .expect("the retry answers")
        .into_inner();
    assert_eq!(retry.institution_id, first.institution_id);
    assert_eq!(count_of(&host, "InstitutionRegistered").await, 1);
    host.shutdown().await;
}

/// A person is elderly, and admitted to care, from their 60th birthday.
#[tokio::test]
async fn a_person_under_60_is_not_admitted() {
    let (host, mut client, _clock) = support::embedded().await;
    let id = register(&mut client, 2, 2).await;
    let refused = admit(
        &mut client,
        &id,
        &support::born_1990(),
        pb::BedType::General,
    )
    .await
    .expect_err("35 years old");
    assert_eq!(refusal_rule(&refused), "under_60");
    assert_eq!(
        figures(&institution(&mut client, &id).await).general_occupied,
        0
    );
    host.shutdown().await;
}

/// A discharge retried with its idempotency key (the answer was lost) gets the first answer,
/// as the contract promises every request that changes something, and frees one bed only.
#[tokio::test]
async fn a_retried_discharge_answers_as_the_first() {
    let (host, mut client, _clock) = support::embedded().await;
    let id = register(&mut client, 2, 2).await;
    let person = resident(1);
    admit(&mut client, &id, &person, pb::BedType::Nursing)
        .await
        .expect("admitted");
    let discharge = pb::DischargeResidentRequest {
        metadata: metadata(),
        institution_id: id.clone(),
        resident: citizen_ref(&person),
        discharged_on: day(FIRST_DAY),
        reason: pb::DischargeReason::Discharged.into(),
        to_institution_id: String::new(),
        to_bed_type: 0,
    };
    client
        .discharge_resident(with_token(discharge.clone(), &staff(PINGSHAN)))
        .await
        .expect("discharged");
    client
        .discharge_resident(with_token(discharge, &staff(PINGSHAN)))
        .await
        .expect("the retry gets the first answer");
    assert_eq!(count_of(&host, "ResidentDischarged").await, 1);
    host.shutdown().await;
}

/// A move retried with its idempotency key gets the first answer, and moves nothing more.
#[tokio::test]
async fn a_retried_move_answers_as_the_first() {
    let (host, mut client, _clock) = support::embedded().await;
    let id = register(&mut client, 2, 2).await;
    let person = resident(1);
    let mut admitted = admission(&id, &person, pb::BedType::General);
    admitted.admitted_on = day(date!(2025 - 06 - 20));
    client
        .admit_resident(with_token(admitted, &staff(PINGSHAN)))
        .await
        .expect("admitted");
    let mv = pb::MoveResidentRequest {
        metadata: metadata(),
        institution_id: id.clone(),
        resident: citizen_ref(&person),
        bed_type: pb::BedType::Nursing.into(),
        moved_on: day(FIRST_DAY),
    };
    client
        .move_resident(with_token(mv.clone(), &staff(PINGSHAN)))
        .await
        .expect("moved");
    client
        .move_resident(with_token(mv, &staff(PINGSHAN)))
        .await
        .expect("the retry gets the first answer");
    assert_eq!(count_of(&host, "ResidentMoved").await, 1);
    let beds = figures(&institution(&mut client, &id).await).clone();
    assert_eq!((beds.general_occupied, beds.nursing_occupied), (0, 1));
    host.shutdown().await;
}
