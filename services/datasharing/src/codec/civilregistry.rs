//! The civil registry's events (`proto/minzheng/civilregistry/v1/events.proto`) as this service
//! reads them: deaths and changes of marital status, into [`RegistryEvent`]. Other event types are
//! `None`.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::civilregistry::v1 as pb;
use minzheng_types::CitizenId;
use time::Date;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy)]
pub struct CivilRegistryEvents;

/// A marital status as the registry records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaritalStatus {
    NoRecord,
    Married,
    Divorced,
    Widowed,
}

impl MaritalStatus {
    pub fn code(self) -> &'static str {
        match self {
            MaritalStatus::NoRecord => "no_record",
            MaritalStatus::Married => "married",
            MaritalStatus::Divorced => "divorced",
            MaritalStatus::Widowed => "widowed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryEvent {
    /// A citizen died; `death_id` is the registry's record.
    Died {
        citizen: CitizenId,
        died_on: Date,
        death_id: String,
    },
    /// A citizen's marital status changed from `since`.
    MaritalStatusChanged {
        citizen: CitizenId,
        status: MaritalStatus,
        since: Date,
        spouse: Option<CitizenId>,
    },
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
            death_id: d.parse(
                "death_id",
                minzheng_types::id::check(&m.death_id).map(|()| m.death_id.clone()),
            )?,
        })
    }
}

impl FromMessage<pb::MaritalStatusChanged> for RegistryEvent {
    fn from_message(m: pb::MaritalStatusChanged, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let status = match pb::MaritalStatus::try_from(m.status) {
            Ok(pb::MaritalStatus::NoRecord) => MaritalStatus::NoRecord,
            Ok(pb::MaritalStatus::Married) => MaritalStatus::Married,
            Ok(pb::MaritalStatus::Divorced) => MaritalStatus::Divorced,
            Ok(pb::MaritalStatus::Widowed) => MaritalStatus::Widowed,
            _ => return Err(d.invalid("status is not a known marital status")),
        };
        let spouse = match &m.spouse {
            Some(s) if !s.citizen_id.is_empty() => Some(d.citizen("spouse", &m.spouse)?),
            _ => None,
        };
        Ok(Self::MaritalStatusChanged {
            citizen: d.citizen("citizen", &m.citizen)?,
            status,
            since: d.date("since", &m.since)?,
            spouse,
        })
    }
}
