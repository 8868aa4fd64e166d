//! The assistance service's verification requests, answered (see
//! [`DataSharing::answer`](crate::app::DataSharing::answer)) outside the consumer's
//! transaction, idempotently: a redelivered request finds its answer recorded.

use async_trait::async_trait;
use minzheng_eventstore::RecordedEvent;
use minzheng_host::codec::TypedProjection;

use crate::{app::DataSharing, assistance::Event, codec::assistance::AssistanceEvents};

/// The durable consumer's name.
pub const CONSUMER: &str = "datasharing-requests";

/// Answers verification requests.
#[derive(Debug, Clone)]
pub struct RequestsProjection {
    app: DataSharing,
}

impl RequestsProjection {
    pub fn new(app: DataSharing) -> Self {
        Self { app }
    }
}

#[async_trait]
impl TypedProjection for RequestsProjection {
    type Contract = AssistanceEvents;

    fn name(&self) -> &str {
        CONSUMER
    }

    async fn act(&self, event: &Event, recorded: &RecordedEvent) -> anyhow::Result<()> {
        if let Event::VerificationRequested(request) = event {
            self.app
                .answer(request, recorded.id)
                .await
                .map_err(|e| anyhow::anyhow!("answering a verification request: {e}"))?;
        }
        Ok(())
    }
}
