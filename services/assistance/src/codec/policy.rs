//! The policy's event ([`policy::Event`]) to its message in
//! `proto/minzheng/assistance/v1/policy.proto` and back: [`policy::StandardRecorded`] ↔
//! `StandardRecorded`; and a benefit [`Calculation`] ↔ `BenefitCalculation`, for the case events
//! that carry one.
//!
//! Decoding checks shape only: codes, dates and amounts parse, enums are known, the oneof is set,
//! a version's number is an ordinal (from 1). What the policy decided is read as recorded: the
//! ranges of k, the order of tier bounds, the first-of-month and ratio rules, whether an amount is
//! positive — a standard recorded under another rule stays readable.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};
use minzheng_types::Fen;

use crate::{
    benefit::{Calculation, Inputs, Method},
    category::Area,
    ids::StandardVersion,
    policy::{
        self, BenefitMode, CareStandards, DibaoStandard, HeatingAmounts, LowIncomeMultiplier,
        Period, SelfCare, Standard, TekunStandard, TemporaryAidLimit, Tier,
    },
};

/// The schema version the policy's events are written in.
pub const SCHEMA_VERSION: u32 = 1;

minzheng_host::event_codec! {
    policy::Event, schema_version = SCHEMA_VERSION;
    Recorded(policy::StandardRecorded) <=> pb::StandardRecorded,
}

impl ToMessage for policy::StandardRecorded {
    type Message = pb::StandardRecorded;

    fn to_message(&self) -> pb::StandardRecorded {
        pb::StandardRecorded {
            version: Some(version_to_pb(self.version)),
            standard: Some(standard_to_pb(&self.standard)),
            effective_from: Some(self.effective_from.into()),
            decided_by: self.decided_by.as_str().to_owned(),
            recorded_on: Some(self.recorded_on.into()),
        }
    }
}

impl FromMessage<pb::StandardRecorded> for policy::StandardRecorded {
    fn from_message(m: pb::StandardRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let version = m
            .version
            .as_ref()
            .ok_or_else(|| d.invalid("version: is missing"))?;
        let standard = m
            .standard
            .ok_or_else(|| d.invalid("standard: no kind of standard is set"))?;
        Ok(Self {
            version: version_from_pb(d, version)?,
            standard: standard_from_pb(d, standard)?,
            effective_from: d.date("effective_from", &m.effective_from)?,
            decided_by: d.text("decided_by", &m.decided_by)?,
            recorded_on: d.date("recorded_on", &m.recorded_on)?,
        })
    }
}

pub(crate) fn version_to_pb(v: StandardVersion) -> pb::StandardVersion {
    pb::StandardVersion {
        county: Some(v.county.into()),
        number: v.number,
    }
}

pub(crate) fn version_from_pb(
    d: &Decoder<'_>,
    v: &pb::StandardVersion,
) -> Result<StandardVersion, CodecError> {
    if v.number == 0 {
        return Err(d.invalid("version.number: must be an ordinal from 1"));
    }
    Ok(StandardVersion {
        county: d.code("version.county", &v.county)?,
        number: v.number,
    })
}

fn money(amount: Fen) -> Option<common::Money> {
    Some(amount.into())
}

fn area_to_pb(area: Area) -> i32 {
    match area {
        Area::Urban => pb::ResidenceArea::Urban,
        Area::Rural => pb::ResidenceArea::Rural,
    }
    .into()
}

fn area_from_pb(d: &Decoder<'_>, field: &str, area: i32) -> Result<Area, CodecError> {
    match pb::ResidenceArea::try_from(area) {
        Ok(pb::ResidenceArea::Urban) => Ok(Area::Urban),
        Ok(pb::ResidenceArea::Rural) => Ok(Area::Rural),
        Ok(pb::ResidenceArea::Unspecified) | Err(_) => {
            Err(d.invalid(format!("{field}: is not a known area")))
        }
    }
}

fn self_care_to_pb(level: SelfCare) -> i32 {
    match level {
        SelfCare::Able => pb::SelfCareLevel::Able,
        SelfCare::PartiallyUnable => pb::SelfCareLevel::PartiallyUnable,
        SelfCare::FullyUnable => pb::SelfCareLevel::FullyUnable,
    }
    .into()
}

