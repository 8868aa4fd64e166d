//! A stand-in for any service whose public events the service under test follows: it records
//! nothing at start, and a test has it record an event of its contract when the story needs it
//! ([`ProducerStandIn::record`]) — published by its relay (distributed) or fed in process
//! (embedded), exactly as the real producer's events would be.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, SharedStore, StreamId,
};
use minzheng_kit::server::ServerBuilder;

use crate::{ServiceContext, ServiceModule};

/// Plays the service called `name`; cheap to clone (clones share the store once started).
#[derive(Debug, Clone)]
pub struct ProducerStandIn {
    name: &'static str,
    store: Arc<Mutex<Option<SharedStore>>>,
}

impl ProducerStandIn {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            store: Arc::default(),
        }
    }

    /// Appends `event` (of type `event_type`, schema 1) to stream `category-key` of the
    /// producer's store. Panics before the host started it, or when the store refuses.
    pub async fn record(&self, category: &str, key: &str, event_type: &str, event: Vec<u8>) {
        let store = self
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| panic!("the {} stand-in has not started", self.name));
        store
            .append(AppendRequest {
                stream: StreamId::new(category, key).expect("a valid stream id"),
                expected: ExpectedVersion::Any,
                events: vec![NewEvent::new(event_type, 1, event)],
                metadata: Metadata::default(),
            })
            .await
            .unwrap_or_else(|e| panic!("the {} stand-in records {event_type}: {e}", self.name));
    }
}

#[async_trait]
impl ServiceModule for ProducerStandIn {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder> {
        *self.store.lock().unwrap_or_else(PoisonError::into_inner) = Some(context.store().clone());
        Ok(server)
    }
}
