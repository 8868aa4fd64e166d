//! With its database cut, every RPC of the child-welfare service answers UNAVAILABLE (retry
//! later), promptly, or — for what it keeps in memory — from memory; and the service writes
//! again once the database is back.
//!
//! `GetCaseReporter` is called apart from the shared helper: it is refused INVALID_ARGUMENT
//! without the `x-access-purpose` metadata, which the helper does not send, so the helper would
//! take its refusal for a malformed request. It gets the same treatment here, saying why.

use std::time::{Duration, Instant};

use bytes::Bytes;
use minzheng_childwelfare::grpc::ChildWelfareApi;
use minzheng_host::{
    edge::PURPOSE_HEADER,
    testing::{self, DatabaseCut, ProducerStandIn, TestHost, token, with_token},
};
use minzheng_kit::{
    access::{AccessPolicy, RpcAccess},
    auth::Role,
    clock::FixedClock,
};
use minzheng_proto::childwelfare::v1 as pb;
use prost::Message as _;
use time::macros::date;
use tonic::Code;

use crate::support::{
    self, BENXI_CITY, COMMUNITY_A, DONGMING_STREET, FIRST_DAY, LIAONING, PINGSHAN, boy_2015,
    childwelfare, citizen_ref, day, fact, girl_2007, identification, man_1985, metadata,
    place_names, region, report, standard, woman_1987,
};

/// Small, so the test is quick; the bound on the answers is a few of these.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
/// The bound the shared helper holds every answer to, in acquire timeouts.
const BOUND_IN_ACQUIRE_TIMEOUTS: u32 = 3;
/// How long the reporter's read may take to work again once the database is back.
const RECOVERY: Duration = Duration::from_secs(30);

/// Called apart: it needs the purpose metadata the helper does not send.
const GET_CASE_REPORTER: &str = "GetCaseReporter";

#[tokio::test]
async fn every_rpc_is_unavailable_while_the_database_is_cut_and_recovers() {
    let clock = FixedClock::new(FIRST_DAY);
    let host = TestHost::distributed()
        .through_proxy()
        .database_acquire_timeout(ACQUIRE_TIMEOUT)
        .service(place_names())
        .service(ProducerStandIn::new("civilregistry"))
        .service(ProducerStandIn::new("datasharing"))
        .service(childwelfare(&clock))
        .start()
        .await;
    host.settle().await;
    let mut client = support::client(&host).await;
    // A child identified and a case opened, which the requests below name.
    let boy = boy_2015();
    support::identify(&mut client, &boy, date!(2025 - 06 - 01)).await;
    let case = support::file(
        &mut client,
        &boy,
        pb::RiskLevel::High,
        date!(2025 - 06 - 20),
    )
    .await
    .case_id;
    host.settle().await;

    // Every RPC but the reporter's, which is called below. A policy's table is `'static`;
    // leaking this one copy of it, once per test, costs nothing.
    let every = ChildWelfareApi::access();
    let without_reporter: &'static [RpcAccess] = Box::leak(
        every
            .rpcs
            .iter()
            .filter(|rpc| rpc.method != GET_CASE_REPORTER)
            .copied()
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    assert_eq!(without_reporter.len() + 1, every.rpcs.len());
    let policy = AccessPolicy {
        service: every.service,
        rpcs: without_reporter,
    };
    let request = |method: &str| valid_request(method, &boy, &case);
    let answers = testing::assert_every_rpc_unavailable_while_database_cut(
        &host,
        DatabaseCut {
            service: "childwelfare",
            policy: &policy,
            request: &request,
            answered_from_memory: &[
                (
                    "ListCases",
                    "the case list comes from the in-memory read model and reads no personal \
                     data, so no audit is written",
                ),
                (
                    "GetIndicators",
                    "the indicators are public and come from the in-memory read model and the \
                     divisions cached in memory",
                ),
            ],
            recovery: (
                "AppointPostHolder",
                appointment(DONGMING_STREET, "赵督导", date!(2025 - 06 - 10))
                    .encode_to_vec()
                    .into(),
            ),
        },
    )
    .await;
    let slowest = answers.iter().map(|a| a.took).max().unwrap_or_default();
    println!("childwelfare: slowest answer with the database cut {slowest:?}: {answers:?}");

    the_requests_were_carried_out(&host, &boy, &case).await;
    the_reporter_is_unavailable_while_the_database_is_cut(&host, &case).await;
    host.shutdown().await;
}

