//! What an agency may see of an event (sharing out, 数据共享): the event's message cut down to the
//! fields its agreement allows, with every citizen id number in it — any `CitizenRef`, however
//! deeply nested — replaced by that agency's pseudonym of the person, unless the agreement grants
//! the real id. Driven by the messages' descriptors (`minzheng_proto::FILE_DESCRIPTOR_SET`), so
//! every service's events are filtered alike and a field added to a message is shared only once
//! an agreement names it.
//!
//! Works on the wire format: fields are copied byte for byte, so what is shared is what was
//! recorded, less what is not allowed.

use std::collections::HashMap;

use bytes::{Buf, BufMut};
use prost::{
    Message as _,
    encoding::{WireType, decode_key, decode_varint, encode_key, encode_varint},
};
use prost_types::{DescriptorProto, FileDescriptorSet, field_descriptor_proto::Type};

/// The message a citizen id number travels in.
const CITIZEN_REF: &str = ".minzheng.common.v1.CitizenRef";

/// Why a payload could not be shared.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShareError {
    #[error("no message {0} in the descriptors")]
    UnknownMessage(String),
    #[error("the payload of {0} is not its message")]
    Malformed(String),
}

/// Every message's descriptor, by full name (`.package.Message`).
#[derive(Debug, Clone)]
pub struct Descriptors {
    messages: HashMap<String, DescriptorProto>,
}

impl Descriptors {
    /// The descriptors of every message the platform compiles.
    pub fn platform() -> Self {
        Self::from_set(minzheng_proto::FILE_DESCRIPTOR_SET)
    }

    /// The descriptors in an encoded `FileDescriptorSet` (an undecodable one holds none).
    pub fn from_set(encoded: &[u8]) -> Self {
        let set = FileDescriptorSet::decode(encoded).unwrap_or_default();
        let mut messages = HashMap::new();
        for file in set.file {
            let package = file.package.clone().unwrap_or_default();
            for message in file.message_type {
                collect(&format!(".{package}"), message, &mut messages);
            }
        }
        Self { messages }
    }

    /// The top-level field names of the message `message_type` (its full name, without the
    /// leading dot); `None` when the descriptors have no such message.
    pub fn fields(&self, message_type: &str) -> Option<Vec<&str>> {
        self.messages
            .get(&format!(".{message_type}"))
            .map(|m| m.field.iter().filter_map(|f| f.name.as_deref()).collect())
    }

    /// `payload`, an event of type `event_type` (its full name, without the leading dot), with
    /// only the top-level fields named in `allowed`, and each citizen id number replaced by
    /// `pseudonym` of it when given.
    pub fn share(
        &self,
        event_type: &str,
        payload: &[u8],
        allowed: &[String],
        pseudonym: Option<&dyn Fn(&str) -> String>,
    ) -> Result<Vec<u8>, ShareError> {
        let name = format!(".{event_type}");
        let mut out = Vec::with_capacity(payload.len());
        self.copy(&name, payload, Some(allowed), pseudonym, &mut out)?;
        Ok(out)
    }

    fn copy(
        &self,
        message: &str,
        mut payload: &[u8],
        allowed: Option<&[String]>,
        pseudonym: Option<&dyn Fn(&str) -> String>,
        out: &mut Vec<u8>,
    ) -> Result<(), ShareError> {
        let descriptor = self.messages.get(message).ok_or_else(|| {
            ShareError::UnknownMessage(message.trim_start_matches('.').to_owned())
        })?;
        let malformed = || ShareError::Malformed(message.trim_start_matches('.').to_owned());
        while payload.has_remaining() {
            let (number, wire_type) = decode_key(&mut payload).map_err(|_| malformed())?;
            let field = descriptor
                .field
                .iter()
                .find(|f| f.number == Some(i32::try_from(number).unwrap_or(-1)));
            let value = take_value(&mut payload, wire_type).ok_or_else(malformed)?;
            let Some(field) = field else {
                // Not in the message as compiled here: not shared.
                continue;
            };
            if allowed.is_some_and(|names| {
                !names
                    .iter()
                    .any(|n| Some(n.as_str()) == field.name.as_deref())
            }) {
                continue;
            }
            let nested = field.r#type() == Type::Message && wire_type == WireType::LengthDelimited;
            match field.type_name.as_deref().filter(|_| nested) {
                Some(type_name) => {
                    let mut inner = value;
                    let length = decode_varint(&mut inner).map_err(|_| malformed())?;
                    let body = inner
                        .get(..usize::try_from(length).map_err(|_| malformed())?)
                        .ok_or_else(malformed)?;
                    let mut copied = Vec::new();
                    match pseudonym.filter(|_| type_name == CITIZEN_REF) {
                        Some(pseudonym) => {
                            rewrite_citizen(body, pseudonym, &mut copied).ok_or_else(malformed)?
                        }
                        None => self.copy(type_name, body, None, pseudonym, &mut copied)?,
                    }
                    encode_key(number, WireType::LengthDelimited, out);
                    encode_varint(copied.len() as u64, out);
                    out.put_slice(&copied);
                }
                None => {
                    encode_key(number, wire_type, out);
                    out.put_slice(value);
                }
            }
        }
        Ok(())
    }
}

/// Collects `message` and its nested messages under `scope`.
fn collect(scope: &str, message: DescriptorProto, into: &mut HashMap<String, DescriptorProto>) {
    let name = format!("{scope}.{}", message.name.clone().unwrap_or_default());
    for nested in message.nested_type.clone() {
        collect(&name, nested, into);
    }
    into.insert(name, message);
}

