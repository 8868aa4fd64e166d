//! Loads of an agency's records: each batch checked record by record (a malformed one reported
//! with its line, field and rule, the others kept), stored under one knowledge version, and the
//! load recorded once it ends (stream `load-<load_id>`). A batch is stored in the background
//! while the next is received and checked; batches are stored one after the other, in order.

use minzheng_eventstore::StoreError;
use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed, RunError},
};
use minzheng_types::BoundedText;

use super::{DataSharing, store_error};
use crate::{
    knowledge::micros,
    load::{self, LoadId, LoadSummary},
    records::{self, Agency, AgencyRecord, RawRecord},
    store::Stored,
};

/// Records stored per transaction.
pub const BATCH: usize = 10_000;
/// Records a load must bring for it to end by refreshing the planner's statistics.
pub const REFRESH_STATISTICS_AFTER: u64 = 50_000;
/// Refused records reported back, at most (all are counted).
pub const REPORTED_REJECTIONS: usize = 1_000;

/// A record refused: the caller's line, the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: u64,
    pub field: &'static str,
    pub rule: String,
}

/// A load under way: records checked as they come, stored a batch at a time.
#[derive(Debug)]
pub struct Loading {
    pub id: LoadId,
    pub agency: Agency,
    pub extract: Option<BoundedText>,
    pending: Vec<AgencyRecord>,
    received: u64,
    recorded: u64,
    already_known: u64,
    unknown_citizens: u64,
    rejected_count: u64,
    pub rejected: Vec<Rejected>,
    first_known_version: u64,
    last_known_version: u64,
    /// Cases in assistance covering someone the load is about: their incomes are looked at
    /// again once it ends.
    cases_to_review: std::collections::BTreeSet<String>,
    /// Whether the next batch likely brings only new records: none of the last batch's was
    /// known (see [`crate::store::RecordStore::store`]).
    expect_new: bool,
    /// The batch being stored while the next one is received and checked: a load's time is
    /// then the database's or the checks', whichever is longer, not both added up.
    storing: Option<tokio::task::JoinHandle<Result<BatchStored, Error>>>,
}

/// A load given up (its stream broke off, a batch failed, the call was cancelled) abandons the
/// batch it was storing: its transaction rolls back, as any batch's did before it committed.
impl Drop for Loading {
    fn drop(&mut self) {
        if let Some(storing) = self.storing.take() {
            storing.abort();
        }
    }
}

/// What storing one batch found.
#[derive(Debug)]
struct BatchStored {
    stored: Stored,
    /// Cases in assistance covering someone the batch is about.
    cases: Vec<String>,
}

impl Loading {
    /// Takes one record: checked, and kept for the next batch or reported.
    pub fn take(&mut self, line: u64, raw: &RawRecord) {
        self.received += 1;
        match records::check_record(self.agency, raw) {
            Ok(record) => self.pending.push(record),
            Err(violations) => {
                self.rejected_count += 1;
                for (field, rule) in violations {
                    if self.rejected.len() < REPORTED_REJECTIONS {
                        self.rejected.push(Rejected { line, field, rule });
                    }
                }
            }
        }
    }

    /// Refuses one record for a field its message could not even carry (a date that is not
    /// one, a record from another agency's message).
    pub fn reject(&mut self, line: u64, field: &'static str, rule: String) {
        self.received += 1;
        self.rejected_count += 1;
        if self.rejected.len() < REPORTED_REJECTIONS {
            self.rejected.push(Rejected { line, field, rule });
        }
    }

    /// Whether a batch is ready to store.
    pub fn batch_ready(&self) -> bool {
        self.pending.len() >= BATCH
    }
}

impl DataSharing {
    /// Starts a load of `agency`'s records.
    pub fn start_load(&self, agency: Agency, extract: Option<BoundedText>) -> Loading {
        let id = LoadId::parse(&format!("LD-{}", uuid::Uuid::now_v7().simple()))
            .expect("\"LD-\" and 32 hex digits make an id");
        Loading {
            id,
            agency,
            extract,
            pending: Vec::with_capacity(BATCH),
            received: 0,
            recorded: 0,
            already_known: 0,
            unknown_citizens: 0,
            rejected_count: 0,
            rejected: Vec::new(),
            first_known_version: 0,
            last_known_version: 0,
            cases_to_review: std::collections::BTreeSet::new(),
            expect_new: true,
            storing: None,
        }
    }

