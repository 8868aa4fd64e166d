//! The republisher (sharing out, 数据共享): every event of the services it follows, for each
//! agreement in force that grants its type, cut to the granted fields with citizen ids replaced
//! by the agency's pseudonyms (unless the real id is granted) and appended to the agency's stream
//! `share-<agency>` in this service's store — whence it is published and read back by
//! `Subscribe`. In `act`, once per event and agreement (an idempotency key from both), so a
//! redelivered event shares nothing twice.
//!
//! Never shared: what was shared already (the agencies' streams) and the read audit (streams
//! of category `audit`). The audit says who looked at whose data; it is for the citizens and the
//! auditors (`AuditTrail`), and sharing it would itself be audited, an audit event per audit
//! event without end. Agreements cannot grant its type.

use std::sync::Arc;

use async_trait::async_trait;
use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, RecordedEvent, StreamId,
};
use sqlx::AnyConnection;

use crate::{app::DataSharing, codec::share::Descriptors};

/// The category of the agencies' streams.
pub const SHARE_CATEGORY: &str = "share";

/// Whether `event` may be shared at all (see the [module documentation](self)).
fn shareable(event: &RecordedEvent) -> bool {
    let category = event.stream.category();
    category != SHARE_CATEGORY && category != minzheng_host::audit::CATEGORY
}

/// Shares one producer's events.
#[derive(Debug, Clone)]
pub struct ShareProjection {
    app: DataSharing,
    descriptors: Arc<Descriptors>,
    name: String,
}

impl ShareProjection {
    pub fn new(app: DataSharing, descriptors: Arc<Descriptors>, producer: &str) -> Self {
        Self {
            app,
            descriptors,
            name: format!("datasharing-share-{producer}"),
        }
    }
}

#[async_trait]
impl minzheng_bus::Projection for ShareProjection {
    fn name(&self) -> &str {
        &self.name
    }

    fn handles(&self, event: &RecordedEvent) -> bool {
        shareable(event)
    }

    async fn apply(&self, _tx: &mut AnyConnection, _event: &RecordedEvent) -> anyhow::Result<()> {
        Ok(())
    }

    async fn act(&self, events: &[RecordedEvent]) -> anyhow::Result<()> {
        let today = self.app.today();
        let agreements = self
            .app
            .agreements(None)
            .await
            .map_err(|e| anyhow::anyhow!("reading the agreements: {e}"))?;
        // Only what `handles` let through: never a shared copy or the read audit.
        for event in events {
            for state in &agreements {
                let (Some(agreement), Some(fields)) = (
                    state.agreement.as_ref(),
                    state.fields_shared(&event.event_type, today),
                ) else {
                    continue;
                };
                let agency = agreement.agency.as_str();
                // Every citizen id shared passes here: noted for the audit, and replaced by the
                // agency's pseudonym unless the real id is granted (then copied as it was).
                let (payload, shared_ids) = {
                    let seen = std::cell::RefCell::new(Vec::new());
                    let replace = |id: &str| {
                        seen.borrow_mut().push(id.to_owned());
                        match agreement.real_id_granted {
                            true => id.to_owned(),
                            false => self.app.agency_pseudonym(agency, id),
                        }
                    };
                    let payload = self
                        .descriptors
                        .share(&event.event_type, &event.payload, fields, Some(&replace))
                        .map_err(|e| anyhow::anyhow!("sharing {}: {e}", event.event_type))?;
                    (payload, seen.into_inner())
                };
                // The citizens see it in their audit trail: recorded before the copy, so that a
                // failure in between records it twice rather than never.
                if !shared_ids.is_empty() {
                    self.app
                        .audit_shared(&event.event_type, agreement, &shared_ids)
                        .await
                        .map_err(|e| anyhow::anyhow!("auditing a shared event: {e}"))?;
                }
                self.app
                    .store()
                    .append(AppendRequest {
                        stream: StreamId::new(SHARE_CATEGORY, agency)?,
                        expected: ExpectedVersion::Any,
                        events: vec![NewEvent::new(
                            event.event_type.clone(),
                            event.schema_version,
                            payload,
                        )],
                        metadata: Metadata {
                            causation_id: Some(event.id),
                            correlation_id: event.metadata.correlation_id,
                            actor: Some("datasharing".to_owned()),
                            traceparent: event.metadata.traceparent.clone(),
                            tracestate: event.metadata.tracestate.clone(),
                            idempotency_key: Some(format!(
                                "share-{}-{}",
                                event.id,
                                agreement.id.as_str()
                            )),
                        },
                    })
                    .await?;
            }
        }
        Ok(())
    }
}
