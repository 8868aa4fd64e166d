//! Each target run for a fixed number of generated inputs: arbitrary bytes, and inputs shaped
//! like what the target reads (event messages made of real values (`messages`), headers of a published
//! event, division rows, signed claims), so the properties checked on accepted input are
//! exercised too. The case count is fixed: the whole run takes seconds.

use minzheng_fuzz::{
    bearer_token, citizen_id, division_import, envelope, region_code, seeds, stored_event,
};
use proptest::{prelude::*, sample::select};

use crate::messages;
use serde_json::json;

const CASES: u32 = 4096;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..256)
}

/// The seed inputs of `target`, to mutate.
fn seed_inputs(target: &str) -> Vec<Vec<u8>> {
    seeds::seeds()
        .into_iter()
        .filter(|seed| seed.target == target)
        .map(|seed| seed.data)
        .collect()
}

/// A seed with a few bytes overwritten, inserted or cut: a cheap stand-in for libFuzzer's
/// mutations that keeps most of a valid input.
fn mutated_seed(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    (
        select(seed_inputs(target)),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    )
        .prop_map(|(mut data, edits)| {
            for (at, byte, kind) in edits {
                if data.is_empty() {
                    data.push(byte);
                    continue;
                }
                let i = at.index(data.len());
                match kind {
                    0 => data[i] = byte,
                    1 => data.insert(i, byte),
                    _ => {
                        data.remove(i);
                    }
                }
            }
            data
        })
}

/// The headers of a published event with one value replaced by an edge of what the header
/// holds (times at the ends of the years and offsets, numbers at the ends of their types, odd
/// stream ids and event types).
fn published_envelope() -> impl Strategy<Value = Vec<u8>> {
    let published = seeds::seeds()
        .into_iter()
        .find(|seed| seed.target == "envelope" && seed.name == "seed-published")
        .expect("the published envelope seed")
        .data;
    let values = prop_oneof![
        (
            "ce-time",
            "(0000|0001|2024|9999)-(01|12)-(01|31)T(00|23):(00|30):00(\\.5)?(Z|[+-](00|01|23):(00|59))"
        ),
        (
            "ce-position|ce-streamversion|ce-schemaversion",
            "-1|0|4294967296|18446744073709551615|18446744073709551616| 1|0x10"
        ),
        (
            "ce-subject",
            "division-210502000000|division-|-x|Division-1|a-b-c|a-\\PC{0,8}"
        ),
        (
            "ce-type",
            "minzheng\\.placenames\\.v1\\.[A-Za-z_*> .]{0,12}|\\PC{0,12}"
        ),
        (
            "ce-id|ce-correlationid|ce-causationid",
            "[0-9a-f-]{0,36}|00000000-0000-0000-0000-000000000000"
        ),
    ];
    values.prop_map(move |(headers, value)| {
        let text = String::from_utf8_lossy(&published).into_owned();
        let (head, payload) = text.split_once("\n\n").expect("headers, then the payload");
        let head: Vec<String> = head
            .lines()
            .map(|line| match line.split_once(": ") {
                Some((name, _)) if headers.split('|').any(|h| h == name) => {
                    format!("{name}: {value}")
                }
                _ => line.to_owned(),
            })
            .collect();
        format!("{}\n\n{payload}", head.join("\n")).into_bytes()
    })
}

fn division_row() -> impl Strategy<Value = String> {
    let code = "21(00|05)(00|02|21)(000|001)(000|001)|\\PC{0,13}";
    let name = "本溪市|平山区|\"辽宁,省\"|\"a\"\"b\"|\\PC{0,6}";
    let level = "province|city|county|township|village|\\PC{0,4}";
    let parent = "|21(00|05)(00|02)000000|\\PC{0,13}";
    (code, name, level, parent, 0usize..3).prop_map(|(c, n, l, p, extra)| {
        let mut row = format!("{c},{n},{l},{p}");
        row.push_str(&",".repeat(extra.saturating_sub(1)));
        row
    })
}

fn claims() -> impl Strategy<Value = Vec<u8>> {
    let sub = select(vec![
        json!("caseworker-1"),
        json!(""),
        json!(" "),
        json!(7),
        json!(null),
    ]);
    let roles = proptest::collection::vec("caseworker|approver|auditor|operator|agency|root", 0..3);
    let regions = proptest::collection::vec("210502000000|2105|000000000000|\\PC{0,12}", 0..3);
    let exp = select(vec![
        json!(1_000),
        json!(4_102_444_800u64),
        json!("4102444800"),
        json!(-1),
        json!(1.5e10),
        json!(null),
    ]);
    let party = select(vec![
        json!("minzheng"),
        json!("elsewhere"),
        json!(["minzheng"]),
        json!(["x"]),
        json!(null),
    ]);
    (sub, roles, regions, exp, party.clone(), party).prop_map(|(sub, roles, regions, exp, iss, aud)| {
        json!({"sub": sub, "roles": roles, "regions": regions, "exp": exp, "iss": iss, "aud": aud})
            .to_string()
            .into_bytes()
    })
}

