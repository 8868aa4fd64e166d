//! Recording standards as effective-dated versions, and re-computing the benefits a new version
//! changes; loading the holiday calendar.
//!
//! A new version re-computes every active case it affects (its county, areas and categories)
//! from its effective day (or the case's start, when later): each case whose amount changes gets
//! a `BenefitRecalculated` naming the old and the new amount and the version used. The cases
//! are appended in batches of [`BATCH`], each batch in one transaction; a batch that meets a
//! concurrent change is done again case by case. The re-computation is idempotent (a case
//! already at the new calculation records nothing), so it is simply run again: after each
//! recording, and at start for every county's latest version — a crash half-way leaves nothing
//! undone for long.

use minzheng_eventstore::StoreError;
use minzheng_kit::{
    Error,
    aggregate::{Aggregate as _, CommandContext, Committed, commit_together},
};
use minzheng_types::{BoundedText, RegionCode};
use time::Date;

use super::{Assistance, steps::household_calculation};
use crate::{
    calendar::{self, LoadYear},
    case::{self, RecalculationCause},
    ids::{CalendarYear, CaseId},
    policy::{self, Policy, RecordStandard, Standard, StandardRecorded},
};

/// Cases appended per transaction when re-computing.
pub const BATCH: usize = 100;

impl Assistance {
    /// Records `standard` for `county` from `effective_from`, then re-computes the benefits it
    /// changes. Answers where it was recorded, the version, and how many cases changed.
    pub async fn record_standard(
        &self,
        county: RegionCode,
        standard: Standard,
        effective_from: Date,
        decided_by: BoundedText,
        context: &CommandContext,
    ) -> Result<(Committed, Option<StandardRecorded>, u32), Error> {
        let record = RecordStandard {
            county,
            standard,
            effective_from,
            decided_by,
            recorded_on: self.today(),
        };
        self.check_months_unpaid(&record).await?;
        let command = policy::Command::Record(record);
        let committed = self.policies.run(&county, &command, context).await?;
        let policy = self.policies.load(&county).await?.state;
        // The version this command recorded (or, for a repeat, recorded before).
        let version = usize::try_from(committed.stream_version)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| policy.versions().get(i))
            .cloned();
        self.view.nudge();
        self.view.catch_up().await?;
        let changed = match &version {
            Some(version) => self.recompute(version).await?,
            None => 0,
        };
        Ok((committed, version, changed))
    }

    /// Refuses a new monthly standard from a month whose payment cycle the county has already
    /// generated: its lines were computed with the old standard, and back pay (补发) of the
    /// difference is not modelled, so the difference would silently never be paid. (A standard
    /// may start on the first of the month it is recorded in; this catches the month whose list
    /// went out before the decision.) Recording the same standard again is answered as before.
    async fn check_months_unpaid(&self, record: &RecordStandard) -> Result<(), Error> {
        if !record.standard.is_monthly() {
            return Ok(());
        }
        // Every cycle generated so far, whichever replica generated it.
        self.view.catch_up().await?;
        let view = self.view.read().await;
        if view
            .policy(record.county)
            .is_some_and(|policy| policy.already_in_force(record))
        {
            return Ok(());
        }
        match view
            .cycles_of(record.county)
            .find(|cycle| cycle.month() >= record.effective_from)
        {
            Some(cycle) => Err(Error::refused(
                "month_already_paid",
                format!(
                    "payment cycle {cycle} was generated with the standards in force before; a \
                     standard cannot take effect from a month already listed for payment (back \
                     pay is not modelled): take effect from a later month"
                ),
            )),
            None => Ok(()),
        }
    }

    /// Re-computes, from `version`'s effective day, every active case it affects; answers how
    /// many changed.
    pub async fn recompute(&self, version: &StandardRecorded) -> Result<u32, Error> {
        let Some(recomputation) = version.recomputation() else {
            return Ok(0);
        };
        let county = recomputation.version.county;
        let decisions: Vec<(CaseId, u64, case::Command)> = {
            let view = self.view.read().await;
            let empty = Policy::default();
            let policy = view.policy(county).unwrap_or(&empty);
            view.cases_of(county)
                .into_iter()
                .filter_map(|(id, case)| {
                    let application = case.application.as_deref()?;
                    if !case.in_force()
                        || !recomputation.categories.contains(&application.category)
                        || !recomputation.areas.contains(&application.area)
                    {
                        return None;
                    }
                    let start = case.amounts.last().map(|a| a.from)?;
                    let from = recomputation.from.max(start);
                    let standards = policy.standards(from, application.area)?;
                    let verification = case.verification.as_ref()?;
                    let calculation =
                        household_calculation(application, verification, &standards).ok()?;
                    let unchanged = case
                        .calculation_on(from)
                        .is_some_and(|a| a.calculation == calculation);
                    let (_, version) = view.case(id)?;
                    (!unchanged).then_some({
                        (
                            *id,
                            version,
                            case::Command::Recalculate {
                                calculation,
                                effective_on: from,
                                cause: RecalculationCause::StandardChanged,
                            },
                        )
                    })
                })
                .collect()
        };
        let mut changed = 0;
        for batch in decisions.chunks(BATCH) {
            changed += self
                .recalculate_batch(batch, &recomputation.version)
                .await?;
        }
        self.view.nudge();
        Ok(changed)
    }

    /// Appends one batch of re-computations in one transaction, or case by case when a case
    /// moved since the view saw it.
    async fn recalculate_batch(
        &self,
        batch: &[(CaseId, u64, case::Command)],
        version: &crate::ids::StandardVersion,
    ) -> Result<u32, Error> {
        let view = self.view.read().await;
        let mut decided = Vec::with_capacity(batch.len());
        for (id, loaded, command) in batch {
            let Some((case, _)) = view.case(id) else {
                continue;
            };
            if let Ok(events) = case.handle(command)
                && !events.is_empty()
            {
                decided.push(self.cases.decided(id, *loaded, &events)?);
            }
        }
        drop(view);
        let context = CommandContext::new();
        match commit_together(&self.store, decided, &context).await {
            Ok(committed) => Ok(u32::try_from(committed.len()).unwrap_or(u32::MAX)),
            Err(StoreError::Conflict { .. }) => {
                let mut changed = 0;
                for (id, _, command) in batch {
                    let context = CommandContext::new()
                        .with_idempotency_key(format!("recompute-{version}-{id}"));
                    match self.cases.execute(id, command, &context).await? {
                        Ok(c) if c.position > 0 && !c.replayed => changed += 1,
                        _ => {}
                    }
                }
                Ok(changed)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Re-runs the re-computation of every county's latest monthly version (at start: a
    /// re-computation a crash interrupted is finished).
    pub async fn recompute_latest(&self) -> Result<u32, Error> {
        let latest: Vec<StandardRecorded> = {
            let view = self.view.read().await;
            view.policies()
                .flat_map(|(_, policy)| {
                    policy
                        .versions()
                        .iter()
                        .rev()
                        .find(|v| v.recomputation().is_some())
                        .cloned()
                })
                .collect()
        };
        let mut changed = 0;
        for version in &latest {
            changed += self.recompute(version).await?;
        }
        Ok(changed)
    }

    /// Every version of `county`'s standards.
    pub async fn standards_of(&self, county: RegionCode) -> Vec<StandardRecorded> {
        let view = self.view.read().await;
        view.policy(county)
            .map(|p| p.versions().to_vec())
            .unwrap_or_default()
    }

    /// Loads a year's holiday calendar today.
    pub async fn load_calendar(
        &self,
        mut year: LoadYear,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        year.loaded_on = self.today();
        let key = CalendarYear(year.year.0);
        let committed = self
            .calendars
            .run(&key, &calendar::Command::LoadYear(year), context)
            .await?;
        self.view.nudge();
        Ok(committed)
    }
}
