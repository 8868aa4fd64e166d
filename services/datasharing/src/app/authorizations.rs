//! Recording and withdrawing authorizations (授权书), and what a household's members' do not
//! open on a day.

use std::{
    collections::BTreeSet,
    sync::atomic::{AtomicU64, Ordering},
};

use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed},
};
use minzheng_types::{BoundedText, CitizenId};
use time::Date;

use super::DataSharing;
use crate::{
    authorization::{self, Authorization, AuthorizationId, AuthorizationState},
    records::{Agency, DataClass},
};

/// An authorization as a caseworker records it (the service issues its id).
#[derive(Debug, Clone)]
pub struct NewAuthorization {
    pub signed_by: CitizenId,
    pub signed_on: Date,
    pub data_classes: BTreeSet<DataClass>,
    pub agencies: BTreeSet<Agency>,
    pub purpose: BoundedText,
    pub expires_on: Date,
}

/// Per member lacking something, the classes none of their authorizations opens.
pub type Missing = Vec<(CitizenId, Vec<DataClass>)>;

/// The authorizations this process recorded, counted, and how many of them the view has surely
/// read: a look-up catches the view up only when it may lack one (see
/// [`DataSharing::missing_authorizations`]).
#[derive(Debug, Default)]
pub(super) struct RecordedHere {
    recorded: AtomicU64,
    read: AtomicU64,
}

impl RecordedHere {
    /// One more recorded (committed) by this process.
    fn count(&self) {
        self.recorded.fetch_add(1, Ordering::SeqCst);
    }
}

impl DataSharing {
    /// Records an authorization under a new id.
    pub async fn record_authorization(
        &self,
        new: NewAuthorization,
        context: &CommandContext,
    ) -> Result<(AuthorizationId, Committed), Error> {
        let id = AuthorizationId::parse(&format!("AU-{}", uuid::Uuid::now_v7().simple()))
            .expect("\"AU-\" and 32 hex digits make an id");
        let command = authorization::Command::Record {
            authorization: Authorization {
                id: id.clone(),
                signed_by: new.signed_by,
                signed_on: new.signed_on,
                data_classes: new.data_classes,
                agencies: new.agencies,
                purpose: new.purpose,
                expires_on: new.expires_on,
                case_id: None,
            },
            today: self.today(),
        };
        let committed = self.authorizations.run(&id, &command, context).await?;
        self.recorded_here.count();
        self.view.nudge();
        // A retry answers the id the first attempt recorded.
        let id = AuthorizationId::parse(committed.stream.key()).unwrap_or(id);
        Ok((id, committed))
    }

    /// Records an authorization with the id it came with (one carried by a verification
    /// request). The same terms again record nothing.
    pub async fn record_carried_authorization(
        &self,
        authorization: Authorization,
        context: &CommandContext,
    ) -> Result<Result<Committed, authorization::Error>, Error> {
        let id = authorization.id.clone();
        let command = authorization::Command::Record {
            authorization,
            today: self.today(),
        };
        let outcome = self.authorizations.execute(&id, &command, context).await?;
        if outcome.is_ok() {
            self.recorded_here.count();
        }
        self.view.nudge();
        Ok(outcome)
    }

    /// Withdraws an authorization from `withdrawn_on` (not in the past).
    pub async fn withdraw_authorization(
        &self,
        id: &AuthorizationId,
        withdrawn_on: Date,
        reason: BoundedText,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let command = authorization::Command::Withdraw {
            id: id.clone(),
            withdrawn_on,
            reason,
            today: self.today(),
        };
        let committed = self.authorizations.run(id, &command, context).await?;
        self.view.nudge();
        Ok(committed)
    }

    /// One authorization as it stands (the store, not the view: exact); NOT_FOUND when none.
    pub async fn authorization(&self, id: &AuthorizationId) -> Result<AuthorizationState, Error> {
        let state = self.authorizations.load(id).await?.state;
        match state.authorization {
            Some(_) => Ok(state),
            None => Err(Error::NotFound("no such authorization".to_owned())),
        }
    }

