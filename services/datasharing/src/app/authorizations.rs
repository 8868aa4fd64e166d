//! Recording and withdrawing authorizations (授权书), and what a household's members' do not
//! open on a day.

use std::collections::BTreeSet;

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
    /// caller, such as those a request carries); each is then read from the store, exactly, so a
    /// withdrawal or an expiry a moment ago always counts. An authorization recorded a moment
    /// ago that the view has not caught up with yet opens nothing until it has: a look-up may be
    /// refused for an instant, never granted wrongly. (The view alone is not enough: it reads
    /// the store up to the oldest writing transaction still open in the database, and a large
    /// load of agency records holds one for minutes; a stream's own read is not held back.)
    pub async fn missing_authorizations(
        &self,
        members: &[CitizenId],
        needed: &[DataClass],
        days: &[Date],
        also: &[AuthorizationId],
    ) -> Result<Missing, Error> {
        self.view.catch_up().await?;
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
        let mut held: Vec<AuthorizationState> = Vec::with_capacity(ids.len());
        for id in &ids {
            held.push(self.authorizations.load(id).await?.state);
        }
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
