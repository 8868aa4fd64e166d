//! The household alerts the data-sharing service raises
//! (`minzheng.datasharing.v1.HouseholdAlertRaised`, 致贫返贫监测预警), recorded as referrals for
//! the townships that must act on them ([`crate::referral`]).
//!
//! Each alert becomes a `ReferralRecorded` under an idempotency key derived from the consumed
//! event's id, so a redelivery records nothing twice; the same alert published again under
//! another event records nothing either (the aggregate sees the same alert). An alert the
//! referral refuses (no member named, a code above a township) fails: the consumer retries it
//! and then parks it on the dead-letter subject — it is never dropped. Verification results are
//! [`super::verifications`]'s.

use std::time::Duration;

use async_trait::async_trait;
use minzheng_eventstore::RecordedEvent;
use minzheng_host::codec::TypedProjection;
use minzheng_kit::aggregate::CommandContext;

use crate::{
    app::monitoring::Monitoring,
    codec::datasharing::{DataSharingEvents, SharedEvent},
};

/// The durable consumer's name.
pub const CONSUMER: &str = "assistance-referrals";

/// How long a referral may take to show in the overview before the alert is retried.
const VIEW_WAIT: Duration = Duration::from_secs(10);

/// Records household alerts as referrals.
#[derive(Debug, Clone)]
pub struct AlertFeed {
    monitoring: Monitoring,
}

impl AlertFeed {
    pub fn new(monitoring: Monitoring) -> Self {
        Self { monitoring }
    }
}

#[async_trait]
impl TypedProjection for AlertFeed {
    type Contract = DataSharingEvents;

    fn name(&self) -> &str {
        CONSUMER
    }

    // A command on the service's own store: in `act`, outside the consumer's transaction (in
    // the embedded mode that transaction holds the database's only write lock).
    async fn act(&self, event: &SharedEvent, recorded: &RecordedEvent) -> anyhow::Result<()> {
        let SharedEvent::AlertRaised(alert) = event else {
            return Ok(());
        };
        let context = CommandContext::new()
            .with_idempotency_key(format!("alert-{}", recorded.id))
            .with_causation_id(recorded.id);
        let committed = self
            .monitoring
            .record_alert(alert, &context)
            .await
            .map_err(|error| anyhow::anyhow!("alert {}: {error}", alert.alert_id))?;
        // Consumed once the overview shows the referral: whoever waits for this consumer (a
        // settled host) then lists it.
        self.monitoring
            .app()
            .caught_up(committed.position, VIEW_WAIT)
            .await
            .map_err(|error| {
                anyhow::anyhow!(
                    "the overview did not catch up with alert {}: {error}",
                    alert.alert_id
                )
            })?;
        Ok(())
    }
}
