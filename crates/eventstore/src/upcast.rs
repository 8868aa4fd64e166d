//! Upcasting: turning an old stored event version into the current one on read.
//!
//! Stored events are never rewritten. When an event message's schema changes incompatibly, the
//! service registers an [`Upcaster`] for `(event_type, old_schema_version)` that returns the event
//! in a newer form; reads apply upcasters repeatedly until none matches, so v1 → v2 → v3 chains
//! compose.

use std::{collections::HashMap, fmt, sync::Arc};

use crate::{RecordedEvent, StoreError};

/// Converts one stored event into a newer schema version. It must raise `schema_version` (or
/// change `event_type`), otherwise reading would loop; [`Upcasters::apply`] checks that.
pub type Upcaster = Arc<dyn Fn(RecordedEvent) -> Result<RecordedEvent, String> + Send + Sync>;

/// The upcasters of one store, keyed by event type and the schema version they upgrade from.
#[derive(Clone, Default)]
pub struct Upcasters {
    by_type_and_version: HashMap<(String, u32), Upcaster>,
}

impl fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upcasters")
            .field("registered", &self.by_type_and_version.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Upcasters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `upcaster` for events of `event_type` stored with `from_version`.
    pub fn register(
        mut self,
        event_type: impl Into<String>,
        from_version: u32,
        upcaster: impl Fn(RecordedEvent) -> Result<RecordedEvent, String> + Send + Sync + 'static,
    ) -> Self {
        self.by_type_and_version
            .insert((event_type.into(), from_version), Arc::new(upcaster));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.by_type_and_version.is_empty()
    }

    /// Applies matching upcasters until none matches.
    pub fn apply(&self, mut event: RecordedEvent) -> Result<RecordedEvent, StoreError> {
        while let Some(upcaster) = self
            .by_type_and_version
            .get(&(event.event_type.clone(), event.schema_version))
        {
            let before = (event.event_type.clone(), event.schema_version);
            event = upcaster(event).map_err(|reason| StoreError::Upcast {
                event_type: before.0.clone(),
                schema_version: before.1,
                reason,
            })?;
            if event.event_type == before.0 && event.schema_version <= before.1 {
                return Err(StoreError::Upcast {
                    event_type: before.0,
                    schema_version: before.1,
                    reason: "upcaster did not raise the schema version".into(),
                });
            }
        }
        Ok(event)
    }
}
