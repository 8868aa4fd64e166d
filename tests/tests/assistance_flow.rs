//! Social assistance with the services it works with, as they run side by side: the real
//! place-names service (Benxi's divisions route the application), the real civil registry (it
//! waives a funeral fee for a household in assistance, and its death record changes the case),
//! the real data-sharing service (it answers the verification request through the bus, from the
//! human resources agency's record of the applicant's pension, loaded first), and the assistance
//! service.
//!
//! The scenario: a dibao application → the verification request on the bus → the data-sharing
//! service's result, computed from the loaded record → township review → 7 days of notice → the county's approval → `AssistanceGranted` →
//! a member dies: the civil registry waives the basic funeral fee → the case covers the one left
//! from the next month, at the amount re-computed for them. Over PostgreSQL and NATS (seen by a
//! plain NATS subscriber) and embedded, as `minzheng dev` runs it. And single-person coverage,
//! whose household member the case does not cover dies: the case is flagged for review.

use std::{sync::Arc, time::Duration};

use futures::StreamExt as _;
use minzheng_host::testing::{TestHost, TestHostBuilder, agency_token, token, with_token};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::{
    assistance::v1::{self as pb, assistance_service_client::AssistanceServiceClient},
    civilregistry::v1::{self as cr, civil_registry_service_client::CivilRegistryServiceClient},
    common::v1 as common,
    datasharing::v1::{self as ds, data_sharing_service_client::DataSharingServiceClient},
};
use secrecy::SecretString;
use time::{Date, macros::date};
use tonic::transport::Channel;

use minzheng_tests::scenario::{
    APPLICANT, NANDI, PINGSHAN, SUBMITTED, WIFE, application, approver, caseworker, citizen, day,
    metadata, region,
};

const KEY: &str = "assistance-flow-test-pseudonym-key-32-bytes";

/// The four services on one clock.
fn services(builder: TestHostBuilder, clock: &FixedClock) -> TestHostBuilder {
    builder
        .service(minzheng_placenames::Module::default().with_seed(minzheng_placenames::BENXI))
        .service(
            minzheng_civilregistry::Module::new(SecretString::from(KEY))
                .with_clock(Arc::new(clock.clone())),
        )
        .service(
            minzheng_assistance::Module::new(SecretString::from(KEY))
                .with_clock(Arc::new(clock.clone()))
                .with_seed(minzheng_assistance::module::Seed::benxi()),
        )
        .service(
            minzheng_datasharing::Module::default()
                .with_pseudonym_key(SecretString::from(KEY))
                .with_clock(Arc::new(clock.clone())),
        )
}

/// The human resources agency sends the applicant's pension of `fen` a month (as of the end of
/// 2025), which the verification finds.
async fn pension_on_record(host: &TestHost, fen: i64) {
    let mut client = DataSharingServiceClient::new(host.channel("datasharing").await);
    let message = ds::LoadAgencyRecordsRequest {
        agency: ds::Agency::HumanResources.into(),
        extract: "人社养老金发放 2025-12".into(),
        metadata: metadata(),
        records: vec![ds::LoadedRecord {
            line: 2,
            record: Some(ds::AgencyRecord {
                reference: "YL-2025-000017".into(),
                kind: ds::RecordKind::Pension.into(),
                citizen: citizen(APPLICANT),
                as_of: day(date!(2025 - 12 - 31)),
                amount: Some(common::Money { fen }),
                ..Default::default()
            }),
        }],
    };
    let loaded = client
        .load_agency_records(with_token(
            futures::stream::iter([message]),
            &agency_token("human_resources"),
        ))
        .await
        .expect("the agency's records load")
        .into_inner();
    assert_eq!(loaded.load.map(|l| l.recorded), Some(1));
}

struct Clients {
    assistance: AssistanceServiceClient<Channel>,
    registry: CivilRegistryServiceClient<Channel>,
}

impl Clients {
    async fn of(host: &TestHost) -> Self {
        Self {
            assistance: AssistanceServiceClient::new(host.channel("assistance").await),
            registry: CivilRegistryServiceClient::new(host.channel("civilregistry").await),
        }
    }
}

