//! What the other services' events change here, each a durable consumer whose effects are
//! commands on this service's own store, run in `act` (outside the consumer's transaction, in
//! the embedded mode the holder of the database's one write lock) and idempotent, since a
//! redelivered event runs them again:
//!
//! - [`DeathsFeed`]: a civil-registry death is noted on the child's record — the allowance is
//!   paid through the month of death — for children this service knows (a death of anyone else
//!   does nothing; a repeat notes nothing);
//! - [`AlertsFeed`]: the data-sharing alert "every guardian has died" (监护人均已死亡) opens a
//!   protection case at the household's township- or village-level division (one case per
//!   alert, so a redelivery opens nothing). An alert naming no such division is logged and left
//!   for a caseworker, and a refusal of the domain (the child has turned 18, `not_a_minor`) is
//!   logged as nothing to do rather than retried.
//!
//! Each command's idempotency key is derived from the recorded event's id, and each feed waits
//! for the read model to show what it wrote, so whoever waits for the consumers (a settled
//! host) then reads it. A store or read-model failure is returned, so the message is retried.

use std::time::Duration;

use async_trait::async_trait;
use minzheng_eventstore::RecordedEvent;
use minzheng_host::codec::TypedProjection;
use minzheng_kit::{Error, aggregate::CommandContext};
use minzheng_types::{BoundedText, RegionCode, RegionLevel};

use crate::{
    app::ChildWelfare,
    codec::others::{CivilRegistryDeaths, DataSharingAlerts, Death, GuardiansDeceased},
    protection,
};

/// The consumers' names.
pub const DEATHS: &str = "childwelfare-deaths";
pub const ALERTS: &str = "childwelfare-alerts";

/// How long a feed waits for the read model to show what it wrote.
const VIEW_WAIT: Duration = Duration::from_secs(10);

/// The concern a case opened from a guardians-deceased alert records (no personal data).
pub const ALERT_CONCERN: &str =
    "监护人均已死亡 (all guardians have died): opened from data-sharing alert";

fn context(recorded: &RecordedEvent, what: &str) -> CommandContext {
    CommandContext::new()
        .with_idempotency_key(format!("{what}-{}", recorded.id))
        .with_causation_id(recorded.id)
}

async fn shown(app: &ChildWelfare, position: u64) -> anyhow::Result<()> {
    if position > 0 {
        app.view()
            .wait_for(position, VIEW_WAIT)
            .await
            .map_err(|error| anyhow::anyhow!("the read model did not catch up: {error}"))?;
    }
    Ok(())
}

/// The division a case opened from an alert is placed at: the alert's own when it is at
/// township or village level (a protection case is local), or at county level (the county's
/// staff then handle it, the household's township unknown); `None` for a city, a province or
/// nothing.
pub fn case_division(division: Option<RegionCode>) -> Option<RegionCode> {
    division.filter(|d| {
        matches!(
            d.level(),
            RegionLevel::County | RegionLevel::Township | RegionLevel::Village
        )
    })
}

/// The concern of a case opened from an alert.
pub fn alert_concern() -> BoundedText {
    BoundedText::parse(ALERT_CONCERN, protection::TEXT_MAX_CHARS)
        .unwrap_or_else(|_| unreachable!("a short constant text"))
}

/// The civil registry's deaths.
#[derive(Debug, Clone)]
pub struct DeathsFeed {
    app: ChildWelfare,
}

impl DeathsFeed {
    pub fn new(app: ChildWelfare) -> Self {
        Self { app }
    }
}

#[async_trait]
impl TypedProjection for DeathsFeed {
    type Contract = CivilRegistryDeaths;

    fn name(&self) -> &str {
        DEATHS
    }

    async fn act(&self, death: &Death, recorded: &RecordedEvent) -> anyhow::Result<()> {
        // A repeat finds the death noted and records nothing, whatever the key.
        let noted = self
            .app
            .note_death(
                &death.citizen,
                death.died_on,
                death.death_id.clone(),
                &context(recorded, "death"),
            )
            .await
            .map_err(|error| anyhow::anyhow!("death {}: {error}", death.death_id.as_str()))?;
        if !noted {
            // Someone this service has no record of: most deaths.
            return Ok(());
        }
        // `note_death` does not say where it wrote: the view applies everything visible now,
        // which includes it.
        tokio::time::timeout(VIEW_WAIT, self.app.view().catch_up())
            .await
            .map_err(|_| anyhow::anyhow!("the read model did not catch up in {VIEW_WAIT:?}"))?
            .map_err(|error| anyhow::anyhow!("the read model did not catch up: {error}"))?;
        Ok(())
    }
}

/// The data-sharing service's "every guardian has died" alerts.
#[derive(Debug, Clone)]
pub struct AlertsFeed {
    app: ChildWelfare,
}

impl AlertsFeed {
    pub fn new(app: ChildWelfare) -> Self {
        Self { app }
    }
}

#[async_trait]
impl TypedProjection for AlertsFeed {
    type Contract = DataSharingAlerts;

    fn name(&self) -> &str {
        ALERTS
    }

    async fn act(&self, alert: &GuardiansDeceased, recorded: &RecordedEvent) -> anyhow::Result<()> {
        let Some(division) = case_division(alert.division) else {
            // Never dropped silently: the message fails, is redelivered and, failing still,
            // parked on the dead-letter subject, where it is counted and an operator sees it.
            tracing::warn!(
                alert = %alert.alert_id,
                level = ?alert.division.map(|d| d.level()),
                "a guardians-deceased alert names no county, township or village: no case can \
                 be placed; the alert is parked for a caseworker to open one by hand"
            );
            anyhow::bail!(
                "guardians-deceased alert {} names no county, township or village",
                alert.alert_id
            );
        };
        let opened = self
            .app
            .open_from_alert(
                &alert.alert_id,
                alert.child.clone(),
                division,
                alert_concern(),
                alert.raised_on.min(self.app.today()),
                &context(recorded, "alert"),
            )
            .await;
        match opened {
            Ok((_, committed)) => shown(&self.app, committed.position).await,
            Err(Error::FailedPrecondition { rule, .. }) => {
                tracing::info!(
                    alert = %alert.alert_id,
                    %rule,
                    "a guardians-deceased alert was refused: no case is opened"
                );
                Ok(())
            }
            Err(error) => Err(anyhow::anyhow!("alert {}: {error}", alert.alert_id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(digits: &str) -> RegionCode {
        RegionCode::parse(digits).expect("valid")
    }

    #[test]
    fn a_case_is_placed_at_a_county_a_township_or_a_village_only() {
        for local in [
            "210502000000",
            "210502001000",
            "210502001001",
            "210521100203",
        ] {
            assert_eq!(case_division(Some(code(local))), Some(code(local)));
        }
        for wider in ["210500000000", "210000000000"] {
            assert_eq!(case_division(Some(code(wider))), None, "{wider}");
        }
        assert_eq!(case_division(None), None);
    }

    #[test]
    fn the_concern_names_the_alert_kind_in_both_languages() {
        let concern = alert_concern();
        assert!(concern.as_str().contains("监护人均已死亡"));
        assert!(concern.as_str().contains("all guardians have died"));
        assert!(!minzheng_types::contains_citizen_id(concern.as_str()));
    }

    #[test]
    fn the_consumers_have_distinct_names_of_this_service() {
        assert_ne!(DEATHS, ALERTS);
        assert!(DEATHS.starts_with("childwelfare-") && ALERTS.starts_with("childwelfare-"));
    }
}
