//! The death record's events ([`death::Event`]) to their messages and back:
//! [`death::Recorded`] ↔ `DeathRecorded`, [`death::FuneralRecorded`] ↔ `FuneralServiceRecorded`.
//!
//! The death id on the wire is the pseudonym's text. Decoding checks shape: ids, codes, dates,
//! texts, known enum values, amounts that are amounts (not negative). What recording decided is
//! read as recorded: the county's level, the order of the dates, and the amounts (the payable
//! amount is the basic fee less the waiver today; a fee policy may change how they relate).

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::{Decoder, optional_text},
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::civilregistry::v1 as pb;

use super::{
    SCHEMA_VERSION,
    assistance::{case_id, category_from_pb, category_to_pb},
    citizen_ref,
};
use crate::{
    death::{self, BurialType, FeeWaiver, Source},
    ids::Pseudonym,
};

minzheng_host::event_codec! {
    death::Event, schema_version = SCHEMA_VERSION;
    Recorded(death::Recorded) <=> pb::DeathRecorded,
    FuneralRecorded(death::FuneralRecorded) <=> pb::FuneralServiceRecorded,
}

impl ToMessage for death::Recorded {
    type Message = pb::DeathRecorded;

    fn to_message(&self) -> pb::DeathRecorded {
        pb::DeathRecorded {
            death_id: self.death.as_str().to_owned(),
            citizen: Some(citizen_ref(&self.citizen)),
            name: self.name.as_str().to_owned(),
            died_on: Some(self.died_on.into()),
            county: Some(self.county.into()),
            source: source_to_pb(self.source).into(),
            source_reference: optional_text(self.source_reference.as_ref()),
            recorded_on: Some(self.recorded_on.into()),
        }
    }
}

impl FromMessage<pb::DeathRecorded> for death::Recorded {
    fn from_message(m: pb::DeathRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            death: d.parse("death_id", Pseudonym::parse(&m.death_id))?,
            citizen: d.citizen("citizen", &m.citizen)?,
            name: d.text("name", &m.name)?,
            died_on: d.date("died_on", &m.died_on)?,
            county: d.code("county", &m.county)?,
            source: source_from_i32(m.source)
                .ok_or_else(|| d.invalid("source is not a known death source"))?,
            source_reference: d.optional_text("source_reference", &m.source_reference)?,
            recorded_on: d.date("recorded_on", &m.recorded_on)?,
        })
    }
}

impl ToMessage for death::FuneralRecorded {
    type Message = pb::FuneralServiceRecorded;

    fn to_message(&self) -> pb::FuneralServiceRecorded {
        pb::FuneralServiceRecorded {
            death_id: self.death.as_str().to_owned(),
            funeral_home: self.funeral_home.as_str().to_owned(),
            cremated_on: self.cremated_on.map(Into::into),
            burial: burial_to_pb(self.burial).into(),
            buried_on: Some(self.buried_on.into()),
            basic_fee: Some(self.basic_fee.into()),
            waiver: self.waiver.as_ref().map(|w| pb::FeeWaiver {
                category: category_to_pb(w.category).into(),
                case_id: w.case_id.as_str().to_owned(),
                waived: Some(w.waived.into()),
            }),
            payable: Some(self.payable.into()),
            recorded_on: Some(self.recorded_on.into()),
        }
    }
}

impl FromMessage<pb::FuneralServiceRecorded> for death::FuneralRecorded {
    fn from_message(m: pb::FuneralServiceRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let waiver = m
            .waiver
            .as_ref()
            .map(|w| -> Result<FeeWaiver, CodecError> {
                Ok(FeeWaiver {
                    category: category_from_pb(d, "waiver.category", w.category)?,
                    case_id: case_id(d, &w.case_id)?,
                    waived: d.money("waiver.waived", &w.waived)?,
                })
            })
            .transpose()?;
        Ok(Self {
            death: d.parse("death_id", Pseudonym::parse(&m.death_id))?,
            funeral_home: d.text("funeral_home", &m.funeral_home)?,
            cremated_on: d.optional_date("cremated_on", &m.cremated_on)?,
            burial: burial_from_i32(m.burial)
                .ok_or_else(|| d.invalid("burial is not a known burial type"))?,
            buried_on: d.date("buried_on", &m.buried_on)?,
            basic_fee: d.money("basic_fee", &m.basic_fee)?,
            waiver,
            payable: d.money("payable", &m.payable)?,
            recorded_on: d.date("recorded_on", &m.recorded_on)?,
        })
    }
}

pub(crate) fn source_to_pb(source: Source) -> pb::DeathSource {
    match source {
        Source::Hospital => pb::DeathSource::Hospital,
        Source::PublicSecurity => pb::DeathSource::PublicSecurity,
        Source::Family => pb::DeathSource::Family,
    }
}