/// The scenario up to the grant: answers the case id.
async fn apply_and_grant(host: &TestHost, clients: &mut Clients, clock: &FixedClock) -> String {
    host.settle().await;
    let submitted = clients
        .assistance
        .submit_application(with_token(application(), &caseworker()))
        .await
        .expect("submitted at the window")
        .into_inner();
    assert!(
        submitted.case_id.starts_with("210502-DB-2026-"),
        "{submitted:?}"
    );
    assert_eq!(
        submitted.verification_request_id,
        format!("{}-V1", submitted.case_id)
    );
    // The data-sharing service answers through the bus.
    host.settle().await;
    let decided = minzheng_tests::scenario::review_notice_and_approve(
        &mut clients.assistance,
        clock,
        &submitted.case_id,
    )
    .await;
    // (665.00 − 400.00 ÷ 2) × 2 = 665.00 × 2 − 400.00 = 930.00 元, from February.
    let calculation = decided.calculation.expect("a calculation");
    assert_eq!(
        calculation.monthly_amount,
        Some(common::Money { fen: 93_000 })
    );
    submitted.case_id
}

/// The death of the wife on 2026-02-10 and her funeral; answers the funeral's waiver.
async fn wife_dies(clients: &mut Clients, clock: &FixedClock) -> Option<cr::FeeWaiver> {
    clock.set(date!(2026 - 02 - 11));
    let death = clients
        .registry
        .record_death(with_token(
            cr::RecordDeathRequest {
                metadata: metadata(),
                citizen: citizen(WIFE),
                name: "李四".into(),
                died_on: day(date!(2026 - 02 - 10)),
                county: region(PINGSHAN),
                source: cr::DeathSource::Hospital.into(),
                source_reference: "BX-2026-0042".into(),
            },
            &token(&[Role::Agency], &[PINGSHAN]),
        ))
        .await
        .expect("death notified")
        .into_inner();
    clients
        .registry
        .record_funeral_service(with_token(
            cr::RecordFuneralServiceRequest {
                metadata: metadata(),
                death_id: death.death_id,
                funeral_home: "本溪市殡仪馆".into(),
                cremated_on: day(date!(2026 - 02 - 11)),
                burial: cr::BurialType::Columbarium.into(),
                buried_on: day(date!(2026 - 02 - 11)),
                basic_fee: Some(common::Money { fen: 180_000 }),
            },
            &token(&[Role::Caseworker], &[PINGSHAN]),
        ))
        .await
        .expect("funeral recorded")
        .into_inner()
        .waiver
}

/// After the death: the husband alone from March at 665.00 − 400.00 = 265.00 元.
async fn assert_recomputed_for_the_one_left(clients: &mut Clients, case_id: &str) {
    let after = minzheng_tests::scenario::case(&mut clients.assistance, case_id).await;
    assert_eq!(after.stage(), pb::CaseStage::Active);
    assert_eq!(after.members, vec![citizen(APPLICANT).expect("a citizen")]);
    let explain = |month: Date| pb::ExplainBenefitRequest {
        case_id: case_id.to_owned(),
        month: day(month),
        read: None,
    };
    let february = clients
        .assistance
        .explain_benefit(with_token(explain(date!(2026 - 02 - 01)), &approver()))
        .await
        .expect("explained")
        .into_inner();
    assert_eq!(february.amount, Some(common::Money { fen: 93_000 }));
    let march = clients
        .assistance
        .explain_benefit(with_token(explain(date!(2026 - 03 - 01)), &approver()))
        .await
        .expect("explained")
        .into_inner();
    assert_eq!(
        march.amount,
        Some(common::Money { fen: 26_500 }),
        "{march:?}"
    );
    let formula = march.calculation.expect("a calculation").formula;
    assert!(formula.contains("265.00"), "{formula}");
}

