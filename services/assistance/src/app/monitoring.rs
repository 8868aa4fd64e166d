//! Monitoring and early warning (致贫返贫监测预警): the referrals recorded from the data-sharing
//! service's household alerts and the caseworkers' actions on them, a county's monitoring list,
//! and the plan's indicators — the application layer over [`crate::referral`],
//! [`crate::monitoring`] and [`crate::indicators`].
//!
//! - An alert names the township of the household's registered residence (or a village in it).
//!   The township is followed through the place-names adjustments like an application's; an
//!   alert under a township since split stays under its old code (its county still decides
//!   which successor looks into it), and one under a code the divisions do not know yet is
//!   taken as given, since its digits name its county: an alert is never parked for want of a
//!   division.
//! - The due day is [`MonitoringSettings::referral_deadline_working_days`] working days after
//!   the alert was raised, on the holiday calendar loaded when it is recorded.
//! - An action naming a case needs a case of the service covering (or having applied for) a
//!   member the alert names: `case_not_of_household`.

use std::{collections::BTreeSet, sync::Arc};

use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed, Repository},
};
use minzheng_types::{BoundedText, RegionCode, RegionLevel};
use serde::Deserialize;
use time::Date;

use super::Assistance;
use crate::{
    codec::datasharing::Alert,
    indicators::{self, Coverage, Share, StandardRatio},
    monitoring::{self, CaseFacts, Listed, Thresholds},
    projections::divisions::Resolution,
    referral::{self, AlertId, Outcome, Referral},
};

/// `[assistance.monitoring]` settings (`MZ_ASSISTANCE__MONITORING__…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct MonitoringSettings {
    /// Working days a township has to act on an alert.
    pub referral_deadline_working_days: u32,
    /// How far below the standard, in percent, a household in assistance is near the line.
    pub near_line_percent: u32,
    /// k in permille for counties that recorded none.
    pub default_low_income_permille: u32,
}

impl Default for MonitoringSettings {
    fn default() -> Self {
        let thresholds = Thresholds::default();
        Self {
            referral_deadline_working_days: referral::DEFAULT_DEADLINE_WORKING_DAYS,
            near_line_percent: thresholds.near_line_percent,
            default_low_income_permille: thresholds.default_low_income_permille,
        }
    }
}

impl MonitoringSettings {
    fn thresholds(&self) -> Thresholds {
        Thresholds {
            near_line_percent: self.near_line_percent,
            default_low_income_permille: self.default_low_income_permille,
        }
    }
}

/// The indicators of one county, or of several together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorSet {
    pub region: RegionCode,
    pub standard_ratio: StandardRatio,
    pub reserve_funds: Share,
    pub coverage: Vec<Coverage>,
    pub overdue_steps: u32,
    pub overdue_referrals: u32,
}

/// The indicators on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicators {
    pub as_of: Date,
    /// The day the overdue counts are of.
    pub today: Date,
    pub total: IndicatorSet,
    /// For a city: each county's.
    pub counties: Vec<IndicatorSet>,
}

/// The monitoring part of the application; cheap to clone.
#[derive(Debug, Clone)]
pub struct Monitoring {
    app: Assistance,
    referrals: Arc<Repository<Referral>>,
    settings: MonitoringSettings,
}

impl Monitoring {
    pub fn new(app: Assistance, settings: MonitoringSettings) -> Self {
        Self {
            referrals: Arc::new(Repository::new(app.store.clone())),
            app,
            settings,
        }
    }

    /// The application it reads through.
    pub fn app(&self) -> &Assistance {
        &self.app
    }

    /// Records `alert` as a referral for its township; see the [module documentation](self).
    pub async fn record_alert(
        &self,
        alert: &Alert,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let today = self.app.today();
        let township = self.alert_township(alert.division, today).await?;
        let county = township.county().unwrap_or(township);
        let due_on = self
            .app
            .view
            .read()
            .await
            .working_calendar()
            .add_working_days(
                alert.raised_on,
                self.settings.referral_deadline_working_days,
            );
        let command = referral::Command::Record(referral::Record {
            alert_id: alert.alert_id.clone(),
            kind: alert.kind,
            county,
            township,
            members: alert.members.clone(),
            raised_on: alert.raised_on,
            on: today,
            due_on,
        });
        let committed = self
            .referrals
            .run(&alert.alert_id, &command, context)
            .await?;
        self.app.view.nudge();
        Ok(committed)
    }