    /// Every authorization `citizen` signed, as the view holds them once it has caught up with
    /// the store.
    pub async fn authorizations_of(
        &self,
        citizen: &CitizenId,
    ) -> Result<Vec<AuthorizationState>, Error> {
        self.view.catch_up().await?;
        let view = self.view.read().await;
        Ok(view
            .authorizations_of(citizen)
            .into_iter()
            .cloned()
            .collect())
    }

    /// What the members' authorizations do not open of `needed` on each of `days`.
    ///
    /// Which authorizations a member signed comes from the view (plus `also`, ids known to the
    /// caller, such as those a request carries); they are then read from the store, exactly, all
    /// in one round trip, so a withdrawal or an expiry a moment ago always counts. (The view
    /// alone is not enough: it reads the store up to the oldest writing transaction still open
    /// in the database, and a large load of agency records holds one for minutes; a stream's own
    /// read is not held back.)
    ///
    /// The view is caught up first when this process has recorded an authorization it may not
    /// have read yet, so a look-up right after a recording here sees it. One recorded by another
    /// replica a moment ago opens nothing until this replica's view has read it (its follower
    /// reads the store every 50 ms, and at once when nudged): a look-up may be refused for an
    /// instant, never granted wrongly. Catching up on every look-up instead cost each one a read
    /// of everything the store took since the last (mostly the read audit), in turn with the
    /// other look-ups.
    pub async fn missing_authorizations(
        &self,
        members: &[CitizenId],
        needed: &[DataClass],
        days: &[Date],
        also: &[AuthorizationId],
    ) -> Result<Missing, Error> {
        let recorded = self.recorded_here.recorded.load(Ordering::SeqCst);
        if recorded > self.recorded_here.read.load(Ordering::SeqCst) {
            // A pass begun after this call has seen every commit before it.
            self.view.catch_up().await?;
            self.recorded_here
                .read
                .fetch_max(recorded, Ordering::SeqCst);
        }
        let mut ids: Vec<AuthorizationId> = {
            let view = self.view.read().await;
            members
                .iter()
                .flat_map(|m| view.authorizations_of(m))
                .filter_map(|s| s.authorization.as_ref().map(|a| a.id.clone()))
                .collect()
        };
        ids.extend(also.iter().cloned());
        ids.sort();
        ids.dedup();
        let keys: Vec<&AuthorizationId> = ids.iter().collect();
        let held: Vec<AuthorizationState> = self
            .authorizations
            .load_each(&keys)
            .await?
            .into_iter()
            .map(|loaded| loaded.state)
            .collect();
        let mut missing = Missing::new();
        for member in members {
            let signed = held.iter().filter_map(|s| {
                s.authorization
                    .as_ref()
                    .filter(|a| a.signed_by == *member)
                    .map(|a| (a, s.withdrawn_on))
            });
            let mut lacking: BTreeSet<DataClass> = BTreeSet::new();
            for day in days {
                lacking.extend(authorization::missing_classes(signed.clone(), needed, *day));
            }
            if !lacking.is_empty() {
                missing.push((member.clone(), lacking.into_iter().collect()));
            }
        }
        Ok(missing)
    }
}

/// The refusal of a look-up for `missing`, naming members by their position in the request
/// (never by number) and the classes.
pub fn refusal(members: &[CitizenId], missing: &Missing) -> Error {
    let described: Vec<String> = missing
        .iter()
        .map(|(member, classes)| {
            let position = members.iter().position(|m| m == member).unwrap_or(0);
            let classes: Vec<&str> = classes.iter().map(|c| c.code()).collect();
            format!("members[{position}]: {}", classes.join(", "))
        })
        .collect();
    Error::refused(
        "authorization_missing",
        format!(
            "no valid authorization (授权书) covers what the verification reads: {}",
            described.join("; ")
        ),
    )
}
