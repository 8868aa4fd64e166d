//! The codec of the child directors' and supervisors' posts ([`post::Event`]), to the messages
//! of `proto/minzheng/childwelfare/v1/post_events.proto`.
//!
//! Decoding checks shape only: the division is a code, the role a known value, texts non-empty
//! where required, the hours fit 16 bits. Whether the role matches the division's level or the
//! hours lie within today's limit was decided when the event was recorded, and is not asked
//! again.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::{Decoder, optional_text},
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::{childwelfare::v1 as pb, common::v1 as common};

use super::{SCHEMA_VERSION, known};
use crate::post::{self, Appointed, Holder, Replaced, Role, Trained, Vacated};

minzheng_host::event_codec! {
    post::Event, schema_version = SCHEMA_VERSION;
    Appointed(Appointed) <=> pb::ChildPostHolderAppointed,
    Replaced(Replaced) <=> pb::ChildPostHolderReplaced,
    Vacated(Vacated) <=> pb::ChildPostVacated,
    Trained(Trained) <=> pb::ChildPostHolderTrained,
}

pub(crate) fn role_to_pb(role: Role) -> i32 {
    match role {
        Role::Director => pb::PostRole::ChildDirector,
        Role::Supervisor => pb::PostRole::ChildSupervisor,
    }
    .into()
}

fn role_from_pb(d: &Decoder<'_>, value: i32) -> Result<Role, CodecError> {
    let role = match pb::PostRole::try_from(value) {
        Ok(pb::PostRole::ChildDirector) => Some(Role::Director),
        Ok(pb::PostRole::ChildSupervisor) => Some(Role::Supervisor),
        Ok(pb::PostRole::Unspecified) | Err(_) => None,
    };
    known(d, "role", role)
}

fn holder_to_pb(holder: &Holder) -> pb::ChildPostHolder {
    pb::ChildPostHolder {
        name: holder.name.as_str().to_owned(),
        phone: optional_text(holder.phone.as_ref()),
        citizen: holder.citizen.as_ref().map(common::CitizenRef::from),
    }
}

fn holder_from_pb(
    d: &Decoder<'_>,
    holder: Option<pb::ChildPostHolder>,
) -> Result<Holder, CodecError> {
    let holder = holder.ok_or_else(|| d.invalid("holder is missing"))?;
    let citizen = match holder.citizen {
        Some(c) if !c.citizen_id.is_empty() => Some(d.citizen("holder.citizen", &Some(c))?),
        _ => None,
    };
    Ok(Holder {
        name: d.text("holder.name", &holder.name)?,
        phone: d.optional_text("holder.phone", &holder.phone)?,
        citizen,
    })
}

impl ToMessage for Appointed {
    type Message = pb::ChildPostHolderAppointed;

    fn to_message(&self) -> pb::ChildPostHolderAppointed {
        pb::ChildPostHolderAppointed {
            division: Some(self.division.into()),
            role: role_to_pb(self.role),
            holder: Some(holder_to_pb(&self.holder)),
            appointed_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::ChildPostHolderAppointed> for Appointed {
    fn from_message(m: pb::ChildPostHolderAppointed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            division: d.code("division", &m.division)?,
            role: role_from_pb(d, m.role)?,
            holder: holder_from_pb(d, m.holder)?,
            on: d.date("appointed_on", &m.appointed_on)?,
        })
    }
}

impl ToMessage for Replaced {
    type Message = pb::ChildPostHolderReplaced;

    fn to_message(&self) -> pb::ChildPostHolderReplaced {
        pb::ChildPostHolderReplaced {
            division: Some(self.division.into()),
            role: role_to_pb(self.role),
            holder: Some(holder_to_pb(&self.holder)),
            replaced_on: Some(self.on.into()),
            reason: self.reason.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::ChildPostHolderReplaced> for Replaced {
    fn from_message(m: pb::ChildPostHolderReplaced, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            division: d.code("division", &m.division)?,
            role: role_from_pb(d, m.role)?,
            holder: holder_from_pb(d, m.holder)?,
            on: d.date("replaced_on", &m.replaced_on)?,
            reason: d.text("reason", &m.reason)?,
        })
    }
}

impl ToMessage for Vacated {
    type Message = pb::ChildPostVacated;

    fn to_message(&self) -> pb::ChildPostVacated {
        pb::ChildPostVacated {
            division: Some(self.division.into()),
            role: role_to_pb(self.role),
            vacated_on: Some(self.on.into()),
            reason: self.reason.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::ChildPostVacated> for Vacated {
    fn from_message(m: pb::ChildPostVacated, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            division: d.code("division", &m.division)?,
            role: role_from_pb(d, m.role)?,
            on: d.date("vacated_on", &m.vacated_on)?,
            reason: d.text("reason", &m.reason)?,
        })
    }
}

impl ToMessage for Trained {
    type Message = pb::ChildPostHolderTrained;