/// A token the target's verifier trusts, with one character (not the last of a segment, whose
/// spare bits may not count) replaced by another base64url character.
fn tampered_token() -> impl Strategy<Value = Vec<u8>> {
    let token = bearer_token::sign(&json!({
        "sub": "caseworker-1", "roles": ["caseworker"], "regions": ["210502000000"],
        "exp": 4_102_444_800u64, "iss": "minzheng", "aud": "minzheng",
    }));
    let alphabet: Vec<char> = ('A'..='Z')
        .chain('a'..='z')
        .chain('0'..='9')
        .chain(['-', '_'])
        .collect();
    (any::<prop::sample::Index>(), select(alphabet)).prop_filter_map(
        "a change in a segment's body",
        move |(at, replacement)| {
            let mut chars: Vec<char> = token.chars().collect();
            let i = at.index(chars.len());
            let last_of_segment = i + 1 == chars.len() || chars[i + 1] == '.';
            if chars[i] == '.' || last_of_segment || chars[i] == replacement {
                return None;
            }
            chars[i] = replacement;
            Some(format!("Bearer {}", chars.into_iter().collect::<String>()).into_bytes())
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn citizen_ids(data in prop_oneof![bytes(), mutated_seed("citizen_id"), "[0-9xX]{15,19}".prop_map(String::into_bytes)]) {
        citizen_id::run(&data);
    }

    #[test]
    fn region_codes(data in prop_oneof![bytes(), mutated_seed("region_code"), "[0-9]{6,13}".prop_map(String::into_bytes)]) {
        region_code::run(&data);
    }

    #[test]
    fn stored_events(
        (event_type, payload) in select(stored_event::event_types()).prop_flat_map(|event_type| {
            (Just(event_type), prop_oneof![1 => bytes(), 4 => messages::payload(event_type)])
        }),
    ) {
        stored_event::run(&stored_event::input(event_type, &payload));
    }

    #[test]
    fn stored_events_from_arbitrary_bytes(data in prop_oneof![bytes(), mutated_seed("stored_event")]) {
        stored_event::run(&data);
    }

    #[test]
    fn envelopes(data in prop_oneof![bytes(), mutated_seed("envelope"), published_envelope()]) {
        envelope::run(&data);
    }

    #[test]
    fn division_imports(
        data in prop_oneof![
            bytes(),
            mutated_seed("division_import"),
            proptest::collection::vec(division_row(), 0..6).prop_map(|rows| {
                format!("code,name,level,parent_code\n{}", rows.join("\n")).into_bytes()
            }),
        ]
    ) {
        division_import::run(&data);
    }

    #[test]
    fn bearer_tokens(data in prop_oneof![bytes(), mutated_seed("bearer_token"), claims(), tampered_token()]) {
        bearer_token::run(&data);
    }
}

#[test]
fn every_listed_type_is_read_in_the_fuzzed_version() {
    // Each codec refuses an empty payload for what it lacks, not for its schema version: the
    // fuzzed version is the one the codecs read.
    for event_type in stored_event::event_types() {
        stored_event::run(&stored_event::input(event_type, &[]));
    }
    use minzheng_kit::aggregate::{CodecError, EventCodec};
    fn check<E: EventCodec>() {
        for event_type in E::EVENT_TYPES {
            let result = E::decode(event_type, stored_event::SCHEMA_VERSION, &[]);
            assert!(
                !matches!(result, Err(CodecError::UnsupportedVersion { .. })),
                "{event_type} is no longer read in schema version {}",
                stored_event::SCHEMA_VERSION
            );
        }
    }
    check::<minzheng_placenames::division::Event>();
    check::<minzheng_placenames::adjustment::Event>();
    check::<minzheng_placenames::placename::Event>();
    check::<minzheng_placenames::boundary::Event>();
    check::<minzheng_placenames::sign::Event>();
    check::<minzheng_civilregistry::registry_day::Event>();
    check::<minzheng_civilregistry::registry::Event>();
    check::<minzheng_civilregistry::person::Event>();
    check::<minzheng_civilregistry::marriage::Event>();
    check::<minzheng_civilregistry::divorce::Event>();
    check::<minzheng_civilregistry::death::Event>();
    check::<minzheng_assistance::case::Event>();
    check::<minzheng_assistance::policy::Event>();
    check::<minzheng_assistance::calendar::Event>();
    check::<minzheng_assistance::fund::Event>();
    check::<minzheng_assistance::cycle::Event>();
    check::<minzheng_assistance::ledger::Event>();
    check::<minzheng_assistance::referral::Event>();
    check::<minzheng_datasharing::agreement::Event>();
    check::<minzheng_datasharing::authorization::Event>();
    check::<minzheng_datasharing::thresholds::Event>();
    check::<minzheng_datasharing::load::Event>();
    check::<minzheng_eldercare::institution::Event>();
    check::<minzheng_eldercare::service_point::Event>();
    check::<minzheng_eldercare::elder::Event>();
    check::<minzheng_eldercare::subsidy::Event>();
    check::<minzheng_eldercare::population::Event>();
    check::<minzheng_childwelfare::allowance::Event>();
    check::<minzheng_childwelfare::child::Event>();
    check::<minzheng_childwelfare::protection::Event>();
    check::<minzheng_childwelfare::post::Event>();
    // A contract reads another service's events; its listed types likewise.
    macro_rules! check_contract {
        ($($contract:ty),+ $(,)?) => {$(
            for event_type in <$contract>::EVENT_TYPES {
                let result =
                    <$contract>::decode_payload(event_type, stored_event::SCHEMA_VERSION, &[]);
                assert!(
                    !matches!(result, Err(CodecError::UnsupportedVersion { .. })),
                    "{event_type} is no longer read by {} in schema version {}",
                    stringify!($contract),
                    stored_event::SCHEMA_VERSION
                );
            }
        )+};
    }
    check_contract!(
        minzheng_childwelfare::codec::others::CivilRegistryDeaths,
        minzheng_childwelfare::codec::others::DataSharingAlerts,
    );
}
