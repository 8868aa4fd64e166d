//! Institutions, their residents, and service points.
//!
//! Ids are issued per county in order ([`crate::ids`]): the next after the highest the read
//! model knows or this process issued; another replica taking the same id first makes the
//! registration take the next. A registration repeated with its idempotency key answers with the
//! institution it created.

use minzheng_kit::{
    Error,
    aggregate::{
        Aggregate, CommandContext, Committed, Repository, RunError, commit_together,
        with_conflict_retries,
    },
};
use minzheng_types::{CitizenId, RegionCode};
use time::Date;

use super::{CONFLICT_RETRIES, ElderCare, last};
use crate::{
    elder,
    ids::{ElderId, InstitutionId, MAX_ORDINAL, ServicePointId},
    institution::{self, BedType, DischargeReason, Institution, Profile},
    service_point,
};

/// Attempts at issuing an id before giving up (each lost to another replica).
const ID_ATTEMPTS: usize = 8;

/// A discharge as asked: to home, by death, or a transfer to another institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaving {
    Discharged,
    Died { death_id: Option<String> },
    TransferredTo(InstitutionId, BedType),
}

impl ElderCare {
    /// Registers an institution at a division valid on its registration day.
    pub async fn register_institution(
        &self,
        mut profile: Profile,
        beds: institution::Beds,
        context: &CommandContext,
    ) -> Result<(InstitutionId, Committed), Error> {
        self.not_future("registered_on", profile.registered_on)?;
        self.check_division("division", profile.division, profile.registered_on)
            .await?;
        let county = profile.county;
        self.create(
            "institution",
            county,
            &self.institutions,
            |ordinal| InstitutionId::new(county, ordinal),
            |id| {
                profile.id = *id;
                institution::Command::Register(institution::Register {
                    profile: profile.clone(),
                    beds,
                })
            },
            |refusal| matches!(refusal, institution::Error::AlreadyRegistered),
            |key| InstitutionId::parse(key).ok(),
            context,
        )
        .await
    }

    /// Opens a service point at a division valid on its opening day.
    pub async fn open_service_point(
        &self,
        mut opened: service_point::Opened,
        context: &CommandContext,
    ) -> Result<(ServicePointId, Committed), Error> {
        self.not_future("opened_on", opened.on)?;
        self.check_division("division", opened.division, opened.on)
            .await?;
        let county = opened.county;
        self.create(
            "service_point",
            county,
            &self.service_points,
            |ordinal| ServicePointId::new(county, ordinal),
            |id| {
                opened.id = *id;
                service_point::Command::Open(opened.clone())
            },
            |refusal| matches!(refusal, service_point::Error::AlreadyOpen),
            |key| ServicePointId::parse(key).ok(),
            context,
        )
        .await
    }

    /// Runs a command on an existing institution.
    pub async fn institution_command(
        &self,
        id: &InstitutionId,
        command: institution::Command,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let committed = self.institutions.run(id, &command, context).await?;
        self.written(std::slice::from_ref(&committed));
        Ok(committed)
    }

    /// Runs a command on an existing service point.
    pub async fn service_point_command(
        &self,
        id: &ServicePointId,
        command: service_point::Command,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let committed = self.service_points.run(id, &command, context).await?;
        self.written(std::slice::from_ref(&committed));
        Ok(committed)
    }

    /// One institution's state.
    pub async fn institution(&self, id: &InstitutionId) -> Result<Institution, Error> {
        let loaded = self.institutions.load(id).await?;
        if loaded.state.profile().is_none() {
            return Err(Error::NotFound(format!("no institution {id}")));
        }
        Ok(loaded.state)
    }

    /// Admits `citizen` to a bed of `bed_type` on `on`: the institution's bed and the person's
    /// placement together. A repeat finds the person in that bed since that day and answers
    /// with the record as it stands.
    pub async fn admit(
        &self,
        id: InstitutionId,
        citizen: &CitizenId,
        bed_type: BedType,
        on: Date,
        context: &CommandContext,
    ) -> Result<(ElderId, Option<Committed>), Error> {
        self.not_future("admitted_on", on)?;
        let elder = self.elder_id(citizen);
        let committed = with_conflict_retries(CONFLICT_RETRIES, || async {
            let home = self.institutions.load(&id).await?;
            let person = self.elders.load(&elder).await?;
            if home.state.residents().get(&elder).is_some_and(|r| {
                r.admitted_on == on && r.bed_type == bed_type && r.citizen == *citizen
            }) {
                return Ok(Ok(vec![
                    self.institutions.recorded(&id, home.version).await?,
                ]));
            }
            let admitted = decide!(
                home.state,
                institution::Command::Admit(institution::Admit {
                    citizen: citizen.clone(),
                    elder: elder.clone(),
                    bed_type,
                    on,
                    transferred_from: None,
                })
            );
            let placed = decide!(
                person.state,
                elder::Command::StartPlacement(elder::StartPlacement {
                    citizen: citizen.clone(),
                    elder: elder.clone(),
                    institution: id,
                    bed_type,
                    on,
                })
            );
            let decided = vec![
                self.institutions.decided(&id, home.version, &admitted)?,
                self.elders.decided(&elder, person.version, &placed)?,
            ];
            Ok(Ok(commit_together(self.store(), decided, context).await?))
        })
        .await??;
        self.written(&committed);
        Ok((elder, last(committed)))
    }

