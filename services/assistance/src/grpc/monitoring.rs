//! The RPCs of monitoring and early warning (致贫返贫监测预警): the referrals from household
//! alerts and the actions on them, the county's monitoring list, and the plan's indicators.

use minzheng_host::{
    edge::{self, Call},
    fields::Fields as _,
};
use minzheng_kit::Error;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};
use minzheng_types::{RegionCode, RegionLevel, Violations};

use super::AssistanceApi;
use crate::{
    app::monitoring::IndicatorSet,
    codec::{case::category_to_pb, referral::outcome_to_pb},
    ids::CaseId,
    indicators::Share,
    monitoring::{Listed, Reason},
    referral::{self, AlertId, Outcome, Referral},
};

fn alert_id(violations: &mut Violations, value: &str) -> Option<AlertId> {
    violations.id("alert_id", value, AlertId::parse)
}

/// The county of a request (`county`), which must be county-level.
fn county(violations: &mut Violations, value: &Option<common::RegionCode>) -> Option<RegionCode> {
    let county = violations.region("county", value);
    if county.is_some_and(|c| c.level() != RegionLevel::County) {
        violations.push("county.code", "must be a county-level division");
    }
    county
}

fn outcome_from_pb(violations: &mut Violations, outcome: i32, case_id: &str) -> Option<Outcome> {
    match pb::ReferralOutcome::try_from(outcome) {
        Ok(pb::ReferralOutcome::ApplicationSubmitted) => violations
            .id("case_id", case_id, CaseId::parse)
            .map(Outcome::ApplicationSubmitted),
        Ok(
            other @ (pb::ReferralOutcome::VisitedNotEligible | pb::ReferralOutcome::CouldNotReach),
        ) => {
            if !case_id.is_empty() {
                violations.push("case_id", "is given for APPLICATION_SUBMITTED only");
                return None;
            }
            Some(if other == pb::ReferralOutcome::VisitedNotEligible {
                Outcome::VisitedNotEligible
            } else {
                Outcome::CouldNotReach
            })
        }
        Ok(pb::ReferralOutcome::Unspecified) | Err(_) => {
            violations.push(
                "outcome",
                "must be APPLICATION_SUBMITTED, VISITED_NOT_ELIGIBLE or COULD_NOT_REACH",
            );
            None
        }
    }
}

/// A referral as a caseworker sees it (the members included: its RPC is audited).
fn referral_to_pb(id: &AlertId, referral: &Referral, today: time::Date) -> pb::Referral {
    let recorded = referral.recorded();
    let action = referral.action();
    let (outcome, case_id) = action
        .map_or((pb::ReferralOutcome::Unspecified, String::new()), |a| {
            outcome_to_pb(&a.outcome)
        });
    pb::Referral {
        alert_id: id.to_string(),
        kind: recorded.map_or(0, |r| crate::codec::referral::kind_to_pb(r.kind)),
        township: recorded.map(|r| r.township.into()),
        members: recorded.map_or_else(Vec::new, |r| {
            r.members.iter().map(common::CitizenRef::from).collect()
        }),
        raised_on: recorded.map(|r| r.raised_on.into()),
        due_on: recorded.map(|r| r.due_on.into()),
        overdue: referral.is_overdue_on(today),
        outcome: outcome.into(),
        case_id,
        acted_on: action.map(|a| a.acted_on.into()),
    }
}

fn reason_to_pb(reason: Reason) -> pb::MonitoringReason {
    match reason {
        Reason::JustAboveLine => pb::MonitoringReason::JustAboveLine,
        Reason::NearLine => pb::MonitoringReason::NearLine,
        Reason::OpenAlert => pb::MonitoringReason::OpenAlert,
    }
}

fn listed_to_pb(listed: &Listed) -> pb::MonitoredHousehold {
    pb::MonitoredHousehold {
        reason: reason_to_pb(listed.reason).into(),
        case_id: listed.case_id.map(|c| c.to_string()).unwrap_or_default(),
        alert_id: listed
            .alert_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        township: listed.township.map(Into::into),
        since: Some(listed.since.into()),
    }
}

fn permille_to_pb(value: Option<u32>) -> pb::Permille {
    pb::Permille {
        permille: value.unwrap_or(0),
        available: value.is_some(),
    }
}

fn share_to_pb(share: &Share) -> pb::ReserveFundCoverage {
    pb::ReserveFundCoverage {
        townships: share.of,
        with_reserve_fund: share.count,
        share: Some(permille_to_pb(share.permille)),
    }
}

