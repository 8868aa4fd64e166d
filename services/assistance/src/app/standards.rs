//! Recording standards as effective-dated versions, and re-computing the benefits a new version
//! changes; loading the holiday calendar.
//!
//! A new version re-computes every case it affects (its county, areas and categories) in force
//! on or after its effective day (or the case's start, when later), from that day: each case
//! whose amount changes gets a `BenefitRecalculated` naming the old and the new amount and the
//! version used. Every amount from that day is restated with the figures it was computed with
//! and only the standard changed (`benefit::reapply`): household changes are the business of
//! reviews and of members' deaths, which decide them; a version taking effect before the case's
//! last change (a back-dated standard, `crate::policy`) restates the months since as well, and
//! the months already listed for payment get the difference as back pay in the next cycle
//! (`super::payments`). An ended case is restated for the months it was in force. The cases
//! are appended in batches of [`BATCH`], each batch in one transaction; a batch that meets a
//! concurrent change is done again case by case. The re-computation is idempotent (a case
//! already at the new calculation records nothing), so it is simply run again: after each
//! recording, and at start for every county's latest version — a crash half-way leaves nothing
//! undone for long.

use std::collections::BTreeSet;

use minzheng_eventstore::StoreError;
use minzheng_kit::{
    Error,
    aggregate::{Aggregate as _, CommandContext, Committed, Loaded, commit_together},
};
use minzheng_types::{BoundedText, RegionCode};
use time::Date;

use super::Assistance;
use crate::{
    benefit::{self, Calculation},
    calendar::{self, LoadYear},
    case::{self, Stage},
    ids::{CalendarYear, CaseId, first_of_month},
    policy::{self, Policy, Recomputation, RecordStandard, Standard, StandardRecorded},
};

/// Cases appended per transaction when re-computing.
pub const BATCH: usize = 100;
/// Times a case that keeps moving is computed again before giving up until the next start.
const RESTATE_ATTEMPTS: usize = 5;

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
        self.check_months_listed(&record).await?;
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

    /// Refuses a monthly standard from a month whose payment cycle the county has already
    /// generated, unless it raises a dibao or extreme-poverty standard ([`Policy::raises`]):
    /// that month's lines were computed with the old standard, and only a raise is settled
    /// afterwards (back pay); a lower standard, a mode or a multiplier would leave the month
    /// overpaid or paid on rules it was not decided on, with no record of it. Recording the same
    /// standard again is answered as before.
    async fn check_months_listed(&self, record: &RecordStandard) -> Result<(), Error> {
        // A back-dated standard is the policy's to refuse or allow (a raise only).
        if !record.standard.is_monthly()
            || record.effective_from < first_of_month(record.recorded_on)
        {
            return Ok(());
        }
        // Every cycle generated so far, whichever replica generated it.
        self.view.catch_up().await?;
        let view = self.view.read().await;
        let empty = Policy::default();
        let policy = view.policy(record.county).unwrap_or(&empty);
        if policy.already_in_force(record) || policy.raises(record) {
            return Ok(());
        }
        match view
            .cycles_of(record.county)
            .find(|cycle| cycle.month() >= record.effective_from)
        {
            Some(cycle) => Err(Error::refused(
                "month_already_paid",
                format!(
                    "payment cycle {cycle} was generated with the standards in force before; only \
                     a raised dibao or extreme-poverty standard may take effect from a month \
                     already listed for payment (the difference is paid as back pay): take effect \
                     from a later month"
                ),
            )),
            None => Ok(()),
        }
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
            let change_days = change_days(policy);
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
            changed += self.recalculate_batch(batch, &recomputation).await?;
        }
        self.view.nudge();
        Ok(changed)
    }

    /// Appends one batch of re-computations in one transaction, or, when a case moved since the
    /// view saw it, case by case from the store ([`Assistance::restate_one`]).
    async fn recalculate_batch(
        &self,
        batch: &[(CaseId, u64, case::Command)],
        recomputation: &Recomputation,
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
                for (id, _, _) in batch {
                    if self.restate_one(id, recomputation).await? {
                        changed += 1;
                    }
                }
                Ok(changed)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Restates case `id` computed from its state in the store, not the view's, appended only if
    /// the case has not moved since (else computed again): a change committed meanwhile — a
    /// member's death re-computed by the civil registry's consumer — is restated too, never
    /// overwritten. Whether it changed.
    async fn restate_one(&self, id: &CaseId, recomputation: &Recomputation) -> Result<bool, Error> {
        for _ in 0..RESTATE_ATTEMPTS {
            let Loaded { state, version } = self.cases.load(id).await?;
            let segments = {
                let view = self.view.read().await;
                let empty = Policy::default();
                let policy = view.policy(recomputation.version.county).unwrap_or(&empty);
                restatement(&state, policy, &change_days(policy), recomputation.from)
            };
            let Some(segments) = segments else {
                return Ok(false);
            };
            let events = match state.handle(&case::Command::Restate { segments }) {
                Ok(events) if !events.is_empty() => events,
                _ => return Ok(false),
            };
            let decided = self.cases.decided(id, version, &events)?;
            match commit_together(&self.store, vec![decided], &CommandContext::new()).await {
                Ok(_) => return Ok(true),
                Err(StoreError::Conflict { .. }) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(Error::Unavailable(format!(
            "case {id} kept changing while it was re-computed; it is re-computed again at the next \
             start"
        )))
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

/// The days a monthly standard of `policy` changes: a restatement re-computes from each.
fn change_days(policy: &Policy) -> BTreeSet<Date> {
    policy
        .versions()
        .iter()
        .filter(|v| v.standard.is_monthly())
        .map(|v| v.effective_from)
        .collect()
}

/// The amounts of `case` from `from` on under `policy` (in which the new version is recorded),
/// when they change: one segment from `from` (or the case's start, when later), then one from
/// each later day its amount or a monthly standard changed, consecutive equal ones merged. Each
/// month keeps the figures it was computed with and takes the standards in force then
/// ([`benefit::reapply`]); a month that cannot be re-computed (a standard missing, a household
/// the new standard would cover itself under single-person coverage) keeps its calculation.
/// `None` when nothing changes or the case was not in force on or after `from`.
fn restatement(
    case: &case::Case,
    policy: &Policy,
    change_days: &BTreeSet<Date>,
    from: Date,
) -> Option<Vec<(Date, Calculation)>> {
    let application = case.application.as_deref()?;
    let from = from.max(case.amounts.first()?.from);
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
    let mut segments: Vec<(Date, Calculation)> = Vec::new();
    for day in days
        .into_iter()
        .take_while(|day| end.is_none_or(|end| *day < end))
    {
        let standards = policy.standards(day, application.area)?;
        let existing = &case.calculation_on(day)?.calculation;
        let computed = benefit::reapply(existing, &standards).unwrap_or_else(|_| existing.clone());
        if segments.last().is_none_or(|(_, c)| *c != computed) {
            segments.push((day, computed));
        }
    }
    case.restatement_changes(&segments).then_some(segments)
}