    /// The township an alert's division leads to today.
    async fn alert_township(&self, division: RegionCode, today: Date) -> Result<RegionCode, Error> {
        // A village's alert goes to its township; a code above a township is the aggregate's
        // to refuse.
        let township = division.township().unwrap_or(division);
        if township.level() != RegionLevel::Township {
            return Ok(township);
        }
        Ok(match self.app.divisions.resolve(township, today).await? {
            Resolution::Current(current) => current,
            Resolution::Split(_) | Resolution::Unknown => township,
        })
    }

    /// Referral `id` as stored; NOT_FOUND when there is none.
    pub async fn stored_referral(&self, id: &AlertId) -> Result<Referral, Error> {
        let loaded = self.referrals.load(id).await?;
        if loaded.state.recorded().is_none() {
            return Err(Error::NotFound(format!("no referral {id}")));
        }
        Ok(loaded.state)
    }

    /// Records what a caseworker did about referral `id`.
    pub async fn act(
        &self,
        id: &AlertId,
        outcome: Outcome,
        note: BoundedText,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let stored = self.stored_referral(id).await?;
        if let Outcome::ApplicationSubmitted(case_id) = &outcome {
            self.check_case_of_household(&stored, case_id).await?;
        }
        let command = referral::Command::Act(referral::Act {
            outcome,
            note,
            on: self.app.today(),
        });
        let committed = self.referrals.run(id, &command, context).await?;
        self.app.view.nudge();
        Ok(committed)
    }

    /// The case an application led to covers (or applied for) a member the alert names.
    async fn check_case_of_household(
        &self,
        referral: &Referral,
        case_id: &crate::ids::CaseId,
    ) -> Result<(), Error> {
        let named = referral
            .recorded()
            .map(|r| r.members.clone())
            .unwrap_or_default();
        let case = self.app.stored_case(case_id).await?;
        let applied = case.application.as_ref().is_some_and(|a| {
            a.household
                .members
                .iter()
                .any(|m| named.contains(&m.citizen))
        });
        if applied || case.members.iter().any(|m| named.contains(m)) {
            Ok(())
        } else {
            Err(Error::refused(
                "case_not_of_household",
                format!("case {case_id} covers no member the alert names"),
            ))
        }
    }

    /// The referrals of `county` (only `township`'s when given, only the open ones when asked),
    /// the earliest due first.
    pub async fn referrals(
        &self,
        county: RegionCode,
        township: Option<RegionCode>,
        open_only: bool,
    ) -> Vec<(AlertId, Referral)> {
        let view = self.app.view.read().await;
        let mut listed: Vec<(AlertId, Referral)> = view
            .referrals_of(county)
            .into_iter()
            .filter(|(_, r)| !open_only || r.is_open())
            .filter(|(_, r)| township.is_none_or(|t| r.recorded().is_some_and(|a| a.township == t)))
            .map(|(id, r)| (id.clone(), r.clone()))
            .collect();
        listed.sort_by(|(a_id, a), (b_id, b)| {
            let due = |r: &Referral| r.recorded().map(|a| a.due_on);
            due(a).cmp(&due(b)).then(a_id.cmp(b_id))
        });
        listed
    }

    /// `county`'s monitoring list today.
    pub async fn monitored(&self, county: RegionCode) -> (Vec<Listed>, Date) {
        let today = self.app.today();
        let view = self.app.view.read().await;
        let facts: Vec<CaseFacts> = view
            .cases_of(county)
            .into_iter()
            .filter_map(|(_, case)| CaseFacts::of(case))
            .collect();
        let referrals: Vec<&Referral> = view
            .referrals_of(county)
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        let none = crate::policy::Policy::default();
        let policy = view.policy(county).unwrap_or(&none);
        let listed = monitoring::list(&facts, referrals, policy, today, self.settings.thresholds());
        (listed, today)
    }

