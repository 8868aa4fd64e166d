//! What the other services' events change here, each a durable consumer whose effects are
//! commands on this service's own store, run in `act` (outside the consumer's transaction, in
//! the embedded mode the holder of the database's one write lock) and idempotent, since a
//! redelivered event runs them again:
//!
//! - [`DeathsFeed`]: a civil-registry death is noted on the person's stream — the bed freed the
//!   same day, subsidies ended from the next month, the visit plan closed — for persons this
//!   service knows (a repeat notes nothing);
//! - [`CasesFeed`]: an assistance case's members (`ec_case_members`, the members each case
//!   covers as last told) — a member added or granted is covered from the day given, one
//!   removed or whose case ended is not; the person's stream records only changes;
//! - [`AlertsFeed`]: the data-sharing alert "now living alone" opens a visit plan at the
//!   household's township (an open plan answers it already; a person who has died since is
//!   not visited).
//!
//! Each waits for the read model to show what it wrote, so whoever waits for the consumers (a
//! settled host) then reads it.

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use minzheng_eventstore::{RecordedEvent, migrations::ServiceMigration};
use minzheng_host::codec::TypedProjection;
use minzheng_kit::{Error, aggregate::CommandContext};
use minzheng_types::{CitizenId, RegionLevel};
use sqlx::{AnyConnection, AnyPool, Row as _};

use crate::{
    app::{ElderCare, elders::PlanRequest},
    codec::others::{
        AssistanceCases, CaseEvent, CivilRegistryDeaths, DataSharingAlerts, Death, LeftAlone,
    },
    elder::Difficulty,
};

/// The consumers' names.
pub const DEATHS: &str = "eldercare-deaths";
pub const CASES: &str = "eldercare-assistance";
pub const ALERTS: &str = "eldercare-alerts";

/// How long a feed waits for the read model to show what it wrote.
const VIEW_WAIT: Duration = Duration::from_secs(10);

/// The days between visits of a plan an alert opens, by default (a month).
pub const DEFAULT_ALERT_INTERVAL_DAYS: u16 = 30;

/// The members each assistance case covers, as last told (portable SQL).
pub const MIGRATION: ServiceMigration = ServiceMigration::portable(
    1001,
    "assistance case members",
    "CREATE TABLE ec_case_members (\
        case_id TEXT NOT NULL, \
        citizen TEXT NOT NULL, \
        PRIMARY KEY (case_id, citizen))",
);

fn context(recorded: &RecordedEvent, what: &str) -> CommandContext {
    CommandContext::new()
        .with_idempotency_key(format!("{what}-{}", recorded.id))
        .with_causation_id(recorded.id)
}

async fn shown(app: &ElderCare, position: u64) -> anyhow::Result<()> {
    if position > 0 {
        app.view()
            .wait_for(position, VIEW_WAIT)
            .await
            .map_err(|error| anyhow::anyhow!("the read model did not catch up: {error}"))?;
    }
    Ok(())
}

/// The civil registry's deaths.
#[derive(Debug, Clone)]
pub struct DeathsFeed {
    app: ElderCare,
}

impl DeathsFeed {
    pub fn new(app: ElderCare) -> Self {
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
        // A multi-stream commit stores no idempotency key: a repeat finds the death noted.
        let committed = self
            .app
            .note_death(
                &death.citizen,
                death.died_on,
                Some(death.death_id.clone()),
                &context(recorded, "death"),
            )
            .await
            .map_err(|error| anyhow::anyhow!("death {}: {error}", death.death_id))?;
        shown(&self.app, committed.map_or(0, |c| c.position)).await
    }
}

/// The assistance service's cases.
#[derive(Debug, Clone)]
pub struct CasesFeed {
    app: ElderCare,
    pool: AnyPool,
}

impl CasesFeed {
    pub fn new(app: ElderCare, pool: AnyPool) -> Self {
        Self { app, pool }
    }

    /// The members `case_id` covered as last told.
    async fn members(&self, case_id: &str) -> anyhow::Result<Vec<CitizenId>> {
        let rows = sqlx::query("SELECT citizen FROM ec_case_members WHERE case_id = $1")
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let citizen: String = row.try_get("citizen")?;
                Ok(CitizenId::parse(&citizen)?)
            })
            .collect()
    }
}

