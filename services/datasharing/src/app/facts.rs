//! The facts every verification of a knowledge version shares — each agency's newest extract,
//! a county's lines and thresholds on a day — kept for the latest version asked. Exact, not a
//! guess: what was known at a version never changes, so a cached answer for version `V` is the
//! answer; a new version replaces the cache.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, PoisonError},
};

use minzheng_eventstore::StoreError;
use minzheng_types::RegionCode;
use sqlx::AnyPool;
use time::Date;

use crate::{
    knowledge::Knowledge,
    projections::{lines, thresholds},
    records::Agency,
    store::RecordStore,
    thresholds::Thresholds,
    verification::{Area, IncomeLines},
};

/// A county's lines (for an area) and thresholds in force on a day.
pub type CountyFacts = (Option<IncomeLines>, Option<(u32, Thresholds)>);

#[derive(Debug, Default)]
struct Cached {
    version: u64,
    extracts: Option<Arc<BTreeMap<Agency, Date>>>,
    counties: HashMap<(RegionCode, Option<Area>, Date), Arc<CountyFacts>>,
}

/// The cache; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    cached: Arc<Mutex<Cached>>,
}

/// Counties and days kept per version, at most (a verification wave touches a few).
const COUNTIES_KEPT: usize = 4_096;

impl Facts {
    fn lock(&self, known: Knowledge) -> std::sync::MutexGuard<'_, Cached> {
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if cached.version != known.version {
            *cached = Cached {
                version: known.version,
                ..Cached::default()
            };
        }
        cached
    }

    /// Each agency's newest `as_of`, as known at `known`.
    pub async fn extracts(
        &self,
        records: &RecordStore,
        known: Knowledge,
    ) -> Result<Arc<BTreeMap<Agency, Date>>, StoreError> {
        if let Some(extracts) = self.lock(known).extracts.clone() {
            return Ok(extracts);
        }
        let extracts = Arc::new(records.latest_extracts(known).await?);
        self.lock(known).extracts = Some(extracts.clone());
        Ok(extracts)
    }

    /// A county's lines (for `area`) and thresholds in force on `day`, as known at `known`.
    pub async fn county(
        &self,
        db: &AnyPool,
        county: RegionCode,
        area: Option<Area>,
        day: Date,
        known: Knowledge,
    ) -> Result<Arc<CountyFacts>, StoreError> {
        let key = (county, area, day);
        if let Some(facts) = self.lock(known).counties.get(&key) {
            return Ok(facts.clone());
        }
        let lines = match area {
            Some(area) => lines::lines(db, county, area, day, known).await?,
            None => None,
        };
        let thresholds = thresholds::in_force(db, county, day, known).await?;
        let facts = Arc::new((lines, thresholds));
        let mut cached = self.lock(known);
        if cached.counties.len() < COUNTIES_KEPT {
            cached.counties.insert(key, facts.clone());
        }
        Ok(facts)
    }
}