fn indicator_set_to_pb(set: &IndicatorSet) -> pb::IndicatorSet {
    let ratio = &set.standard_ratio;
    pb::IndicatorSet {
        region: Some(set.region.into()),
        standard_ratio: Some(pb::StandardRatio {
            mean_urban_monthly: ratio.mean_urban.map(Into::into),
            mean_rural_monthly: ratio.mean_rural.map(Into::into),
            urban_counties: ratio.urban_counties,
            rural_counties: ratio.rural_counties,
            ratio: Some(permille_to_pb(ratio.ratio_permille)),
        }),
        reserve_funds: Some(share_to_pb(&set.reserve_funds)),
        coverage: set
            .coverage
            .iter()
            .map(|c| pb::CategoryCoverage {
                category: category_to_pb(c.category),
                cases: c.cases,
                persons: c.persons,
                monthly_amount: Some(c.monthly_amount.into()),
            })
            .collect(),
        overdue_steps: set.overdue_steps,
        overdue_referrals: set.overdue_referrals,
    }
}

impl AssistanceApi {
    pub(super) async fn list_referrals(
        &self,
        call: Call<pb::ListReferralsRequest>,
    ) -> Result<pb::ListReferralsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let county = county(&mut violations, &body.county);
        let township = match &body.township {
            Some(t) if !t.code.is_empty() => {
                violations.region("township", &body.township).map(Some)
            }
            _ => Some(None),
        };
        if let (Some(county), Some(Some(township))) = (county, township)
            && !county.contains(township)
        {
            violations.push("township.code", "must be a township of the county");
        }
        let (county, township) = violations.finish((county, township))?;
        call.require_region(township.unwrap_or(county))?;
        self.app
            .caught_up(edge::min_position(&body.read), call.deadline())
            .await?;
        let today = self.app.today();
        let referrals = self
            .monitoring
            .referrals(county, township, body.open_only)
            .await;
        let (referrals, page) = edge::page(referrals.into_iter(), &body.page)?;
        for (id, referral) in &referrals {
            call.audit("referral", id.to_string());
            for member in referral
                .recorded()
                .map(|r| r.members.as_slice())
                .unwrap_or_default()
            {
                call.audit("person", self.app.pseudonym(member));
            }
        }
        Ok(pb::ListReferralsResponse {
            referrals: referrals
                .iter()
                .map(|(id, referral)| referral_to_pb(id, referral, today))
                .collect(),
            page: Some(page),
        })
    }

    pub(super) async fn act_on_referral(
        &self,
        call: Call<pb::ActOnReferralRequest>,
    ) -> Result<pb::ActOnReferralResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = alert_id(&mut violations, &body.alert_id);
        let outcome = outcome_from_pb(&mut violations, body.outcome, &body.case_id);
        let note = violations.text("note", &body.note, referral::NOTE_MAX_CHARS);
        let (id, outcome, note) = violations.finish((id, outcome, note))?;
        let stored = self.monitoring.stored_referral(&id).await?;
        let township = stored
            .recorded()
            .map(|r| r.township)
            .ok_or_else(|| Error::NotFound(format!("no referral {id}")))?;
        call.require_region(township)?;
        let committed = self.monitoring.act(&id, outcome, note, &context).await?;
        Ok(pb::ActOnReferralResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn list_monitored_households(
        &self,
        call: Call<pb::ListMonitoredHouseholdsRequest>,
    ) -> Result<pb::ListMonitoredHouseholdsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let county = county(&mut violations, &body.county);
        let county = violations.finish(county)?;
        call.require_region(county)?;
        self.app
            .caught_up(edge::min_position(&body.read), call.deadline())
            .await?;
        let (listed, as_of) = self.monitoring.monitored(county).await;
        Ok(pb::ListMonitoredHouseholdsResponse {
            households: listed.iter().map(listed_to_pb).collect(),
            as_of: Some(as_of.into()),
        })
    }

    pub(super) async fn get_indicators(
        &self,
        call: Call<pb::GetIndicatorsRequest>,
    ) -> Result<pb::GetIndicatorsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let region = violations.region("region", &body.region);
        if region.is_some_and(|r| !matches!(r.level(), RegionLevel::County | RegionLevel::City)) {
            violations.push(
                "region.code",
                "must be a county-level or a city-level division",
            );
        }
        let as_of = violations.date_or("as_of", &body.as_of, self.app.today());
        let (region, as_of) = violations.finish((region, as_of))?;
        call.require_region(region)?;
        self.app
            .caught_up(edge::min_position(&body.read), call.deadline())
            .await?;
        let indicators = self.monitoring.indicators(region, as_of).await?;
        Ok(pb::GetIndicatorsResponse {
            as_of: Some(indicators.as_of.into()),
            overdue_as_of: Some(indicators.today.into()),
            total: Some(indicator_set_to_pb(&indicators.total)),
            counties: indicators
                .counties
                .iter()
                .map(indicator_set_to_pb)
                .collect(),
        })
    }
}
