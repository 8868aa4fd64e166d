//! The event store: every service's source of truth.
//!
//! A store holds append-only *streams* of events, one stream per aggregate instance, and a
//! store-wide order in which every committed event can be read exactly once. Two backends share
//! one contract ([`EventStore`]) and one test suite: PostgreSQL ([`postgres::PostgresStore`]) in
//! production and SQLite ([`sqlite::SqliteStore`]) in the embedded single-process mode.
//!
//! What the store guarantees (see `DESIGN.md`, "Event store guarantees"):
//! - an append names the stream version it expects; a mismatch is [`StoreError::Conflict`], never
//!   a silent overwrite, and all events of one append commit or none do;
//! - an append with an idempotency key that was already used returns the first append's
//!   [`AppendOutcome`] (with `replayed = true`) and writes nothing;
//! - [`EventStore::read_all`] walks the store in commit order and never skips an event whose
//!   transaction commits after a later one (PostgreSQL orders by transaction id and only reads
//!   below the oldest running transaction; SQLite has a single writer);
//! - positions are unique and increasing in insertion order but have gaps (PostgreSQL's sequence
//!   never gives back what a failed append took); [`EventStore::wait_for_position`] tells how
//!   far a reader must read to have passed a position, whether or not it holds an event;
//! - [`EventStore::append_all`] appends to several streams in one transaction: every request's
//!   expected version is checked and all events of all requests commit, or none do;
//! - events are read back through the [`Upcasters`] registered for their type and schema version.
//!
//! Both backends create their tables through embedded migrations when they open (see
//! [`migrations`] for the version numbers services must stay clear of).
//!
//! Architecture invariant: this crate knows nothing of any domain. Payloads are opaque bytes
//! (the protobuf encoding of an event message); event types are strings.

mod convert;
pub mod migrations;
mod multi;
pub mod postgres;
mod signal;
pub mod sqlite;
mod upcast;

use std::{fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use bytes::Bytes;
use time::OffsetDateTime;
use uuid::Uuid;

pub use upcast::{Upcaster, Upcasters};

/// How long a store's pool waits for a connection (opening one included) before the call fails
/// as [`StoreError::Unavailable`], unless the caller chooses (the platform setting
/// `MZ_DATABASE_ACQUIRE_TIMEOUT_MS` defaults to this). Short, because a client told to retry
/// later is better served than one kept waiting on a database that is down.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest accepted stream category or stream key, in bytes.
pub const MAX_STREAM_PART_LEN: usize = 128;

/// Identifies one stream: the aggregate type (`category`, e.g. `division`) and the instance key
/// (e.g. `210502001000`). Displayed and stored as `category-key`.
///
/// The category is lowercase ASCII letters, digits and `_`, starting with a letter, because it
/// becomes a NATS subject token. The key is any non-empty string of printable ASCII without
/// whitespace, `.`, `*` or `>`. Keys must never carry personal data (they end up in logs and in
/// CloudEvents `ce-subject`): use a pseudonymous id, not a citizen id number.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId {
    category: String,
    key: String,
}

impl StreamId {
    /// Builds a stream id, checking both parts.
    pub fn new(category: impl Into<String>, key: impl Into<String>) -> Result<Self, StoreError> {
        let category = category.into();
        let key = key.into();
        let category_ok = !category.is_empty()
            && category.len() <= MAX_STREAM_PART_LEN
            && category.starts_with(|c: char| c.is_ascii_lowercase())
            && category
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !category_ok {
            return Err(StoreError::InvalidStreamId(format!(
                "category {category:?} must be 1-{MAX_STREAM_PART_LEN} lowercase letters, digits or '_', starting with a letter"
            )));
        }
        let key_ok = !key.is_empty()
            && key.len() <= MAX_STREAM_PART_LEN
            && key
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '.' | '*' | '>'));
        if !key_ok {
            return Err(StoreError::InvalidStreamId(format!(
                "key must be 1-{MAX_STREAM_PART_LEN} printable ASCII characters without '.', '*' or '>'"
            )));
        }
        Ok(Self { category, key })
    }

    /// Parses the stored `category-key` form (the category never contains `-`).
    pub fn parse(stored: &str) -> Result<Self, StoreError> {
        let (category, key) = stored
            .split_once('-')
            .ok_or_else(|| StoreError::InvalidStreamId(format!("{stored:?} has no '-'")))?;
        Self::new(category, key)
    }

    pub fn category(&self) -> &str {
        &self.category
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.category, self.key)
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({self})")
    }
}