    fn to_message(&self) -> pb::ChildPostHolderTrained {
        pb::ChildPostHolderTrained {
            division: Some(self.division.into()),
            role: role_to_pb(self.role),
            trained_on: Some(self.on.into()),
            course: self.course.as_str().to_owned(),
            hours: u32::from(self.hours),
        }
    }
}

impl FromMessage<pb::ChildPostHolderTrained> for Trained {
    fn from_message(m: pb::ChildPostHolderTrained, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            division: d.code("division", &m.division)?,
            role: role_from_pb(d, m.role)?,
            on: d.date("trained_on", &m.trained_on)?,
            course: d.text("course", &m.course)?,
            hours: d.parse("hours", u16::try_from(m.hours))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::aggregate::EventCodec;
    use minzheng_kit::testing::assert_codec_round_trips;
    use minzheng_types::{BoundedText, RegionCode};
    use prost::Message as _;
    use time::macros::date;

    use super::*;
    use crate::post::{
        Event,
        tests::{appointed, holder, township, trained, vacated, village},
    };

    fn text(s: &str) -> BoundedText {
        BoundedText::parse(s, 500).expect("valid")
    }

    fn events() -> Vec<Event> {
        let mut without_contact = holder("王五");
        without_contact.phone = None;
        without_contact.citizen = None;
        vec![
            appointed(village(), "张三", date!(2021 - 03 - 01)),
            Event::Appointed(Appointed {
                division: township(),
                role: Role::Supervisor,
                holder: without_contact,
                on: date!(2021 - 03 - 01),
            }),
            Event::Replaced(Replaced {
                division: village(),
                role: Role::Director,
                holder: holder("李四"),
                on: date!(2023 - 07 - 01),
                reason: text("调任"),
            }),
            vacated(village(), date!(2024 - 01 - 01)),
            trained(township(), date!(2021 - 04 - 15)),
        ]
    }

    #[test]
    fn every_post_event_round_trips() {
        assert_codec_round_trips(events());
        let types: Vec<&str> = events().iter().map(EventCodec::event_type).collect();
        assert_eq!(
            types,
            [
                "minzheng.childwelfare.v1.ChildPostHolderAppointed",
                "minzheng.childwelfare.v1.ChildPostHolderAppointed",
                "minzheng.childwelfare.v1.ChildPostHolderReplaced",
                "minzheng.childwelfare.v1.ChildPostVacated",
                "minzheng.childwelfare.v1.ChildPostHolderTrained",
            ]
        );
        assert_eq!(Event::EVENT_TYPES.len(), 4);
    }

    #[test]
    fn decoding_checks_shape_but_not_todays_rules() {
        // A role that does not match the division's level, and hours above today's limit, are
        // history: they decode as recorded.
        let odd = Event::Trained(Trained {
            division: RegionCode::parse("210521000000").expect("valid"),
            role: Role::Director,
            on: date!(2021 - 04 - 15),
            course: text("培训"),
            hours: u16::MAX,
        });
        assert_codec_round_trips([odd]);

        let event_type = "minzheng.childwelfare.v1.ChildPostHolderTrained";
        let unknown_role = pb::ChildPostHolderTrained {
            division: Some(village().into()),
            role: 0,
            trained_on: Some(date!(2021 - 04 - 15).into()),
            course: "培训".into(),
            hours: 8,
        };
        assert!(matches!(
            Event::decode(event_type, SCHEMA_VERSION, &unknown_role.encode_to_vec()),
            Err(CodecError::Invalid { .. })
        ));
        let too_long = pb::ChildPostHolderTrained {
            role: pb::PostRole::ChildDirector.into(),
            hours: 70_000,
            ..unknown_role
        };
        assert!(matches!(
            Event::decode(event_type, SCHEMA_VERSION, &too_long.encode_to_vec()),
            Err(CodecError::Invalid { .. })
        ));
    }

    #[test]
    fn a_holder_is_required_and_a_bad_citizen_id_is_not_quoted() {
        let event_type = "minzheng.childwelfare.v1.ChildPostHolderAppointed";
        let mut message = pb::ChildPostHolderAppointed {
            division: Some(village().into()),
            role: pb::PostRole::ChildDirector.into(),
            holder: None,
            appointed_on: Some(date!(2021 - 03 - 01).into()),
        };
        assert!(matches!(
            Event::decode(event_type, SCHEMA_VERSION, &message.encode_to_vec()),
            Err(CodecError::Invalid { .. })
        ));
        message.holder = Some(pb::ChildPostHolder {
            name: "张三".into(),
            phone: String::new(),
            citizen: Some(common::CitizenRef {
                citizen_id: "210502198001010017".into(),
            }),
        });
        let error = Event::decode(event_type, SCHEMA_VERSION, &message.encode_to_vec())
            .expect_err("wrong check digit");
        let shown = error.to_string();
        assert!(!shown.contains("210502198001010017"), "{shown}");
        assert!(!shown.contains("张三"), "{shown}");
    }
}