#[async_trait]
impl TypedProjection for CasesFeed {
    type Contract = AssistanceCases;

    fn name(&self) -> &str {
        CASES
    }

    async fn act(&self, event: &CaseEvent, recorded: &RecordedEvent) -> anyhow::Result<()> {
        self.act_all(&[(event.clone(), recorded)]).await
    }

    /// A batch's events in order, each against the members its case covered just before it:
    /// the table as committed, then what the batch's earlier events of that case said (the
    /// table is written after every event of the batch has acted).
    async fn act_all(&self, events: &[(CaseEvent, &RecordedEvent)]) -> anyhow::Result<()> {
        let mut told: HashMap<String, Vec<CitizenId>> = HashMap::new();
        let mut last = 0;
        for (event, recorded) in events {
            let span = minzheng_bus::event_span(CASES, recorded);
            let (case_id, members, on) = match event {
                CaseEvent::Members {
                    case_id,
                    members,
                    on,
                } => (case_id, members.as_slice(), *on),
                CaseEvent::Ended { case_id, on } => (case_id, &[][..], *on),
            };
            let before = match told.get(case_id) {
                Some(members) => members.clone(),
                None => self.members(case_id).await?,
            };
            let changes = members.iter().map(|m| (m, true)).chain(
                before
                    .iter()
                    .filter(|b| !members.contains(b))
                    .map(|b| (b, false)),
            );
            for (citizen, covered) in changes {
                // One key per person: a key belongs to one stream.
                let context = context(recorded, &format!("case-{}", self.app.elder_id(citizen)));
                let committed = tracing::Instrument::instrument(
                    self.app
                        .set_low_income(citizen, case_id, covered, on, &context),
                    span.clone(),
                )
                .await
                .map_err(|error| anyhow::anyhow!("case {case_id}: {error}"))?;
                last = last.max(committed.map_or(0, |c| c.position));
            }
            told.insert(case_id.clone(), members.to_vec());
        }
        shown(&self.app, last).await
    }

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        event: &CaseEvent,
        _recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let (case_id, members) = match event {
            CaseEvent::Members {
                case_id, members, ..
            } => (case_id, members.as_slice()),
            CaseEvent::Ended { case_id, .. } => (case_id, &[][..]),
        };
        sqlx::query("DELETE FROM ec_case_members WHERE case_id = $1")
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        for member in members {
            sqlx::query(
                "INSERT INTO ec_case_members (case_id, citizen) VALUES ($1, $2) \
                 ON CONFLICT (case_id, citizen) DO NOTHING",
            )
            .bind(case_id)
            .bind(member.expose())
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

/// The data-sharing service's "now living alone" alerts.
#[derive(Debug, Clone)]
pub struct AlertsFeed {
    app: ElderCare,
    interval_days: u16,
}

impl AlertsFeed {
    pub fn new(app: ElderCare, interval_days: u16) -> Self {
        Self { app, interval_days }
    }
}

#[async_trait]
impl TypedProjection for AlertsFeed {
    type Contract = DataSharingAlerts;

    fn name(&self) -> &str {
        ALERTS
    }

    async fn act(&self, alert: &LeftAlone, recorded: &RecordedEvent) -> anyhow::Result<()> {
        let township = alert.division.and_then(|d| match d.level() {
            RegionLevel::Township => Some(d),
            RegionLevel::Village => d.township(),
            _ => None,
        });
        let Some(township) = township else {
            tracing::warn!(
                alert = %alert.alert_id,
                "an elderly-left-alone alert names no township: no visit plan is opened; open one by hand"
            );
            return Ok(());
        };
        let plan = PlanRequest {
            citizen: alert.person.clone(),
            difficulties: vec![Difficulty::LivingAlone],
            interval_days: self.interval_days,
            township,
            on: alert.raised_on.min(self.app.today()),
            alert_id: Some(alert.alert_id.clone()),
        };
        match self
            .app
            .open_visit_plan(plan, &context(recorded, "alert"))
            .await
        {
            Ok((_, committed)) => shown(&self.app, committed.position).await,
            Err(Error::FailedPrecondition { rule, .. }) if rule == "deceased" => {
                tracing::info!(alert = %alert.alert_id, "the person alone has died since: not visited");
                Ok(())
            }
            Err(error) => Err(anyhow::anyhow!("alert {}: {error}", alert.alert_id)),
        }
    }
}