/// What the writer believes the stream's current version is. Stream versions start at 1; a
/// stream with no events has version 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the current version is (still atomic and gap-free).
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have exactly this version.
    Exact(u64),
}

/// An event to append. The id is chosen by the writer (UUID v7 by default) so that the same id
/// travels to JetStream as `Nats-Msg-Id` and CloudEvents `ce-id`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: Uuid,
    /// Fully qualified protobuf message name, e.g. `minzheng.placenames.v1.DivisionRenamed`.
    pub event_type: String,
    pub schema_version: u32,
    /// The protobuf encoding of the event message.
    pub payload: Bytes,
}

impl NewEvent {
    pub fn new(
        event_type: impl Into<String>,
        schema_version: u32,
        payload: impl Into<Bytes>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            event_type: event_type.into(),
            schema_version,
            payload: payload.into(),
        }
    }
}

/// Facts about the command that produced the events, stored with each of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Shared by everything one user action causes, across services.
    pub correlation_id: Option<Uuid>,
    /// The event (or command) that directly caused this one.
    pub causation_id: Option<Uuid>,
    /// The authenticated principal's subject (a staff or system account, never a citizen's id).
    pub actor: Option<String>,
    /// W3C `traceparent` of the span that appended the events.
    pub traceparent: Option<String>,
    /// W3C `tracestate`, when there is one.
    pub tracestate: Option<String>,
    /// The client's idempotency key for the command.
    pub idempotency_key: Option<String>,
}

/// One append: events for a single stream, committed atomically.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    pub stream: StreamId,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub metadata: Metadata,
}

/// A point in the store-wide order. Events are read in `(tx, position)` order; `tx` is the
/// committing transaction's id on PostgreSQL and always 0 on SQLite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    pub tx: u64,
    pub position: u64,
}

impl Cursor {
    /// Before the first event.
    pub const START: Cursor = Cursor { tx: 0, position: 0 };
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    pub stream: StreamId,
    /// Version of the stream after the append (the last appended event's version).
    pub stream_version: u64,
    /// Store-wide positions of the first and last appended events.
    pub first_position: u64,
    pub last_position: u64,
    /// Ids of the appended events, in order.
    pub event_ids: Vec<Uuid>,
    /// True when the idempotency key had been used: nothing was written and this is the first
    /// append's outcome.
    pub replayed: bool,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub id: Uuid,
    pub stream: StreamId,
    pub stream_version: u64,
    /// Store-wide position; unique and increasing in insertion order, not always in commit order.
    pub position: u64,
    /// The read order key (see [`Cursor`]).
    pub cursor: Cursor,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Bytes,
    pub metadata: Metadata,
    pub recorded_at: OffsetDateTime,
}

/// A stored snapshot of an aggregate's state at a stream version.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub stream: StreamId,
    pub stream_version: u64,
    /// Schema of the encoded state; a snapshot whose schema the reader does not know is ignored
    /// and the stream is replayed instead.
    pub schema_version: u32,
    pub payload: Bytes,
}

/// Events read by position, and where to continue from.
#[derive(Debug, Clone, Default)]
pub struct ReadBatch {
    pub events: Vec<RecordedEvent>,
    /// Pass this to the next [`EventStore::read_all`]; equals the input cursor when nothing new
    /// was visible.
    pub next: Cursor,
}

/// Store failures. A caller retries [`StoreError::Conflict`] after reloading; maps
/// [`StoreError::Unavailable`] to gRPC UNAVAILABLE; treats the rest as bugs or bad input.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("version conflict on stream {stream}: expected {expected:?}, actual {actual}")]
    Conflict {
        stream: StreamId,
        expected: ExpectedVersion,
        actual: u64,
    },
    #[error("invalid stream id: {0}")]
    InvalidStreamId(String),
    #[error("an append needs at least one event")]
    EmptyAppend,
    #[error("idempotency key was already used for stream {used_for}, not {requested}")]
    IdempotencyKeyReused {
        used_for: StreamId,
        requested: StreamId,
    },
    #[error("event {event_id} already exists")]
    DuplicateEventId { event_id: Uuid },
    #[error("stream {0} appears more than once in one multi-stream append")]
    DuplicateStreamInAppend(StreamId),
    #[error(
        "the request for stream {0} carries an idempotency key, which a multi-stream append does \
         not support (make the command idempotent through deterministic stream ids)"
    )]
    KeyedMultiStreamAppend(StreamId),
    #[error("upcasting {event_type} v{schema_version} failed: {reason}")]
    Upcast {
        event_type: String,
        schema_version: u32,
        reason: String,
    },
    #[error("event store unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("event store error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The URL names no backend this crate has; holds the scheme only (see [`Backend::for_url`]).
    #[error(
        "unsupported database URL scheme {0:?} (supported: postgres://, postgresql://, sqlite:)"
    )]
    UnsupportedUrl(String),
}