    /// Stores the records the load holds (one transaction, one knowledge version), once the
    /// batch before them is stored: in the background, so that the load goes on receiving and
    /// checking records meanwhile. Its outcome (or its error) is taken in by the next call, or
    /// by [`Self::finish_load`].
    pub async fn store_pending(&self, loading: &mut Loading) -> Result<(), Error> {
        stored_so_far(loading).await?;
        if loading.pending.is_empty() {
            return Ok(());
        }
        let records = std::mem::replace(&mut loading.pending, Vec::with_capacity(BATCH));
        let economic = loading
            .agency
            .kinds()
            .any(|k| crate::records::DataClass::ECONOMIC.contains(&k.data_class()));
        let store = self.records.clone();
        let (agency, load_id, now, expect_new) = (
            loading.agency,
            loading.id.as_str().to_owned(),
            self.now(),
            loading.expect_new,
        );
        loading.storing = Some(tokio::spawn(async move {
            // The cases are looked up on another connection while the batch is stored.
            let cases = async {
                if !economic {
                    return Ok(Vec::new());
                }
                let citizens: Vec<&minzheng_types::CitizenId> =
                    records.iter().map(|r| &r.citizen).collect();
                crate::projections::people::active_cases_among(store.db(), &citizens).await
            };
            let stored = store.store(agency, &load_id, &records, now, expect_new);
            let (cases, stored) = tokio::try_join!(cases, stored).map_err(store_error)?;
            Ok(BatchStored { stored, cases })
        }));
        Ok(())
    }

    /// Ends a load: what is left stored, and the load recorded. A retry under the same
    /// idempotency key answers the first load's record (its records were recognised as known).
    pub async fn finish_load(
        &self,
        mut loading: Loading,
        context: &CommandContext,
    ) -> Result<(LoadSummary, Vec<Rejected>, Committed), Error> {
        self.store_pending(&mut loading).await?;
        stored_so_far(&mut loading).await?;
        if loading.recorded >= REFRESH_STATISTICS_AFTER
            && let Err(error) = self.records.refresh_statistics().await
        {
            // Only slower plans until autovacuum analyses the table: the load itself is stored.
            tracing::warn!(%error, "the records' statistics could not be refreshed after a load");
        }
        // Before the load is recorded: should this fail, the caller's retry (which records
        // nothing new) looks at the same cases again.
        self.review_incomes(&loading.cases_to_review).await?;
        let summary = LoadSummary {
            id: loading.id.clone(),
            agency: loading.agency,
            extract: loading.extract.clone(),
            received: loading.received,
            recorded: loading.recorded,
            already_known: loading.already_known,
            rejected: loading.rejected_count,
            unknown_citizens: loading.unknown_citizens,
            first_known_version: loading.first_known_version,
            last_known_version: loading.last_known_version,
            loaded_at_micros: micros(self.now()),
        };
        let command = load::Command::Record(summary.clone());
        match self.loads.execute_new(&summary.id, &command, context).await {
            Ok(Ok(committed)) => Ok((summary, std::mem::take(&mut loading.rejected), committed)),
            Ok(Err(refusal)) => Err(Error::from_refusal(&refusal)),
            // A retry of an earlier load: its record answers.
            Err(RunError::Store(StoreError::IdempotencyKeyReused { .. })) => {
                let key = context.idempotency_key.as_deref().unwrap_or_default();
                let earlier = self
                    .store
                    .find_idempotent(key)
                    .await
                    .map_err(store_error)?
                    .ok_or_else(|| {
                        Error::Unavailable("the earlier load is not readable yet".into())
                    })?;
                if earlier.stream.category() != "load" {
                    return Err(Error::refused(
                        "idempotency_key_reused",
                        "this idempotency key was used for another command",
                    ));
                }
                let id = LoadId::parse(earlier.stream.key()).map_err(Error::internal)?;
                let state = self.loads.load(&id).await?.state;
                let first = state.summary.ok_or_else(|| {
                    Error::internal(anyhow::anyhow!("a keyed load without a record"))
                })?;
                let committed = Committed {
                    replayed: true,
                    ..earlier.into()
                };
                Ok((first, std::mem::take(&mut loading.rejected), committed))
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// Waits for the batch being stored, if any, and counts what it stored.
async fn stored_so_far(loading: &mut Loading) -> Result<(), Error> {
    let Some(storing) = loading.storing.take() else {
        return Ok(());
    };
    let BatchStored { stored, cases } = storing.await.map_err(Error::internal)??;
    loading.cases_to_review.extend(cases);
    loading.recorded += stored.recorded;
    loading.already_known += stored.already_known;
    loading.unknown_citizens += stored.unknown_citizens;
    loading.expect_new = stored.already_known == 0;
    if let Some(knowledge) = stored.knowledge {
        if loading.first_known_version == 0 {
            loading.first_known_version = knowledge.version;
        }
        loading.last_known_version = knowledge.version;
    }
    Ok(())
}
