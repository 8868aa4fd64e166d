//! The meaningful inputs the corpus starts from: valid and nearly valid values of each kind, so
//! that a fuzz run begins next to the code paths that accept input rather than among random
//! bytes. They are deterministic (no clock, no random ids), written into the corpus by
//! `cargo run -p minzheng-fuzz --bin seed-corpus`, and the corpus test checks they are there.

use bytes::Bytes;
use minzheng_eventstore::{Cursor, Metadata, RecordedEvent, StreamId};
use minzheng_kit::aggregate::EventCodec;
use minzheng_placenames::{directory::Directory, division, ids::AdjustmentId, import};
use minzheng_types::{BoundedText, CitizenId, Fen, RegionCode};
use serde_json::json;
use time::macros::{date, datetime};
use uuid::Uuid;

use crate::{bearer_token, envelope, stored_event};

/// A few real rows of Benxi's division file, the shape operators import.
const BENXI_ROWS: usize = 12;
const BENXI_CSV: &str = include_str!("../../../services/placenames/data/benxi-divisions.csv");

/// One seed input of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The target's name (its corpus directory).
    pub target: &'static str,
    /// The file name in the corpus: `seed-` and what it is.
    pub name: String,
    pub data: Vec<u8>,
}

/// Every seed of every target.
pub fn seeds() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let mut add = |target: &'static str, name: &str, data: Vec<u8>| {
        seeds.push(Seed {
            target,
            name: format!("seed-{name}"),
            data,
        })
    };
    for (name, text) in citizen_ids() {
        add("citizen_id", name, text.into_bytes());
    }
    for (name, text) in [
        ("province", "210000000000"),
        ("city", "210500000000"),
        ("county", "210502000000"),
        ("township", "210502001000"),
        ("village", "210502001001"),
        ("county-level-city-under-province", "419001000000"),
        ("township-under-city", "441900003000"),
        ("no-province", "000000000000"),
        ("gb2260", "210502"),
        ("eleven-digits", "21050200100"),
        ("letter", "21050200100A"),
    ] {
        add("region_code", name, text.as_bytes().to_vec());
    }
    let benxi: String = BENXI_CSV
        .lines()
        .take(BENXI_ROWS + 1)
        .flat_map(|line| [line, "\n"])
        .collect();
    add("division_import", "benxi", benxi.clone().into_bytes());
    add(
        "division_import",
        "benxi-bom-crlf",
        format!("\u{feff}{}", benxi.replace('\n', "\r\n")).into_bytes(),
    );
    add(
        "division_import",
        "quoted-and-bad-rows",
        "code,name,level,parent_code\n210000000000,\"辽宁,省\",province,\n\
         210500000000,本溪市,county,210000000000\n210599000000,\"a\"\"b\",county,210400000000\n"
            .as_bytes()
            .to_vec(),
    );
    for (event_type, payload) in stored_events() {
        let short = event_type.rsplit('.').next().unwrap_or(event_type);
        let name = if payload.is_empty() {
            format!("{short}-empty")
        } else {
            short.to_owned()
        };
        add(
            "stored_event",
            &name,
            stored_event::input(event_type, &payload),
        );
    }
    for (name, data) in envelopes() {
        add("envelope", name, data);
    }
    for (name, data) in tokens() {
        add("bearer_token", name, data);
    }
    seeds
}

fn citizen_ids() -> Vec<(&'static str, String)> {
    let id = |sequence| {
        CitizenId::from_parts("210502", date!(1990 - 03 - 07), sequence)
            .expect("valid parts")
            .expose()
            .to_owned()
    };
    let valid = id(123);
    // Sequence 3 gives check character X for these parts; keep a lowercase one too.
    let with_x = (0..=999)
        .map(id)
        .find(|n| n.ends_with('X'))
        .expect("some sequence has check character X");
    let mut wrong_check = valid.clone();
    let last = if valid.ends_with('0') { "1" } else { "0" };
    wrong_check.replace_range(17.., last);
    vec![
        ("valid", valid.clone()),
        ("check-x", with_x.clone()),
        ("check-x-lowercase", with_x.to_ascii_lowercase()),
        ("wrong-check", wrong_check),
        ("legacy-15", valid[..6].to_owned() + &valid[8..17]),
        ("seventeen", valid[..17].to_owned()),
        (
            "not-a-date",
            format!("{}19000229{}", &valid[..6], &valid[14..]),
        ),
        (
            "before-1900",
            format!("{}18991231{}", &valid[..6], &valid[14..]),
        ),
        ("full-width-digit", format!("２{}", &valid[1..])),
    ]
}

