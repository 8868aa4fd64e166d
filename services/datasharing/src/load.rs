//! One load of an agency's records (stream `load-<load_id>`): what it received, kept, already
//! knew and refused, and the knowledge versions its commits took — the trace from any kept
//! record (which names its load) back to when and from whom it came.

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::BoundedText;

use crate::records::Agency;

minzheng_types::id_type!(
    /// A load's id, issued by the service ("LD-" and 32 hex digits).
    LoadId
);
minzheng_types::stream_key!(LoadId);

/// Longest extract name, in characters.
pub const EXTRACT_MAX_CHARS: usize = 200;

/// What a load did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadSummary {
    pub id: LoadId,
    pub agency: Agency,
    /// The agency's name for the extract.
    pub extract: Option<BoundedText>,
    pub received: u64,
    pub recorded: u64,
    pub already_known: u64,
    pub rejected: u64,
    pub unknown_citizens: u64,
    /// The knowledge versions its commits took (0 when it recorded nothing).
    pub first_known_version: u64,
    pub last_known_version: u64,
    /// When it ended, in microseconds since the Unix epoch.
    pub loaded_at_micros: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Loaded(LoadSummary),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Record(LoadSummary),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("this load is recorded already")]
    AlreadyRecorded,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        "load_already_recorded"
    }
}

/// A load's record.
#[derive(Debug, Clone, Default)]
pub struct Load {
    pub summary: Option<LoadSummary>,
}

impl Aggregate for Load {
    const CATEGORY: &'static str = "load";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Command::Record(summary) = command;
        match &self.summary {
            None => Ok(vec![Event::Loaded(summary.clone())]),
            Some(_) => Err(Error::AlreadyRecorded),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        let Event::Loaded(summary) = event;
        self.summary = Some(summary.clone());
        self
    }
}
