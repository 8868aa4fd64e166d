//! Dynamic management (动态管理): what the other services' events change on the cases in force —
//! a member's death, a marriage or divorce, a division adjustment.

use std::{collections::BTreeSet, time::Duration};

use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed},
};
use minzheng_types::{CitizenId, RegionCode};
use time::Date;

use super::{Assistance, steps::household_calculation};
use crate::{
    case::{self, ReviewCause, next_month},
    ids::CaseId,
};

/// How long the overview may take to show the cases an adjustment moved.
const FOLLOW_VIEW_WAIT: Duration = Duration::from_secs(10);

impl Assistance {
    /// The cases in force covering `citizen` (or whose household they are in).
    pub async fn cases_in_force_of(&self, citizen: &CitizenId) -> Vec<CaseId> {
        let view = self.view.read().await;
        view.cases_of_member(citizen)
            .into_iter()
            .filter(|id| view.case(id).is_some_and(|(c, _)| c.in_force()))
            .collect()
    }

    /// A member of case `id` died on `died_on`: the others are covered from the next month at
    /// the amount re-computed for them (household size and verified income without the
    /// deceased), or the case ends when nobody is left. A member of the household not covered
    /// (single-person coverage of another member) only changes the household: the case is
    /// flagged for review.
    pub async fn member_died(
        &self,
        id: &CaseId,
        citizen: &CitizenId,
        died_on: Date,
        context: &CommandContext,
    ) -> Result<Option<Committed>, Error> {
        let (case, _) = self.case(id).await?;
        let Some(application) = case.application.as_deref() else {
            return Ok(None);
        };
        if !case.members.contains(citizen) {
            return self
                .flag(id, ReviewCause::MemberDied, None, died_on, context)
                .await
                .map(Some);
        }
        let calculation = {
            let from = next_month(died_on);
            let view = self.view.read().await;
            let standards = view
                .policy(case.county.unwrap_or(application.county))
                .and_then(|p| p.standards(from, application.area));
            match (case.current_household(), standards) {
                (Some((now, verification)), Some(standards)) => {
                    let (remaining, verification) =
                        now.without_members(&verification, std::slice::from_ref(citizen));
                    (!remaining.household.members.is_empty())
                        .then(|| household_calculation(&remaining, &verification, &standards).ok())
                        .flatten()
                }
                _ => None,
            }
        };
        let command = case::Command::RemoveMember {
            member: citizen.clone(),
            on: died_on,
            calculation,
        };
        self.run_case(id, command, context).await.map(Some)
    }

    /// Flags case `id` for review.
    pub async fn flag(
        &self,
        id: &CaseId,
        cause: ReviewCause,
        record_id: Option<String>,
        on: Date,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let command = case::Command::Flag {
            cause,
            record_id,
            on,
        };
        self.run_case(id, command, context).await
    }

    /// The cases whose township `code` ceased on `valid_to`: each follows its single successor
    /// (re-homed, its county possibly another), or is flagged for review after a split. `event`
    /// is the place-names event that said so; `None` from the sweep
    /// ([`Assistance::follow_missed_adjustments`]).
    pub async fn follow_adjustment(
        &self,
        code: RegionCode,
        successors: &[RegionCode],
        valid_to: Date,
        adjustment_id: &str,
        event: Option<uuid::Uuid>,
    ) -> Result<u32, Error> {
        let cases: Vec<CaseId> = {
            let view = self.view.read().await;
            view.all()
                .filter(|(_, c)| {
                    c.division == Some(code)
                        && !matches!(c.stage, case::Stage::Ended | case::Stage::Rejected)
                })
                .map(|(id, _)| *id)
                .collect()
        };
        let mut followed = 0;
        let mut last_position = 0;
        for id in cases {
            let context = match event {
                Some(event) => CommandContext::new()
                    .with_idempotency_key(format!("placenames-{event}-{id}"))
                    .with_causation_id(event),
                None => CommandContext::new()
                    .with_idempotency_key(format!("adjustment-sweep-{adjustment_id}-{id}")),
            };
            let command = match successors {
                [one] => case::Command::Rehome {
                    division: *one,
                    adjustment_id: adjustment_id.to_owned(),
                    effective_on: valid_to,
                },
                _ => case::Command::Flag {
                    cause: ReviewCause::DivisionSplit,
                    record_id: Some(adjustment_id.to_owned()),
                    on: valid_to,
                },
            };
            match self.cases.execute(&id, &command, &context).await? {
                Ok(committed) => {
                    if !committed.replayed && committed.position > 0 {
                        followed += 1;
                    }
                    last_position = last_position.max(committed.position);
                }
                // A case not in force cannot be flagged: its township is kept as filed.
                Err(refusal) => {
                    tracing::info!(case = %id, rule = minzheng_kit::aggregate::DomainError::rule(&refusal), "case not re-homed")
                }
            }
        }
        // The adjustment is consumed once the overview shows every case it moved: whoever waits
        // for the consumer (a settled host) then reads each case where it now belongs.
        self.caught_up(last_position, FOLLOW_VIEW_WAIT).await?;
        Ok(followed)
    }