/// `GetCaseReporter`, asked by an auditor of the province who says why: answered with the
/// database up, UNAVAILABLE or DEADLINE_EXCEEDED within the helper's bound with its connections
/// refused and unanswered, and answered again once the database is back.
async fn the_reporter_is_unavailable_while_the_database_is_cut(host: &TestHost, case: &str) {
    let mut client = support::client(host).await;
    let auditor = token(&[Role::Auditor], &[LIAONING]);
    let ask = || {
        let mut request = with_token(
            pb::GetCaseReporterRequest {
                case_id: case.to_owned(),
            },
            &auditor,
        );
        request.metadata_mut().insert(
            PURPOSE_HEADER,
            "review of the mandatory report follow-up"
                .parse()
                .expect("ASCII"),
        );
        request
    };
    let read = client
        .get_case_reporter(ask())
        .await
        .expect("the reporter, with the database up")
        .into_inner();
    assert_eq!(
        read.reporter.map(|r| r.name).as_deref(),
        Some(support::REPORTER_NAME)
    );

    let proxy = host.database_proxy("childwelfare");
    let bound = host.database_acquire_timeout() * BOUND_IN_ACQUIRE_TIMEOUTS;
    let mut problems = Vec::new();
    for (how, silent) in [("refused", false), ("unanswered", true)] {
        if silent {
            proxy.cut_silently();
        } else {
            proxy.cut();
        }
        let started = Instant::now();
        let answer = client.get_case_reporter(ask()).await;
        let took = started.elapsed();
        proxy.restore();
        match answer {
            Err(status) if matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded) => {}
            Err(status) => problems.push(format!(
                "{GET_CASE_REPORTER} (connections {how}): {:?} ({}), expected UNAVAILABLE or \
                 DEADLINE_EXCEEDED",
                status.code(),
                status.message()
            )),
            Ok(_) => problems.push(format!(
                "{GET_CASE_REPORTER} (connections {how}): answered with the database cut"
            )),
        }
        if took > bound {
            problems.push(format!(
                "{GET_CASE_REPORTER} (connections {how}): answered after {took:?}, beyond \
                 {bound:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let deadline = Instant::now() + RECOVERY;
    loop {
        match client.get_case_reporter(ask()).await {
            Ok(_) => break,
            Err(status) if status.code() == Code::Unavailable && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!(
                "{GET_CASE_REPORTER} after the database came back: {status:?}; the service did \
                 not recover"
            ),
        }
    }
}

/// The requests sent with the database up did what they ask (they were not merely admitted):
/// the case went through every step to its closing, the boy's care changed, the child born 2020
/// was adopted, the standard was recorded.
async fn the_requests_were_carried_out(host: &TestHost, boy: &str, case: &str) {
    let mut client = support::client(host).await;
    host.settle().await;
    let closed = support::case(&mut client, case).await;
    assert_eq!(
        closed.step,
        i32::from(pb::ProtectionStep::Closed),
        "{closed:?}"
    );
    assert_eq!((closed.steps.len(), closed.interventions.len()), (3, 1));
    let approver = token(&[Role::Approver], &[LIAONING]);
    let child = |number: String| {
        with_token(
            pb::GetChildRequest {
                child: citizen_ref(&number),
                read: None,
            },
            &approver,
        )
    };
    let read = client
        .get_child(child(boy.to_owned()))
        .await
        .expect("the boy's record")
        .into_inner();
    assert_eq!(read.care.len(), 2, "{read:?}");
    let adopted = client
        .get_child(child(support::person(date!(2020 - 03 - 03), 55)))
        .await
        .expect("the adopted child's record")
        .into_inner();
    assert_eq!(adopted.adopted_on, day(FIRST_DAY), "{adopted:?}");
    let standards = client
        .list_allowance_standards(pb::ListAllowanceStandardsRequest {
            city: region(BENXI_CITY),
            read: None,
        })
        .await
        .expect("public")
        .into_inner();
    assert_eq!(standards.standards.len(), 1, "{standards:?}");
}

fn appointment(division: &str, name: &str, on: time::Date) -> pb::AppointPostHolderRequest {
    pb::AppointPostHolderRequest {
        metadata: metadata(),
        division: region(division),
        holder: Some(pb::ChildPostHolder {
            name: name.to_owned(),
            phone: "024-42800000".into(),
            citizen: None,
        }),
        appointed_on: day(on),
    }
}

/// A well-formed request of each RPC, sent in the table's order (so that what a request names
/// exists by then): `boy` identified and `case` opened beforehand; the girl born 2007 reported,
/// a child born 2020 adopted, the post of 平山社区 held, replaced and vacated.
fn valid_request(method: &str, boy: &str, case: &str) -> Option<Bytes> {
    let adopted = support::person(date!(2020 - 03 - 03), 55);
    let adopter = |number: String| pb::Adopter {
        adopter: citizen_ref(&number),
        children: 0,
        married: true,
        can_raise: true,
        no_disqualifying_illness: true,
        no_criminal_record: true,
    };
    let encoded = match method {
        "RecordAllowanceStandard" => {
            standard(date!(2025 - 01 - 01), 1_500, 1_200, "").encode_to_vec()
        }
        "ListAllowanceStandards" => pb::ListAllowanceStandardsRequest {
            city: region(BENXI_CITY),
            read: None,
        }
        .encode_to_vec(),
        "IdentifyChild" => identification(&girl_2007(), FIRST_DAY).encode_to_vec(),
        "ArrangeCare" => pb::ArrangeCareRequest {
            metadata: metadata(),
            child: citizen_ref(boy),
            care: pb::ChildCareSetting::Centralized.into(),
            from: day(FIRST_DAY),
            institution: "本溪市儿童福利院".into(),
        }
        .encode_to_vec(),
        "ReviseParentFact" => pb::ReviseParentFactRequest {
            metadata: metadata(),
            child: citizen_ref(boy),
            parent: pb::ParentRole::Father.into(),
            fact: fact(pb::ParentSituation::Dead, pb::FactSourceKind::CourtRecord),
            revised_on: day(FIRST_DAY),
        }
        .encode_to_vec(),
        "RegisterAdoption" => pb::RegisterAdoptionRequest {
            metadata: metadata(),
            child: citizen_ref(&adopted),
            certificate: "辽本平收字〔2025〕第12号".into(),
            registry: region(PINGSHAN),
            adopters: vec![adopter(man_1985()), adopter(woman_1987())],
            child_category: pb::AdoptionChildCategory::ParentsNotFound.into(),
            child_disabled: false,
            in_welfare_institution: true,
            child_consent: pb::AdoptionChildConsent::Unspecified.into(),
            registered_on: day(FIRST_DAY),
            relationship: pb::AdoptionRelationship::Unspecified.into(),
            overseas_chinese: false,
            birth_parents_consent: false,
        }
        .encode_to_vec(),
        "GetChild" => pb::GetChildRequest {
            child: citizen_ref(boy),
            read: None,
        }
        .encode_to_vec(),
        "GetMonthlyAllowance" => pb::GetMonthlyAllowanceRequest {
            child: citizen_ref(boy),
            month: day(FIRST_DAY),
            read: None,
        }
        .encode_to_vec(),
        "FileReport" => report(&girl_2007(), pb::RiskLevel::Normal, FIRST_DAY).encode_to_vec(),
        "AssignCaseworker" => pb::AssignCaseworkerRequest {
            metadata: metadata(),
            case_id: case.to_owned(),
            caseworker: "平山区民政局 张社工".into(),
            assigned_on: day(date!(2025 - 06 - 20)),
        }
        .encode_to_vec(),
        "RecordEmergencyHandling" => pb::RecordEmergencyHandlingRequest {
            metadata: metadata(),
            case_id: case.to_owned(),
            measures: "将孩子临时安置于亲属家中".into(),
            handled_on: day(date!(2025 - 06 - 21)),
        }
        .encode_to_vec(),
        "RecordCaseAssessment" => pb::RecordCaseAssessmentRequest {
            metadata: metadata(),
            case_id: case.to_owned(),
            findings: "父亲长期酗酒，多次殴打孩子".into(),
            needs: "心理疏导，监护能力评估".into(),
            assessed_on: day(date!(2025 - 06 - 25)),
        }
        .encode_to_vec(),
        "AgreeAssistancePlan" => pb::AgreeAssistancePlanRequest {
            metadata: metadata(),
            case_id: case.to_owned(),
            measures: "由祖母照料，社工每周家访".into(),
            agreed_on: day(date!(2025 - 06 - 28)),
        }
        .encode_to_vec(),
        "RecordGuardianshipIntervention" => pb::RecordGuardianshipInterventionRequest {
            metadata: metadata(),
            case_id: case.to_owned(),
            kind: pb::InterventionKind::TemporaryGuardianship.into(),
            court_referral: None,
            intervened_on: day(date!(2025 - 06 - 29)),
        }
        .encode_to_vec(),
        "CloseCase" => pb::CloseCaseRequest {
            metadata: metadata(),
            case_id: case.to_owned(),
            reason: "帮扶方案落实，风险解除".into(),
            closed_on: day(FIRST_DAY),
        }
        .encode_to_vec(),
        "GetCase" => pb::GetCaseRequest {
            case_id: case.to_owned(),
            read: None,
        }
        .encode_to_vec(),
        "ListCases" => pb::ListCasesRequest {
            region: region(PINGSHAN),
            ..Default::default()
        }
        .encode_to_vec(),
        "AppointPostHolder" => {
            appointment(COMMUNITY_A, "钱主任", date!(2025 - 06 - 01)).encode_to_vec()
        }
        "ReplacePostHolder" => pb::ReplacePostHolderRequest {
            metadata: metadata(),
            division: region(COMMUNITY_A),
            holder: Some(pb::ChildPostHolder {
                name: "孙主任".into(),
                phone: String::new(),
                citizen: None,
            }),
            replaced_on: day(date!(2025 - 06 - 15)),
            reason: "原儿童主任调任街道".into(),
        }
        .encode_to_vec(),
        "VacatePost" => pb::VacatePostRequest {
            metadata: metadata(),
            division: region(COMMUNITY_A),
            vacated_on: day(FIRST_DAY),
            reason: "儿童主任辞职".into(),
        }
        .encode_to_vec(),
        "RecordPostTraining" => pb::RecordPostTrainingRequest {
            metadata: metadata(),
            division: region(COMMUNITY_A),
            course: "辽宁省儿童主任示范培训".into(),
            hours: 16,
            trained_on: day(date!(2025 - 06 - 20)),
        }
        .encode_to_vec(),
        "ListPosts" => pb::ListPostsRequest {
            region: region(PINGSHAN),
            ..Default::default()
        }
        .encode_to_vec(),
        "GetIndicators" => pb::GetIndicatorsRequest {
            as_of: None,
            read: None,
        }
        .encode_to_vec(),
        _ => return None,
    };
    Some(encoded.into())
}
