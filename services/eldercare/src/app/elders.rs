//! Elderly persons: capacity assessments, subsidy standards and monthly entitlements, visit
//! plans and visits, and what the other services' events change — a death (the bed freed, the
//! subsidies ended from the next month, the visit plan closed) and the low-income status from
//! the assistance cases. Also the county's elderly population figures.

use minzheng_kit::{
    Error,
    aggregate::{
        Aggregate as _, CommandContext, Committed, commit_together, with_conflict_retries,
    },
};
use minzheng_types::{BoundedText, CitizenId, RegionCode};
use time::Date;

use super::{CONFLICT_RETRIES, ElderCare, last};
use crate::{
    assessment::{Adjustments, Scores},
    elder::{self, Assessed, Difficulty, Elder, Visit},
    ids::ElderId,
    institution::{self, DischargeReason},
    population::{self, Reported},
    subsidy::{self, AssessedLevel, Facts, Monthly, Record, SubsidyPolicy},
};

/// An assessment as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub citizen: CitizenId,
    pub scores: Scores,
    pub adjustments: Adjustments,
    pub assessor: BoundedText,
    pub on: Date,
    pub reassessment_due_on: Option<Date>,
    pub division: RegionCode,
}

/// A visit plan as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRequest {
    pub citizen: CitizenId,
    pub difficulties: Vec<Difficulty>,
    pub interval_days: u16,
    pub township: RegionCode,
    pub on: Date,
    pub alert_id: Option<String>,
}

impl ElderCare {
    /// Records an assessment; the level is derived by the standard's rules.
    pub async fn record_assessment(
        &self,
        a: Assessment,
        context: &CommandContext,
    ) -> Result<(ElderId, Assessed, Committed), Error> {
        self.not_future("assessed_on", a.on)?;
        let elder = self.elder_id(&a.citizen);
        let assess = elder::Assess {
            citizen: a.citizen,
            elder: elder.clone(),
            scores: a.scores,
            adjustments: a.adjustments,
            assessor: a.assessor,
            on: a.on,
            reassessment_due_on: a
                .reassessment_due_on
                .unwrap_or_else(|| crate::assessment::reassessment_due(a.on)),
            division: a.division,
        };
        // Most persons are assessed for the first time: one round trip, not a read and a write.
        let command = elder::Command::Assess(Box::new(assess.clone()));
        let committed = self
            .elders
            .execute_new(&elder, &command, context)
            .await?
            .map_err(|refusal| Error::from_refusal(&refusal))?;
        // The read model is not nudged: it keeps no assessment (see `crate::overview`), and a
        // catch-up per assessment would read the store for nothing.
        let assessed = if committed.replayed {
            // A retry: the assessment as recorded the first time.
            self.elders
                .load(&elder)
                .await?
                .state
                .assessments()
                .last()
                .cloned()
                .ok_or_else(|| Error::internal(anyhow::anyhow!("the assessment is missing")))?
        } else {
            // What the command recorded, derived as the aggregate derived it.
            assess
                .assessed()
                .map_err(|refusal| Error::from_refusal(&refusal))?
        };
        Ok((elder, assessed, committed))
    }

    /// One person's record; NOT_FOUND when the service knows nothing of them.
    pub async fn elder(&self, citizen: &CitizenId) -> Result<(ElderId, Elder), Error> {
        let elder = self.elder_id(citizen);
        let loaded = self.elders.load(&elder).await?;
        if loaded.version == 0 {
            return Err(Error::NotFound(
                "the service has no record of this person".to_owned(),
            ));
        }
        Ok((elder, loaded.state))
    }

    /// Runs a command on a person's stream.
    pub async fn elder_command(
        &self,
        citizen: &CitizenId,
        command: elder::Command,
        context: &CommandContext,
    ) -> Result<(ElderId, Committed), Error> {
        let elder = self.elder_id(citizen);
        let committed = self.elders.run(&elder, &command, context).await?;
        self.written(std::slice::from_ref(&committed));
        Ok((elder, committed))
    }