    /// Follows the adjustments that open cases missed: a case filed under a township while the
    /// township's supersession was being applied (routed by the divisions as they were a moment
    /// before, recorded after the adjustment moved the cases it saw) still names the township.
    /// Run at start and with the periodic reviews; answers how many cases moved.
    pub async fn follow_missed_adjustments(&self) -> Result<u32, Error> {
        let divisions: BTreeSet<RegionCode> = {
            let view = self.view.read().await;
            view.all()
                .filter(|(_, c)| !matches!(c.stage, case::Stage::Ended | case::Stage::Rejected))
                .filter_map(|(_, c)| c.division)
                .collect()
        };
        let mut followed = 0;
        for code in divisions {
            let Some(ended) = self.divisions.supersession(code).await? else {
                continue;
            };
            followed += self
                .follow_adjustment(
                    code,
                    &ended.successors,
                    ended.valid_to,
                    &ended.adjustment_id,
                    None,
                )
                .await?;
        }
        Ok(followed)
    }
}

impl Assistance {
    /// Starts a review of case `id` today, requesting a new verification.
    pub async fn start_review(
        &self,
        id: &CaseId,
        cause: ReviewCause,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let on = self.today();
        self.run_case(id, case::Command::StartReview { cause, on }, context)
            .await
    }

    /// Completes the open review of case `id` today from its verification's result: the amount
    /// from the next month, or the end of the case (with the rule that refused the amount).
    pub async fn complete_review(
        &self,
        id: &CaseId,
        context: &CommandContext,
    ) -> Result<(Committed, Option<crate::benefit::Calculation>), Error> {
        let today = self.today();
        let case = self.cases.load(id).await?.state;
        if case.application.is_none() {
            return Err(Error::NotFound(format!("no case {id}")));
        }
        let (calculation, reason) = match case.current_household() {
            Some((application, verification)) if case.open_request.is_none() => {
                let from = next_month(today);
                let view = self.view.read().await;
                let standards = view
                    .policy(case.county.unwrap_or(application.county))
                    .and_then(|p| p.standards(from, application.area))
                    .ok_or_else(|| {
                        Error::refused("standard_not_in_force", format!("no standards on {from}"))
                    })?;
                match household_calculation(&application, &verification, &standards) {
                    Ok(calculation) => (Some(calculation), String::new()),
                    Err(Error::FailedPrecondition { rule, message }) => {
                        (None, format!("{message} ({rule})"))
                    }
                    Err(other) => return Err(other),
                }
            }
            _ => (None, String::new()),
        };
        let command = case::Command::CompleteReview {
            calculation: calculation.clone(),
            reason,
            on: today,
        };
        let committed = self.run_case(id, command, context).await?;
        Ok((committed, calculation))
    }

    /// Suspends, resumes or terminates case `id` today.
    pub async fn change_case(
        &self,
        id: &CaseId,
        change: CaseChange,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let on = self.today();
        let command = match change {
            CaseChange::Suspend(reason) => case::Command::Suspend { reason, on },
            CaseChange::Resume => case::Command::Resume { on },
            CaseChange::Terminate(reason) => case::Command::Terminate {
                reason: reason.into_string(),
                on,
            },
        };
        self.run_case(id, command, context).await
    }
}

/// What the county changes on a case in force.
#[derive(Debug, Clone)]
pub enum CaseChange {
    Suspend(minzheng_types::BoundedText),
    Resume,
    Terminate(minzheng_types::BoundedText),
}
