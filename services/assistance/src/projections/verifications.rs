//! The verification results the data-sharing service publishes
//! (`minzheng.datasharing.v1.HouseholdVerificationCompleted`), recorded on the cases that
//! requested them.
//!
//! Each result becomes the case's `VerificationReceived` under an idempotency key derived from
//! the consumed event's id, so a redelivery records nothing twice (the key stays in the store:
//! no window has to hold). A result for an unknown case, or one the case does not await (an
//! old request, a closed case), fails: the consumer retries it and then parks it on the
//! dead-letter subject — it is never dropped. A result counts as consumed only once the
//! in-memory overview shows it, so a reader that waited for the consumer reads the result.

use std::time::Duration;

use async_trait::async_trait;
use minzheng_eventstore::RecordedEvent;
use minzheng_host::codec::TypedProjection;
use minzheng_kit::aggregate::CommandContext;

use crate::{
    app::Assistance,
    codec::datasharing::{DataSharingEvents, SharedEvent},
};

/// The durable consumer's name.
pub const CONSUMER: &str = "assistance-verifications";

/// How long a result waits for the overview to show it before the delivery is retried.
const VIEW_WAIT: Duration = Duration::from_secs(10);

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

    async fn act(&self, event: &SharedEvent, recorded: &RecordedEvent) -> anyhow::Result<()> {
        match event {
            SharedEvent::Verified {
                case_id,
                verification,
            } => {
                let context = CommandContext::new()
                    .with_idempotency_key(format!("verification-{}", recorded.id))
                    .with_causation_id(recorded.id);
                let committed = self
                    .app
                    .receive_verification(case_id, verification.clone(), &context)
                    .await
                    .map_err(|error| {
                        anyhow::anyhow!("verification result for case {case_id}: {error}")
                    })?;
                // The result is consumed once the overview shows it: whoever waits for this
                // consumer (a settled host) then reads the case with its result.
                self.app
                    .caught_up(committed.position, VIEW_WAIT)
                    .await
                    .map_err(|error| {
                        anyhow::anyhow!(
                            "the overview did not catch up with case {case_id}: {error}"
                        )
                    })?;
            }
            // Alerts are the referrals feed's (`super::referrals`).
            SharedEvent::AlertRaised(_) => {}
        }
        Ok(())
    }
}
