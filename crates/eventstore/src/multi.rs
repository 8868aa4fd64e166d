//! What both backends check of a multi-stream append ([`crate::EventStore::append_all`])
//! before they touch the database, and how such an append is named in spans.
//!
//! This module does not talk to a database.

use std::{collections::HashSet, fmt};

use crate::{AppendRequest, Result, StoreError};

/// Refuses a multi-stream append that breaks the rules of
/// [`crate::EventStore::append_all`]: no requests, a request without events, a request with an
/// idempotency key, a stream named twice, or an event id used twice within the call.
pub(crate) fn check(requests: &[AppendRequest]) -> Result<()> {
    if requests.is_empty() {
        return Err(StoreError::EmptyAppend);
    }
    let mut streams = HashSet::with_capacity(requests.len());
    for request in requests {
        if request.events.is_empty() {
            return Err(StoreError::EmptyAppend);
        }
        if request.metadata.idempotency_key.is_some() {
            return Err(StoreError::KeyedMultiStreamAppend(request.stream.clone()));
        }
        if !streams.insert(&request.stream) {
            return Err(StoreError::DuplicateStreamInAppend(request.stream.clone()));
        }
    }
    let mut ids = HashSet::new();
    if let Some(repeated) = requests
        .iter()
        .flat_map(|r| &r.events)
        .find(|e| !ids.insert(e.id))
    {
        return Err(StoreError::DuplicateEventId {
            event_id: repeated.id,
        });
    }
    Ok(())
}

/// The streams of a multi-stream append, comma-separated, for a span field (stream ids carry
/// no personal data; payloads never go into spans).
#[derive(Debug)]
pub(crate) struct Streams<'a>(pub(crate) &'a [AppendRequest]);

impl fmt::Display for Streams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, request) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", request.stream)?;
        }
        Ok(())
    }
}

/// How many events a multi-stream append carries in all.
pub(crate) fn event_count(requests: &[AppendRequest]) -> usize {
    requests.iter().map(|r| r.events.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ExpectedVersion, Metadata, NewEvent, StreamId};

    fn request(key: &str, events: usize) -> AppendRequest {
        AppendRequest {
            stream: StreamId::new("order", key).expect("valid"),
            expected: ExpectedVersion::Any,
            events: (0..events)
                .map(|_| NewEvent::new("test.Happened", 1, &b"x"[..]))
                .collect(),
            metadata: Metadata::default(),
        }
    }

    #[test]
    fn valid_requests_pass_and_are_named_in_order() {
        let requests = [request("b", 1), request("a", 2)];
        check(&requests).expect("valid");
        assert_eq!(Streams(&requests).to_string(), "order-b,order-a");
        assert_eq!(event_count(&requests), 3);
    }

    #[test]
    fn each_rule_is_enforced() {
        assert!(matches!(check(&[]), Err(StoreError::EmptyAppend)));
        assert!(matches!(
            check(&[request("a", 1), request("b", 0)]),
            Err(StoreError::EmptyAppend)
        ));
        let mut keyed = request("b", 1);
        keyed.metadata.idempotency_key = Some("k".into());
        match check(&[request("a", 1), keyed]) {
            Err(StoreError::KeyedMultiStreamAppend(stream)) => assert_eq!(stream.key(), "b"),
            other => panic!("expected KeyedMultiStreamAppend, got {other:?}"),
        }
        match check(&[request("a", 1), request("b", 1), request("a", 1)]) {
            Err(StoreError::DuplicateStreamInAppend(stream)) => assert_eq!(stream.key(), "a"),
            other => panic!("expected DuplicateStreamInAppend, got {other:?}"),
        }
        let a = request("a", 2);
        let mut b = request("b", 1);
        b.events.push(a.events[1].clone());
        let repeated = a.events[1].id;
        match check(&[a, b]) {
            Err(StoreError::DuplicateEventId { event_id }) => assert_eq!(event_id, repeated),
            other => panic!("expected DuplicateEventId, got {other:?}"),
        }
    }
}