    /// Opens a visit plan (by staff, or for a data-sharing alert: an open plan answers that).
    pub async fn open_visit_plan(
        &self,
        plan: PlanRequest,
        context: &CommandContext,
    ) -> Result<(ElderId, Committed), Error> {
        self.not_future("opened_on", plan.on)?;
        let elder = self.elder_id(&plan.citizen);
        self.elder_command(
            &plan.citizen,
            elder::Command::OpenVisitPlan(elder::OpenVisitPlan {
                citizen: plan.citizen.clone(),
                elder,
                difficulties: plan.difficulties,
                interval_days: plan.interval_days,
                township: plan.township,
                on: plan.on,
                alert_id: plan.alert_id,
            }),
            context,
        )
        .await
    }

    /// Records a visit; answers the next due day.
    pub async fn record_visit(
        &self,
        citizen: &CitizenId,
        visit: Visit,
        context: &CommandContext,
    ) -> Result<(Date, Committed), Error> {
        self.not_future("visited_on", visit.on)?;
        let (elder, committed) = self
            .elder_command(citizen, elder::Command::RecordVisit(visit), context)
            .await?;
        let next = self
            .elders
            .load(&elder)
            .await?
            .state
            .open_plan()
            .map(elder::VisitPlan::next_due)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("the visit plan is missing")))?;
        Ok((next, committed))
    }

    /// Escalates to the county every visit overdue more than the escalation delay today (once
    /// per missed due day: the person's stream refuses a second). Returns how many.
    pub async fn escalate_overdue_visits(&self) -> Result<usize, Error> {
        let today = self.today();
        let due = self
            .view
            .read()
            .await
            .to_escalate(today, self.escalate_after_days);
        let mut escalated = 0;
        for (elder, due_on, county) in due {
            let context =
                CommandContext::new().with_idempotency_key(format!("escalate-{elder}-{due_on}"));
            let committed = self
                .elders
                .run(
                    &elder,
                    &elder::Command::EscalateVisit {
                        due_on,
                        county,
                        on: today,
                    },
                    &context,
                )
                .await?;
            if committed.position > 0 && !committed.replayed {
                escalated += 1;
            }
            self.written(std::slice::from_ref(&committed));
        }
        Ok(escalated)
    }

    /// Records a version of the subsidy standards.
    pub async fn record_standard(
        &self,
        mut record: Record,
        context: &CommandContext,
    ) -> Result<(u32, Committed), Error> {
        record.recorded_on = self.today();
        let city = record.city;
        let committed = self
            .policies
            .run(&city, &subsidy::Command::Record(record), context)
            .await?;
        self.written(std::slice::from_ref(&committed));
        let version = self
            .policies
            .load(&city)
            .await?
            .state
            .latest()
            .map_or(0, |s| s.version);
        Ok((version, committed))
    }

    /// A city's subsidy policy.
    pub async fn policy(&self, city: RegionCode) -> Result<SubsidyPolicy, Error> {
        Ok(self.policies.load(&city).await?.state)
    }

    /// What the person is entitled to for the month of `month`, under the standards of the
    /// city their latest assessment, visit plan or institution places them in.
    pub async fn monthly_subsidy(
        &self,
        citizen: &CitizenId,
        month: Date,
    ) -> Result<(ElderId, Monthly), Error> {
        let (elder, state) = self.elder(citizen).await?;
        let only_city = self.view.read().await.only_policy_city();
        let city = state
            .assessments()
            .last()
            .map(|a| a.division)
            .or_else(|| state.visit_plan().map(|p| p.township))
            .or_else(|| state.placement().map(|p| p.institution.county()))
            .and_then(RegionCode::city)
            // Known only from an assistance case: the one city with standards, when there is one.
            .or(only_city)
            .ok_or_else(|| {
                Error::refused(
                    "no_residence",
                    "the person's city is known from an assessment, a visit plan or an \
                     institution, and none is recorded",
                )
            })?;
        let policy = self.policy(city).await?;
        let assessments: Vec<AssessedLevel> = state
            .assessments()
            .iter()
            .map(|a| AssessedLevel {
                level: a.level,
                assessed_on: a.on,
                reassessment_due_on: a.reassessment_due_on,
            })
            .collect();
        let low_income = state.low_income_periods();
        let facts = Facts {
            birth_date: citizen.birth_date(),
            assessments: &assessments,
            low_income: &low_income,
            died_on: state.died_on(),
        };
        Ok((elder, subsidy::monthly(&facts, &policy, month)))
    }

    /// Records a county's elderly population figure.
    pub async fn record_population(
        &self,
        reported: Reported,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        self.not_future("as_of", reported.as_of)?;
        let county = reported.county;
        let committed = self.populations.run(&county, &reported, context).await?;
        self.written(std::slice::from_ref(&committed));
        Ok(committed)
    }

    /// A death the civil registry recorded: noted on the person's stream (which ends their
    /// placement and closes their visit plan) and, when they lived in an institution, their
    /// bed freed — together. Persons the service never knew are not recorded. Idempotent.
    pub async fn note_death(
        &self,
        citizen: &CitizenId,
        died_on: Date,
        death_id: Option<String>,
        context: &CommandContext,
    ) -> Result<Option<Committed>, Error> {
        let elder = self.elder_id(citizen);
        let committed = with_conflict_retries(CONFLICT_RETRIES, || async {
            let person = self.elders.load(&elder).await?;
            if person.version == 0 || person.state.died_on().is_some() {
                return Ok(Ok(vec![]));
            }
            let noted = decide!(
                person.state,
                elder::Command::NoteDeath(elder::NoteDeath {
                    citizen: citizen.clone(),
                    elder: elder.clone(),
                    on: died_on,
                    death_id: death_id.clone(),
                })
            );
            let mut decided = Vec::new();
            if let Some(placement) = person.state.placement() {
                let home = self.institutions.load(&placement.institution).await?;
                // The bed is freed on the day of death, or on the institution's last change
                // when that is later (a death learnt late): its days stay in order.
                let on = home
                    .state
                    .last_change()
                    .map_or(died_on, |last| died_on.max(last));
                let freed = decide!(
                    home.state,
                    institution::Command::Discharge(institution::Discharge {
                        elder: elder.clone(),
                        on,
                        reason: DischargeReason::Died,
                        transferred_to: None,
                        death_id: death_id.clone(),
                    })
                );
                decided.push(self.institutions.decided(
                    &placement.institution,
                    home.version,
                    &freed,
                )?);
            }
            decided.push(self.elders.decided(&elder, person.version, &noted)?);
            Ok(Ok(commit_together(self.store(), decided, context).await?))
        })
        .await??;
        self.written(&committed);
        Ok(last(committed))
    }

    /// An assistance case covers (or no longer covers) `citizen` from `on`. Every member is
    /// recorded whatever their age: one who turns 60 while the case lasts is then eligible for
    /// the service subsidy from that month, with nothing else to happen first.
    pub async fn set_low_income(
        &self,
        citizen: &CitizenId,
        case_id: &str,
        covered: bool,
        on: Date,
        context: &CommandContext,
    ) -> Result<Option<Committed>, Error> {
        let elder = self.elder_id(citizen);
        let command = elder::Command::SetLowIncome(elder::LowIncome {
            citizen: citizen.clone(),
            elder: elder.clone(),
            case_id: case_id.to_owned(),
            covered,
            on,
        });
        let committed = self.elders.run(&elder, &command, context).await?;
        self.written(std::slice::from_ref(&committed));
        Ok((committed.position > 0).then_some(committed))
    }

    /// The figures of a county.
    pub async fn population(&self, county: RegionCode) -> Result<population::Population, Error> {
        Ok(self.populations.load(&county).await?.state)
    }
}
