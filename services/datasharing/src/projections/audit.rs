//! Every service's read audit, collected per person (`ds_audit`): what `AuditTrail` answers a
//! citizen asking who looked at their data. Persons are named by the platform's pseudonym (every
//! service keys its read audit's pseudonyms alike), never by number. One consumer per producing
//! service (this one's own included); adding a service is a line in the module.

use async_trait::async_trait;
use minzheng_eventstore::{RecordedEvent, StoreError, migrations::ServiceMigration};
use minzheng_host::codec::TypedProjection;
use sqlx::{AnyConnection, AnyPool, Row as _};

use crate::codec::audit::{Access, AuditEvents, Outcome};

/// The table (portable SQL): one row per read and person read.
pub const MIGRATION: ServiceMigration = ServiceMigration::portable(
    1004,
    "audit trail",
    "CREATE TABLE ds_audit (\
        event_id TEXT NOT NULL, \
        person TEXT NOT NULL, \
        service TEXT NOT NULL, \
        method TEXT NOT NULL, \
        actor TEXT NOT NULL, \
        roles TEXT NOT NULL, \
        agency TEXT NOT NULL, \
        purpose TEXT NOT NULL, \
        outcome TEXT NOT NULL, \
        accessed_at_micros BIGINT NOT NULL, \
        trace_id TEXT NOT NULL, \
        PRIMARY KEY (event_id, person)); \
     CREATE INDEX ds_audit_person ON ds_audit (person, accessed_at_micros)",
);

/// Collects one service's read audit.
#[derive(Debug, Clone)]
pub struct AuditProjection {
    service: &'static str,
    name: String,
}

impl AuditProjection {
    /// The collector of `service`'s read audit.
    pub fn new(service: &'static str) -> Self {
        Self {
            service,
            name: Self::consumer_name(service),
        }
    }

    /// The durable consumer's name for `service`'s read audit.
    pub fn consumer_name(service: &str) -> String {
        format!("datasharing-audit-{service}")
    }
}

#[async_trait]
impl TypedProjection for AuditProjection {
    type Contract = AuditEvents;

    fn name(&self) -> &str {
        &self.name
    }

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        access: &Access,
        recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        self.apply_all(tx, &[(access.clone(), recorded)]).await
    }

    /// A batch's rows (one per read and person read) in multi-row statements: a verification
    /// reads a household, so a batch of reads is many rows, and one statement each made the
    /// trail cost a round trip per person read.
    async fn apply_all(
        &self,
        tx: &mut AnyConnection,
        events: &[(Access, &RecordedEvent)],
    ) -> anyhow::Result<()> {
        let rows: Vec<(&Access, String, &String)> = events
            .iter()
            .flat_map(|(access, recorded)| {
                let event_id = recorded.id.to_string();
                access
                    .persons
                    .iter()
                    .map(move |person| (access, event_id.clone(), person))
            })
            .collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO ds_audit (event_id, person, service, method, actor, roles, agency, \
                    purpose, outcome, accessed_at_micros, trace_id) VALUES {} \
                 ON CONFLICT (event_id, person) DO NOTHING",
                super::placeholders(chunk.len(), 11)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (access, event_id, person) in chunk {
                query = query
                    .bind(event_id.clone())
                    .bind((*person).clone())
                    .bind(self.service)
                    .bind(access.method.clone())
                    .bind(access.actor.clone())
                    .bind(access.roles.join(","))
                    .bind(access.agency.clone())
                    .bind(access.purpose.clone())
                    .bind(access.outcome.code())
                    .bind(access.accessed_at_micros)
                    .bind(access.trace_id.clone());
            }
            query.execute(&mut *tx).await?;
        }
        Ok(())
    }
}

/// Rows per multi-row statement (11 parameters each: well under SQLite's and PostgreSQL's
/// limits).
const ROWS_PER_STATEMENT: usize = 200;

/// One read of a person's data, as the trail shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailEntry {
    pub service: String,
    pub access: Access,
}

/// The reads of the person `pseudonym`, newest first, at most `limit`.
pub async fn trail(
    db: &AnyPool,
    pseudonym: &str,
    limit: u32,
) -> Result<Vec<TrailEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT service, method, actor, roles, agency, purpose, outcome, accessed_at_micros, \
            trace_id FROM ds_audit WHERE person = $1 \
         ORDER BY accessed_at_micros DESC, event_id DESC LIMIT $2",
    )
    .bind(pseudonym.to_owned())
    .bind(i64::from(limit))
    .fetch_all(db)
    .await
    .map_err(StoreError::from_sqlx)?;
    rows.iter()
        .map(|row| {
            let text = |column: &str| -> Result<String, StoreError> {
                row.try_get(column).map_err(StoreError::from_sqlx)
            };
            let roles = text("roles")?;
            Ok(TrailEntry {
                service: text("service")?,
                access: Access {
                    method: text("method")?,
                    actor: text("actor")?,
                    roles: roles
                        .split(',')
                        .filter(|r| !r.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    agency: text("agency")?,
                    purpose: text("purpose")?,
                    persons: vec![pseudonym.to_owned()],
                    outcome: Outcome::from_code(&text("outcome")?),
                    accessed_at_micros: row
                        .try_get("accessed_at_micros")
                        .map_err(StoreError::from_sqlx)?,
                    trace_id: text("trace_id")?,
                },
            })
        })
        .collect()
}