    /// A resident leaves `id` on `on`: discharged, dead, or transferred to a bed of another
    /// institution the same day — every stream concerned in one transaction.
    pub async fn discharge(
        &self,
        id: InstitutionId,
        citizen: &CitizenId,
        on: Date,
        leaving: Leaving,
        context: &CommandContext,
    ) -> Result<Option<Committed>, Error> {
        self.not_future("discharged_on", on)?;
        let elder = self.elder_id(citizen);
        let committed = with_conflict_retries(CONFLICT_RETRIES, || async {
            let home = self.institutions.load(&id).await?;
            let person = self.elders.load(&elder).await?;
            let (reason, transferred_to, death_id) = match &leaving {
                Leaving::Discharged => (DischargeReason::Discharged, None, None),
                Leaving::Died { death_id } => (DischargeReason::Died, None, death_id.clone()),
                Leaving::TransferredTo(to, _) => (DischargeReason::Transferred, Some(*to), None),
            };
            // A repeat finds the person's placement there ended that day for that reason (and,
            // for a transfer, the person in the new bed since that day): the first answer.
            if !home.state.residents().contains_key(&elder)
                && person.state.last_placement_end() == Some((id, on, reason))
                && match &leaving {
                    Leaving::TransferredTo(to, bed_type) => {
                        person.state.placement().is_some_and(|p| {
                            p.institution == *to && p.bed_type == *bed_type && p.since == on
                        })
                    }
                    _ => true,
                }
            {
                return Ok(Ok(vec![
                    self.institutions.recorded(&id, home.version).await?,
                ]));
            }
            if let Leaving::TransferredTo(to, _) = &leaving
                && *to == id
            {
                return Ok(Err(Error::refused(
                    "same_institution",
                    "a transfer goes to another institution; move the resident instead",
                )));
            }
            let left = decide!(
                home.state,
                institution::Command::Discharge(institution::Discharge {
                    elder: elder.clone(),
                    on,
                    reason,
                    transferred_to,
                    death_id,
                })
            );
            // A death the institution reports is the person's death: it also ends their
            // subsidies from the next month and closes their visit plan.
            let person_command = match &leaving {
                Leaving::Died { death_id } => elder::Command::NoteDeath(elder::NoteDeath {
                    citizen: citizen.clone(),
                    elder: elder.clone(),
                    on,
                    death_id: death_id.clone(),
                }),
                _ => elder::Command::EndPlacement(elder::EndPlacement {
                    elder: elder.clone(),
                    institution: id,
                    on,
                    reason,
                }),
            };
            let mut person_events = decide!(person.state, person_command);
            let mut decided = vec![self.institutions.decided(&id, home.version, &left)?];
            if let Leaving::TransferredTo(to, bed_type) = &leaving {
                let target = self.institutions.load(to).await?;
                let admitted = decide!(
                    target.state,
                    institution::Command::Admit(institution::Admit {
                        citizen: citizen.clone(),
                        elder: elder.clone(),
                        bed_type: *bed_type,
                        on,
                        transferred_from: Some(id),
                    })
                );
                let after_leaving = person_events
                    .iter()
                    .fold(person.state.clone(), |state, event| state.apply(event));
                person_events.extend(decide!(
                    after_leaving,
                    elder::Command::StartPlacement(elder::StartPlacement {
                        citizen: citizen.clone(),
                        elder: elder.clone(),
                        institution: *to,
                        bed_type: *bed_type,
                        on,
                    })
                ));
                decided.push(self.institutions.decided(to, target.version, &admitted)?);
            }
            decided.push(
                self.elders
                    .decided(&elder, person.version, &person_events)?,
            );
            Ok(Ok(commit_together(self.store(), decided, context).await?))
        })
        .await??;
        self.written(&committed);
        Ok(last(committed))
    }