impl StoreError {
    /// Classifies a database error: connection-level failures are `Unavailable` so that callers
    /// can answer UNAVAILABLE and retry; everything else is `Database`.
    pub fn from_sqlx(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_) => StoreError::Unavailable(err),
            sqlx::Error::Database(db)
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() =>
            {
                // SQLite reports extended result codes; the low byte is the primary code.
                // Busy/locked (another writer held on past the busy timeout), I/O errors, a
                // full disk and a file that cannot be opened are conditions of the
                // environment that may pass, not bugs: the store is unavailable for now.
                let primary = db
                    .code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .map(|c| c & 0xff);
                match primary {
                    Some(5 | 6 | 10 | 13 | 14) => StoreError::Unavailable(err),
                    _ => StoreError::Database(err),
                }
            }
            sqlx::Error::Database(db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")) =>
            {
                // Class 08: connection exception; 57P: admin/crash shutdown, cannot connect now.
                StoreError::Unavailable(err)
            }
            _ => StoreError::Database(err),
        }
    }

    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The contract both backends implement, and that the contract test suite checks.
#[async_trait]
pub trait EventStore: Send + Sync + fmt::Debug + 'static {
    /// Appends events to one stream atomically, checking the expected version and the
    /// idempotency key (see the crate docs).
    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome>;

    /// Appends to several streams in one transaction: every request's expected version is
    /// checked and either all events of all requests commit, or none do. This is how a command
    /// keeps an invariant that spans aggregates (a marriage appends to the marriage's stream and
    /// to both spouses' streams) without a saga.
    ///
    /// Rules:
    /// - `requests` must not be empty and every request needs at least one event
    ///   ([`StoreError::EmptyAppend`]); no stream may appear twice
    ///   ([`StoreError::DuplicateStreamInAppend`]); an event id may appear only once in the
    ///   whole call ([`StoreError::DuplicateEventId`]).
    /// - Idempotency keys are not supported: a request whose `metadata.idempotency_key` is set
    ///   is refused with [`StoreError::KeyedMultiStreamAppend`], whatever the number of
    ///   requests. Make such a command idempotent through deterministic stream ids instead
    ///   (a retried command then conflicts with its own first append).
    /// - A version mismatch on any request is [`StoreError::Conflict`] naming that request's
    ///   stream, and an event id that is already stored is [`StoreError::DuplicateEventId`];
    ///   either way nothing is written on any stream. Invalid input is refused before anything
    ///   is written, too.
    /// - The outcomes come back in request order (never `replayed`). The events are inserted
    ///   in request order: every position of request `i` is below every position of request
    ///   `i + 1`, and within a request positions increase with versions. All events of the
    ///   call become readable by [`EventStore::read_all`] together, in that order.
    ///
    /// A call with a single request behaves as [`EventStore::append`] (minus the key).
    /// Stores that wrap another store must forward this method, not emulate it with several
    /// `append`s, which would not be atomic.
    async fn append_all(&self, requests: Vec<AppendRequest>) -> Result<Vec<AppendOutcome>>;

    /// The outcome of an earlier append with this idempotency key, if any (with
    /// `replayed = true`, as an append with that key would return it). Lets a service answer a
    /// retried command before re-running it against newer state.
    async fn find_idempotent(&self, key: &str) -> Result<Option<AppendOutcome>>;

    /// The stream's current version (0 when it has no events).
    async fn stream_version(&self, stream: &StreamId) -> Result<u64>;

    /// Events of one stream with version ≥ `from_version`, at most `limit`, in version order,
    /// upcast.
    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>>;

    /// Events of several streams at once: of each `(stream, from_version)`, those with version
    /// ≥ `from_version`, at most `limit` in all, each stream's together and in version order,
    /// upcast. One round trip where the store can (a caller loading a handful of short streams); by
    /// default one [`EventStore::read_stream`] after the other. A caller that gets `limit`
    /// events back cannot tell which streams are complete.
    async fn read_streams(
        &self,
        streams: &[(StreamId, u64)],
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        let mut events = Vec::new();
        for (stream, from_version) in streams {
            let left = limit - events.len();
            if left == 0 {
                break;
            }
            events.extend(self.read_stream(stream, *from_version, left).await?);
        }
        Ok(events)
    }

    /// Up to `limit` committed events after `after`, in commit order, upcast. Never skips an
    /// event that commits late: it stops before any event whose transaction might still be
    /// followed by an earlier one.
    async fn read_all(&self, after: Cursor, limit: usize) -> Result<ReadBatch>;

    /// The cursor of the event at `position`, if that event is committed. A reader whose cursor
    /// is ≥ this has seen it (used for read-your-writes on queries with a minimum position).
    async fn cursor_of(&self, position: u64) -> Result<Option<Cursor>>;

    /// Waits until it is known how far a reader by commit order must go to have passed
    /// `position`, and returns that cursor: the cursor of the event at `position` once it is
    /// readable; or, when `position` will never hold an event (positions taken by failed or
    /// rolled-back appends are skipped, so positions have gaps), the cursor of the last event
    /// below it (`Cursor::START` if there is none) once that is readable. A reader at or past
    /// the returned cursor has read every event up to `position` that `position` promises (this
    /// is read-your-writes for queries with a minimum position: `cursor_of` alone never answers
    /// for a gap).
    ///
    /// It waits while `position` is not taken yet, and while a transaction that might still
    /// commit an event at or below it is running; drop the future to stop waiting.
    async fn wait_for_position(&self, position: u64) -> Result<Cursor>;

    /// The latest committed cursor visible to `read_all` now.
    async fn head(&self) -> Result<Cursor>;

    /// Stores (or replaces with a newer one) the stream's snapshot.
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<()>;

    /// The stream's latest snapshot.
    async fn load_snapshot(&self, stream: &StreamId) -> Result<Option<Snapshot>>;

    /// A named reader's saved position (relays and embedded feeds), `Cursor::START` if none.
    async fn load_checkpoint(&self, name: &str) -> Result<Cursor>;

    /// Saves a named reader's position.
    async fn save_checkpoint(&self, name: &str, cursor: Cursor) -> Result<()>;

    /// Which backend this is, for logs and metrics: `"postgres"` or `"sqlite"`.
    fn backend(&self) -> &'static str;

    /// A receiver that changes whenever an append through this store (or a clone of it) ends (committed,
    /// refused or failed), for a reader following the store to read again at once rather than
    /// at its next poll. Appends by other processes do not change it: keep polling for those.
    fn append_ended(&self) -> tokio::sync::watch::Receiver<u64>;
}

