//! The data-sharing service's events (`proto/minzheng/datasharing/v1/events.proto`) as this
//! service reads them: the [`DataSharingEvents`] contract, decoding into [`SharedEvent`] for the
//! [`crate::projections::verifications`] (verification results) and the
//! [`crate::projections::referrals`] (household alerts, 致贫返贫监测预警). This service's view of a
//! public contract.
//!
//! A verification result keeps the figures the case needs (the household's and each member's
//! verified monthly income, the assets' total, the flags' codes); the source records behind each
//! figure stay in the data-sharing service's event, which a caseworker can look up there.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::datasharing::v1 as pb;
use minzheng_types::{CitizenId, Fen, RegionCode};
use time::Date;

use crate::{
    case::Verification,
    codec::case::request_ordinal,
    ids::CaseId,
    referral::{AlertId, AlertKind},
};

/// The schema version of the data-sharing events this service understands.
pub const SCHEMA_VERSION: u32 = 1;

/// The data-sharing events this service follows.
#[derive(Debug, Clone, Copy)]
pub struct DataSharingEvents;

/// A data-sharing event, as far as assistance cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedEvent {
    /// A verification this service requested is complete.
    Verified {
        case_id: CaseId,
        verification: Verification,
    },
    /// Other agencies' records show a household may be in difficulty.
    AlertRaised(Alert),
}

/// A household alert (`HouseholdAlertRaised`), as far as assistance cares: the records behind
/// it stay in the data-sharing service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub alert_id: AlertId,
    pub kind: AlertKind,
    /// PERSONAL DATA. The members the alert names.
    pub members: Vec<CitizenId>,
    /// The township-level division of their registered residence, as the alert gives it.
    pub division: RegionCode,
    pub raised_on: Date,
}

minzheng_host::contract! {
    DataSharingEvents => SharedEvent, schema_version = SCHEMA_VERSION;
    pb::HouseholdVerificationCompleted,
    pb::HouseholdAlertRaised,
}

impl FromMessage<pb::HouseholdAlertRaised> for SharedEvent {
    fn from_message(m: pb::HouseholdAlertRaised, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let kind = match pb::AlertKind::try_from(m.kind) {
            Ok(pb::AlertKind::MedicalSpending) => AlertKind::MedicalSpending,
            Ok(pb::AlertKind::Disability) => AlertKind::Disability,
            Ok(pb::AlertKind::IncomeLoss) => AlertKind::IncomeLoss,
            Ok(pb::AlertKind::Disaster) => AlertKind::Disaster,
            Ok(pb::AlertKind::IncomeNearLine) => AlertKind::IncomeNearLine,
            Ok(pb::AlertKind::IncomeAboveLine) => AlertKind::IncomeAboveLine,
            Ok(pb::AlertKind::Unspecified) | Err(_) => {
                return Err(d.invalid("kind is not a known alert kind"));
            }
        };
        Ok(Self::AlertRaised(Alert {
            alert_id: d.parse("alert_id", AlertId::parse(&m.alert_id))?,
            kind,
            members: m
                .members
                .iter()
                .map(|c| d.citizen("members", &Some(c.clone())))
                .collect::<Result<_, _>>()?,
            division: d.code("division", &m.division)?,
            raised_on: d.date("raised_on", &m.raised_on)?,
        }))
    }
}

impl FromMessage<pb::HouseholdVerificationCompleted> for SharedEvent {
    fn from_message(
        m: pb::HouseholdVerificationCompleted,
        d: &Decoder<'_>,
    ) -> Result<Self, CodecError> {
        let case_id = d.parse("case_id", CaseId::parse(&m.case_id))?;
        let request = request_ordinal(&case_id, &m.request_id)
            .ok_or_else(|| d.invalid("request_id is not <case id>-V<n> of the case"))?;
        let mut incomes: Vec<(CitizenId, Fen)> = Vec::new();
        for item in &m.incomes {
            let member = d.citizen("incomes.member", &item.member)?;
            let monthly = d.money("incomes.monthly", &item.monthly)?;
            match incomes.iter_mut().find(|(m, _)| *m == member) {
                Some((_, sum)) => {
                    *sum = Fen::checked_sum([*sum, monthly])
                        .ok_or_else(|| d.invalid("incomes overflow"))?;
                }
                None => incomes.push((member, monthly)),
            }
        }
        let mut assets = Fen::ZERO;
        for item in &m.assets {
            let value = d.money("assets.value", &item.value)?;
            assets =
                Fen::checked_sum([assets, value]).ok_or_else(|| d.invalid("assets overflow"))?;
        }
        Ok(Self::Verified {
            verification: Verification {
                request,
                total_monthly_income: d.money("total_monthly_income", &m.total_monthly_income)?,
                incomes,
                total_assets: assets,
                flags: m.flags.into_iter().map(|f| f.code).collect(),
                verified_on: d.date("verified_on", &m.verified_on)?,
            },
            case_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use minzheng_proto::common::v1 as common;
    use prost::Message;
    use time::macros::date;

    use super::*;

    const ALERT: &str = minzheng_host::message_name!(pb::HouseholdAlertRaised);

    fn alert() -> pb::HouseholdAlertRaised {
        pb::HouseholdAlertRaised {
            alert_id: "AL-2026-000042".into(),
            kind: pb::AlertKind::IncomeLoss.into(),
            members: vec![common::CitizenRef {
                citizen_id: "210502195803120025".into(),
            }],
            division: Some(common::RegionCode {
                code: "210502001000".into(),
            }),
            raised_on: Some(date!(2026 - 03 - 02).into()),
            sources: vec![],
        }
    }

    fn decode(m: &pb::HouseholdAlertRaised) -> Result<Option<SharedEvent>, CodecError> {
        DataSharingEvents::decode_payload(ALERT, SCHEMA_VERSION, &m.encode_to_vec())
    }

    #[test]
    fn the_contract_reads_household_alerts() {
        assert!(DataSharingEvents::EVENT_TYPES.contains(&ALERT));
        let Ok(Some(SharedEvent::AlertRaised(read))) = decode(&alert()) else {
            panic!("an alert decodes")
        };
        assert_eq!(read.alert_id.as_str(), "AL-2026-000042");
        assert_eq!(read.kind, AlertKind::IncomeLoss);
        assert_eq!(read.members.len(), 1);
        assert_eq!(read.division.to_string(), "210502001000");
        assert_eq!(read.raised_on, date!(2026 - 03 - 02));
    }

    #[test]
    fn malformed_alerts_are_invalid() {
        for variant in [
            pb::HouseholdAlertRaised {
                alert_id: "a b".into(),
                ..alert()
            },
            pb::HouseholdAlertRaised {
                alert_id: "210502195803120025".into(),
                ..alert()
            },
            pb::HouseholdAlertRaised { kind: 0, ..alert() },
            pb::HouseholdAlertRaised {
                division: None,
                ..alert()
            },
            pb::HouseholdAlertRaised {
                raised_on: None,
                ..alert()
            },
        ] {
            assert!(
                matches!(decode(&variant), Err(CodecError::Invalid { .. })),
                "{variant:?}"
            );
        }
    }
}