    /// A resident moves to a bed of the other type within the institution.
    pub async fn move_resident(
        &self,
        id: InstitutionId,
        citizen: &CitizenId,
        bed_type: BedType,
        on: Date,
        context: &CommandContext,
    ) -> Result<Option<Committed>, Error> {
        self.not_future("moved_on", on)?;
        let elder = self.elder_id(citizen);
        let committed = with_conflict_retries(CONFLICT_RETRIES, || async {
            let home = self.institutions.load(&id).await?;
            let person = self.elders.load(&elder).await?;
            // A repeat finds the resident moved to that bed type on that day: the first answer.
            if home.state.residents().get(&elder).is_some_and(|r| {
                r.bed_type == bed_type && r.since == on && r.since != r.admitted_on
            }) {
                return Ok(Ok(vec![
                    self.institutions.recorded(&id, home.version).await?,
                ]));
            }
            let moved = decide!(
                home.state,
                institution::Command::Move(institution::Move {
                    elder: elder.clone(),
                    bed_type,
                    on,
                })
            );
            let placed = decide!(
                person.state,
                elder::Command::MovePlacement {
                    institution: id,
                    bed_type,
                    on,
                }
            );
            let decided = vec![
                self.institutions.decided(&id, home.version, &moved)?,
                self.elders.decided(&elder, person.version, &placed)?,
            ];
            Ok(Ok(commit_together(self.store(), decided, context).await?))
        })
        .await??;
        self.written(&committed);
        Ok(last(committed))
    }

    /// Refuses a division the place-names service does not record as valid on `day`.
    pub(crate) async fn check_division(
        &self,
        field: &str,
        division: RegionCode,
        day: Date,
    ) -> Result<(), Error> {
        if self
            .divisions
            .usable_on(division, day)
            .await
            .map_err(RunError::from)?
        {
            Ok(())
        } else {
            Err(Error::refused(
                "unknown_division",
                format!(
                    "{field} {division} is not a division the place-names service records, or it \
                     had ended by {day}"
                ),
            ))
        }
    }

    /// Creates a new instance of `A` under the next id of `county`; see the module docs.
    #[allow(clippy::too_many_arguments)]
    async fn create<A: Aggregate, K: minzheng_types::StreamKey + Clone + Send + Sync>(
        &self,
        kind: &'static str,
        county: RegionCode,
        repository: &Repository<A>,
        id_for: impl Fn(u16) -> Option<K>,
        mut command_for: impl FnMut(&K) -> A::Command,
        taken: impl Fn(&A::Error) -> bool,
        parse: impl Fn(&str) -> Option<K>,
        context: &CommandContext,
    ) -> Result<(K, Committed), Error> {
        if let Some(earlier) = self.earlier::<A, K>(&parse, context).await? {
            return Ok(earlier);
        }
        for _ in 0..ID_ATTEMPTS {
            let ordinal = self.next_ordinal(kind, county).await?;
            let id = id_for(ordinal)
                .ok_or_else(|| Error::invalid_field("county", "must be a county-level division"))?;
            match repository
                .execute_new(&id, &command_for(&id), context)
                .await
            {
                Ok(Ok(committed)) => {
                    self.written(std::slice::from_ref(&committed));
                    return Ok((id, committed));
                }
                Ok(Err(refusal)) if taken(&refusal) => continue,
                Ok(Err(refusal)) => return Err(Error::from_refusal(&refusal)),
                Err(RunError::Store(minzheng_eventstore::StoreError::IdempotencyKeyReused {
                    ..
                })) => {
                    return self
                        .earlier::<A, K>(&parse, context)
                        .await?
                        .ok_or_else(key_reused);
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(Error::Unavailable(format!(
            "could not issue a {kind} id; try again"
        )))
    }

    /// The answer to a repeated creation (the same idempotency key): the instance it created.
    async fn earlier<A: Aggregate, K>(
        &self,
        parse: &impl Fn(&str) -> Option<K>,
        context: &CommandContext,
    ) -> Result<Option<(K, Committed)>, Error> {
        let Some(key) = context.idempotency_key.as_deref() else {
            return Ok(None);
        };
        let Some(outcome) = self
            .store
            .find_idempotent(key)
            .await
            .map_err(RunError::from)?
        else {
            return Ok(None);
        };
        if outcome.stream.category() != A::CATEGORY
            || outcome.stream_version != outcome.event_ids.len() as u64
        {
            return Err(key_reused());
        }
        let id = parse(outcome.stream.key()).ok_or_else(key_reused)?;
        Ok(Some((
            id,
            Committed {
                replayed: true,
                ..outcome.into()
            },
        )))
    }

    async fn next_ordinal(&self, kind: &'static str, county: RegionCode) -> Result<u16, Error> {
        let seen = {
            let view = self.view.read().await;
            match kind {
                "institution" => view.last_institution_ordinal(county),
                _ => view.last_service_point_ordinal(county),
            }
        };
        let mut issued = self.ordinals.lock().await;
        let last = issued.entry((kind, county)).or_default();
        let next = (*last).max(seen) + 1;
        if next > MAX_ORDINAL {
            return Err(Error::refused(
                "ids_exhausted",
                format!("{county} has used every {kind} number"),
            ));
        }
        *last = next;
        Ok(next)
    }
}

/// The refusal of an idempotency key used for another command.
fn key_reused() -> Error {
    Error::refused(
        "idempotency_key_reused",
        "this idempotency key was used for another command",
    )
}
