//! The assistance service's events (`proto/minzheng/assistance/v1/`) as this service reads
//! them: the [`AssistanceEvents`] contract, into [`crate::assistance::Event`]. Other event types
//! are `None`.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::assistance::v1 as pb;
use minzheng_types::Rounding;

use crate::{
    assistance::{
        Event, RequestId, SignedAuthorization, Standard, StandardKind, VerificationRequest,
    },
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
            case_id: d.parse(
                "case_id",
                minzheng_types::id::check(&m.case_id).map(|()| m.case_id.clone()),
            )?,
            members: m
                .members
                .iter()
                .map(|c| d.citizen("members", &Some(c.clone())))
                .collect::<Result<_, _>>()?,
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
