//! The codec of the service-point events ([`service_point::Event`]) and the population figures
//! ([`population::Reported`]).

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::eldercare::v1 as pb;

use super::{SCHEMA_VERSION, known};
use crate::{
    ids::ServicePointId,
    population::{self, Reported},
    service_point::{self, Kind, Opened},
};

minzheng_host::event_codec! {
    service_point::Event, schema_version = SCHEMA_VERSION;
    Opened(Opened) <=> pb::ServicePointOpened,
    CapacityChanged(service_point::CapacityChanged) <=> pb::ServicePointCapacityChanged,
    Closed(service_point::Closed) <=> pb::ServicePointClosed,
}

minzheng_host::event_codec! {
    population::Event, schema_version = SCHEMA_VERSION;
    Reported(Reported) <=> pb::ElderlyPopulationRecorded,
}

pub(crate) fn kind_to_pb(k: Kind) -> pb::ServicePointKind {
    match k {
        Kind::UrbanCentre => pb::ServicePointKind::UrbanCentre,
        Kind::RuralCentre => pb::ServicePointKind::RuralCentre,
        Kind::HomeCareBeds => pb::ServicePointKind::HomeCareBeds,
    }
}

pub(crate) fn kind_from_pb(value: i32) -> Option<Kind> {
    match pb::ServicePointKind::try_from(value).ok()? {
        pb::ServicePointKind::UrbanCentre => Some(Kind::UrbanCentre),
        pb::ServicePointKind::RuralCentre => Some(Kind::RuralCentre),
        pb::ServicePointKind::HomeCareBeds => Some(Kind::HomeCareBeds),
        pb::ServicePointKind::Unspecified => None,
    }
}

fn point_id(d: &Decoder<'_>, id: &str) -> Result<ServicePointId, CodecError> {
    d.parse("service_point_id", ServicePointId::parse(id))
}

impl ToMessage for Opened {
    type Message = pb::ServicePointOpened;

    fn to_message(&self) -> pb::ServicePointOpened {
        pb::ServicePointOpened {
            service_point_id: self.id.to_string(),
            name: self.name.as_str().to_owned(),
            kind: kind_to_pb(self.kind).into(),
            county: Some(self.county.into()),
            division: Some(self.division.into()),
            capacity: self.capacity,
            opened_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::ServicePointOpened> for Opened {
    fn from_message(m: pb::ServicePointOpened, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: point_id(d, &m.service_point_id)?,
            name: d.text("name", &m.name)?,
            kind: known(d, "kind", kind_from_pb(m.kind))?,
            county: d.code("county", &m.county)?,
            division: d.code("division", &m.division)?,
            capacity: m.capacity,
            on: d.date("opened_on", &m.opened_on)?,
        })
    }
}

impl ToMessage for service_point::CapacityChanged {
    type Message = pb::ServicePointCapacityChanged;

    fn to_message(&self) -> pb::ServicePointCapacityChanged {
        pb::ServicePointCapacityChanged {
            service_point_id: self.id.to_string(),
            capacity: self.capacity,
            effective_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::ServicePointCapacityChanged> for service_point::CapacityChanged {
    fn from_message(
        m: pb::ServicePointCapacityChanged,
        d: &Decoder<'_>,
    ) -> Result<Self, CodecError> {
        Ok(Self {
            id: point_id(d, &m.service_point_id)?,
            capacity: m.capacity,
            on: d.date("effective_on", &m.effective_on)?,
        })
    }
}

impl ToMessage for service_point::Closed {
    type Message = pb::ServicePointClosed;

    fn to_message(&self) -> pb::ServicePointClosed {
        pb::ServicePointClosed {
            service_point_id: self.id.to_string(),
            closed_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::ServicePointClosed> for service_point::Closed {
    fn from_message(m: pb::ServicePointClosed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: point_id(d, &m.service_point_id)?,
            on: d.date("closed_on", &m.closed_on)?,
        })
    }
}

impl ToMessage for population::Reported {
    type Message = pb::ElderlyPopulationRecorded;

    fn to_message(&self) -> pb::ElderlyPopulationRecorded {
        pb::ElderlyPopulationRecorded {
            county: Some(self.county.into()),
            persons: self.persons,
            as_of: Some(self.as_of.into()),
            source: self.source.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::ElderlyPopulationRecorded> for population::Reported {
    fn from_message(m: pb::ElderlyPopulationRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            county: d.code("county", &m.county)?,
            persons: m.persons,
            as_of: d.date("as_of", &m.as_of)?,
            source: d.text("source", &m.source)?,
        })
    }
}
