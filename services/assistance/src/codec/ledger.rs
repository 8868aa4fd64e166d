//! The payment ledger's event ([`ledger::Event`]) to its message and back:
//! [`ledger::CycleListed`] ↔ `PaymentCycleListed` (`proto/minzheng/assistance/v1/payments.proto`).
//!
//! Decoding checks shape: the cycle id parses, the county and month are there, the day is a
//! date.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::assistance::v1 as pb;

use crate::{ids::CycleId, ledger};

/// The schema version the ledger's events are written in.
pub const SCHEMA_VERSION: u32 = 1;

minzheng_host::event_codec! {
    ledger::Event, schema_version = SCHEMA_VERSION;
    Listed(ledger::CycleListed) <=> pb::PaymentCycleListed,
}

impl ToMessage for ledger::CycleListed {
    type Message = pb::PaymentCycleListed;

    fn to_message(&self) -> pb::PaymentCycleListed {
        pb::PaymentCycleListed {
            cycle_id: self.cycle.to_string(),
            county: Some(self.cycle.county().into()),
            month: Some(self.cycle.month().into()),
            generated_on: Some(self.generated_on.into()),
        }
    }
}

impl FromMessage<pb::PaymentCycleListed> for ledger::CycleListed {
    fn from_message(m: pb::PaymentCycleListed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        // The county and month repeat the id for readers; they must be there and parse.
        d.code("county", &m.county)?;
        d.date("month", &m.month)?;
        Ok(Self {
            cycle: d.parse("cycle_id", CycleId::parse(&m.cycle_id))?,
            generated_on: d.date("generated_on", &m.generated_on)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::{aggregate::EventCodec, testing::assert_codec_round_trips};
    use minzheng_types::RegionCode;
    use prost::Message;
    use time::macros::date;

    use super::*;

    const LISTED: &str = minzheng_host::message_name!(pb::PaymentCycleListed);

    fn listed() -> ledger::Event {
        let county = RegionCode::parse("210502000000").expect("code");
        ledger::Event::Listed(ledger::CycleListed {
            cycle: CycleId::new(county, date!(2025 - 12 - 01)).expect("county-level"),
            generated_on: date!(2025 - 11 - 24),
        })
    }

    #[test]
    fn the_event_round_trips_and_follows_the_bus_contract() {
        assert_codec_round_trips([listed()]);
        assert_eq!(
            listed().event_type(),
            "minzheng.assistance.v1.PaymentCycleListed"
        );
        assert_eq!(
            minzheng_bus::naming::event_token("ledger", listed().event_type()),
            "payment_cycle_listed"
        );
    }

    #[test]
    fn stored_entries_that_are_malformed_are_invalid() {
        let m = pb::PaymentCycleListed::decode(listed().encode()).expect("encoded");
        let decode = |m: &pb::PaymentCycleListed| {
            ledger::Event::decode(LISTED, SCHEMA_VERSION, &m.encode_to_vec())
        };
        for variant in [
            pb::PaymentCycleListed {
                cycle_id: "210502-202513".to_owned(),
                ..m.clone()
            },
            pb::PaymentCycleListed {
                county: None,
                ..m.clone()
            },
            pb::PaymentCycleListed {
                month: None,
                ..m.clone()
            },
            pb::PaymentCycleListed {
                generated_on: None,
                ..m.clone()
            },
        ] {
            assert!(
                matches!(decode(&variant), Err(CodecError::Invalid { .. })),
                "{variant:?}"
            );
        }
        assert!(decode(&m).is_ok(), "the unchanged message decodes");
    }
}
