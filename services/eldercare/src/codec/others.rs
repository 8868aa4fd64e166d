//! The other services' events this service follows, as it reads them — its view of their public
//! contracts, so it lives here, not in the producers' crates (services never depend on each
//! other):
//!
//! - [`CivilRegistryDeaths`]: `minzheng.civilregistry.v1.DeathRecorded` (a death frees a bed,
//!   ends subsidies from the next month, closes a visit plan);
//! - [`AssistanceCases`]: `AssistanceGranted`, `AssistanceMembersChanged` and `AssistanceEnded`
//!   (who lives in a household receiving social assistance: the service subsidy);
//! - [`DataSharingAlerts`]: `minzheng.datasharing.v1.ElderlyLeftAlone` (opens a visit plan).
//!
//! Every other event type decodes to `None`.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::{
    assistance::v1 as assistance, civilregistry::v1 as civil, datasharing::v1 as sharing,
};
use minzheng_types::{CitizenId, RegionCode};
use time::Date;

/// The schema version of the other services' events this service understands.
pub const SCHEMA_VERSION: u32 = 1;

/// A death the civil registry recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Death {
    pub death_id: String,
    pub citizen: CitizenId,
    pub died_on: Date,
}

/// The civil registry's deaths.
#[derive(Debug, Clone, Copy)]
pub struct CivilRegistryDeaths;

minzheng_host::contract! {
    CivilRegistryDeaths => Death, schema_version = SCHEMA_VERSION;
    civil::DeathRecorded,
}

impl FromMessage<civil::DeathRecorded> for Death {
    fn from_message(m: civil::DeathRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        if m.death_id.is_empty() {
            return Err(d.invalid("death_id is empty"));
        }
        Ok(Self {
            death_id: m.death_id,
            citizen: d.citizen("citizen", &m.citizen)?,
            died_on: d.date("died_on", &m.died_on)?,
        })
    }
}

/// A change of an assistance case's members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseEvent {
    /// The case covers `members` from `on` (granted, or its members changed: the full list).
    Members {
        case_id: String,
        members: Vec<CitizenId>,
        on: Date,
    },
    /// The case ended: no member is covered from `on`.
    Ended { case_id: String, on: Date },
}

/// The assistance service's cases.
#[derive(Debug, Clone, Copy)]
pub struct AssistanceCases;

minzheng_host::contract! {
    AssistanceCases => CaseEvent, schema_version = SCHEMA_VERSION;
    assistance::AssistanceGranted,
    assistance::AssistanceMembersChanged,
    assistance::AssistanceEnded,
}

fn case_id(d: &Decoder<'_>, id: String) -> Result<String, CodecError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(d.invalid("case_id is not a case id"));
    }
    Ok(id)
}

fn members(
    d: &Decoder<'_>,
    members: &[minzheng_proto::common::v1::CitizenRef],
) -> Result<Vec<CitizenId>, CodecError> {
    members
        .iter()
        .map(|m| d.citizen("members", &Some(m.clone())))
        .collect()
}

impl FromMessage<assistance::AssistanceGranted> for CaseEvent {
    fn from_message(m: assistance::AssistanceGranted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self::Members {
            members: members(d, &m.members)?,
            on: d.date("effective_from", &m.effective_from)?,
            case_id: case_id(d, m.case_id)?,
        })
    }
}

impl FromMessage<assistance::AssistanceMembersChanged> for CaseEvent {
    fn from_message(
        m: assistance::AssistanceMembersChanged,
        d: &Decoder<'_>,
    ) -> Result<Self, CodecError> {
        Ok(Self::Members {
            members: members(d, &m.members)?,
            on: d.date("effective_on", &m.effective_on)?,
            case_id: case_id(d, m.case_id)?,
        })
    }
}

impl FromMessage<assistance::AssistanceEnded> for CaseEvent {
    fn from_message(m: assistance::AssistanceEnded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self::Ended {
            on: d.date("effective_on", &m.effective_on)?,
            case_id: case_id(d, m.case_id)?,
        })
    }
}

/// The data-sharing service's alert that an elderly person now lives alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftAlone {
    pub alert_id: String,
    pub person: CitizenId,
    /// The household's township-level division, when known.
    pub division: Option<RegionCode>,
    pub raised_on: Date,
}

/// The data-sharing service's alerts.
#[derive(Debug, Clone, Copy)]
pub struct DataSharingAlerts;

minzheng_host::contract! {
    DataSharingAlerts => LeftAlone, schema_version = SCHEMA_VERSION;
    sharing::ElderlyLeftAlone,
}

impl FromMessage<sharing::ElderlyLeftAlone> for LeftAlone {
    fn from_message(m: sharing::ElderlyLeftAlone, d: &Decoder<'_>) -> Result<Self, CodecError> {
        if m.alert_id.is_empty() || m.alert_id.len() > 128 {
            return Err(d.invalid("alert_id is empty or too long"));
        }
        let division = match &m.division {
            Some(code) if !code.code.is_empty() => Some(d.code("division", &m.division)?),
            _ => None,
        };
        Ok(Self {
            alert_id: m.alert_id,
            person: d.citizen("person", &m.person)?,
            division,
            raised_on: d.date("raised_on", &m.raised_on)?,
        })
    }
}