/// Every event type with an empty payload (an event with every field missing), division
/// events as the place-names codec encodes them from real Benxi rows, and one event of every
/// child-welfare type as its codec encodes it.
fn stored_events() -> Vec<(&'static str, Vec<u8>)> {
    let mut events: Vec<(&'static str, Vec<u8>)> = stored_event::event_types()
        .into_iter()
        .map(|event_type| (event_type, Vec::new()))
        .collect();
    let benxi: String = BENXI_CSV.lines().take(4).flat_map(|l| [l, "\n"]).collect();
    let rows = import::parse(benxi.as_bytes(), &Directory::default()).expect("benxi rows parse");
    let adjustment = AdjustmentId::parse("2021-benxi-0001").expect("a valid id");
    let county = rows.last().expect("a county row");
    let division_events = [
        division::Event::Recorded(division::Recorded {
            code: county.code,
            name: county.name.clone(),
            parent: county.parent,
            valid_from: date!(2021 - 01 - 01),
            adjustment: None,
        }),
        division::Event::Renamed(division::Renamed {
            code: county.code,
            previous_name: county.name.clone(),
            name: rows[1].name.clone(),
            effective_on: date!(2022 - 07 - 01),
            adjustment: adjustment.clone(),
        }),
        division::Event::Superseded(division::Superseded {
            code: county.code,
            successors: rows.iter().map(|r| r.code).collect(),
            valid_to: date!(2023 - 01 - 01),
            adjustment,
        }),
    ];
    events.extend(
        division_events
            .iter()
            .map(|event| (event.event_type(), event.encode().to_vec())),
    );
    events.extend(child_welfare_events());
    events
}

/// One event of every child-welfare type, made of real values: 平山区's orphan identified,
/// cared for, a parent's situation revised, coverage ceased, adopted, dead; a protection case
/// reported (the reporter sealed: opaque bytes), taken through its steps and escalated; a
/// community's child director appointed, replaced, trained, the post vacated; the city's
/// allowance standard.
fn child_welfare_events() -> Vec<(&'static str, Vec<u8>)> {
    use minzheng_childwelfare::{
        adoption, allowance, child, ids::CaseId, post, protection as case,
    };
    let citizen =
        |birth, sequence| CitizenId::from_parts("210502", birth, sequence).expect("valid parts");
    let code = |digits: &str| RegionCode::parse(digits).expect("a valid code");
    let text = |text: &str| BoundedText::parse(text, 200).expect("a short text");
    let the_child = citizen(date!(2015 - 06 - 01), 11);
    let township = code("210502001000");
    let community = code("210502001002");
    let dead = child::ParentFact {
        situation: allowance::ParentSituation::Dead,
        source: Some(child::FactSource {
            kind: child::FactSourceKind::CivilRegistrationDeath,
            reference: text("平山区民政局 死亡登记 2024-0113"),
        }),
    };
    let step = |on, what: &str, needs: Option<&str>| case::StepRecord {
        on,
        caseworker: text("平山区未保站 社工 0042"),
        text: text(what),
        needs: needs.map(text),
    };
    let holder = |name: &str, sequence| post::Holder {
        name: text(name),
        phone: Some(text("13800002222")),
        citizen: Some(citizen(date!(1980 - 01 - 01), sequence)),
    };
    let adopter = |birth, sequence| adoption::Adopter {
        citizen: citizen(birth, sequence),
        children: 0,
        married: true,
        can_raise: true,
        no_disqualifying_illness: true,
        no_criminal_record: true,
    };
    let facts = |age| adoption::AdopterFacts {
        age,
        children_rule: adoption::ChildrenRule::Exempted,
        age_gap: None,
    };
    let allowance = [allowance::Event::StandardRecorded(
        allowance::StandardRecorded {
            city: code("210500000000"),
            standard: allowance::Standard {
                version: 2,
                effective_from: date!(2026 - 01 - 01),
                centralized: Fen::new(150_000),
                family: Fen::new(120_000),
                decided_by: text("本溪市民政局 本溪市财政局"),
                override_reason: Some(text("市政府常务会议决定 2026 年维持原标准")),
                recorded_on: date!(2025 - 12 - 20),
            },
        },
    )];
    let children = [
        child::Event::Identified(child::Identified {
            child: the_child.clone(),
            division: township,
            basis: allowance::Basis::Orphan,
            father: dead.clone(),
            mother: dead,
            on: date!(2025 - 02 - 03),
        }),
        child::Event::CareArranged(child::CareArrangement {
            care: allowance::Care::Centralized,
            from: date!(2025 - 04 - 01),
            institution: Some(text("本溪市儿童福利院")),
        }),
        child::Event::ParentFactRevised(child::ParentFactRevised {
            parent: child::Parent::Father,
            fact: child::ParentFact {
                situation: allowance::ParentSituation::Able,
                source: None,
            },
            basis: None,
            on: date!(2025 - 05 - 01),
        }),
        child::Event::CoverageCeased(child::CoverageCeased {
            on: date!(2025 - 05 - 01),
            reason: child::CessationReason::NoBasis,
        }),
        child::Event::Adopted(adoption::Registered {
            registration: adoption::Registration {
                child: the_child.clone(),
                certificate: text("辽本平收字 2025-0007"),
                registry: code("210502000000"),
                adopters: vec![
                    adopter(date!(1985 - 03 - 01), 31),
                    adopter(date!(1987 - 05 - 05), 42),
                ],
                child_category: Some(adoption::ChildCategory::Orphan),
                relationship: adoption::Relationship::None,
                overseas_chinese: false,
                birth_parents_consent: false,
                child_disabled: false,
                in_welfare_institution: true,
                child_consents: Some(true),
                on: date!(2025 - 06 - 02),
            },
            child_age: 10,
            adopters: vec![facts(40), facts(38)],
            exemption: Some(adoption::Exemption::Orphan),
        }),
        child::Event::DeathNoted(child::Death {
            on: date!(2025 - 08 - 01),
            registration: text("0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
        }),
    ];
    let cases = [
        case::Event::Opened(case::Open {
            case: CaseId::parse("9b1e0c4f2a6d48e3b5c7d9f1a3e5c7b9").expect("a valid id"),
            child: the_child,
            division: community,
            risk: case::RiskLevel::High,
            source: case::Source::MandatoryReport {
                reporter: case::SealedReporter::from_bytes(vec![1; 48]),
                reporter_kind: case::ReporterKind::Education,
            },
            concern: text("孩子身上多处伤痕"),
            reported_on: date!(2025 - 09 - 01),
        }),
        case::Event::CaseworkerAssigned(case::Assignment {
            caseworker: text("平山区未保站 社工 0042"),
            on: date!(2025 - 09 - 01),
        }),
        case::Event::EmergencyHandled(case::EmergencyHandling(step(
            date!(2025 - 09 - 02),
            "临时安置于儿童福利院",
            None,
        ))),
        case::Event::Assessed(case::Assessment(step(
            date!(2025 - 09 - 05),
            "监护人长期殴打",
            Some("心理疏导 就学安排"),
        ))),
        case::Event::PlanAgreed(case::PlanAgreement(step(
            date!(2025 - 09 - 15),
            "转介心理咨询 每周家访",
            None,
        ))),
        case::Event::GuardianshipIntervened(case::Intervention {
            kind: case::InterventionKind::CourtRevocation,
            court_referral: Some(case::CourtReferral {
                reference: text("(2025) 辽0502民特12号"),
                court: text("本溪市平山区人民法院"),
            }),
            on: date!(2025 - 10 - 08),
            caseworker: text("平山区未保站 社工 0042"),
        }),
        case::Event::Escalated(case::Escalation {
            step: case::Step::Assessed,
            due_on: date!(2025 - 09 - 09),
            division: community,
            county: code("210502000000"),
            on: date!(2025 - 09 - 10),
        }),
        case::Event::Closed(case::Closure {
            reason: text("监护人资格已撤销 长期监护"),
            on: date!(2025 - 12 - 01),
        }),
    ];
    let posts = [
        post::Event::Appointed(post::Appointed {
            division: community,
            role: post::Role::Director,
            holder: holder("赵主任", 51),
            on: date!(2025 - 03 - 01),
        }),
        post::Event::Replaced(post::Replaced {
            division: community,
            role: post::Role::Director,
            holder: holder("钱主任", 61),
            on: date!(2025 - 08 - 01),
            reason: text("调任街道"),
        }),
        post::Event::Trained(post::Trained {
            division: community,
            role: post::Role::Director,
            on: date!(2025 - 04 - 10),
            course: text("儿童主任能力提升培训"),
            hours: 16,
        }),
        post::Event::Vacated(post::Vacated {
            division: community,
            role: post::Role::Director,
            on: date!(2025 - 11 - 01),
            reason: text("辞职"),
        }),
    ];
    let mut events: Vec<(&'static str, Vec<u8>)> = Vec::new();
    events.extend(
        allowance
            .iter()
            .map(|e| (e.event_type(), e.encode().to_vec())),
    );
    events.extend(
        children
            .iter()
            .map(|e| (e.event_type(), e.encode().to_vec())),
    );
    events.extend(cases.iter().map(|e| (e.event_type(), e.encode().to_vec())));
    events.extend(posts.iter().map(|e| (e.event_type(), e.encode().to_vec())));
    events
}

fn envelopes() -> Vec<(&'static str, Vec<u8>)> {
    let event = RecordedEvent {
        id: Uuid::from_u128(0x0190_6a4e_2c1b_7cc3_9d2e_5f6a_7b8c_9d0e),
        stream: StreamId::new("division", "210502000000").expect("a valid stream"),
        stream_version: 3,
        position: 42,
        cursor: Cursor {
            tx: 0,
            position: 42,
        },
        event_type: "minzheng.placenames.v1.DivisionRenamed".to_owned(),
        schema_version: 1,
        payload: Bytes::from_static(b"\x0a\x0e\x0a\x0c210502000000"),
        metadata: Metadata {
            correlation_id: Some(Uuid::from_u128(1)),
            causation_id: Some(Uuid::from_u128(2)),
            actor: None,
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned()),
            tracestate: Some("vendor=1".to_owned()),
            idempotency_key: None,
        },
        recorded_at: datetime!(2024-05-06 07:08:09.123456789 +08:00),
    };
    let naming = minzheng_bus::BusNaming::new("placenames").expect("a valid service");
    let message = minzheng_bus::envelope::encode(&naming, &event).expect("the event encodes");
    let headers: Vec<(String, String)> = message
        .headers
        .iter()
        .flat_map(|(name, values)| {
            values
                .iter()
                .map(move |value| (name.to_string(), value.to_string()))
        })
        .collect();
    let as_input = |headers: &[(String, String)]| {
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        envelope::input(&pairs, &message.payload)
    };
    let mut sorted = headers.clone();
    sorted.sort();
    let without_time: Vec<_> = sorted
        .iter()
        .filter(|(n, _)| n != "ce-time")
        .cloned()
        .collect();
    let spec_0_3: Vec<_> = sorted
        .iter()
        .map(|(n, v)| {
            let v = if n == "ce-specversion" { "0.3" } else { v };
            (n.clone(), v.to_owned())
        })
        .collect();
    vec![
        ("published", as_input(&sorted)),
        ("no-time", as_input(&without_time)),
        ("spec-0.3", as_input(&spec_0_3)),
        ("no-headers", envelope::input(&[], &message.payload)),
    ]
}

fn tokens() -> Vec<(&'static str, Vec<u8>)> {
    // Far in the future, fixed so that the seeds do not change from one run to the next.
    const YEAR_2100: u64 = 4_102_444_800;
    let claims = json!({
        "sub": "caseworker-0042",
        "roles": ["caseworker", "auditor", "registrar"],
        "regions": ["210502000000"],
        "agency": "benxi-civil-affairs",
        "exp": YEAR_2100,
        "iat": 1_700_000_000,
        "iss": "minzheng",
        "aud": "minzheng",
    });
    let with = |key: &str, value: serde_json::Value| {
        let mut c = claims.clone();
        c[key] = value;
        c
    };
    let other_key = {
        let key =
            jsonwebtoken::EncodingKey::from_secret(b"another-issuer-secret-of-32-bytes-or-more")
                .expect("a valid HS256 key");
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &key,
        )
        .expect("claims sign")
    };
    let bearer = |token: &str| format!("Bearer {token}").into_bytes();
    let signed = |claims: &serde_json::Value| claims.to_string().into_bytes();
    let expired = bearer_token::sign(&with("exp", json!(1_000)));
    let unsigned = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        other_key.split('.').nth(1).expect("a payload")
    );
    vec![
        ("other-key", bearer(&other_key)),
        ("expired", bearer(&expired)),
        (
            "wrong-audience",
            bearer(&bearer_token::sign(&with("aud", json!("elsewhere")))),
        ),
        ("alg-none", bearer(&unsigned)),
        ("basic-scheme", b"Basic dXNlcjpwYXNz".to_vec()),
        ("bare-token", other_key.clone().into_bytes()),
        ("claims-valid", signed(&claims)),
        ("claims-expired", signed(&with("exp", json!(1_000)))),
        (
            "claims-other-issuer",
            signed(&with("iss", json!("elsewhere"))),
        ),
        (
            "claims-audiences",
            signed(&with("aud", json!(["a", "minzheng"]))),
        ),
        ("claims-blank-subject", signed(&with("sub", json!(" ")))),
        (
            "claims-bad-region",
            signed(&with("regions", json!(["2105"]))),
        ),
        (
            "claims-exp-as-text",
            signed(&with("exp", json!("4102444800"))),
        ),
    ]
}
