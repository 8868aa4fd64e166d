//! Recording standards as effective-dated versions, and re-computing the benefits a new version
//! changes; loading the holiday calendar.
//!
//! A new version re-computes every case it affects (its county, areas and categories) in force
//! on or after its effective day (or the case's start, when later), from that day: each case
//! whose amount changes gets a `BenefitRecalculated` naming the old and the new amount and the
//! version used. A version taking effect before the case's last change (a back-dated standard,
//! `crate::policy`) restates every amount since: the months before the last change keep the
//! figures they were computed with (`benefit::reapply`), the amount in force is computed from
//! the household as it is now; the months already listed for payment get the difference as
//! back pay in the next cycle (`super::payments`). An ended case is restated for the months it
//! was in force. The cases
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
use std::collections::BTreeSet;

use minzheng_types::{BoundedText, RegionCode};
use time::Date;

use super::{Assistance, steps::household_calculation};
use crate::{
    benefit::{self, Calculation},
    calendar::{self, LoadYear},
    case::{self, Stage},
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

    /// Re-computes, from `version`'s effective day, every case it affects; answers how many
    /// changed.
    pub async fn recompute(&self, version: &StandardRecorded) -> Result<u32, Error> {
        let Some(recomputation) = version.recomputation() else {
            return Ok(0);
        };
        let county = recomputation.version.county;
        let decisions: Vec<(CaseId, u64, case::Command)> = {
            let view = self.view.read().await;
            let empty = Policy::default();
            let policy = view.policy(county).unwrap_or(&empty);
            // The days a monthly standard changes: a restatement re-computes from each.
            let change_days: BTreeSet<Date> = policy
                .versions()
                .iter()
                .filter(|v| v.standard.is_monthly())
                .map(|v| v.effective_from)
                .collect();
            view.cases_of(county)
                .into_iter()
                .filter_map(|(id, case)| {
                    let application = case.application.as_deref()?;
                    if !recomputation.categories.contains(&application.category)
                        || !recomputation.areas.contains(&application.area)
                    {
                        return None;
                    }
                    let segments = restatement(case, policy, &change_days, recomputation.from)?;
                    let (_, version) = view.case(id)?;
                    Some((*id, version, case::Command::Restate { segments }))
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

/// The amounts of `case` from `from` on under `policy` (in which the new version is recorded),
/// when they change: one segment from `from` (or the case's start, when later), then one from
/// each later day its amount or a monthly standard changed, consecutive equal ones merged.
/// Months before the case's last change are re-computed with their own figures
/// ([`benefit::reapply`]); from the last change on, from the household as it is now. A month
/// that cannot be re-computed (a standard missing, a household the new standard would cover
/// itself under single-person coverage) keeps its calculation. `None` when nothing changes or
/// the case was not in force on or after `from`.
fn restatement(
    case: &case::Case,
    policy: &Policy,
    change_days: &BTreeSet<Date>,
    from: Date,
) -> Option<Vec<(Date, Calculation)>> {
    let application = case.application.as_deref()?;
    let first = case.amounts.first()?.from;
    let last = case.amounts.last()?.from;
    let from = from.max(first);
    let end = match case.stage {
        Stage::Active | Stage::Suspended => None,
        Stage::Ended => Some(case.ends_on.filter(|end| from < *end)?),
        _ => return None,
    };
    let mut days: BTreeSet<Date> = case
        .amounts
        .iter()
        .map(|a| a.from)
        .chain(change_days.iter().copied())
        .filter(|day| *day > from)
        .collect();
    days.insert(from);
    let now = end.is_none().then(|| case.current_household()).flatten();
    let mut segments: Vec<(Date, Calculation)> = Vec::new();
    for day in days
        .into_iter()
        .take_while(|day| end.is_none_or(|end| *day < end))
    {
        let standards = policy.standards(day, application.area)?;
        let existing = &case.calculation_on(day)?.calculation;
        let computed = match &now {
            Some((application, verification)) if day >= last => {
                household_calculation(application, verification, &standards).ok()
            }
            _ => None,
        }
        .or_else(|| benefit::reapply(existing, &standards).ok())
        .unwrap_or_else(|| existing.clone());
        if segments.last().is_none_or(|(_, c)| *c != computed) {
            segments.push((day, computed));
        }
    }
    case.restatement_changes(&segments).then_some(segments)
}
