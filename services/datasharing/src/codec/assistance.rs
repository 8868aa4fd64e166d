//! The assistance service's events (`proto/minzheng/assistance/v1/`) as this service reads
//! them: the [`AssistanceEvents`] contract, into [`crate::assistance::Event`]. Other event types
//! are `None`.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::assistance::v1 as pb;
use minzheng_types::Rounding;

use crate::{
    assistance::{
        CaseHousehold, Event, RequestId, SignedAuthorization, Standard, StandardKind,
        VerificationRequest,
    },
    discovery::Relation,
    records::DataClass,
    verification::Area,
};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy)]
pub struct AssistanceEvents;

minzheng_host::contract! {
    AssistanceEvents => Event, schema_version = SCHEMA_VERSION;
    pb::StandardRecorded,
    pb::VerificationRequested,
    pb::ApplicationSubmitted,
    pb::AssistanceGranted,
    pb::AssistanceMembersChanged,
    pb::AssistanceEnded,
}

fn case_id(d: &Decoder<'_>, value: &str) -> Result<String, CodecError> {
    d.parse(
        "case_id",
        minzheng_types::id::check(value).map(|()| value.to_owned()),
    )
}

fn category(value: i32) -> String {
    pb::AssistanceCategory::try_from(value)
        .map(|c| {
            c.as_str_name()
                .trim_start_matches("ASSISTANCE_CATEGORY_")
                .to_owned()
        })
        .unwrap_or_else(|_| "UNKNOWN".to_owned())
}

fn relation(value: i32) -> Relation {
    match pb::Relation::try_from(value) {
        Ok(pb::Relation::Applicant) => Relation::Reference,
        Ok(pb::Relation::Spouse) => Relation::Spouse,
        Ok(pb::Relation::Child) => Relation::Child,
        Ok(pb::Relation::Parent) => Relation::Parent,
        Ok(pb::Relation::Grandparent) => Relation::Grandparent,
        Ok(pb::Relation::Grandchild) => Relation::Grandchild,
        Ok(pb::Relation::Sibling) => Relation::Sibling,
        _ => Relation::Other,
    }
}

fn citizens(
    d: &Decoder<'_>,
    field: &str,
    members: &[minzheng_proto::common::v1::CitizenRef],
) -> Result<Vec<minzheng_types::CitizenId>, CodecError> {
    members
        .iter()
        .map(|c| d.citizen(field, &Some(c.clone())))
        .collect()
}

impl FromMessage<pb::ApplicationSubmitted> for Event {
    fn from_message(m: pb::ApplicationSubmitted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Event::ApplicationSubmitted(CaseHousehold {
            case_id: case_id(d, &m.case_id)?,
            category: category(m.category),
            division: d.code("resolved_division", &m.resolved_division)?,
            area: match m.area {
                0 => None,
                value => Some(area(d, "area", value)?),
            },
            members: m
                .members
                .iter()
                .map(|member| {
                    Ok((
                        d.citizen("members.citizen", &member.citizen)?,
                        relation(member.relation),
                    ))
                })
                .collect::<Result<_, CodecError>>()?,
        }))
    }
}

impl FromMessage<pb::AssistanceGranted> for Event {
    fn from_message(m: pb::AssistanceGranted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Event::Granted {
            case_id: case_id(d, &m.case_id)?,
            category: category(m.category),
            members: citizens(d, "members", &m.members)?,
            effective_from: d.date("effective_from", &m.effective_from)?,
        })
    }
}

impl FromMessage<pb::AssistanceMembersChanged> for Event {
    fn from_message(m: pb::AssistanceMembersChanged, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Event::MembersChanged {
            case_id: case_id(d, &m.case_id)?,
            members: citizens(d, "members", &m.members)?,
            effective_on: d.date("effective_on", &m.effective_on)?,
        })
    }
}

impl FromMessage<pb::AssistanceEnded> for Event {
    fn from_message(m: pb::AssistanceEnded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Event::Ended {
            case_id: case_id(d, &m.case_id)?,
            effective_on: d.date("effective_on", &m.effective_on)?,
        })
    }
}

fn area(d: &Decoder<'_>, field: &str, value: i32) -> Result<Area, CodecError> {
    match pb::ResidenceArea::try_from(value) {
        Ok(pb::ResidenceArea::Urban) => Ok(Area::Urban),
        Ok(pb::ResidenceArea::Rural) => Ok(Area::Rural),
        _ => Err(d.invalid(format!("{field} is not a known area"))),
    }
}

impl FromMessage<pb::StandardRecorded> for Event {
    fn from_message(m: pb::StandardRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let version = m
            .version
            .as_ref()
            .ok_or_else(|| d.invalid("version: must be given"))?;
        let kind = match &m.standard {
            Some(pb::standard_recorded::Standard::Dibao(dibao)) => {
                let amount = d.money("dibao.amount", &dibao.amount)?;
                let monthly = match pb::AmountPeriod::try_from(dibao.period) {
                    Ok(pb::AmountPeriod::Month) => amount,
                    Ok(pb::AmountPeriod::Year) => amount
                        .checked_div(12, Rounding::HalfAwayFromZero)
                        .ok_or_else(|| d.invalid("dibao.amount out of range"))?,
                    _ => return Err(d.invalid("dibao.period is not a known period")),
                };
                StandardKind::Dibao {
                    area: area(d, "dibao.area", dibao.area)?,
                    monthly,
                }
            }
            Some(pb::standard_recorded::Standard::LowIncomeMultiplier(k)) => {
                StandardKind::LowIncomeMultiplier {
                    permille: k.permille,
                }
            }
            Some(_) => StandardKind::Other,
            None => return Err(d.invalid("standard: must be given")),
        };
        Ok(Event::StandardRecorded(Standard {
            county: d.code("version.county", &version.county)?,
            number: version.number,
            kind,
            effective_from: d.date("effective_from", &m.effective_from)?,
        }))
    }
}

impl FromMessage<pb::VerificationRequested> for Event {
    fn from_message(m: pb::VerificationRequested, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let authorizations = m
            .authorizations
            .iter()
            .map(|a| {
                Ok(SignedAuthorization {
                    signed_by: d.citizen("authorizations.signed_by", &a.signed_by)?,
                    signed_on: d.date("authorizations.signed_on", &a.signed_on)?,
                    // The first nine classes are numbered alike in both contracts.
                    data_classes: a
                        .data_classes
                        .iter()
                        .map(|c| {
                            super::records::class_from_pb(*c)
                                .filter(|class| DataClass::ECONOMIC.contains(class))
                                .ok_or_else(|| d.invalid("authorizations.data_classes: unknown"))
                        })
                        .collect::<Result<_, _>>()?,
                    expires_on: d.date("authorizations.expires_on", &a.expires_on)?,
                })
            })
            .collect::<Result<_, CodecError>>()?;
        Ok(Event::VerificationRequested(VerificationRequest {
            request_id: d.parse("request_id", RequestId::parse(&m.request_id))?,
            case_id: case_id(d, &m.case_id)?,
            members: citizens(d, "members", &m.members)?,
            authorizations,
            requested_on: d.date("requested_on", &m.requested_on)?,
            county: d.code("county", &m.county)?,
            area: match m.area {
                0 => None,
                value => Some(area(d, "area", value)?),
            },
        }))
    }
}