fn self_care_from_pb(d: &Decoder<'_>, level: i32) -> Result<SelfCare, CodecError> {
    match pb::SelfCareLevel::try_from(level) {
        Ok(pb::SelfCareLevel::Able) => Ok(SelfCare::Able),
        Ok(pb::SelfCareLevel::PartiallyUnable) => Ok(SelfCare::PartiallyUnable),
        Ok(pb::SelfCareLevel::FullyUnable) => Ok(SelfCare::FullyUnable),
        Ok(pb::SelfCareLevel::Unspecified) | Err(_) => {
            Err(d.invalid("self_care: is not a known self-care level"))
        }
    }
}

fn tiers_to_pb(tiers: &[Tier]) -> Vec<pb::Tier> {
    tiers
        .iter()
        .map(|t| pb::Tier {
            up_to: money(t.up_to),
            amount: money(t.amount),
        })
        .collect()
}

fn tiers_from_pb(d: &Decoder<'_>, tiers: &[pb::Tier]) -> Result<Vec<Tier>, CodecError> {
    tiers
        .iter()
        .map(|t| {
            Ok(Tier {
                up_to: d.money("tier.up_to", &t.up_to)?,
                amount: d.money("tier.amount", &t.amount)?,
            })
        })
        .collect()
}

fn standard_to_pb(standard: &Standard) -> pb::standard_recorded::Standard {
    use pb::standard_recorded::Standard as S;
    match standard {
        Standard::Dibao(s) => S::Dibao(pb::DibaoStandard {
            area: area_to_pb(s.area),
            amount: money(s.amount),
            period: match s.period {
                Period::Month => pb::AmountPeriod::Month,
                Period::Year => pb::AmountPeriod::Year,
            }
            .into(),
        }),
        Standard::Mode(mode) => S::Mode(pb::BenefitMode {
            mode: Some(match mode {
                BenefitMode::Difference => {
                    pb::benefit_mode::Mode::Difference(pb::DifferenceMode {})
                }
                BenefitMode::Tiers { urban, rural } => {
                    pb::benefit_mode::Mode::Tiers(pb::TierMode {
                        urban: tiers_to_pb(urban),
                        rural: tiers_to_pb(rural),
                    })
                }
            }),
        }),
        Standard::LowIncomeMultiplier(k) => S::LowIncomeMultiplier(pb::LowIncomeMultiplier {
            permille: k.permille,
        }),
        Standard::Tekun(t) => S::ExtremePoverty(pb::ExtremePovertyStandard {
            area: area_to_pb(t.area),
            basic: money(t.basic),
            care_able: money(t.care.able),
            care_partially_unable: money(t.care.partially_unable),
            care_fully_unable: money(t.care.fully_unable),
        }),
        Standard::TemporaryAidLimit(l) => S::TemporaryAidLimit(pb::TemporaryAidLimit {
            township: l.township.map(Into::into),
            amount: money(l.amount),
        }),
        Standard::Heating(h) => S::Heating(pb::HeatingAmounts {
            winter: h.winter,
            dibao: money(h.dibao),
            extreme_poverty: money(h.tekun),
            low_income: money(h.low_income),
        }),
    }
}

fn standard_from_pb(
    d: &Decoder<'_>,
    standard: pb::standard_recorded::Standard,
) -> Result<Standard, CodecError> {
    use pb::standard_recorded::Standard as S;
    Ok(match standard {
        S::Dibao(s) => Standard::Dibao(DibaoStandard {
            area: area_from_pb(d, "dibao.area", s.area)?,
            amount: d.money("dibao.amount", &s.amount)?,
            period: match pb::AmountPeriod::try_from(s.period) {
                Ok(pb::AmountPeriod::Month) => Period::Month,
                Ok(pb::AmountPeriod::Year) => Period::Year,
                Ok(pb::AmountPeriod::Unspecified) | Err(_) => {
                    return Err(d.invalid("dibao.period: is not a known period"));
                }
            },
        }),
        S::Mode(m) => Standard::Mode(match m.mode {
            Some(pb::benefit_mode::Mode::Difference(_)) => BenefitMode::Difference,
            Some(pb::benefit_mode::Mode::Tiers(t)) => BenefitMode::Tiers {
                urban: tiers_from_pb(d, &t.urban)?,
                rural: tiers_from_pb(d, &t.rural)?,
            },
            None => return Err(d.invalid("mode: no mode is set")),
        }),
        S::LowIncomeMultiplier(k) => Standard::LowIncomeMultiplier(LowIncomeMultiplier {
            permille: k.permille,
        }),
        S::ExtremePoverty(t) => Standard::Tekun(TekunStandard {
            area: area_from_pb(d, "extreme_poverty.area", t.area)?,
            basic: d.money("extreme_poverty.basic", &t.basic)?,
            care: CareStandards {
                able: d.money("extreme_poverty.care_able", &t.care_able)?,
                partially_unable: d.money(
                    "extreme_poverty.care_partially_unable",
                    &t.care_partially_unable,
                )?,
                fully_unable: d.money("extreme_poverty.care_fully_unable", &t.care_fully_unable)?,
            },
        }),
        S::TemporaryAidLimit(l) => Standard::TemporaryAidLimit(TemporaryAidLimit {
            township: match &l.township {
                None => None,
                Some(_) => Some(d.code("temporary_aid_limit.township", &l.township)?),
            },
            amount: d.money("temporary_aid_limit.amount", &l.amount)?,
        }),
        S::Heating(h) => Standard::Heating(HeatingAmounts {
            winter: h.winter,
            dibao: d.money("heating.dibao", &h.dibao)?,
            tekun: d.money("heating.extreme_poverty", &h.extreme_poverty)?,
            low_income: d.money("heating.low_income", &h.low_income)?,
        }),
    })
}

