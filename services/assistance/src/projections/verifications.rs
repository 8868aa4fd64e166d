//! The verification results the data-sharing service publishes
//! (`minzheng.datasharing.v1.HouseholdVerificationCompleted`), recorded on the cases that
//! requested them.
//!
//! Each result becomes the case's `VerificationReceived` under an idempotency key derived from
//! the consumed event's id, so a redelivery records nothing twice (the key stays in the store:
//! no window has to hold). A result for an unknown case, or one the case does not await (an
//! old request, a closed case), fails: the consumer retries it and then parks it on the
//! dead-letter subject — it is never dropped.

use async_trait::async_trait;
use minzheng_eventstore::RecordedEvent;
use minzheng_host::codec::TypedProjection;
use minzheng_kit::aggregate::CommandContext;
use sqlx::AnyConnection;

use crate::{
    app::Assistance,
    codec::datasharing::{DataSharingEvents, SharedEvent},
};

/// The durable consumer's name.
pub const CONSUMER: &str = "assistance-verifications";

/// Records verification results on their cases.
#[derive(Debug, Clone)]
pub struct VerificationFeed {
    app: Assistance,
}

impl VerificationFeed {
    pub fn new(app: Assistance) -> Self {
        Self { app }
    }
}

#[async_trait]
impl TypedProjection for VerificationFeed {
    type Contract = DataSharingEvents;

    fn name(&self) -> &str {
        CONSUMER
    }

    async fn apply(
        &self,
        _tx: &mut AnyConnection,
        event: &SharedEvent,
        recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        match event {
            SharedEvent::Verified {
                case_id,
                verification,
            } => {
                let context = CommandContext::new()
                    .with_idempotency_key(format!("verification-{}", recorded.id))
                    .with_causation_id(recorded.id);
                self.app
                    .receive_verification(case_id, verification.clone(), &context)
                    .await
                    .map_err(|error| {
                        anyhow::anyhow!("verification result for case {case_id}: {error}")
                    })?;
            }
            // Alerts are the referrals feed's (`super::referrals`).
            SharedEvent::AlertRaised(_) => {}
        }
        Ok(())
    }
}
