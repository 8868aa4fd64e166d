//! Persons and households from the other services' events: the civil registry's deaths and
//! marital status (`ds_persons`), the assistance service's application households
//! (`ds_case_members`) and the assistance each person receives (`ds_benefits`). A death is also
//! what proactive discovery looks at (see [`crate::discovery`]): the consumer of the civil
//! registry raises the alerts in `act`, outside its transaction, idempotently (one alert stream
//! per alert id).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;
use minzheng_eventstore::{RecordedEvent, StoreError, migrations::ServiceMigration};
use minzheng_host::codec::TypedProjection;
use minzheng_types::{CitizenId, RegionCode};
use sqlx::{AnyConnection, AnyPool, Row as _};
use time::Date;

use super::{numbered, placeholders};
use crate::{
    app::DataSharing,
    assistance::Event as AssistanceEvent,
    codec::{
        assistance::AssistanceEvents,
        civilregistry::{CivilRegistryEvents, RegistryEvent},
    },
    discovery::{Death, Household, HouseholdSource, Relation},
    verification::Area,
};

/// The durable consumers' names.
pub const PERSONS: &str = "datasharing-persons";
pub const HOUSEHOLDS: &str = "datasharing-households";

/// The tables (portable SQL). Days are Julian day numbers.
pub const MIGRATION: ServiceMigration = ServiceMigration::portable(
    1003,
    "persons and households",
    "CREATE TABLE ds_persons (\
        citizen TEXT PRIMARY KEY, \
        died_on INTEGER NULL, \
        death_id TEXT NOT NULL DEFAULT '', \
        marital TEXT NOT NULL DEFAULT '', \
        spouse TEXT NOT NULL DEFAULT ''); \
     CREATE TABLE ds_case_members (\
        case_id TEXT NOT NULL, \
        citizen TEXT NOT NULL, \
        relation TEXT NOT NULL, \
        division TEXT NOT NULL, \
        area TEXT NOT NULL, \
        PRIMARY KEY (case_id, citizen)); \
     CREATE INDEX ds_case_members_citizen ON ds_case_members (citizen); \
     CREATE TABLE ds_benefits (\
        case_id TEXT NOT NULL, \
        citizen TEXT NOT NULL, \
        category TEXT NOT NULL, \
        from_day INTEGER NOT NULL, \
        until_day INTEGER NULL, \
        PRIMARY KEY (case_id, citizen))",
);

fn relation_code(relation: Relation) -> &'static str {
    match relation {
        Relation::Reference => "reference",
        Relation::Spouse => "spouse",
        Relation::Child => "child",
        Relation::Parent => "parent",
        Relation::Grandparent => "grandparent",
        Relation::Grandchild => "grandchild",
        Relation::Sibling => "sibling",
        Relation::Other => "other",
    }
}

fn relation_of(code: &str) -> Relation {
    match code {
        "reference" => Relation::Reference,
        "spouse" => Relation::Spouse,
        "child" => Relation::Child,
        "parent" => Relation::Parent,
        "grandparent" => Relation::Grandparent,
        "grandchild" => Relation::Grandchild,
        "sibling" => Relation::Sibling,
        _ => Relation::Other,
    }
}

fn day(date: Date) -> i64 {
    i64::from(date.to_julian_day())
}

/// Notes that the service knows `citizen` (a person of the other services' events).
async fn known(tx: &mut AnyConnection, citizen: &CitizenId) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO ds_persons (citizen) VALUES ($1) ON CONFLICT (citizen) DO NOTHING")
        .bind(citizen.expose().to_owned())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Follows the civil registry: deaths and marital status; raises the alerts a death reveals.
#[derive(Debug, Clone)]
pub struct PersonsProjection {
    app: DataSharing,
    /// Deaths of the batch under way, known to discovery before the batch commits them.
    pending: Arc<Mutex<HashMap<CitizenId, Death>>>,
}

impl PersonsProjection {
    pub fn new(app: DataSharing) -> Self {
        Self {
            app,
            pending: Arc::default(),
        }
    }
}

#[async_trait]
impl TypedProjection for PersonsProjection {
    type Contract = CivilRegistryEvents;

