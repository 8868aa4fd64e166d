//! The civil registry's events (`proto/minzheng/civilregistry/v1/events.proto`) as this service
//! reads them for dynamic management (动态管理): the [`CivilRegistryEvents`] contract, decoding
//! into [`RegistryEvent`] for the [`crate::projections::households`] projection. This service's
//! view of a public contract.
//!
//! Only deaths and marriages or divorces matter here; widowhood follows from the spouse's death,
//! which is read itself.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::civilregistry::v1 as pb;
use minzheng_types::CitizenId;
use time::Date;

/// The schema version of the civil-registry events this service understands.
pub const SCHEMA_VERSION: u32 = 1;

/// The civil-registry events dynamic management follows.
#[derive(Debug, Clone, Copy)]
pub struct CivilRegistryEvents;

/// A civil-registry event, as far as assistance cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryEvent {
    /// A citizen died on `died_on`.
    Died { citizen: CitizenId, died_on: Date },
    /// A citizen married (`married`) or divorced on `since`; `marriage_id` is the record.
    MaritalChange {
        citizen: CitizenId,
        married: bool,
        since: Date,
        marriage_id: String,
    },
    /// Another change of marital status (widowhood, no record): nothing to do.
    Other,
}

minzheng_host::contract! {
    CivilRegistryEvents => RegistryEvent, schema_version = SCHEMA_VERSION;
    pb::DeathRecorded,
    pb::MaritalStatusChanged,
}

impl FromMessage<pb::DeathRecorded> for RegistryEvent {
    fn from_message(m: pb::DeathRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self::Died {
            citizen: d.citizen("citizen", &m.citizen)?,
            died_on: d.date("died_on", &m.died_on)?,
        })
    }
}

impl FromMessage<pb::MaritalStatusChanged> for RegistryEvent {
    fn from_message(m: pb::MaritalStatusChanged, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let married = match pb::MaritalStatus::try_from(m.status) {
            Ok(pb::MaritalStatus::Married) => true,
            Ok(pb::MaritalStatus::Divorced) => false,
            Ok(_) => return Ok(Self::Other),
            Err(_) => return Err(d.invalid("status is not a known marital status")),
        };
        Ok(Self::MaritalChange {
            citizen: d.citizen("citizen", &m.citizen)?,
            married,
            since: d.date("since", &m.since)?,
            marriage_id: m.marriage_id,
        })
    }
}