#[tokio::test]
async fn distributed_an_application_is_granted_and_a_death_waives_the_fee_and_recomputes_the_case()
{
    let clock = FixedClock::new(SUBMITTED);
    let host = services(TestHost::distributed(), &clock).start().await;
    pension_on_record(&host, 40_000).await;
    let mut clients = Clients::of(&host).await;
    let prefix = host.bus_prefix().to_owned();
    let mut subscriber = host
        .nats()
        .subscribe(format!("{prefix}.assistance.case.>"))
        .await
        .expect("subscribed");
    host.nats().flush().await.expect("flushed");

    let case_id = apply_and_grant(&host, &mut clients, &clock).await;
    host.settle().await;
    let waiver = wife_dies(&mut clients, &clock).await;
    assert!(
        waiver.as_ref().is_some_and(|w| w.case_id == case_id),
        "the fee is waived for the household in assistance: {waiver:?}"
    );
    host.settle().await;
    assert_recomputed_for_the_one_left(&mut clients, &case_id).await;

    // What an agency subscribed to the case subjects received, in order.
    let wanted = [
        "application_submitted",
        "verification_requested",
        "verification_received",
        "township_reviewed",
        "notice_posted",
        "application_approved",
        "assistance_granted",
        "assistance_members_changed",
        "benefit_recalculated",
    ];
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen.len() < wanted.len() {
        let message = tokio::time::timeout_at(deadline, subscriber.next())
            .await
            .unwrap_or_else(|_| panic!("events missing; got {seen:?}"))
            .expect("subscription open");
        let mut visible = message.subject.to_string();
        for (name, values) in message.headers.clone().unwrap_or_default().iter() {
            visible.push_str(name.as_ref());
            for value in values {
                visible.push_str(value.as_str());
            }
        }
        for number in [APPLICANT, WIFE] {
            assert!(
                !visible.contains(number),
                "a citizen id in {}",
                message.subject
            );
        }
        let event = message
            .subject
            .strip_prefix(&format!("{prefix}.assistance.case."))
            .unwrap_or_default()
            .to_owned();
        if event == "benefit_recalculated" {
            let recalculated = pb::BenefitRecalculated::decode_from(&message.payload);
            assert_eq!(recalculated.effective_on, day(date!(2026 - 03 - 01)));
            assert_eq!(
                recalculated.previous_amount,
                Some(common::Money { fen: 93_000 })
            );
        }
        seen.push(event);
    }
    assert_eq!(seen, wanted);
    host.shutdown().await;
}

#[tokio::test]
async fn embedded_an_application_is_granted_and_a_death_waives_the_fee_and_recomputes_the_case() {
    let clock = FixedClock::new(SUBMITTED);
    let host = services(TestHost::embedded(), &clock).start().await;
    pension_on_record(&host, 40_000).await;
    let mut clients = Clients::of(&host).await;
    let case_id = apply_and_grant(&host, &mut clients, &clock).await;
    host.settle().await;
    let waiver = wife_dies(&mut clients, &clock).await;
    assert!(
        waiver.as_ref().is_some_and(|w| w.case_id == case_id),
        "the fee is waived for the household in assistance: {waiver:?}"
    );
    host.settle().await;
    assert_recomputed_for_the_one_left(&mut clients, &case_id).await;
    host.shutdown().await;
}

/// Single-person coverage (单人保) of the wife, seriously ill, in a household just above the
/// line (the husband earns 1,400 元: 700 元 per person, above 665 元 and at most 1.5 × 665 元):
/// when the husband, a member the case does not cover, dies, the case is flagged for review
/// (MEMBER_DIED) and keeps covering the wife at the same amount.
#[tokio::test]
async fn embedded_the_death_of_a_member_single_person_coverage_does_not_cover_flags_the_case() {
    let clock = FixedClock::new(SUBMITTED);
    let host = services(TestHost::embedded(), &clock).start().await;
    pension_on_record(&host, 140_000).await;
    let mut clients = Clients::of(&host).await;
    host.settle().await;
    let mut request = application();
    request.category = pb::AssistanceCategory::SinglePerson.into();
    request.covered_member = citizen(WIFE);
    request.members[1].seriously_ill = true;
    request.incomes[0].monthly = Some(common::Money { fen: 140_000 });
    let submitted = clients
        .assistance
        .submit_application(with_token(request, &caseworker()))
        .await
        .expect("submitted at the window")
        .into_inner();
    host.settle().await;
    let decided = minzheng_tests::scenario::review_notice_and_approve(
        &mut clients.assistance,
        &clock,
        &submitted.case_id,
    )
    .await;
    let amount = decided
        .calculation
        .and_then(|c| c.monthly_amount)
        .expect("an amount");
    assert!(amount.fen > 0, "{amount:?}");
    host.settle().await;

    clock.set(date!(2026 - 02 - 11));
    clients
        .registry
        .record_death(with_token(
            cr::RecordDeathRequest {
                metadata: metadata(),
                citizen: citizen(APPLICANT),
                name: "张三".into(),
                died_on: day(date!(2026 - 02 - 10)),
                county: region(PINGSHAN),
                source: cr::DeathSource::Hospital.into(),
                source_reference: "BX-2026-0043".into(),
            },
            &token(&[Role::Agency], &[PINGSHAN]),
        ))
        .await
        .expect("death notified");
    host.settle().await;

    let after = minzheng_tests::scenario::case(&mut clients.assistance, &submitted.case_id).await;
    assert_eq!(after.stage(), pb::CaseStage::Active, "{after:?}");
    assert_eq!(after.members, vec![citizen(WIFE).expect("a citizen")]);
    assert_eq!(
        after.flags().collect::<Vec<_>>(),
        [pb::ReviewCause::MemberDied],
        "{after:?}"
    );
    let march = clients
        .assistance
        .explain_benefit(with_token(
            pb::ExplainBenefitRequest {
                case_id: submitted.case_id.clone(),
                month: day(date!(2026 - 03 - 01)),
                read: None,
            },
            &approver(),
        ))
        .await
        .expect("explained")
        .into_inner();
    assert_eq!(
        march.amount,
        Some(amount),
        "the amount stands until the review"
    );
    host.shutdown().await;
}

