//! The verification's report as its message (`VerificationReport`), and the answers to a
//! verification request: `HouseholdVerificationCompleted` (the report, and the summary fields
//! the assistance service reads) and `HouseholdVerificationRefused`. Written only: these events
//! are this service's answers, which it never reads back.

use minzheng_proto::{assistance::v1 as assistance, common::v1 as common, datasharing::v1 as pb};
use minzheng_types::CitizenId;
use time::Date;

use super::records::{agency_to_pb, class_to_pb};
use crate::{
    records::DataClass,
    verification::{
        Area, Flag, IncomeLines, Item, Position, Report, Source, SourceState, StandardVersion,
    },
};

fn citizen(id: &CitizenId) -> common::CitizenRef {
    common::CitizenRef {
        citizen_id: id.expose().to_owned(),
    }
}

pub(crate) fn source(s: &Source) -> pb::SourceRecord {
    pb::SourceRecord {
        agency: s.agency.chinese_name().to_owned(),
        record_id: s.reference.clone(),
        as_of: Some(s.as_of.into()),
        age_days: s.age_days,
        agency_code: agency_to_pb(s.agency),
        known_version: s.known_version,
    }
}

fn income(i: &Item) -> pb::VerifiedIncomeItem {
    pb::VerifiedIncomeItem {
        member: Some(citizen(&i.member)),
        kind: i.kind.code().to_owned(),
        monthly: Some(i.amount.into()),
        source: Some(source(&i.source)),
    }
}

fn asset(i: &Item) -> pb::VerifiedAssetItem {
    pb::VerifiedAssetItem {
        owner: Some(citizen(&i.member)),
        kind: i.kind.code().to_owned(),
        value: Some(i.amount.into()),
        source: Some(source(&i.source)),
    }
}

fn flag(f: &Flag) -> pb::VerificationFlag {
    pb::VerificationFlag {
        code: f.code.clone(),
        member: f.member.as_ref().map(citizen),
        source: f.source.as_ref().map(source),
    }
}

fn version(v: StandardVersion) -> assistance::StandardVersion {
    assistance::StandardVersion {
        county: Some(v.county.into()),
        number: v.number,
    }
}

fn lines(l: &IncomeLines) -> pb::IncomeLines {
    pb::IncomeLines {
        dibao_version: Some(version(l.dibao_version)),
        dibao_monthly: Some(l.dibao_monthly.into()),
        multiplier_version: l.low_income.map(|(v, _)| version(v)),
        low_income_monthly: l.low_income.map(|(_, line)| line.into()),
    }
}

pub fn area_to_pb(area: Option<Area>) -> i32 {
    match area {
        None => assistance::ResidenceArea::Unspecified,
        Some(Area::Urban) => assistance::ResidenceArea::Urban,
        Some(Area::Rural) => assistance::ResidenceArea::Rural,
    }
    .into()
}

/// The report's message: the same report, the same bytes.
pub fn report_to_pb(r: &Report) -> pb::VerificationReport {
    pb::VerificationReport {
        members: r.members.iter().map(citizen).collect(),
        county: Some(r.county.into()),
        area: area_to_pb(r.area),
        verified_on: Some(r.verified_on.into()),
        known_at: Some(super::timestamp(r.knowledge.at_micros)),
        knowledge_version: r.knowledge.version,
        incomes: r.incomes.iter().map(income).collect(),
        assets: r.assets.iter().map(asset).collect(),
        flags: r.flags.iter().map(flag).collect(),
        total_monthly_income: Some(r.total_monthly_income.into()),
        per_capita_monthly_income: Some(r.per_capita_monthly_income.into()),
        lines: r.lines.as_ref().map(lines),
        position: match r.position {
            Position::Unknown => pb::IncomePosition::Unspecified,
            Position::AtOrBelowDibao => pb::IncomePosition::AtOrBelowDibao,
            Position::LowIncome => pb::IncomePosition::LowIncome,
            Position::AboveLowIncome => pb::IncomePosition::AboveLowIncome,
        }
        .into(),
        thresholds: r.thresholds.map(|number| pb::ThresholdsVersion {
            county: Some(r.county.into()),
            number,
        }),
        sources: r
            .sources
            .iter()
            .map(|s| pb::SourceStatus {
                agency: agency_to_pb(s.agency),
                state: match s.state {
                    SourceState::Fresh => pb::SourceState::Fresh,
                    SourceState::Stale => pb::SourceState::Stale,
                    SourceState::Missing => pb::SourceState::Missing,
                }
                .into(),
                latest_as_of: s.latest_as_of.map(Into::into),
                age_days: s.age_days,
            })
            .collect(),
        unchecked: r.unchecked.iter().map(|c| (*c).to_owned()).collect(),
    }
}

/// An answer as it is stored: its event type and payload.
pub type Encoded = (String, Vec<u8>);

/// [`completed`], encoded.
pub fn completed_event(request_id: &str, case_id: &str, r: &Report) -> Encoded {
    use prost::{Message as _, Name as _};
    (
        pb::HouseholdVerificationCompleted::full_name(),
        completed(request_id, case_id, r).encode_to_vec(),
    )
}

/// [`refused`], encoded.
pub fn refused_event(
    request_id: &str,
    case_id: &str,
    on: Date,
    missing: &[(CitizenId, Vec<DataClass>)],
) -> Encoded {
    use prost::{Message as _, Name as _};
    (
        pb::HouseholdVerificationRefused::full_name(),
        refused(request_id, case_id, on, missing).encode_to_vec(),
    )
}

/// The answer to request `request_id` of case `case_id`.
pub fn completed(
    request_id: &str,
    case_id: &str,
    r: &Report,
) -> pb::HouseholdVerificationCompleted {
    let report = report_to_pb(r);
    pb::HouseholdVerificationCompleted {
        request_id: request_id.to_owned(),
        case_id: case_id.to_owned(),
        verified_on: Some(r.verified_on.into()),
        total_monthly_income: report.total_monthly_income,
        per_capita_monthly_income: report.per_capita_monthly_income,
        incomes: report.incomes.clone(),
        assets: report.assets.clone(),
        flags: report.flags.clone(),
        household_size: u32::try_from(r.members.len()).unwrap_or(u32::MAX),
        report: Some(report),
    }
}

/// Request `request_id` refused: per member, the classes no valid authorization opens.
pub fn refused(
    request_id: &str,
    case_id: &str,
    on: Date,
    missing: &[(CitizenId, Vec<DataClass>)],
) -> pb::HouseholdVerificationRefused {
    pb::HouseholdVerificationRefused {
        request_id: request_id.to_owned(),
        case_id: case_id.to_owned(),
        refused_on: Some(on.into()),
        missing: missing
            .iter()
            .map(|(member, classes)| pb::MissingAuthorization {
                member: Some(citizen(member)),
                data_classes: classes.iter().copied().map(class_to_pb).collect(),
            })
            .collect(),
    }
}