/// The source of an enum value; `None` for UNSPECIFIED and unknown numbers.
pub(crate) fn source_from_i32(value: i32) -> Option<Source> {
    match pb::DeathSource::try_from(value) {
        Ok(pb::DeathSource::Hospital) => Some(Source::Hospital),
        Ok(pb::DeathSource::PublicSecurity) => Some(Source::PublicSecurity),
        Ok(pb::DeathSource::Family) => Some(Source::Family),
        Ok(pb::DeathSource::Unspecified) | Err(_) => None,
    }
}

pub(crate) fn burial_to_pb(burial: BurialType) -> pb::BurialType {
    match burial {
        BurialType::Sea => pb::BurialType::Sea,
        BurialType::Tree => pb::BurialType::Tree,
        BurialType::Lawn => pb::BurialType::Lawn,
        BurialType::Flower => pb::BurialType::Flower,
        BurialType::TraditionalCemetery => pb::BurialType::TraditionalCemetery,
        BurialType::Columbarium => pb::BurialType::Columbarium,
    }
}

/// The burial type of an enum value; `None` for UNSPECIFIED and unknown numbers.
pub(crate) fn burial_from_i32(value: i32) -> Option<BurialType> {
    match pb::BurialType::try_from(value) {
        Ok(pb::BurialType::Sea) => Some(BurialType::Sea),
        Ok(pb::BurialType::Tree) => Some(BurialType::Tree),
        Ok(pb::BurialType::Lawn) => Some(BurialType::Lawn),
        Ok(pb::BurialType::Flower) => Some(BurialType::Flower),
        Ok(pb::BurialType::TraditionalCemetery) => Some(BurialType::TraditionalCemetery),
        Ok(pb::BurialType::Columbarium) => Some(BurialType::Columbarium),
        Ok(pb::BurialType::Unspecified) | Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::{aggregate::EventCodec, testing::assert_codec_round_trips};
    use minzheng_proto::common::v1 as common;
    use minzheng_types::Fen;
    use prost::Message;

    use super::*;

    const DEATH_RECORDED: &str = minzheng_host::message_name!(pb::DeathRecorded);
    const FUNERAL_SERVICE_RECORDED: &str = minzheng_host::message_name!(pb::FuneralServiceRecorded);
    use crate::{
        assistance::{
            AssistanceCategory,
            tests::{case, county},
        },
        codec::PACKAGE,
        death::tests::{history, pseudonym, recorded},
    };

    fn funeral(history: &[death::Event]) -> death::FuneralRecorded {
        match &history[1] {
            death::Event::FuneralRecorded(e) => e.clone(),
            death::Event::Recorded(_) => unreachable!("the second event is the funeral"),
        }
    }

    fn death_recorded() -> death::Recorded {
        match recorded() {
            death::Event::Recorded(e) => e,
            death::Event::FuneralRecorded(_) => unreachable!("recorded() is a Recorded"),
        }
    }

    #[test]
    fn every_event_round_trips() {
        let mut events = history();
        for source in Source::ALL {
            events.push(death::Event::Recorded(death::Recorded {
                source,
                source_reference: None,
                ..death_recorded()
            }));
        }
        for burial in BurialType::ALL {
            events.push(death::Event::FuneralRecorded(death::FuneralRecorded {
                burial,
                cremated_on: None,
                waiver: None,
                payable: Fen::new(150_000),
                ..funeral(&history())
            }));
        }
        for category in AssistanceCategory::ALL {
            events.push(death::Event::FuneralRecorded(death::FuneralRecorded {
                waiver: Some(FeeWaiver {
                    category,
                    case_id: case("210502-TK-2025-000007"),
                    waived: Fen::new(50_000),
                }),
                payable: Fen::new(100_000),
                ..funeral(&history())
            }));
        }
        assert_codec_round_trips(events);
    }

    #[test]
    fn event_types_are_the_message_names() {
        assert_eq!(
            history()
                .iter()
                .map(EventCodec::event_type)
                .collect::<Vec<_>>(),
            [
                format!("{PACKAGE}.DeathRecorded"),
                format!("{PACKAGE}.FuneralServiceRecorded")
            ]
        );
    }

    fn invalid(event_type: &str, payload: Vec<u8>) {
        assert!(
            matches!(
                death::Event::decode(event_type, SCHEMA_VERSION, &payload),
                Err(CodecError::Invalid { .. })
            ),
            "{event_type}"
        );
    }

    fn death_message() -> pb::DeathRecorded {
        pb::DeathRecorded::decode(recorded().encode()).expect("decodes")
    }

    fn funeral_message() -> pb::FuneralServiceRecorded {
        pb::FuneralServiceRecorded::decode(history()[1].encode()).expect("decodes")
    }

    #[test]
    fn a_death_missing_a_required_field_is_invalid() {
        invalid(
            DEATH_RECORDED,
            pb::DeathRecorded {
                citizen: None,
                ..death_message()
            }
            .encode_to_vec(),
        );
        invalid(
            DEATH_RECORDED,
            pb::DeathRecorded {
                death_id: String::new(),
                ..death_message()
            }
            .encode_to_vec(),
        );
        invalid(
            DEATH_RECORDED,
            pb::DeathRecorded {
                died_on: None,
                ..death_message()
            }
            .encode_to_vec(),
        );
        invalid(
            DEATH_RECORDED,
            pb::DeathRecorded {
                source: pb::DeathSource::Unspecified.into(),
                ..death_message()
            }
            .encode_to_vec(),
        );
        invalid(
            DEATH_RECORDED,
            pb::DeathRecorded {
                county: Some(common::RegionCode {
                    code: "21050".into(),
                }),
                ..death_message()
            }
            .encode_to_vec(),
        );
        invalid(DEATH_RECORDED, b"\xff\xff".to_vec());
        assert!(
            death::Event::decode(
                DEATH_RECORDED,
                SCHEMA_VERSION,
                &death_message().encode_to_vec()
            )
            .is_ok()
        );
        assert_eq!(death_message().county, Some(county().into()));
        assert_eq!(death_message().death_id, pseudonym().as_str());
    }

    #[test]
    fn a_funeral_missing_a_required_field_is_invalid() {
        invalid(
            FUNERAL_SERVICE_RECORDED,
            pb::FuneralServiceRecorded {
                buried_on: None,
                ..funeral_message()
            }
            .encode_to_vec(),
        );
        invalid(
            FUNERAL_SERVICE_RECORDED,
            pb::FuneralServiceRecorded {
                basic_fee: None,
                ..funeral_message()
            }
            .encode_to_vec(),
        );
        invalid(
            FUNERAL_SERVICE_RECORDED,
            pb::FuneralServiceRecorded {
                funeral_home: String::new(),
                ..funeral_message()
            }
            .encode_to_vec(),
        );
        invalid(
            FUNERAL_SERVICE_RECORDED,
            pb::FuneralServiceRecorded {
                burial: pb::BurialType::Unspecified.into(),
                ..funeral_message()
            }
            .encode_to_vec(),
        );
        let mut no_category = funeral_message();
        if let Some(waiver) = &mut no_category.waiver {
            waiver.category = 0;
        }
        invalid(FUNERAL_SERVICE_RECORDED, no_category.encode_to_vec());
        let mut no_case = funeral_message();
        if let Some(waiver) = &mut no_case.waiver {
            waiver.case_id.clear();
        }
        invalid(FUNERAL_SERVICE_RECORDED, no_case.encode_to_vec());
    }

    #[test]
    fn amounts_are_amounts() {
        invalid(
            FUNERAL_SERVICE_RECORDED,
            pb::FuneralServiceRecorded {
                payable: Some(Fen::new(-150_000).into()),
                basic_fee: Some(Fen::ZERO.into()),
                ..funeral_message()
            }
            .encode_to_vec(),
        );
        invalid(
            FUNERAL_SERVICE_RECORDED,
            pb::FuneralServiceRecorded {
                payable: None,
                ..funeral_message()
            }
            .encode_to_vec(),
        );
    }

    /// How the payable amount follows from the fee and the waiver, and which divisions record
    /// deaths, are decided when recording; a record made under another policy is read as made.
    #[test]
    fn stored_records_are_read_as_recorded_whatever_the_policy_says_now() {
        // The history's funeral waives the whole 1 500 yuan; this one, under another policy,
        // still asked for 1 fen.
        let funeral = pb::FuneralServiceRecorded {
            payable: Some(Fen::new(1).into()),
            ..funeral_message()
        };
        let Ok(death::Event::FuneralRecorded(read)) = death::Event::decode(
            FUNERAL_SERVICE_RECORDED,
            SCHEMA_VERSION,
            &funeral.encode_to_vec(),
        ) else {
            panic!("a funeral recorded under another fee policy decodes")
        };
        assert_eq!(read.payable, Fen::new(1));
        let unwaived = pb::FuneralServiceRecorded {
            waiver: None,
            ..funeral_message()
        };
        assert!(
            death::Event::decode(
                FUNERAL_SERVICE_RECORDED,
                SCHEMA_VERSION,
                &unwaived.encode_to_vec()
            )
            .is_ok()
        );
        let city = pb::DeathRecorded {
            county: Some(common::RegionCode {
                code: "210500000000".into(),
            }),
            ..death_message()
        };
        assert!(
            death::Event::decode(DEATH_RECORDED, SCHEMA_VERSION, &city.encode_to_vec()).is_ok()
        );
    }

    #[test]
    fn other_types_and_versions_are_refused() {
        assert!(matches!(
            death::Event::decode("minzheng.civilregistry.v1.PersonDeceased", 1, &[]),
            Err(CodecError::UnknownType(_))
        ));
        assert!(matches!(
            death::Event::decode(DEATH_RECORDED, 2, &recorded().encode()),
            Err(CodecError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn an_absent_reference_is_an_empty_string() {
        let event = death::Event::Recorded(death::Recorded {
            source_reference: None,
            ..death_recorded()
        });
        let message = pb::DeathRecorded::decode(event.encode()).expect("decodes");
        assert_eq!(message.source_reference, "");
    }
}
