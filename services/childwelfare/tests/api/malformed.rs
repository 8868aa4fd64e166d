//! Malformed requests are INVALID_ARGUMENT naming each bad field (google.rpc.BadRequest field
//! violations, no citizen id number ever echoed), and nothing is recorded: not on a child or a
//! case that exists, not anywhere.

use std::collections::BTreeSet;

use minzheng_childwelfare::grpc::ChildWelfareApi;
use minzheng_host::{edge::PURPOSE_HEADER, testing::with_token};
use minzheng_proto::{childwelfare::v1 as pb, common::v1 as common};
use time::macros::date;
use tonic_types::StatusExt as _;

use crate::support::{
    self, BENXI_CITY, COMMUNITY_A, FIRST_DAY, LIAONING, PINGSHAN, bad_fields, boy_2015,
    citizen_ref, city_approver, city_auditor, day, fact, girl_2007, identification, man_1985,
    metadata, recorded_types, region, report, standard, woman_1987, yuan,
};

/// The day after the service's today.
const TOMORROW: time::Date = date!(2025 - 07 - 02);
/// The day the tests' child was identified.
const IDENTIFIED_ON: time::Date = date!(2025 - 06 - 01);
/// A well-formed case id nobody opened.
const UNKNOWN_CASE: &str = "0123456789abcdef0123456789abcdef";

fn not_a_date() -> Option<common::Date> {
    Some(common::Date {
        year: 2025,
        month: 2,
        day: 30,
    })
}

fn no_month() -> Option<common::Date> {
    Some(common::Date {
        year: 2025,
        month: 0,
        day: 1,
    })
}

/// Command metadata without an idempotency key.
fn no_key() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: String::new(),
        correlation_id: String::new(),
    })
}

/// Command metadata whose correlation id is not a UUID.
fn bad_correlation() -> Option<common::CommandMetadata> {
    metadata().map(|m| common::CommandMetadata {
        correlation_id: "not-a-uuid".into(),
        ..m
    })
}

/// A text of `chars` characters.
fn long(chars: usize) -> String {
    "字".repeat(chars)
}

/// `number` with another check character: not a citizen id number.
fn wrong_check_digit(number: &str) -> String {
    let (first17, check) = number.split_at(17);
    let other = if check == "0" { "1" } else { "0" };
    format!("{first17}{other}")
}

/// A request as the city's approver sends it: every access rule but the reporter's admits it.
fn as_approver<T>(message: T) -> tonic::Request<T> {
    with_token(message, &city_approver())
}

/// A request as the city's auditor sends it, saying why when `purpose` is given.
fn as_auditor<T>(message: T, purpose: Option<&str>) -> tonic::Request<T> {
    let mut request = with_token(message, &city_auditor());
    if let Some(purpose) = purpose {
        request
            .metadata_mut()
            .insert(PURPOSE_HEADER, purpose.parse().expect("ASCII"));
    }
    request
}

/// Every text a refusal shows its caller: the message and each violation's description.
fn shown(status: &tonic::Status) -> Vec<String> {
    let mut texts = vec![status.message().to_owned()];
    if let Some(bad) = status.get_details_bad_request() {
        texts.extend(bad.field_violations.into_iter().map(|v| v.description));
    }
    texts
}