/// A shared, type-erased store.
pub type SharedStore = Arc<dyn EventStore>;

/// The backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://…` or `postgresql://…`.
    Postgres,
    /// `sqlite:…` (`sqlite://path`, `sqlite::memory:`).
    Sqlite,
}

impl Backend {
    /// The backend `url` names, or [`StoreError::UnsupportedUrl`] for any other scheme. Every
    /// opener asks this one function, so that a URL of another database is refused rather than
    /// taken for a SQLite file name.
    pub fn for_url(url: &str) -> Result<Backend> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            // Only the scheme, and only when it is one: the rest of a URL may hold a password,
            // and so may text without a scheme (`user:secret@host`).
            let scheme = url
                .split_once("://")
                .map(|(scheme, _)| scheme)
                .filter(|scheme| {
                    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                        && scheme
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                })
                .unwrap_or_default();
            Err(StoreError::UnsupportedUrl(scheme.to_owned()))
        }
    }
}

/// Opens the store named by a URL (`postgres://…` or `sqlite://…`), applies its migrations and
/// returns it with the given upcasters.
pub async fn connect(url: &str, upcasters: Upcasters) -> Result<SharedStore> {
    connect_with_acquire_timeout(url, upcasters, DEFAULT_ACQUIRE_TIMEOUT).await
}

