//! Personal data where it must never be: the scanner subscribes to every subject of the run's
//! NATS server (`>`) and keeps each subject and header value that holds something shaped like
//! a citizen id number (17 digits and a check character); at the end, those that are ids the
//! load used are violations. The services' logs are read the same way.

use std::{
    collections::HashSet,
    path::Path,
    sync::{Arc, Mutex, PoisonError},
};

use futures::StreamExt as _;

/// Where a suspicious token was seen, and the token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sighting {
    pub place: String,
    pub token: String,
}

/// The running scanner.
#[derive(Debug)]
pub struct Scanner {
    sightings: Arc<Mutex<HashSet<Sighting>>>,
    pub messages: Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Scanner {
    /// Subscribes to everything on `client` (which reconnects and resubscribes after a server
    /// restart).
    pub async fn start(client: async_nats::Client) -> anyhow::Result<Self> {
        let mut subscription = client.subscribe(">").await?;
        let sightings: Arc<Mutex<HashSet<Sighting>>> = Arc::default();
        let messages = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let task = {
            let (sightings, messages) = (sightings.clone(), messages.clone());
            tokio::spawn(async move {
                let _client = client;
                while let Some(message) = subscription.next().await {
                    messages.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let mut found = Vec::new();
                    look(
                        &format!("subject {}", message.subject),
                        &message.subject,
                        &mut found,
                    );
                    if let Some(headers) = &message.headers {
                        for (name, values) in headers.iter() {
                            for value in values {
                                look(&format!("header {name}"), value.as_str(), &mut found);
                            }
                        }
                    }
                    if !found.is_empty() {
                        sightings
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .extend(found);
                    }
                }
            })
        };
        Ok(Self {
            sightings,
            messages,
            task,
        })
    }

    /// Stops scanning; the places where one of `ids` was seen.
    pub fn finish(self, ids: &HashSet<String>) -> Vec<Sighting> {
        self.task.abort();
        let sightings = self
            .sightings
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        sightings
            .iter()
            .filter(|s| ids.contains(&s.token))
            .cloned()
            .collect()
    }
}

/// The lines of the log at `path` that hold one of `ids` (as places, never the id itself).
pub fn scan_log(path: &Path, ids: &HashSet<String>) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)?;
    let mut places = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut found = Vec::new();
        look("", line, &mut found);
        if found.iter().any(|s| ids.contains(&s.token)) {
            places.push(format!("{}:{}", path.display(), number + 1));
        }
    }
    Ok(places)
}

/// Adds every token of `text` shaped like a citizen id number.
fn look(place: &str, text: &str, found: &mut Vec<Sighting>) {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start + 18 <= bytes.len() {
        let window = &bytes[start..start + 18];
        let shaped = window[..17].iter().all(u8::is_ascii_digit)
            && (window[17].is_ascii_digit() || window[17] == b'X');
        if shaped {
            found.push(Sighting {
                place: place.to_owned(),
                token: String::from_utf8_lossy(window).into_owned(),
            });
        }
        start += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_id_shaped_tokens() {
        let mut found = Vec::new();
        look("s", "a.b.21050219700101001X.c", &mut found);
        assert!(found.iter().any(|s| s.token == "21050219700101001X"));
        let mut none = Vec::new();
        look("s", "appointment-210502-20261203-001", &mut none);
        assert!(none.is_empty());
    }
}