/// Every RPC, each with requests that break several of its rules at once: the answer names
/// exactly the broken fields, quotes no citizen id number, and no event is recorded by any of
/// them — not even on the child and the case that exist.
#[tokio::test]
async fn every_rpc_names_each_bad_field_and_records_nothing() {
    let (host, mut client, _clock, _producers) = support::embedded().await;
    // A child identified and a case opened, so that requests naming them reach past the
    // parsing of their ids: each must still record nothing.
    let boy = boy_2015();
    support::identify(&mut client, &boy, IDENTIFIED_ON).await;
    let case = support::file(&mut client, &boy, pb::RiskLevel::Urgent, FIRST_DAY)
        .await
        .case_id;
    host.settle().await;
    let before = recorded_types(&host).await;
    assert!(!before.is_empty(), "the setup recorded nothing");

    // Every citizen id number the requests carry, well-formed or not: none is ever echoed.
    let boy_bad = wrong_check_digit(&boy);
    let girl_bad = wrong_check_digit(&girl_2007());
    let man_bad = wrong_check_digit(&man_1985());
    let woman = woman_1987();
    let truncated = boy[..17].to_owned();
    let numbers = [&boy, &boy_bad, &girl_bad, &man_bad, &woman, &truncated];

    let mut checked = Vec::new();
    macro_rules! check {
        ($rpc:ident, $request:expr, [$($field:expr),+ $(,)?]) => {{
            let status = client
                .$rpc($request)
                .await
                .expect_err(concat!(stringify!($rpc), " must refuse"));
            let named: BTreeSet<String> = bad_fields(&status).into_iter().collect();
            let expected: BTreeSet<String> = [$($field),+].into_iter().map(str::to_owned).collect();
            assert_eq!(named, expected, "{}: the fields named ({status:?})", stringify!($rpc));
            for text in shown(&status) {
                for number in numbers {
                    assert!(
                        !text.contains(number.as_str()),
                        "{}: a citizen id number is echoed: {text}",
                        stringify!($rpc),
                    );
                }
            }
            checked.push(stringify!($rpc));
        }};
    }

    // Allowance standards. A county for the city, no key, no day, no amount, an amount over
    // 100,000 yuan, nobody deciding and an override reason of 501 characters.
    check!(
        record_allowance_standard,
        as_approver(pb::RecordAllowanceStandardRequest {
            metadata: None,
            city: region(PINGSHAN),
            effective_from: None,
            centralized: None,
            family: yuan(100_001),
            decided_by: String::new(),
            override_reason: long(501),
        }),
        [
            "metadata.idempotency_key",
            "city.code",
            "effective_from",
            "centralized.fen",
            "family",
            "decided_by",
            "override_reason"
        ]
    );
    // The standard's shape beside its fields: the middle of a month, a negative amount, a
    // code of ten digits, a correlation id that is not a UUID.
    check!(
        record_allowance_standard,
        as_approver(pb::RecordAllowanceStandardRequest {
            metadata: bad_correlation(),
            city: region("2105000000"),
            ..standard(date!(2025 - 07 - 15), -1, 1_200, "")
        }),
        [
            "metadata.correlation_id",
            "city.code",
            "effective_from",
            "centralized"
        ]
    );
    check!(
        list_allowance_standards,
        as_approver(pb::ListAllowanceStandardsRequest {
            city: region(LIAONING),
            read: None,
        }),
        ["city.code"]
    );

    // Children. Every field of an identification wrong at once.
    check!(
        identify_child,
        as_approver(pb::IdentifyChildRequest {
            metadata: None,
            child: citizen_ref(&boy_bad),
            division: region(PINGSHAN),
            father: None,
            mother: Some(pb::ParentFact {
                situation: 99,
                source: Some(pb::FactSource {
                    kind: 0,
                    reference: String::new(),
                }),
            }),
            identified_on: day(TOMORROW),
            care: 7,
            institution: long(201),
        }),
        [
            "metadata.idempotency_key",
            "child.citizen_id",
            "division.code",
            "father",
            "mother.situation",
            "mother.source.kind",
            "mother.source.reference",
            "identified_on",
            "care",
            "institution"
        ]
    );
    // An institution without a care arrangement; a source of an unknown kind whose reference
    // is too long.
    check!(
        identify_child,
        as_approver(pb::IdentifyChildRequest {
            care: 0,
            institution: "本溪市儿童福利院".into(),
            father: Some(pb::ParentFact {
                situation: pb::ParentSituation::Dead.into(),
                source: Some(pb::FactSource {
                    kind: 99,
                    reference: long(201),
                }),
            }),
            ..identification(&boy, FIRST_DAY)
        }),
        [
            "institution",
            "father.source.kind",
            "father.source.reference"
        ]
    );
    check!(
        arrange_care,
        as_approver(pb::ArrangeCareRequest {
            metadata: metadata(),
            child: citizen_ref(&boy_bad),
            care: 0,
            from: None,
            institution: long(201),
        }),
        ["child.citizen_id", "care", "from", "institution"]
    );
    // The child exists; the arrangement is still refused whole.
    check!(
        arrange_care,
        as_approver(pb::ArrangeCareRequest {
            metadata: no_key(),
            child: citizen_ref(&boy),
            care: 3,
            from: day(TOMORROW),
            institution: String::new(),
        }),
        ["metadata.idempotency_key", "care", "from"]
    );
    check!(
        revise_parent_fact,
        as_approver(pb::ReviseParentFactRequest {
            metadata: metadata(),
            child: None,
            parent: 3,
            fact: Some(pb::ParentFact {
                situation: 0,
                source: Some(pb::FactSource {
                    kind: 42,
                    reference: long(201),
                }),
            }),
            revised_on: no_month(),
        }),
        [
            "child.citizen_id",
            "parent",
            "fact.situation",
            "fact.source.kind",
            "fact.source.reference",
            "revised_on"
        ]
    );
    check!(
        revise_parent_fact,
        as_approver(pb::ReviseParentFactRequest {
            metadata: metadata(),
            child: citizen_ref(&boy),
            parent: pb::ParentRole::Father.into(),
            fact: None,
            revised_on: day(TOMORROW),
        }),
        ["fact", "revised_on"]
    );
    let adopter = |number: &str, children: u32| pb::Adopter {
        adopter: citizen_ref(number),
        children,
        married: true,
        can_raise: true,
        no_disqualifying_illness: true,
        no_criminal_record: true,
    };
    check!(
        register_adoption,
        as_approver(pb::RegisterAdoptionRequest {
            metadata: no_key(),
            child: citizen_ref(&truncated),
            certificate: long(101),
            registry: region("2105"),
            adopters: vec![adopter(&man_bad, 0), adopter(&woman, 256)],
            child_category: 0,
            child_disabled: false,
            in_welfare_institution: false,
            child_consent: 5,
            registered_on: day(TOMORROW),
            relationship: 7,
            overseas_chinese: false,
            birth_parents_consent: false,
        }),
        [
            "metadata.idempotency_key",
            "child.citizen_id",
            "certificate",
            "registry.code",
            "adopters[0].adopter.citizen_id",
            "adopters[1].children",
            "relationship",
            "child_category",
            "child_consent",
            "registered_on"
        ]
    );
    check!(
        register_adoption,
        as_approver(pb::RegisterAdoptionRequest {
            metadata: metadata(),
            child: citizen_ref(&boy),
            certificate: "  ".into(),
            registry: None,
            adopters: vec![pb::Adopter {
                adopter: None,
                ..adopter(&woman, 0)
            }],
            child_category: pb::AdoptionChildCategory::Orphan.into(),
            child_disabled: false,
            in_welfare_institution: false,
            child_consent: pb::AdoptionChildConsent::Given.into(),
            registered_on: None,
            // The overseas-Chinese exemption belongs to a relative's child alone.
            relationship: pb::AdoptionRelationship::Stepchild.into(),
            overseas_chinese: true,
            birth_parents_consent: true,
        }),
        [
            "certificate",
            "registry.code",
            "adopters[0].adopter.citizen_id",
            "overseas_chinese",
            "registered_on"
        ]
    );
    check!(
        get_child,
        as_approver(pb::GetChildRequest {
            child: citizen_ref(&boy_bad),
            read: None,
        }),
        ["child.citizen_id"]
    );
    check!(
        get_monthly_allowance,
        as_approver(pb::GetMonthlyAllowanceRequest {
            child: None,
            month: not_a_date(),
            read: None,
        }),
        ["child.citizen_id", "month"]
    );

    // Cases. Every field of a report wrong at once, the reporter's included.
    check!(
        file_report,
        as_approver(pb::FileReportRequest {
            metadata: None,
            child: citizen_ref(&girl_bad),
            division: region(PINGSHAN),
            risk: 0,
            reporter_kind: 99,
            reporter: Some(pb::Reporter {
                name: String::new(),
                phone: long(201),
                organisation: long(201),
                role: " ".into(),
            }),
            concern: long(2_001),
            reported_on: day(TOMORROW),
        }),
        [
            "metadata.idempotency_key",
            "child.citizen_id",
            "division.code",
            "risk",
            "reporter_kind",
            "reporter.name",
            "reporter.phone",
            "reporter.organisation",
            "reporter.role",
            "concern",
            "reported_on"
        ]
    );
    // No reporter, a concern with a control character, the city for the child's division.
    check!(
        file_report,
        as_approver(pb::FileReportRequest {
            reporter: None,
            concern: "孩子身上\u{7}多处伤痕".into(),
            division: region(BENXI_CITY),
            ..report(&boy, pb::RiskLevel::High, FIRST_DAY)
        }),
        ["reporter", "concern", "division.code"]
    );
    check!(
        assign_caseworker,
        as_approver(pb::AssignCaseworkerRequest {
            metadata: None,
            case_id: "CASE-1".into(),
            caseworker: String::new(),
            assigned_on: day(TOMORROW),
        }),
        [
            "metadata.idempotency_key",
            "case_id",
            "caseworker",
            "assigned_on"
        ]
    );
    check!(
        record_emergency_handling,
        as_approver(pb::RecordEmergencyHandlingRequest {
            metadata: metadata(),
            case_id: case.clone(),
            measures: long(2_001),
            handled_on: None,
        }),
        ["measures", "handled_on"]
    );
    check!(
        record_case_assessment,
        as_approver(pb::RecordCaseAssessmentRequest {
            metadata: metadata(),
            case_id: UNKNOWN_CASE.to_uppercase(),
            findings: String::new(),
            needs: long(2_001),
            assessed_on: day(TOMORROW),
        }),
        ["case_id", "findings", "needs", "assessed_on"]
    );
    check!(
        agree_assistance_plan,
        as_approver(pb::AgreeAssistancePlanRequest {
            metadata: bad_correlation(),
            case_id: case.clone(),
            measures: String::new(),
            agreed_on: day(TOMORROW),
        }),
        ["metadata.correlation_id", "measures", "agreed_on"]
    );
    check!(
        record_guardianship_intervention,
        as_approver(pb::RecordGuardianshipInterventionRequest {
            metadata: metadata(),
            case_id: UNKNOWN_CASE[1..].into(),
            kind: 0,
            court_referral: Some(pb::CourtReferral {
                reference: String::new(),
                court: long(201),
            }),
            intervened_on: day(TOMORROW),
        }),
        [
            "case_id",
            "kind",
            "court_referral.reference",
            "court_referral.court",
            "intervened_on"
        ]
    );
    check!(
        record_guardianship_intervention,
        as_approver(pb::RecordGuardianshipInterventionRequest {
            metadata: metadata(),
            case_id: case.clone(),
            kind: 9,
            court_referral: None,
            intervened_on: not_a_date(),
        }),
        ["kind", "intervened_on"]
    );
    check!(
        close_case,
        as_approver(pb::CloseCaseRequest {
            metadata: None,
            case_id: case.clone(),
            reason: long(201),
            closed_on: None,
        }),
        ["metadata.idempotency_key", "reason", "closed_on"]
    );
    check!(
        get_case,
        as_approver(pb::GetCaseRequest {
            case_id: String::new(),
            read: None,
        }),
        ["case_id"]
    );
    // Saying why does not make a malformed id readable; not saying why is a bad field too.
    check!(
        get_case_reporter,
        as_auditor(
            pb::GetCaseReporterRequest {
                case_id: format!("{UNKNOWN_CASE}0"),
            },
            Some("review of the mandatory report follow-up"),
        ),
        ["case_id"]
    );
    check!(
        get_case_reporter,
        as_auditor(
            pb::GetCaseReporterRequest {
                case_id: UNKNOWN_CASE.replace('a', "g"),
            },
            None,
        ),
        ["case_id", PURPOSE_HEADER]
    );
    check!(
        get_case_reporter,
        as_auditor(
            pb::GetCaseReporterRequest {
                case_id: case.clone(),
            },
            Some("   "),
        ),
        [PURPOSE_HEADER]
    );
    // The city is neither a county nor a township.
    check!(
        list_cases,
        as_approver(pb::ListCasesRequest {
            region: region(BENXI_CITY),
            step: 9,
            overdue_only: false,
            as_of: no_month(),
            page: None,
            read: None,
        }),
        ["region.code", "step", "as_of"]
    );
    check!(
        list_cases,
        as_approver(pb::ListCasesRequest {
            region: region("21050200000"),
            as_of: not_a_date(),
            ..Default::default()
        }),
        ["region.code", "as_of"]
    );

    // Posts. A county has no post; a name, a phone too long, a holder's id number malformed.
    check!(
        appoint_post_holder,
        as_approver(pb::AppointPostHolderRequest {
            metadata: None,
            division: region(PINGSHAN),
            holder: Some(pb::ChildPostHolder {
                name: long(51),
                phone: "1".repeat(31),
                citizen: citizen_ref(&man_bad),
            }),
            appointed_on: day(TOMORROW),
        }),
        [
            "metadata.idempotency_key",
            "division.code",
            "holder.name",
            "holder.phone",
            "holder.citizen.citizen_id",
            "appointed_on"
        ]
    );
    check!(
        appoint_post_holder,
        as_approver(pb::AppointPostHolderRequest {
            metadata: metadata(),
            division: region(COMMUNITY_A),
            holder: None,
            appointed_on: None,
        }),
        ["holder", "appointed_on"]
    );
    check!(
        replace_post_holder,
        as_approver(pb::ReplacePostHolderRequest {
            metadata: metadata(),
            division: region(""),
            holder: Some(pb::ChildPostHolder {
                name: String::new(),
                phone: String::new(),
                citizen: citizen_ref(&woman),
            }),
            replaced_on: no_month(),
            reason: long(501),
        }),
        ["division.code", "holder.name", "replaced_on", "reason"]
    );
    check!(
        vacate_post,
        as_approver(pb::VacatePostRequest {
            metadata: metadata(),
            division: region(BENXI_CITY),
            vacated_on: day(TOMORROW),
            reason: String::new(),
        }),
        ["division.code", "vacated_on", "reason"]
    );
    check!(
        record_post_training,
        as_approver(pb::RecordPostTrainingRequest {
            metadata: metadata(),
            division: region("21050200100A"),
            course: String::new(),
            hours: 0,
            trained_on: day(TOMORROW),
        }),
        ["division.code", "course", "hours", "trained_on"]
    );
    check!(
        record_post_training,
        as_approver(pb::RecordPostTrainingRequest {
            metadata: None,
            division: region(COMMUNITY_A),
            course: long(201),
            hours: 1_001,
            trained_on: day(FIRST_DAY),
        }),
        ["metadata.idempotency_key", "course", "hours"]
    );
    // A village is neither a county nor a township.
    check!(
        list_posts,
        as_approver(pb::ListPostsRequest {
            region: region(COMMUNITY_A),
            as_of: not_a_date(),
            vacant_only: false,
            page: None,
            read: None,
        }),
        ["region.code", "as_of"]
    );
    check!(
        get_indicators,
        as_approver(pb::GetIndicatorsRequest {
            as_of: no_month(),
            read: None,
        }),
        ["as_of"]
    );

    // Every RPC of the service was tried.
    for rpc in ChildWelfareApi::access().rpcs {
        let snake = snake_case(rpc.method);
        assert!(
            checked.contains(&snake.as_str()),
            "{} has no malformed case",
            rpc.method
        );
    }

    // Nothing recorded: no event beyond the setup's but the read audit's, and the reads show
    // the child, the case, the standards and the posts as the setup left them.
    assert_eq!(recorded_types(&host).await, before);
    let child = client
        .get_child(as_approver(pb::GetChildRequest {
            child: citizen_ref(&boy),
            read: None,
        }))
        .await
        .expect("the child is readable")
        .into_inner();
    assert_eq!(child.identified_on, day(IDENTIFIED_ON));
    assert_eq!(child.care.len(), 1, "{child:?}");
    assert_eq!(
        child.father,
        fact(
            pb::ParentSituation::Dead,
            pb::FactSourceKind::CivilRegistrationDeath
        )
    );
    assert!(child.covered && child.adopted_on.is_none(), "{child:?}");
    let opened = support::case(&mut client, &case).await;
    assert_eq!(opened.step, i32::from(pb::ProtectionStep::Reported));
    assert!(
        opened.caseworker.is_empty()
            && opened.steps.is_empty()
            && opened.interventions.is_empty()
            && opened.closed_on.is_none(),
        "{opened:?}"
    );
    let standards = client
        .list_allowance_standards(pb::ListAllowanceStandardsRequest {
            city: region(BENXI_CITY),
            read: None,
        })
        .await
        .expect("public")
        .into_inner();
    assert!(standards.standards.is_empty(), "{standards:?}");
    let posts = client
        .list_posts(as_approver(pb::ListPostsRequest {
            region: region(PINGSHAN),
            ..Default::default()
        }))
        .await
        .expect("readable")
        .into_inner();
    assert!(!posts.posts.is_empty(), "{posts:?}");
    assert!(
        posts.posts.iter().all(|p| p.holder_name.is_empty()),
        "{posts:?}"
    );
    host.shutdown().await;
}

/// `RecordAllowanceStandard` → `record_allowance_standard`.
fn snake_case(method: &str) -> String {
    let mut snake = String::new();
    for (i, c) in method.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}