/// The bytes of one field's value as encoded (a length-delimited value with its length), moving
/// `payload` past it.
fn take_value<'a>(payload: &mut &'a [u8], wire_type: WireType) -> Option<&'a [u8]> {
    let start: &'a [u8] = payload;
    match wire_type {
        WireType::Varint => {
            decode_varint(payload).ok()?;
        }
        WireType::SixtyFourBit => payload.advance_checked(8)?,
        WireType::ThirtyTwoBit => payload.advance_checked(4)?,
        WireType::LengthDelimited => {
            let length = usize::try_from(decode_varint(payload).ok()?).ok()?;
            payload.advance_checked(length)?;
        }
        WireType::StartGroup | WireType::EndGroup => return None,
    }
    Some(&start[..start.len() - payload.len()])
}

/// A `CitizenRef` whose `citizen_id` (field 1) is replaced by its pseudonym.
fn rewrite_citizen(
    mut body: &[u8],
    pseudonym: &dyn Fn(&str) -> String,
    out: &mut Vec<u8>,
) -> Option<()> {
    while body.has_remaining() {
        let (number, wire_type) = decode_key(&mut body).ok()?;
        let value = take_value(&mut body, wire_type)?;
        if number == 1 && wire_type == WireType::LengthDelimited {
            let mut inner = value;
            let length = usize::try_from(decode_varint(&mut inner).ok()?).ok()?;
            let id = std::str::from_utf8(inner.get(..length)?).ok()?;
            let replaced = pseudonym(id);
            encode_key(1, WireType::LengthDelimited, out);
            encode_varint(replaced.len() as u64, out);
            out.put_slice(replaced.as_bytes());
        } else {
            encode_key(number, wire_type, out);
            out.put_slice(value);
        }
    }
    Some(())
}

/// Advancing a slice only when it holds enough.
trait AdvanceChecked {
    fn advance_checked(&mut self, count: usize) -> Option<()>;
}

impl AdvanceChecked for &[u8] {
    fn advance_checked(&mut self, count: usize) -> Option<()> {
        if self.len() < count {
            return None;
        }
        self.advance(count);
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use minzheng_proto::{assistance::v1 as assistance, common::v1 as common};
    use prost::Name as _;

    use super::*;

    fn granted() -> assistance::AssistanceGranted {
        assistance::AssistanceGranted {
            case_id: "210502-DB-2026-000001".into(),
            category: assistance::AssistanceCategory::Dibao.into(),
            county: Some(common::RegionCode {
                code: "210502000000".into(),
            }),
            members: vec![
                common::CitizenRef {
                    citizen_id: "210502195001010019".into(),
                },
                common::CitizenRef {
                    citizen_id: "210502195203040021".into(),
                },
            ],
            effective_from: Some(common::Date {
                year: 2026,
                month: 2,
                day: 1,
            }),
            single_person: false,
        }
    }

    fn names(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|f| (*f).to_owned()).collect()
    }

    #[test]
    fn only_the_allowed_fields_are_shared_and_ids_become_the_agencys_pseudonyms() {
        let descriptors = Descriptors::platform();
        let event = granted();
        let pseudonym = |id: &str| format!("P{}", &id[14..]);
        let shared = descriptors
            .share(
                &assistance::AssistanceGranted::full_name(),
                &event.encode_to_vec(),
                &names(&["members", "category", "effective_from"]),
                Some(&pseudonym),
            )
            .expect("shared");
        let read = assistance::AssistanceGranted::decode(shared.as_slice()).expect("decodes");
        assert_eq!(read.case_id, "", "not allowed");
        assert_eq!(read.county, None, "not allowed");
        assert_eq!(read.category, event.category);
        assert_eq!(read.effective_from, event.effective_from);
        let ids: Vec<&str> = read.members.iter().map(|m| m.citizen_id.as_str()).collect();
        assert_eq!(ids, ["P0019", "P0021"]);
    }

    #[test]
    fn a_granted_real_id_is_shared_as_recorded() {
        let descriptors = Descriptors::platform();
        let event = granted();
        let every = names(&[
            "case_id",
            "category",
            "county",
            "members",
            "effective_from",
            "single_person",
        ]);
        let shared = descriptors
            .share(
                &assistance::AssistanceGranted::full_name(),
                &event.encode_to_vec(),
                &every,
                None,
            )
            .expect("shared");
        assert_eq!(shared, event.encode_to_vec(), "byte for byte");
    }

    #[test]
    fn nested_citizen_ids_are_replaced_too_and_garbage_is_refused() {
        let descriptors = Descriptors::platform();
        let submitted = assistance::ApplicationSubmitted {
            case_id: "C".into(),
            members: vec![assistance::HouseholdMember {
                citizen: Some(common::CitizenRef {
                    citizen_id: "210502195001010019".into(),
                }),
                name: "张三".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let shared = descriptors
            .share(
                &assistance::ApplicationSubmitted::full_name(),
                &submitted.encode_to_vec(),
                &names(&["members"]),
                Some(&|_| "X".to_owned()),
            )
            .expect("shared");
        let read = assistance::ApplicationSubmitted::decode(shared.as_slice()).expect("decodes");
        assert_eq!(
            read.members[0]
                .citizen
                .as_ref()
                .map(|c| c.citizen_id.as_str()),
            Some("X")
        );
        assert_eq!(
            read.members[0].name, "张三",
            "fields of an allowed message stay"
        );
        assert_eq!(
            descriptors.share("minzheng.nope.v1.Nothing", &[], &[], None),
            Err(ShareError::UnknownMessage(
                "minzheng.nope.v1.Nothing".into()
            ))
        );
        assert!(
            descriptors
                .share(
                    &assistance::AssistanceGranted::full_name(),
                    &[0x0a, 0xff],
                    &names(&["case_id"]),
                    None
                )
                .is_err()
        );
    }
}
