//! PLACEHOLDER until the policy codec lands.
use minzheng_host::decode::Decoder;
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::assistance::v1 as pb;

use crate::benefit::Calculation;

pub(crate) fn calculation_to_pb(c: &Calculation) -> pb::BenefitCalculation {
    pb::BenefitCalculation {
        amount: Some(c.amount.into()),
    }
}

pub(crate) fn calculation_from_pb(
    d: &Decoder<'_>,
    field: &str,
    c: &Option<pb::BenefitCalculation>,
) -> Result<Calculation, CodecError> {
    let c = c
        .as_ref()
        .ok_or_else(|| d.invalid(format!("{field} is missing")))?;
    Ok(Calculation {
        amount: d.money(&format!("{field}.amount"), &c.amount)?,
    })
}
