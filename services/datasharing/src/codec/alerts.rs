//! The alerts proactive discovery raises, as their messages (written only: other services read
//! them).

use minzheng_proto::{common::v1 as common, datasharing::v1 as pb};
use prost::{Message as _, Name as _};
use time::Date;

use super::report::Encoded;
use crate::{
    discovery::{Alert, Death, HouseholdSource, IncomeAlert},
    verification::Report,
};

fn death(d: &Death) -> pb::DeathSource {
    pb::DeathSource {
        death_id: d.death_id.clone(),
        died_on: Some(d.died_on.into()),
    }
}

fn source(s: HouseholdSource) -> i32 {
    match s {
        HouseholdSource::AssistanceCase => pb::HouseholdSource::AssistanceCase,
        HouseholdSource::Registration => pb::HouseholdSource::Registration,
    }
    .into()
}

/// `alert`, raised on `on` under `alert_id`, as it is stored.
pub fn alert_event(alert_id: &str, alert: &Alert, on: Date) -> Encoded {
    match alert {
        Alert::GuardiansDeceased {
            child,
            deaths,
            source: from,
            division,
        } => (
            pb::GuardiansDeceased::full_name(),
            pb::GuardiansDeceased {
                alert_id: alert_id.to_owned(),
                child: Some(common::CitizenRef::from(child)),
                deaths: deaths.iter().map(death).collect(),
                household_source: source(*from),
                division: division.map(Into::into),
                raised_on: Some(on.into()),
            }
            .encode_to_vec(),
        ),
        Alert::ElderlyLeftAlone {
            person,
            spouse_death,
            source: from,
            division,
        } => (
            pb::ElderlyLeftAlone::full_name(),
            pb::ElderlyLeftAlone {
                alert_id: alert_id.to_owned(),
                person: Some(common::CitizenRef::from(person)),
                spouse_death: Some(death(spouse_death)),
                household_source: source(*from),
                division: division.map(Into::into),
                raised_on: Some(on.into()),
            }
            .encode_to_vec(),
        ),
    }
}

/// The household alert (`HouseholdAlertRaised`) for a case in assistance whose verified income
/// crossed its line: the case's members, its township, the income records behind it.
pub fn household_alert_event(
    alert_id: &str,
    alert: IncomeAlert,
    division: Option<minzheng_types::RegionCode>,
    report: &Report,
    on: Date,
) -> Encoded {
    let kind = match alert {
        IncomeAlert::AboveLine => pb::AlertKind::IncomeAboveLine,
        IncomeAlert::BelowLine => pb::AlertKind::IncomeNearLine,
    };
    (
        pb::HouseholdAlertRaised::full_name(),
        pb::HouseholdAlertRaised {
            alert_id: alert_id.to_owned(),
            kind: kind.into(),
            members: report
                .members
                .iter()
                .map(common::CitizenRef::from)
                .collect(),
            division: division.map(Into::into),
            raised_on: Some(on.into()),
            sources: report
                .incomes
                .iter()
                .map(|i| super::report::source(&i.source))
                .collect(),
        }
        .encode_to_vec(),
    )
}
