//! What the load did, call by call: per operation the attempts, acknowledgements, retries and
//! errors by gRPC code; every acknowledged command with its idempotency key and the store
//! position it returned (reconciliation looks for each in the store); the effects a consumer
//! must have had exactly once because of acknowledged commands (an [`Effect`]); the violations the load
//! saw as it went (INTERNAL answers, stale reads after `min_position`, slow answers while
//! PostgreSQL was down); and the citizen ids the load put into free-text fields, which must
//! never show up in a subject.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tonic::Code;

/// How long the services wait for a database connection (`MZ_DATABASE_ACQUIRE_TIMEOUT_MS`) in
/// this run: the time after which a call finds PostgreSQL down.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long an answer may take while PostgreSQL is down: infrastructure trouble is answered
/// promptly (UNAVAILABLE), it does not hang until the caller's deadline. A call may wait for a
/// connection twice (its command, then its audit or read model) before it gives up.
pub const PROMPT: Duration = Duration::from_secs(2 * ACQUIRE_TIMEOUT.as_secs() + 1);

/// Counts of one operation (an RPC, or a check the load makes).
#[derive(Debug, Clone, Default)]
pub struct OperationStats {
    /// Calls made, retries included.
    pub calls: u64,
    /// Commands acknowledged (queries answered).
    pub acknowledged: u64,
    /// Calls repeated with the same idempotency key after an error.
    pub retries: u64,
    /// Commands given up at the end of the run without an acknowledgement (outcome unknown).
    pub unresolved: u64,
    /// Error answers by gRPC code.
    pub errors: BTreeMap<String, u64>,
}

/// A command the service acknowledged.
#[derive(Debug, Clone)]
pub struct Acknowledged {
    pub service: &'static str,
    pub operation: &'static str,
    pub idempotency_key: String,
    /// The store position of the command's last event, as the answer gave it (0 when the answer
    /// had none).
    pub position: u64,
    /// The id of the record the answer named (an appointment, a marriage, a death), which is
    /// the key of a stream in the store.
    pub record: Option<String>,
}

/// An event a consumer must have recorded exactly once because of acknowledged commands: e.g. a
/// death the civil registry acknowledged, of a person the elderly-care service had assessed, is
/// noted once on that person's record.
#[derive(Debug, Clone)]
pub struct Effect {
    /// The service whose store must hold it.
    pub service: &'static str,
    /// The key of the stream (the record the consumer changes), as the service's answer named it.
    pub record: String,
    /// The stored event type.
    pub event_type: &'static str,
    /// The command that caused it (operation and idempotency key: no personal data).
    pub cause: String,
}

/// Answers while PostgreSQL was down.
#[derive(Debug, Clone, Default)]
pub struct OutageAnswers {
    pub by_code: BTreeMap<String, u64>,
    pub slowest: Duration,
}

#[derive(Debug, Default)]
struct Inner {
    operations: BTreeMap<&'static str, OperationStats>,
    acknowledged: Vec<Acknowledged>,
    effects: Vec<Effect>,
    violations: Vec<String>,
    outage: OutageAnswers,
    citizen_ids: HashSet<String>,
}

/// The shared ledger (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    inner: Arc<Mutex<Inner>>,
    postgres_down: Arc<AtomicBool>,
}

impl Ledger {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Marks the time PostgreSQL is down, so that answers in it are judged for promptness.
    pub fn set_postgres_down(&self, down: bool) {
        self.postgres_down.store(down, Ordering::SeqCst);
    }

    pub fn postgres_down(&self) -> bool {
        self.postgres_down.load(Ordering::SeqCst)
    }

    /// Records one call of `operation` and how it ended.
    pub fn call(
        &self,
        operation: &'static str,
        outcome: Result<(), Code>,
        retry: bool,
        during_outage: bool,
        took: Duration,
    ) {
        self.with(|inner| {
            let stats = inner.operations.entry(operation).or_default();
            stats.calls += 1;
            if retry {
                stats.retries += 1;
            }
            match outcome {
                Ok(()) => stats.acknowledged += 1,
                Err(code) => {
                    *stats.errors.entry(format!("{code:?}")).or_default() += 1;
                    if code == Code::Internal {
                        inner
                            .violations
                            .push(format!("{operation} answered INTERNAL (a bug)"));
                    }
                }
            }
            if during_outage {
                let code = outcome.err().map_or("Ok".to_owned(), |c| format!("{c:?}"));
                *inner.outage.by_code.entry(code).or_default() += 1;
                inner.outage.slowest = inner.outage.slowest.max(took);
                if took > PROMPT {
                    inner.violations.push(format!(
                        "{operation} took {took:?} to answer while PostgreSQL was down \
                         (more than {PROMPT:?})"
                    ));
                }
            }
        });
    }

    /// A command given up unacknowledged when the run ended.
    pub fn unresolved(&self, operation: &'static str) {
        self.with(|inner| inner.operations.entry(operation).or_default().unresolved += 1);
    }

    pub fn acknowledged(&self, command: Acknowledged) {
        self.with(|inner| inner.acknowledged.push(command));
    }

    /// An effect that must be found once in its service's store at the end.
    pub fn expect_effect(&self, effect: Effect) {
        self.with(|inner| inner.effects.push(effect));
    }

    pub fn expected_effects(&self) -> Vec<Effect> {
        self.with(|inner| inner.effects.clone())
    }

    pub fn violation(&self, violation: String) {
        self.with(|inner| inner.violations.push(violation));
    }

    /// A citizen id the load used (in a citizen field or a free-text one): none may appear in a
    /// subject, a key or a log.
    pub fn citizen_id(&self, id: &str) {
        self.with(|inner| inner.citizen_ids.insert(id.to_owned()));
    }

    pub fn citizen_ids(&self) -> HashSet<String> {
        self.with(|inner| inner.citizen_ids.clone())
    }

    pub fn operations(&self) -> BTreeMap<&'static str, OperationStats> {
        self.with(|inner| inner.operations.clone())
    }

    pub fn acknowledged_commands(&self) -> Vec<Acknowledged> {
        self.with(|inner| inner.acknowledged.clone())
    }

    pub fn violations(&self) -> Vec<String> {
        self.with(|inner| inner.violations.clone())
    }

    pub fn outage_answers(&self) -> OutageAnswers {
        self.with(|inner| inner.outage.clone())
    }
}
