//! Appends ended in this process, as a signal a reader following the store waits on (the
//! outbox relay), so that it reads again as soon as something may have become visible instead
//! of waiting out its idle poll.
//!
//! The signal is a counter in a `watch` channel: a reader that was busy when appends ended
//! still sees that the counter moved, so no wake-up is lost. It is raised when an append ends
//! however it ended (committed, refused, failed): a refused or rolled-back append may have
//! been what held the read horizon back. Appends by other processes (other replicas) raise
//! nothing here; readers keep polling for those.

use std::sync::Arc;

use tokio::sync::watch;

/// The sending side, one per store, shared by its clones.
#[derive(Debug, Clone)]
pub(crate) struct AppendSignal {
    sender: Arc<watch::Sender<u64>>,
}

impl AppendSignal {
    pub(crate) fn new() -> Self {
        Self {
            sender: Arc::new(watch::Sender::new(0)),
        }
    }

    /// A receiver whose `changed()` resolves after the next append that ends.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.sender.subscribe()
    }

    /// Raises the signal when the returned guard is dropped: declare it before anything the
    /// append holds (a transaction, a writer lock), so that it fires after they are released.
    pub(crate) fn on_end(&self) -> AppendEnded<'_> {
        AppendEnded(self)
    }
}

/// Raises the signal on drop, however the append returned.
pub(crate) struct AppendEnded<'a>(&'a AppendSignal);

impl Drop for AppendEnded<'_> {
    fn drop(&mut self) {
        self.0
            .sender
            .send_modify(|ended| *ended = ended.wrapping_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_busy_when_appends_ended_still_sees_them() {
        let signal = AppendSignal::new();
        let mut reader = signal.subscribe();
        drop(signal.on_end());
        drop(signal.on_end());
        assert!(reader.has_changed().expect("the store is alive"));
        reader.mark_unchanged();
        assert!(!reader.has_changed().expect("the store is alive"));
        drop(signal.on_end());
        assert!(reader.has_changed().expect("the store is alive"));
    }
}