    /// The indicators of `region` (a county, or a city: each county and the total) on `as_of`.
    pub async fn indicators(&self, region: RegionCode, as_of: Date) -> Result<Indicators, Error> {
        let today = self.app.today();
        let townships = self.app.divisions.townships_on(Some(region), as_of).await?;
        let counties = self.counties_of(region, &townships).await;
        // The overdue steps first: `overdue` takes the view itself.
        let mut overdue_steps = Vec::with_capacity(counties.len());
        for county in &counties {
            let (steps, _) = self.app.overdue(*county).await;
            overdue_steps.push(u32::try_from(steps.len()).unwrap_or(u32::MAX));
        }
        let view = self.app.view.read().await;
        let mut sets = Vec::with_capacity(counties.len());
        let (mut urban, mut rural) = (Vec::new(), Vec::new());
        for (county, overdue) in counties.iter().zip(overdue_steps) {
            let (u, r) = view
                .policy(*county)
                .map_or((None, None), |p| indicators::dibao_standards(p, as_of));
            urban.extend(u);
            rural.extend(r);
            let own: Vec<RegionCode> = townships
                .iter()
                .copied()
                .filter(|t| county.contains(*t))
                .collect();
            let funded = own
                .iter()
                .filter(|t| view.fund_established_on(**t).is_some_and(|on| on <= as_of))
                .count();
            let coverage = indicators::coverage(view.cases_of(*county), as_of)
                .ok_or_else(|| Error::internal(anyhow::anyhow!("amounts overflow")))?;
            sets.push(IndicatorSet {
                region: *county,
                standard_ratio: indicators::standard_ratio(
                    &u.into_iter().collect::<Vec<_>>(),
                    &r.into_iter().collect::<Vec<_>>(),
                ),
                reserve_funds: indicators::share(count(funded), count(own.len())),
                coverage,
                overdue_steps: overdue,
                overdue_referrals: count(
                    view.referrals_of(*county)
                        .iter()
                        .filter(|(_, r)| r.is_overdue_on(today))
                        .count(),
                ),
            });
        }
        let total = total(region, &sets, &urban, &rural)?;
        Ok(Indicators {
            as_of,
            today,
            total,
            counties: if region.level() == RegionLevel::County {
                Vec::new()
            } else {
                sets
            },
        })
    }

    /// The counties of `region`: itself when a county; for a city, every county with a
    /// township, standards or a case.
    async fn counties_of(&self, region: RegionCode, townships: &[RegionCode]) -> Vec<RegionCode> {
        if region.level() == RegionLevel::County {
            return vec![region];
        }
        let view = self.app.view.read().await;
        let mut counties: BTreeSet<RegionCode> =
            townships.iter().filter_map(|t| t.county()).collect();
        counties.extend(view.policies().map(|(county, _)| *county));
        counties.extend(view.all().map(|(id, _)| id.county()));
        counties
            .into_iter()
            .filter(|c| region.contains(*c) && c.level() == RegionLevel::County)
            .collect()
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The indicators of the counties in `sets` together.
fn total(
    region: RegionCode,
    sets: &[IndicatorSet],
    urban: &[minzheng_types::Fen],
    rural: &[minzheng_types::Fen],
) -> Result<IndicatorSet, Error> {
    let overflow = || Error::internal(anyhow::anyhow!("amounts overflow"));
    let mut coverage = indicators::coverage(std::iter::empty(), Date::MIN).ok_or_else(overflow)?;
    let (mut funded, mut townships, mut steps, mut referrals) = (0u32, 0u32, 0u32, 0u32);
    for set in sets {
        indicators::add_coverage(&mut coverage, &set.coverage).ok_or_else(overflow)?;
        funded = funded.saturating_add(set.reserve_funds.count);
        townships = townships.saturating_add(set.reserve_funds.of);
        steps = steps.saturating_add(set.overdue_steps);
        referrals = referrals.saturating_add(set.overdue_referrals);
    }
    Ok(IndicatorSet {
        region,
        standard_ratio: indicators::standard_ratio(urban, rural),
        reserve_funds: indicators::share(funded, townships),
        coverage,
        overdue_steps: steps,
        overdue_referrals: referrals,
    })
}
