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

use async_trait::async_trait;
use minzheng_eventstore::RecordedEvent;
use minzheng_host::codec::TypedProjection;
use minzheng_kit::aggregate::CommandContext;
use sqlx::AnyConnection;

use crate::{
    app::monitoring::Monitoring,
    codec::datasharing::{DataSharingEvents, SharedEvent},
};

/// The durable consumer's name.
pub const CONSUMER: &str = "assistance-referrals";

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

    async fn apply(
        &self,
        _tx: &mut AnyConnection,
        event: &SharedEvent,
        recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let SharedEvent::AlertRaised(alert) = event else {
            return Ok(());
        };
        let context = CommandContext::new()
            .with_idempotency_key(format!("alert-{}", recorded.id))
            .with_causation_id(recorded.id);
        self.monitoring
            .record_alert(alert, &context)
            .await
            .map_err(|error| anyhow::anyhow!("alert {}: {error}", alert.alert_id))?;
        Ok(())
    }
}
