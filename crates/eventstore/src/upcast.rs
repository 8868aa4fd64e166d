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
            .field(
                "registered",
                &self.by_type_and_version.keys().collect::<Vec<_>>(),
            )
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

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;
    use crate::{Cursor, Metadata, StreamId};

    fn stored(event_type: &str, schema_version: u32, payload: &'static [u8]) -> RecordedEvent {
        RecordedEvent {
            id: Uuid::now_v7(),
            stream: StreamId::new("thing", "1").expect("valid stream id"),
            stream_version: 1,
            position: 1,
            cursor: Cursor { tx: 0, position: 1 },
            event_type: event_type.into(),
            schema_version,
            payload: Bytes::from_static(payload),
            metadata: Metadata::default(),
            recorded_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    /// Appends `suffix` to the payload and moves to `to`.
    fn bump(
        to: u32,
        suffix: &'static str,
    ) -> impl Fn(RecordedEvent) -> Result<RecordedEvent, String> + Send + Sync {
        move |mut event| {
            let mut payload = event.payload.to_vec();
            payload.extend_from_slice(suffix.as_bytes());
            event.payload = payload.into();
            event.schema_version = to;
            Ok(event)
        }
    }

    #[test]
    fn chains_compose_until_no_upcaster_matches() {
        let upcasters = Upcasters::new()
            .register("t.Made", 1, bump(2, "+v2"))
            .register("t.Made", 2, bump(3, "+v3"));
        let event = upcasters
            .apply(stored("t.Made", 1, b"v1"))
            .expect("upcasts");
        assert_eq!(event.schema_version, 3);
        assert_eq!(event.payload.as_ref(), b"v1+v2+v3");

        let event = upcasters
            .apply(stored("t.Made", 2, b"v2"))
            .expect("upcasts");
        assert_eq!(event.schema_version, 3);
        assert_eq!(event.payload.as_ref(), b"v2+v3");
    }

    #[test]
    fn events_without_an_upcaster_pass_unchanged() {
        let upcasters = Upcasters::new().register("t.Made", 1, bump(2, "+v2"));
        for original in [stored("t.Made", 2, b"x"), stored("t.Other", 1, b"y")] {
            let event = upcasters.apply(original.clone()).expect("passes");
            assert_eq!(event, original);
        }
        assert!(Upcasters::new().is_empty());
        assert!(!upcasters.is_empty());
    }

    #[test]
    fn an_upcaster_may_rename_the_event_type() {
        let upcasters = Upcasters::new().register("t.Old", 1, |mut event: RecordedEvent| {
            event.event_type = "t.New".into();
            Ok(event)
        });
        let event = upcasters.apply(stored("t.Old", 1, b"x")).expect("renames");
        assert_eq!(event.event_type, "t.New");
        assert_eq!(event.schema_version, 1);
    }

    #[test]
    fn a_failing_upcaster_names_the_version_it_started_from() {
        let upcasters = Upcasters::new()
            .register("t.Made", 1, bump(2, "+v2"))
            .register("t.Made", 2, |_| Err("field 3 is missing".to_owned()));
        match upcasters.apply(stored("t.Made", 1, b"v1")) {
            Err(StoreError::Upcast {
                event_type,
                schema_version,
                reason,
            }) => {
                assert_eq!(event_type, "t.Made");
                assert_eq!(schema_version, 2);
                assert_eq!(reason, "field 3 is missing");
            }
            other => panic!("expected an upcast error, got {other:?}"),
        }
    }

    #[test]
    fn an_upcaster_that_does_not_raise_the_version_is_an_error_not_a_loop() {
        let upcasters = Upcasters::new().register("t.Made", 2, Ok);
        assert!(matches!(
            upcasters.apply(stored("t.Made", 2, b"x")),
            Err(StoreError::Upcast {
                schema_version: 2,
                ..
            })
        ));
        let lowering = Upcasters::new().register("t.Made", 2, bump(1, ""));
        assert!(matches!(
            lowering.apply(stored("t.Made", 2, b"x")),
            Err(StoreError::Upcast {
                schema_version: 2,
                ..
            })
        ));
    }
}
