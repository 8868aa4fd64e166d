//! Deaths and funerals. A death ends the deceased's marriage and widows the spouse, in the
//! same transaction as the death record, so no one is ever recorded as married to the dead.

use minzheng_kit::{
    Error,
    aggregate::{
        Aggregate as _, CommandContext, Committed, commit_together, with_conflict_retries,
    },
};

use super::{CONFLICT_RETRIES, CivilRegistry, last};
use crate::{
    death::{self, AssistanceOnDeath, BurialType, DeathRecord},
    ids::Pseudonym,
    person, registration,
};

/// The facts of a funeral as the registry enters them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuneralFacts {
    pub funeral_home: minzheng_types::BoundedText,
    pub cremated_on: Option<time::Date>,
    pub burial: BurialType,
    pub buried_on: time::Date,
    pub basic_fee: minzheng_types::Fen,
}

impl CivilRegistry {
    /// Records a death (its `death` id and `recorded_on` are filled in here). A repeat of the
    /// same notification answers as the first; a different one for the same citizen is
    /// refused (`already_recorded`).
    pub async fn record_death(
        &self,
        mut command: death::Record,
        context: &CommandContext,
    ) -> Result<(Pseudonym, Option<Committed>), Error> {
        let key = self.pseudonym(&command.citizen);
        command.death = key.clone();
        command.recorded_on = self.today();
        let committed = with_conflict_retries(CONFLICT_RETRIES, || async {
            let death = self.deaths.load(&key).await?;
            if let Some(record) = death.state.record()
                && same_death(record, &command)
            {
                return Ok(Ok(vec![self.deaths.recorded(&key, death.version).await?]));
            }
            let recorded = match death.state.handle(&death::Command::Record(command.clone())) {
                Ok(events) => events,
                Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
            };
            let deceased = self.persons.load(&key).await?;
            let decease = person::Command::Decease(person::Decease {
                citizen: command.citizen.clone(),
                died_on: command.died_on,
                death: key.clone(),
            });
            let deceased_events = match deceased.state.handle(&decease) {
                Ok(events) => events,
                Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
            };
            let mut decided = vec![
                self.deaths.decided(&key, death.version, &recorded)?,
                self.persons
                    .decided(&key, deceased.version, &deceased_events)?,
            ];
            let marriage_id = deceased
                .state
                .current()
                .filter(|p| p.status == person::Status::Married)
                .map(|p| (p.marriage.clone(), p.spouse.clone()));
            if let Some((marriage_id, spouse)) = marriage_id {
                let marriage = self.marriages.load(&marriage_id).await?;
                let spouse_key = self.pseudonym(&spouse);
                let widowed = self.persons.load(&spouse_key).await?;
                let plan = match registration::dissolve_by_death(
                    &deceased.state,
                    &marriage.state,
                    &widowed.state,
                    key.clone(),
                    command.died_on,
                ) {
                    Ok(plan) => plan,
                    Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
                };
                decided.push(self.marriages.decided(
                    &marriage_id,
                    marriage.version,
                    &plan.marriage,
                )?);
                decided.push(
                    self.persons
                        .decided(&spouse_key, widowed.version, &plan.spouse)?,
                );
            }
            Ok(Ok(commit_together(self.store(), decided, context).await?))
        })
        .await??;
        self.written(&committed);
        Ok((key, last(committed)))
    }

    /// Records the funeral of death `death`, deciding the fee waiver from the deceased's
    /// assistance household on the day of death.
    pub async fn record_funeral(
        &self,
        death: &Pseudonym,
        facts: FuneralFacts,
        context: &CommandContext,
    ) -> Result<(DeathRecord, Committed), Error> {
        let record = self.death(death).await?;
        let assistance = self
            .assistance
            .read()
            .await
            .membership_on(&record.citizen, record.died_on)
            .map(|(category, case_id)| AssistanceOnDeath { category, case_id });
        let command = death::Command::RecordFuneral(death::RecordFuneral {
            funeral_home: facts.funeral_home,
            cremated_on: facts.cremated_on,
            burial: facts.burial,
            buried_on: facts.buried_on,
            basic_fee: facts.basic_fee,
            assistance,
            policy: self.waiver_policy,
            recorded_on: self.today(),
        });
        let committed = self.deaths.run(&death, &command, context).await?;
        self.written(std::slice::from_ref(&committed));
        Ok((self.death(death).await?, committed))
    }

    /// One death record with its funeral.
    pub async fn death(&self, death: &Pseudonym) -> Result<DeathRecord, Error> {
        self.deaths
            .load(&death)
            .await?
            .state
            .record()
            .cloned()
            .ok_or_else(|| Error::NotFound("the death is not recorded".to_owned()))
    }
}

fn same_death(record: &DeathRecord, command: &death::Record) -> bool {
    record.citizen == command.citizen
        && record.died_on == command.died_on
        && record.county == command.county
        && record.source == command.source
        && record.source_reference == command.source_reference
        && record.name == command.name
}
