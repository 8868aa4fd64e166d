//! Protobuf payloads shaped like stored events, generated from the event messages' descriptors
//! (`minzheng_proto::FILE_DESCRIPTOR_SET`): every field filled with the kind of value it holds
//! (a real division code, a real date, a valid citizen id, an id, a name, a known enum value), so
//! that the decoders accept a good share and the round-trip property is exercised on every event
//! type, not only on the few a seed gives.

use std::{collections::HashMap, sync::LazyLock};

use minzheng_types::CitizenId;
use proptest::{prelude::*, sample::select};
use prost::Message;
use prost_types::{
    DescriptorProto, FieldDescriptorProto, FileDescriptorSet,
    field_descriptor_proto::{Label, Type},
};
use time::macros::date;

/// Every message of the compiled protos, by full name (`minzheng.common.v1.Date`).
static MESSAGES: LazyLock<HashMap<String, DescriptorProto>> = LazyLock::new(|| {
    let set = FileDescriptorSet::decode(minzheng_proto::FILE_DESCRIPTOR_SET)
        .expect("the compiled descriptor set decodes");
    let mut messages = HashMap::new();
    for file in set.file {
        let package = file.package().to_owned();
        for message in file.message_type {
            add(&mut messages, &package, message);
        }
    }
    messages
});

fn add(messages: &mut HashMap<String, DescriptorProto>, scope: &str, message: DescriptorProto) {
    let name = format!("{scope}.{}", message.name());
    for nested in &message.nested_type {
        add(messages, &name, nested.clone());
    }
    messages.insert(name, message);
}

/// Encoded instances of the message `full_name`.
pub fn payload(full_name: &str) -> BoxedStrategy<Vec<u8>> {
    message(full_name, 0)
}

fn message(full_name: &str, depth: usize) -> BoxedStrategy<Vec<u8>> {
    match full_name {
        "minzheng.common.v1.RegionCode" => return length_prefixed_text(1, codes()),
        "minzheng.common.v1.CitizenRef" => return length_prefixed_text(1, citizen_ids()),
        "minzheng.common.v1.Date" => return dates(),
        _ => {}
    }
    let descriptor = MESSAGES
        .get(full_name)
        .unwrap_or_else(|| panic!("{full_name} is a compiled message"));
    if depth > 3 {
        return Just(Vec::new()).boxed();
    }
    let fields: Vec<BoxedStrategy<Vec<u8>>> =
        descriptor.field.iter().map(|f| field(f, depth)).collect();
    fields.prop_map(|parts| parts.concat()).boxed()
}

/// One field, encoded with its key; repeated fields 0 to 3 times (2 most often: parties).
fn field(f: &FieldDescriptorProto, depth: usize) -> BoxedStrategy<Vec<u8>> {
    let number = u64::try_from(f.number()).expect("field numbers are positive");
    let value: BoxedStrategy<(u64, Vec<u8>)> = match f.r#type() {
        Type::Message => {
            let name = f.type_name().trim_start_matches('.').to_owned();
            message(&name, depth + 1)
                .prop_map(|b| (2, delimited(&b)))
                .boxed()
        }
        Type::String => text(f.name())
            .prop_map(|s| (2, delimited(s.as_bytes())))
            .boxed(),
        Type::Bytes => proptest::collection::vec(any::<u8>(), 0..8)
            .prop_map(|b| (2, delimited(&b)))
            .boxed(),
        Type::Enum => (0u64..4).prop_map(|n| (0, varint(n))).boxed(),
        Type::Bool => any::<bool>()
            .prop_map(|b| (0, varint(u64::from(b))))
            .boxed(),
        _ => select(vec![0u64, 1, 2, 30, 1000, 150_000])
            .prop_map(|n| (0, varint(n)))
            .boxed(),
    };
    let keyed = value.prop_map(move |(wire, body)| [varint(number << 3 | wire), body].concat());
    if f.label() == Label::Repeated {
        (
            select(vec![0usize, 1, 2, 2, 2, 3]),
            proptest::collection::vec(keyed, 3),
        )
            .prop_map(|(count, items)| items[..count].concat())
            .boxed()
    } else {
        prop_oneof![9 => keyed, 1 => Just(Vec::new())].boxed()
    }
}

fn text(field: &str) -> BoxedStrategy<String> {
    let pool: &[&str] = if field == "id" || field.ends_with("_id") || field.ends_with("_from") {
        &["a-0001", "2021-benxi-0001", "210502-210503"]
    } else if field.contains("pinyin") {
        &["Taizihe Lu", "Píngshān Qū"]
    } else {
        &["本溪市", "平山区", "Taizihe Lu", "note"]
    };
    prop_oneof![9 => select(pool.to_vec()).prop_map(str::to_owned), 1 => Just(String::new())]
        .boxed()
}

fn codes() -> BoxedStrategy<String> {
    select(vec![
        "210000000000",
        "210500000000",
        "210502000000",
        "210503000000",
        "210502001000",
        "210502001001",
    ])
    .prop_map(str::to_owned)
    .boxed()
}

fn citizen_ids() -> BoxedStrategy<String> {
    (select(vec!["210502", "210503"]), 0u16..999)
        .prop_map(|(region, sequence)| {
            CitizenId::from_parts(region, date!(1990 - 03 - 07), sequence)
                .expect("valid parts")
                .expose()
                .to_owned()
        })
        .boxed()
}

fn dates() -> BoxedStrategy<Vec<u8>> {
    (2020u64..2027, 1u64..13, 1u64..29)
        .prop_map(|(y, m, d)| {
            [
                varint(1 << 3),
                varint(y),
                varint(2 << 3),
                varint(m),
                varint(3 << 3),
                varint(d),
            ]
            .concat()
        })
        .boxed()
}

fn length_prefixed_text(number: u64, text: BoxedStrategy<String>) -> BoxedStrategy<Vec<u8>> {
    text.prop_map(move |t| [varint(number << 3 | 2), delimited(t.as_bytes())].concat())
        .boxed()
}

fn delimited(body: &[u8]) -> Vec<u8> {
    [varint(body.len() as u64), body.to_vec()].concat()
}

fn varint(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
    out
}