fn method_to_pb(method: Method) -> i32 {
    match method {
        Method::Difference => pb::CalculationMethod::Difference,
        Method::Tier => pb::CalculationMethod::Tier,
        Method::SinglePerson => pb::CalculationMethod::SinglePerson,
        Method::LowIncome => pb::CalculationMethod::LowIncome,
        Method::ExtremePoverty => pb::CalculationMethod::ExtremePoverty,
    }
    .into()
}

fn method_from_pb(d: &Decoder<'_>, method: i32) -> Result<Method, CodecError> {
    match pb::CalculationMethod::try_from(method) {
        Ok(pb::CalculationMethod::Difference) => Ok(Method::Difference),
        Ok(pb::CalculationMethod::Tier) => Ok(Method::Tier),
        Ok(pb::CalculationMethod::SinglePerson) => Ok(Method::SinglePerson),
        Ok(pb::CalculationMethod::LowIncome) => Ok(Method::LowIncome),
        Ok(pb::CalculationMethod::ExtremePoverty) => Ok(Method::ExtremePoverty),
        Ok(pb::CalculationMethod::Unspecified) | Err(_) => {
            Err(d.invalid("calculation.method: is not a known method"))
        }
    }
}

/// A calculation as the message a case event carries.
// Until the case events carry a calculation only the tests call this; drop the allow then.
#[allow(dead_code)]
pub(crate) fn calculation_to_pb(c: &Calculation) -> pb::BenefitCalculation {
    pb::BenefitCalculation {
        method: method_to_pb(c.method),
        versions: c.versions.iter().copied().map(version_to_pb).collect(),
        household_size: c.inputs.size,
        total_monthly_income: money(c.inputs.total_monthly_income),
        per_capita_monthly_income: money(c.inputs.per_capita_monthly_income),
        member_monthly_income: c.inputs.member_monthly_income.map(Into::into),
        self_care: c
            .inputs
            .self_care
            .iter()
            .copied()
            .map(self_care_to_pb)
            .collect(),
        formula: c.formula.clone(),
        monthly_amount: money(c.monthly_amount),
    }
}

/// A calculation from a stored case event: shape only (enums known, amounts present and not
/// negative, the formula text non-empty); the amount is read as computed then, not recomputed.
// Until the case events carry a calculation only the tests call this; drop the allow then.
#[allow(dead_code)]
pub(crate) fn calculation_from_pb(
    d: &Decoder<'_>,
    c: &pb::BenefitCalculation,
) -> Result<Calculation, CodecError> {
    Ok(Calculation {
        method: method_from_pb(d, c.method)?,
        versions: c
            .versions
            .iter()
            .map(|v| version_from_pb(d, v))
            .collect::<Result<_, _>>()?,
        inputs: Inputs {
            size: c.household_size,
            total_monthly_income: d
                .money("calculation.total_monthly_income", &c.total_monthly_income)?,
            per_capita_monthly_income: d.money(
                "calculation.per_capita_monthly_income",
                &c.per_capita_monthly_income,
            )?,
            member_monthly_income: match &c.member_monthly_income {
                None => None,
                Some(_) => Some(d.money(
                    "calculation.member_monthly_income",
                    &c.member_monthly_income,
                )?),
            },
            self_care: c
                .self_care
                .iter()
                .map(|level| self_care_from_pb(d, *level))
                .collect::<Result<_, _>>()?,
        },
        formula: d.text("calculation.formula", &c.formula)?.into_string(),
        monthly_amount: d.money("calculation.monthly_amount", &c.monthly_amount)?,
    })
}
