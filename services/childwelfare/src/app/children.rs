//! Allowance standards, children's records (identification, care, revisions of the parents'
//! facts), adoptions, and deaths learnt from the civil registry.

use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed},
};
use minzheng_types::{BoundedText, CitizenId, RegionCode};
use time::Date;

use super::ChildWelfare;
use crate::{
    allowance::{self, AllowancePolicy, Record},
    child::{self, ChildRecord},
    ids::ChildId,
};

impl ChildWelfare {
    /// Records a version of the city's standard: the version and whether it is below the growth
    /// target (accepted with its override reason).
    pub async fn record_standard(
        &self,
        record: Record,
        context: &CommandContext,
    ) -> Result<(u32, bool, Committed), Error> {
        let city = record.city;
        let committed = self
            .policies
            .run(&city, &allowance::Command::Record(record), context)
            .await?;
        self.written(&committed);
        // One event per version, so the stream version is the version this command recorded,
        // also when a retry is answered from the store after later versions.
        let version = u32::try_from(committed.stream_version).unwrap_or(u32::MAX);
        let policy = self.policies.load(&city).await?.state;
        let below = policy.growth_below_target().contains(&version);
        Ok((version, below, committed))
    }

    /// The city's standards, as stored.
    pub async fn policy(&self, city: RegionCode) -> Result<AllowancePolicy, Error> {
        Ok(self.policies.load(&city).await?.state)
    }

    /// Runs a command on a child's record.
    pub async fn child_command(
        &self,
        citizen: &CitizenId,
        command: child::Command,
        context: &CommandContext,
    ) -> Result<(ChildId, Committed), Error> {
        let id = self.child_id(citizen);
        let committed = self.children.run(&id, &command, context).await?;
        self.written(&committed);
        Ok((id, committed))
    }

    /// Identifies a child, with the first care arrangement when one is given; the basis made.
    pub async fn identify(
        &self,
        identify: child::Identify,
        care: Option<(allowance::Care, Option<BoundedText>)>,
        context: &CommandContext,
    ) -> Result<(ChildId, Option<allowance::Basis>, Committed), Error> {
        self.not_future("identified_on", identify.on)?;
        let citizen = identify.child.clone();
        let on = identify.on;
        let (id, mut committed) = self
            .child_command(&citizen, child::Command::Identify(identify), context)
            .await?;
        if let Some((care, institution)) = care {
            let arrange = child::Command::ArrangeCare {
                care,
                from: on,
                institution,
            };
            // Keyed after the identification, so a retry arranges once too.
            let keyed = match &context.idempotency_key {
                Some(key) => context.clone().with_idempotency_key(format!("{key}/care")),
                None => context.clone(),
            };
            committed = self.children.run(&id, &arrange, &keyed).await?;
            self.written(&committed);
        }
        let state = self.children.load(&id).await?.state;
        Ok((id, state.basis(), committed))
    }

    /// One child's record; NOT_FOUND when the service knows nothing of them.
    pub async fn child(&self, citizen: &CitizenId) -> Result<(ChildId, ChildRecord), Error> {
        let id = self.child_id(citizen);
        let loaded = self.children.load(&id).await?;
        if loaded.version == 0 {
            return Err(Error::NotFound(
                "the service has no record of this child".to_owned(),
            ));
        }
        Ok((id, loaded.state))
    }

    /// The allowance standards of the city a child's division belongs to.
    pub async fn policy_of(&self, child: &ChildRecord) -> Result<AllowancePolicy, Error> {
        match child.division().and_then(|d| d.city()) {
            Some(city) => self.policy(city).await,
            None => Ok(AllowancePolicy::default()),
        }
    }

    /// Notes a death the civil registry recorded, of a child known here or of any minor (a
    /// death that arrives before the identification then refuses it): `false` for an adult the
    /// service has no record of, whose death is none of its business. A repeat notes nothing.
    pub async fn note_death(
        &self,
        citizen: &CitizenId,
        on: Date,
        registration: BoundedText,
        context: &CommandContext,
    ) -> Result<bool, Error> {
        let id = self.child_id(citizen);
        let minor = minzheng_types::age_on(citizen.birth_date(), on) < child::ADULT_AGE;
        if !minor && self.children.load(&id).await?.version == 0 {
            return Ok(false);
        }
        let committed = self
            .children
            .run(
                &id,
                &child::Command::NoteDeath { on, registration },
                context,
            )
            .await?;
        self.written(&committed);
        Ok(true)
    }

    /// What `child` is paid for the month of `month` under its city's standards.
    pub async fn monthly_allowance(
        &self,
        child: &ChildRecord,
        month: Date,
    ) -> Result<Option<allowance::Line>, Error> {
        let policy = self.policy_of(child).await?;
        Ok(child.allowance(&policy, month))
    }
}
