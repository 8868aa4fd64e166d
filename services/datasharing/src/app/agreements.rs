//! Data-sharing agreements (数据共享协议): recorded, ended, listed.

use std::collections::BTreeMap;

use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed},
};
use minzheng_types::BoundedText;
use time::Date;

use super::DataSharing;
use crate::agreement::{self, AgencyCode, Agreement, AgreementId, AgreementState};

/// An agreement as an operator records it (the service issues its id and dates it).
#[derive(Debug, Clone)]
pub struct NewAgreement {
    pub agency: AgencyCode,
    pub events: BTreeMap<String, Vec<String>>,
    pub purpose: BoundedText,
    pub expires_on: Date,
    pub real_id_granted: bool,
}

impl DataSharing {
    /// Records an agreement under a new id.
    pub async fn record_agreement(
        &self,
        new: NewAgreement,
        context: &CommandContext,
    ) -> Result<(AgreementId, Committed), Error> {
        let id = AgreementId::parse(&format!("AG-{}", uuid::Uuid::now_v7().simple()))
            .expect("\"AG-\" and 32 hex digits make an id");
        let command = agreement::Command::Record(Agreement {
            id: id.clone(),
            agency: new.agency,
            events: new.events,
            purpose: new.purpose,
            expires_on: new.expires_on,
            real_id_granted: new.real_id_granted,
            recorded_on: self.today(),
        });
        let committed = self.agreements.run(&id, &command, context).await?;
        self.view.nudge();
        let id = AgreementId::parse(committed.stream.key()).unwrap_or(id);
        Ok((id, committed))
    }

    /// Ends an agreement from today.
    pub async fn end_agreement(
        &self,
        id: &AgreementId,
        reason: BoundedText,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let command = agreement::Command::End {
            id: id.clone(),
            reason,
            today: self.today(),
        };
        let committed = self.agreements.run(id, &command, context).await?;
        self.view.nudge();
        Ok(committed)
    }

    /// The agreements (of `agency` when given), as the view holds them once caught up.
    pub async fn agreements(
        &self,
        agency: Option<&AgencyCode>,
    ) -> Result<Vec<AgreementState>, Error> {
        self.view.catch_up().await?;
        let view = self.view.read().await;
        Ok(view
            .agreements()
            .filter(|s| agency.is_none_or(|a| s.agreement.as_ref().is_some_and(|g| g.agency == *a)))
            .cloned()
            .collect())
    }
}
