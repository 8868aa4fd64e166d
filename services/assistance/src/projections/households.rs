//! Dynamic management (动态管理, 《社会救助暂行办法》第十三条: 家庭人口、收入、财产状况发生变化的
//! ……增发、减发或者停发) from the civil registry's events: a covered member's death re-computes
//! the case from the next month for the members left, or ends it when nobody is left; a
//! member's marriage or divorce flags the case for review.
//!
//! Each effect is a command on the case under an idempotency key derived from the consumed
//! event's id and the case, so a redelivery changes nothing, whatever the window.

use async_trait::async_trait;
use minzheng_eventstore::RecordedEvent;
use minzheng_host::codec::TypedProjection;
use minzheng_kit::aggregate::CommandContext;

use crate::{
    app::Assistance,
    case::ReviewCause,
    codec::civilregistry::{CivilRegistryEvents, RegistryEvent},
};

/// The durable consumer's name.
pub const CONSUMER: &str = "assistance-households";

/// Follows deaths, marriages and divorces into the cases of the persons concerned.
#[derive(Debug, Clone)]
pub struct HouseholdsProjection {
    app: Assistance,
}

impl HouseholdsProjection {
    pub fn new(app: Assistance) -> Self {
        Self { app }
    }
}

#[async_trait]
impl TypedProjection for HouseholdsProjection {
    type Contract = CivilRegistryEvents;

    fn name(&self) -> &str {
        CONSUMER
    }

    async fn act(&self, event: &RegistryEvent, recorded: &RecordedEvent) -> anyhow::Result<()> {
        let context = |case: &crate::ids::CaseId| {
            CommandContext::new()
                .with_idempotency_key(format!("civilregistry-{}-{case}", recorded.id))
                .with_causation_id(recorded.id)
        };
        match event {
            RegistryEvent::Died { citizen, died_on } => {
                for case in self.app.cases_in_force_of(citizen).await {
                    self.app
                        .member_died(&case, citizen, *died_on, &context(&case))
                        .await
                        .map_err(|e| anyhow::anyhow!("a member's death on case {case}: {e}"))?;
                }
            }
            RegistryEvent::MaritalChange {
                citizen,
                married,
                since,
                marriage_id,
            } => {
                let cause = if *married {
                    ReviewCause::Marriage
                } else {
                    ReviewCause::Divorce
                };
                for case in self.app.cases_in_force_of(citizen).await {
                    self.app
                        .flag(
                            &case,
                            cause,
                            Some(marriage_id.clone()),
                            *since,
                            &context(&case),
                        )
                        .await
                        .map_err(|e| anyhow::anyhow!("flagging case {case}: {e}"))?;
                }
            }
            RegistryEvent::Other => {}
        }
        Ok(())
    }
}