    fn name(&self) -> &str {
        PERSONS
    }

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        event: &RegistryEvent,
        recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        self.apply_all(tx, &[(event.clone(), recorded)]).await
    }

    async fn act(&self, event: &RegistryEvent, recorded: &RecordedEvent) -> anyhow::Result<()> {
        self.act_all(&[(event.clone(), recorded)]).await
    }

    /// A batch in two statements at most: the deaths, then the changes of marital status, each
    /// citizen's last of the batch (the two touch different columns, so their order between
    /// them does not matter).
    async fn apply_all(
        &self,
        tx: &mut AnyConnection,
        events: &[(RegistryEvent, &RecordedEvent)],
    ) -> anyhow::Result<()> {
        let mut deaths: Vec<(String, i64, String)> = Vec::new();
        let mut statuses: Vec<(String, &'static str, String)> = Vec::new();
        for (event, _) in events {
            match event {
                RegistryEvent::Died {
                    citizen,
                    died_on,
                    death_id,
                } => {
                    let citizen = citizen.expose().to_owned();
                    deaths.retain(|(c, _, _)| *c != citizen);
                    deaths.push((citizen, day(*died_on), death_id.clone()));
                }
                RegistryEvent::MaritalStatusChanged {
                    citizen,
                    status,
                    spouse,
                    ..
                } => {
                    let citizen = citizen.expose().to_owned();
                    statuses.retain(|(c, _, _)| *c != citizen);
                    let spouse = spouse
                        .as_ref()
                        .map(|s| s.expose().to_owned())
                        .unwrap_or_default();
                    statuses.push((citizen, status.code(), spouse));
                }
            }
        }
        for chunk in deaths.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO ds_persons (citizen, died_on, death_id) VALUES {} \
                 ON CONFLICT (citizen) DO UPDATE SET died_on = excluded.died_on, \
                 death_id = excluded.death_id",
                placeholders(chunk.len(), 3)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (citizen, died_on, death_id) in chunk {
                query = query
                    .bind(citizen.clone())
                    .bind(*died_on)
                    .bind(death_id.clone());
            }
            query.execute(&mut *tx).await?;
        }
        for chunk in statuses.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO ds_persons (citizen, marital, spouse) VALUES {} \
                 ON CONFLICT (citizen) DO UPDATE SET marital = excluded.marital, \
                 spouse = excluded.spouse",
                placeholders(chunk.len(), 3)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (citizen, status, spouse) in chunk {
                query = query
                    .bind(citizen.clone())
                    .bind(*status)
                    .bind(spouse.clone());
            }
            query.execute(&mut *tx).await?;
        }
        Ok(())
    }

    /// Discovery for the batch's deaths, in order, each knowing the batch's deaths before it;
    /// only for the deceased who belong to a household at all (one query for the batch), since a
    /// death reveals something only about the households of the deceased.
    async fn act_all(&self, events: &[(RegistryEvent, &RecordedEvent)]) -> anyhow::Result<()> {
        let deaths: Vec<(&CitizenId, Date, &String)> = events
            .iter()
            .filter_map(|(event, _)| match event {
                RegistryEvent::Died {
                    citizen,
                    died_on,
                    death_id,
                } => Some((citizen, *died_on, death_id)),
                RegistryEvent::MaritalStatusChanged { .. } => None,
            })
            .collect();
        if deaths.is_empty() {
            return Ok(());
        }
        let citizens: Vec<&CitizenId> = deaths.iter().map(|(c, _, _)| *c).collect();
        let in_households = in_households(self.app.records().db(), &citizens).await?;
        for (citizen, died_on, death_id) in deaths {
            let pending = {
                let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
                pending.insert(
                    citizen.clone(),
                    Death {
                        death_id: death_id.clone(),
                        died_on,
                    },
                );
                pending.clone()
            };
            if !in_households.contains(citizen.expose()) {
                continue;
            }
            self.app
                .discover_after_death(citizen, died_on, &pending)
                .await
                .map_err(|e| anyhow::anyhow!("discovery after a death: {e}"))?;
        }
        Ok(())
    }

    fn committed(&self, _events: &[RecordedEvent]) {
        // The batch's deaths are in the table now.
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// Rows per multi-row statement (3 parameters each), and citizens per `IN` list.
const ROWS_PER_STATEMENT: usize = 500;

/// Those of `citizens` who belong to a household this service knows: an assistance
/// application's, or one a household-registration record names.
async fn in_households(
    db: &AnyPool,
    citizens: &[&CitizenId],
) -> anyhow::Result<std::collections::HashSet<String>> {
    let mut found = std::collections::HashSet::new();
    for chunk in citizens.chunks(ROWS_PER_STATEMENT) {
        let list = numbered(1, chunk.len());
        for sql in [
            format!("SELECT DISTINCT citizen FROM ds_case_members WHERE citizen IN ({list})"),
            format!(
                "SELECT DISTINCT citizen FROM ds_records \
                 WHERE citizen IN ({list}) AND household <> ''"
            ),
        ] {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for citizen in chunk {
                query = query.bind(citizen.expose().to_owned());
            }
            for row in query.fetch_all(db).await? {
                found.insert(row.try_get::<String, _>("citizen")?);
            }
        }
    }
    Ok(found)
}

/// Follows the assistance service: application households and the assistance they receive.
#[derive(Debug, Clone, Copy, Default)]
pub struct HouseholdsProjection;

#[async_trait]
impl TypedProjection for HouseholdsProjection {
    type Contract = AssistanceEvents;

    fn name(&self) -> &str {
        HOUSEHOLDS
    }

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        event: &AssistanceEvent,
        _recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        match event {
            AssistanceEvent::ApplicationSubmitted(household) => {
                for (citizen, relation) in &household.members {
                    known(tx, citizen).await?;
                    sqlx::query(
                        "INSERT INTO ds_case_members (case_id, citizen, relation, division, area) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id, citizen) DO NOTHING",
                    )
                    .bind(household.case_id.clone())
                    .bind(citizen.expose().to_owned())
                    .bind(relation_code(*relation))
                    .bind(household.division.to_string())
                    .bind(match household.area {
                        Some(Area::Urban) => "urban",
                        Some(Area::Rural) => "rural",
                        None => "",
                    })
                    .execute(&mut *tx)
                    .await?;
                }
            }
            AssistanceEvent::Granted {
                case_id,
                category,
                members,
                effective_from,
            } => {
                for citizen in members {
                    sqlx::query(
                        "INSERT INTO ds_benefits (case_id, citizen, category, from_day) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (case_id, citizen) DO NOTHING",
                    )
                    .bind(case_id.clone())
                    .bind(citizen.expose().to_owned())
                    .bind(category.clone())
                    .bind(day(*effective_from))
                    .execute(&mut *tx)
                    .await?;
                }
            }
            AssistanceEvent::MembersChanged {
                case_id,
                members,
                effective_on,
            } => {
                // Those no longer covered stop from the day; those newly covered start then.
                let covered: Vec<String> = members.iter().map(|m| m.expose().to_owned()).collect();
                let rows = sqlx::query(
                    "SELECT citizen, category FROM ds_benefits \
                     WHERE case_id = $1 AND until_day IS NULL",
                )
                .bind(case_id.clone())
                .fetch_all(&mut *tx)
                .await?;
                let mut category = String::new();
                for row in &rows {
                    let citizen: String = row.try_get("citizen")?;
                    category = row.try_get("category")?;
                    if !covered.contains(&citizen) {
                        sqlx::query(
                            "UPDATE ds_benefits SET until_day = $1 \
                             WHERE case_id = $2 AND citizen = $3",
                        )
                        .bind(day(*effective_on))
                        .bind(case_id.clone())
                        .bind(citizen)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                for citizen in covered {
                    sqlx::query(
                        "INSERT INTO ds_benefits (case_id, citizen, category, from_day) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (case_id, citizen) DO NOTHING",
                    )
                    .bind(case_id.clone())
                    .bind(citizen)
                    .bind(category.clone())
                    .bind(day(*effective_on))
                    .execute(&mut *tx)
                    .await?;
                }
            }
            AssistanceEvent::Ended {
                case_id,
                effective_on,
            } => {
                sqlx::query(
                    "UPDATE ds_benefits SET until_day = $1 \
                     WHERE case_id = $2 AND until_day IS NULL",
                )
                .bind(day(*effective_on))
                .bind(case_id.clone())
                .execute(&mut *tx)
                .await?;
            }
            AssistanceEvent::StandardRecorded(_) | AssistanceEvent::VerificationRequested(_) => {}
        }
        Ok(())
    }
}

/// The households of assistance applications `citizen` belongs to.
pub async fn case_households_of(
    db: &AnyPool,
    citizen: &CitizenId,
) -> Result<Vec<Household>, StoreError> {
    let rows = sqlx::query(
        "SELECT m.case_id, m.citizen, m.relation, m.division FROM ds_case_members m \
         WHERE m.case_id IN (SELECT case_id FROM ds_case_members WHERE citizen = $1) \
         ORDER BY m.case_id",
    )
    .bind(citizen.expose().to_owned())
    .fetch_all(db)
    .await
    .map_err(StoreError::from_sqlx)?;
    let mut households: Vec<(String, Household)> = Vec::new();
    for row in rows {
        let get = |column: &str| -> Result<String, StoreError> {
            row.try_get(column).map_err(StoreError::from_sqlx)
        };
        let case_id = get("case_id")?;
        let member = CitizenId::parse(&get("citizen")?)
            .map_err(|_| StoreError::Corrupt("ds_case_members.citizen".into()))?;
        let relation = relation_of(&get("relation")?);
        let division = RegionCode::parse(&get("division")?).ok();
        match households.last_mut() {
            Some((id, household)) if *id == case_id => household.members.push((member, relation)),
            _ => households.push((
                case_id,
                Household {
                    source: HouseholdSource::AssistanceCase,
                    division,
                    members: vec![(member, relation)],
                },
            )),
        }
    }
    Ok(households.into_iter().map(|(_, h)| h).collect())
}

/// `citizen`'s death, when the table records one.
pub async fn death_of(db: &AnyPool, citizen: &CitizenId) -> Result<Option<Death>, StoreError> {
    let row = sqlx::query(
        "SELECT died_on, death_id FROM ds_persons WHERE citizen = $1 AND died_on IS NOT NULL",
    )
    .bind(citizen.expose().to_owned())
    .fetch_optional(db)
    .await
    .map_err(StoreError::from_sqlx)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let died_on: i64 = row.try_get("died_on").map_err(StoreError::from_sqlx)?;
    let death_id: String = row.try_get("death_id").map_err(StoreError::from_sqlx)?;
    let died_on = i32::try_from(died_on)
        .ok()
        .and_then(|d| Date::from_julian_day(d).ok())
        .ok_or_else(|| StoreError::Corrupt("ds_persons.died_on".into()))?;
    Ok(Some(Death { death_id, died_on }))
}

/// A case in force, as the verification of its household needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveCase {
    pub case_id: String,
    /// The assistance category's code, e.g. `DIBAO`.
    pub category: String,
    pub division: Option<RegionCode>,
    pub area: Option<Area>,
    /// The members it covers now.
    pub members: Vec<CitizenId>,
}

/// The cases in force covering any of `citizens`.
pub async fn active_cases_among(
    db: &AnyPool,
    citizens: &[&CitizenId],
) -> Result<Vec<String>, StoreError> {
    let mut cases = Vec::new();
    for chunk in citizens.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT DISTINCT case_id FROM ds_benefits \
             WHERE until_day IS NULL AND citizen IN ({})",
            numbered(1, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for citizen in chunk {
            query = query.bind(citizen.expose().to_owned());
        }
        for row in query.fetch_all(db).await.map_err(StoreError::from_sqlx)? {
            cases.push(row.try_get("case_id").map_err(StoreError::from_sqlx)?);
        }
    }
    cases.sort();
    cases.dedup();
    Ok(cases)
}

/// A case in force, with the members it covers now; `None` when it is not in force.
pub async fn active_case(db: &AnyPool, case_id: &str) -> Result<Option<ActiveCase>, StoreError> {
    let rows = sqlx::query(
        "SELECT b.citizen, b.category, m.division, m.area FROM ds_benefits b \
         LEFT JOIN ds_case_members m ON m.case_id = b.case_id AND m.citizen = b.citizen \
         WHERE b.case_id = $1 AND b.until_day IS NULL ORDER BY b.citizen",
    )
    .bind(case_id.to_owned())
    .fetch_all(db)
    .await
    .map_err(StoreError::from_sqlx)?;
    let mut case: Option<ActiveCase> = None;
    for row in rows {
        let text = |column: &str| -> Result<Option<String>, StoreError> {
            row.try_get(column).map_err(StoreError::from_sqlx)
        };
        let citizen = text("citizen")?.unwrap_or_default();
        let citizen = CitizenId::parse(&citizen)
            .map_err(|_| StoreError::Corrupt("ds_benefits.citizen".into()))?;
        let entry = case.get_or_insert_with(|| ActiveCase {
            case_id: case_id.to_owned(),
            category: String::new(),
            division: None,
            area: None,
            members: Vec::new(),
        });
        entry.category = text("category")?.unwrap_or_default();
        if let Some(division) = text("division")?.and_then(|d| RegionCode::parse(&d).ok()) {
            entry.division = Some(division);
        }
        match text("area")?.as_deref() {
            Some("urban") => entry.area = Some(Area::Urban),
            Some("rural") => entry.area = Some(Area::Rural),
            _ => {}
        }
        entry.members.push(citizen);
    }
    Ok(case)
}
