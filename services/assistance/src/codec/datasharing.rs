//! The data-sharing service's events (`proto/minzheng/datasharing/v1/events.proto`) as this
//! service reads them: the [`DataSharingEvents`] contract, decoding into [`SharedEvent`] for the
//! [`crate::projections::verifications`]. This service's view of a public contract.
//!
//! A verification result keeps the figures the case needs (the household's and each member's
//! verified monthly income, the assets' total, the flags' codes); the source records behind each
//! figure stay in the data-sharing service's event, which a caseworker can look up there.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::datasharing::v1 as pb;
use minzheng_types::{CitizenId, Fen};

use crate::{case::Verification, codec::case::request_ordinal, ids::CaseId};

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
}

minzheng_host::contract! {
    DataSharingEvents => SharedEvent, schema_version = SCHEMA_VERSION;
    pb::HouseholdVerificationCompleted,
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