/// Decoding a published payload in the test.
trait DecodeFrom: Sized {
    fn decode_from(bytes: &[u8]) -> Self;
}

impl<M: prost::Message + Default> DecodeFrom for M {
    fn decode_from(bytes: &[u8]) -> Self {
        M::decode(bytes).expect("a published event decodes")
    }
}

/// Proactive discovery (主动发现) of a household in assistance: after the grant, the human
/// resources agency sends the wife's new wages (1,000 元): the household's verified income per
/// person (700 元) is now above the dibao standard (665 元). The data-sharing service raises a
/// household alert when the load ends, and the assistance service's monitoring list shows it as a
/// referral for the township, naming the household's members.
#[tokio::test]
async fn embedded_an_income_above_the_line_reaches_the_assistance_monitoring_list() {
    let clock = FixedClock::new(SUBMITTED);
    let host = services(TestHost::embedded(), &clock).start().await;
    pension_on_record(&host, 40_000).await;
    let mut clients = Clients::of(&host).await;
    let case_id = apply_and_grant(&host, &mut clients, &clock).await;
    host.settle().await;

    let mut sharing = DataSharingServiceClient::new(host.channel("datasharing").await);
    let wages = ds::LoadAgencyRecordsRequest {
        agency: ds::Agency::HumanResources.into(),
        extract: "人社工资 2026-01".into(),
        metadata: metadata(),
        records: vec![ds::LoadedRecord {
            line: 2,
            record: Some(ds::AgencyRecord {
                reference: "GZ-2026-000301".into(),
                kind: ds::RecordKind::Wages.into(),
                citizen: citizen(WIFE),
                as_of: day(date!(2026 - 01 - 10)),
                amount: Some(common::Money { fen: 100_000 }),
                ..Default::default()
            }),
        }],
    };
    sharing
        .load_agency_records(with_token(
            futures::stream::iter([wages]),
            &agency_token("human_resources"),
        ))
        .await
        .expect("the wages load");
    host.settle().await;

    let referrals = clients
        .assistance
        .list_referrals(with_token(
            pb::ListReferralsRequest {
                county: region(PINGSHAN),
                township: region(NANDI),
                open_only: true,
                ..Default::default()
            },
            &caseworker(),
        ))
        .await
        .expect("listed")
        .into_inner()
        .referrals;
    assert_eq!(referrals.len(), 1, "{referrals:?} (case {case_id})");
    assert_eq!(referrals[0].kind(), pb::ReferralKind::IncomeAboveLine);
    let mut members = referrals[0].members.clone();
    members.sort_by(|a, b| a.citizen_id.cmp(&b.citizen_id));
    assert_eq!(
        members,
        vec![
            citizen(APPLICANT).expect("set"),
            citizen(WIFE).expect("set")
        ]
    );
    host.shutdown().await;
}
