//! The reserve fund's events ([`fund::Event`]) to their messages and back:
//! [`fund::ReserveFundReplenished`] ↔ `ReserveFundReplenished` and
//! [`fund::ReserveFundDisbursed`] ↔ `ReserveFundDisbursed`
//! (`proto/minzheng/assistance/v1/funds.proto`).
//!
//! Decoding checks shape: region codes, case ids, dates and amounts parse (amounts are never
//! negative: no event of a fund records one), the reference is text. The rules are read as
//! recorded: a payment above the limit it names, a township code of another level or a balance
//! that does not add up still decodes, since it is history.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::assistance::v1 as pb;

use crate::{fund, ids::CaseId};

/// The schema version the fund's events are written in.
pub const SCHEMA_VERSION: u32 = 1;

minzheng_host::event_codec! {
    fund::Event, schema_version = SCHEMA_VERSION;
    Replenished(fund::ReserveFundReplenished) <=> pb::ReserveFundReplenished,
    Disbursed(fund::ReserveFundDisbursed) <=> pb::ReserveFundDisbursed,
}

impl ToMessage for fund::ReserveFundReplenished {
    type Message = pb::ReserveFundReplenished;

    fn to_message(&self) -> pb::ReserveFundReplenished {
        pb::ReserveFundReplenished {
            township: Some(self.township.into()),
            amount: Some(self.amount.into()),
            balance_after: Some(self.balance_after.into()),
            reference: self.reference.as_str().to_owned(),
            on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::ReserveFundReplenished> for fund::ReserveFundReplenished {
    fn from_message(m: pb::ReserveFundReplenished, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            township: d.code("township", &m.township)?,
            amount: d.money("amount", &m.amount)?,
            balance_after: d.money("balance_after", &m.balance_after)?,
            reference: d.text("reference", &m.reference)?,
            on: d.date("on", &m.on)?,
        })
    }
}

impl ToMessage for fund::ReserveFundDisbursed {
    type Message = pb::ReserveFundDisbursed;

    fn to_message(&self) -> pb::ReserveFundDisbursed {
        pb::ReserveFundDisbursed {
            township: Some(self.township.into()),
            case_id: self.case_id.to_string(),
            amount: Some(self.amount.into()),
            limit: Some(self.limit.into()),
            balance_after: Some(self.balance_after.into()),
            on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::ReserveFundDisbursed> for fund::ReserveFundDisbursed {
    fn from_message(m: pb::ReserveFundDisbursed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            township: d.code("township", &m.township)?,
            case_id: d.parse("case_id", CaseId::parse(&m.case_id))?,
            amount: d.money("amount", &m.amount)?,
            limit: d.money("limit", &m.limit)?,
            balance_after: d.money("balance_after", &m.balance_after)?,
            on: d.date("on", &m.on)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::{aggregate::EventCodec, testing::assert_codec_round_trips};
    use minzheng_proto::common::v1 as common;
    use minzheng_types::Fen;
    use prost::Message;

    use super::*;
    use crate::fund::tests::{case, disbursed, replenished, yuan};

    const REPLENISHED: &str = minzheng_host::message_name!(pb::ReserveFundReplenished);
    const DISBURSED: &str = minzheng_host::message_name!(pb::ReserveFundDisbursed);

    fn events() -> Vec<fund::Event> {
        vec![
            replenished(yuan(50_000), yuan(50_000)),
            disbursed(case(17), yuan(3000), yuan(47_000)),
            disbursed(case(18), Fen::new(1), Fen::ZERO),
        ]
    }

    #[test]
    fn every_event_round_trips() {
        assert_codec_round_trips(events());
    }

    #[test]
    fn event_types_and_subjects_follow_the_bus_contract() {
        let names: Vec<(&str, String)> = events()[..2]
            .iter()
            .map(|e| {
                (
                    e.event_type(),
                    minzheng_bus::naming::event_token("fund", e.event_type()),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                (
                    "minzheng.assistance.v1.ReserveFundReplenished",
                    "reserve_fund_replenished".to_owned()
                ),
                (
                    "minzheng.assistance.v1.ReserveFundDisbursed",
                    "reserve_fund_disbursed".to_owned()
                ),
            ]
        );
    }

    fn invalid(event_type: &str, message: &impl Message) {
        let decoded = fund::Event::decode(event_type, SCHEMA_VERSION, &message.encode_to_vec());
        assert!(
            matches!(decoded, Err(CodecError::Invalid { .. })),
            "{event_type} decoded to {decoded:?}"
        );
    }

    fn encoded<M: Message + Default>(event: &fund::Event) -> M {
        M::decode(event.encode()).expect("encoded")
    }

    #[test]
    fn stored_replenishments_that_are_malformed_are_invalid() {
        let m: pb::ReserveFundReplenished = encoded(&events()[0]);
        for variant in [
            pb::ReserveFundReplenished {
                township: None,
                ..m.clone()
            },
            pb::ReserveFundReplenished {
                amount: Some(common::Money { fen: -1 }),
                ..m.clone()
            },
            pb::ReserveFundReplenished {
                balance_after: None,
                ..m.clone()
            },
            pb::ReserveFundReplenished {
                reference: " ".into(),
                ..m.clone()
            },
            pb::ReserveFundReplenished {
                on: None,
                ..m.clone()
            },
        ] {
            invalid(REPLENISHED, &variant);
        }
        assert!(fund::Event::decode(REPLENISHED, SCHEMA_VERSION, &m.encode_to_vec()).is_ok());
    }

    #[test]
    fn stored_disbursements_that_are_malformed_are_invalid() {
        let m: pb::ReserveFundDisbursed = encoded(&events()[1]);
        for variant in [
            pb::ReserveFundDisbursed {
                case_id: "210502-LS-2026-17".into(),
                ..m.clone()
            },
            pb::ReserveFundDisbursed {
                township: Some(common::RegionCode {
                    code: "2105020010".into(),
                }),
                ..m.clone()
            },
            pb::ReserveFundDisbursed {
                limit: None,
                ..m.clone()
            },
            pb::ReserveFundDisbursed {
                balance_after: Some(common::Money { fen: -5 }),
                ..m.clone()
            },
        ] {
            invalid(DISBURSED, &variant);
        }
        assert!(fund::Event::decode(DISBURSED, SCHEMA_VERSION, &m.encode_to_vec()).is_ok());
    }

    /// A payment decided under another policy is history: it decodes as recorded.
    #[test]
    fn stored_disbursements_are_read_as_recorded() {
        let m: pb::ReserveFundDisbursed = encoded(&events()[1]);
        let above_its_limit_at_a_county = pb::ReserveFundDisbursed {
            limit: Some(common::Money { fen: 100 }),
            township: Some(common::RegionCode {
                code: "210502000000".into(),
            }),
            case_id: "210502-DB-2026-000001".into(),
            ..m
        };
        let Ok(fund::Event::Disbursed(read)) = fund::Event::decode(
            DISBURSED,
            SCHEMA_VERSION,
            &above_its_limit_at_a_county.encode_to_vec(),
        ) else {
            panic!("a payment recorded under other rules decodes")
        };
        assert_eq!(read.limit, Fen::new(100));
        assert_eq!(read.amount, yuan(3000));
        assert_eq!(read.case_id.to_string(), "210502-DB-2026-000001");
    }
}