/// [`connect`] with a pool that waits at most `acquire_timeout` for a connection.
pub async fn connect_with_acquire_timeout(
    url: &str,
    upcasters: Upcasters,
    acquire_timeout: Duration,
) -> Result<SharedStore> {
    Ok(match Backend::for_url(url)? {
        Backend::Postgres => Arc::new(
            postgres::PostgresStore::connect_with_acquire_timeout(url, upcasters, acquire_timeout)
                .await?,
        ),
        Backend::Sqlite => Arc::new(
            sqlite::SqliteStore::connect_with_acquire_timeout(url, upcasters, acquire_timeout)
                .await?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn valid_stream_ids_round_trip_through_their_stored_form(
            category in "[a-z][a-z0-9_]{0,127}",
            key in "[!-~&&[^.*>]]{1,128}",
        ) {
            let id = StreamId::new(category.clone(), key.clone()).expect("valid parts");
            let parsed = StreamId::parse(&id.to_string()).expect("stored form parses");
            prop_assert_eq!(&parsed, &id);
            prop_assert_eq!(parsed.category(), category.as_str());
            prop_assert_eq!(parsed.key(), key.as_str());
        }

        #[test]
        fn categories_with_anything_but_lowercase_letters_digits_and_underscores_are_refused(
            category in "[a-z][a-z0-9_]{0,10}[A-Z.\\- >*]",
        ) {
            prop_assert!(matches!(
                StreamId::new(category, "k"),
                Err(StoreError::InvalidStreamId(_))
            ));
        }
    }

    #[test]
    fn invalid_stream_ids_are_refused() {
        let too_long = "a".repeat(MAX_STREAM_PART_LEN + 1);
        let cases: &[(&str, &str)] = &[
            ("", "key"),
            ("1abc", "key"),
            ("_abc", "key"),
            ("Person", "key"),
            ("di-vision", "key"),
            ("div ision", "key"),
            (&too_long, "key"),
            ("division", ""),
            ("division", "a.b"),
            ("division", "a*"),
            ("division", "a>"),
            ("division", "a b"),
            ("division", "名字"),
            ("division", "tab\t"),
            ("division", &too_long),
        ];
        for (category, key) in cases {
            assert!(
                matches!(
                    StreamId::new(*category, *key),
                    Err(StoreError::InvalidStreamId(_))
                ),
                "{category:?}/{key:?} must be refused"
            );
        }
        for stored in ["", "division", "-key", "division-", "Division-1", "a.b-c"] {
            assert!(
                StreamId::parse(stored).is_err(),
                "{stored:?} must not parse"
            );
        }
    }

    #[test]
    fn keys_may_contain_dashes_and_the_first_dash_separates_the_category() {
        let id = StreamId::parse("division-21-05-02").expect("valid");
        assert_eq!(id.category(), "division");
        assert_eq!(id.key(), "21-05-02");
        assert_eq!(id.to_string(), "division-21-05-02");
        assert_eq!(format!("{id:?}"), "StreamId(division-21-05-02)");
    }

    #[test]
    fn connection_failures_are_unavailable_and_the_rest_are_not() {
        let refused = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(StoreError::from_sqlx(refused).is_unavailable());
        assert!(StoreError::from_sqlx(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::from_sqlx(sqlx::Error::PoolClosed).is_unavailable());
        assert!(!StoreError::from_sqlx(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::from_sqlx(sqlx::Error::Protocol("bad".into())).is_unavailable());
    }

    #[tokio::test]
    async fn connect_refuses_unknown_schemes_without_echoing_the_url() {
        let err = connect("mysql://user:secret@db/x", Upcasters::new())
            .await
            .expect_err("mysql is not supported");
        match err {
            StoreError::UnsupportedUrl(scheme) => assert_eq!(scheme, "mysql"),
            other => panic!("expected UnsupportedUrl, got {other:?}"),
        }
    }

    #[test]
    fn only_postgres_and_sqlite_urls_name_a_backend() {
        for (url, backend) in [
            ("postgres://u:p@db/x", Backend::Postgres),
            ("postgresql://db/x", Backend::Postgres),
            ("sqlite://data/x.db?mode=rwc", Backend::Sqlite),
            ("sqlite::memory:", Backend::Sqlite),
        ] {
            assert_eq!(Backend::for_url(url).expect(url), backend, "{url}");
        }
        for (url, scheme) in [
            ("mysql://u:secret@db/x", "mysql"),
            ("http://u:secret@db/x", "http"),
            ("u:secret@db/x", ""),
            ("secret", ""),
            ("data/x.db", ""),
        ] {
            let err = Backend::for_url(url).expect_err(url);
            assert!(
                matches!(&err, StoreError::UnsupportedUrl(s) if s == scheme),
                "{url}: {err:?}"
            );
            let message = err.to_string();
            assert!(!message.contains("secret"), "{message}");
            for supported in ["postgres://", "postgresql://", "sqlite:"] {
                assert!(message.contains(supported), "{message}");
            }
        }
    }
}
