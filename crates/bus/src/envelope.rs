//! The wire form of an event on the bus: a stored [`RecordedEvent`] becomes a NATS message
//! (subject, headers, payload) and a consumer rebuilds the `RecordedEvent` from the message.
//!
//! Headers are CloudEvents 1.0 in binary content mode plus `Nats-Msg-Id` (the event id, which
//! JetStream uses to drop a relay's re-publish) and the W3C trace context. The payload is the
//! stored protobuf bytes, untouched. A message stored by the relay also carries
//! `Nats-Expected-Last-Sequence`, the relay's ordering guard (see `relay`); readers ignore it.
//!
//! Deliberately left out: the actor and the idempotency key (who did it is personal data, and
//! the key is a private matter between a client and its service) and the store's transaction id
//! (a read-order detail of one store). A decoded event therefore has no actor, no idempotency key
//! and a cursor of `Cursor { tx: 0, position }`. This module knows nothing of streams,
//! consumers or connections.

use async_nats::{HeaderMap, HeaderValue, header::NATS_MESSAGE_ID};
use bytes::Bytes;
use minzheng_eventstore::{Cursor, Metadata, RecordedEvent, StreamId};
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::naming::BusNaming;

/// CloudEvents spec version header.
pub const CE_SPECVERSION: &str = "ce-specversion";
/// CloudEvents `id`: the event id.
pub const CE_ID: &str = "ce-id";
/// CloudEvents `source`: `/<prefix>/<service>`.
pub const CE_SOURCE: &str = "ce-source";
/// CloudEvents `type`: the fully qualified protobuf message name.
pub const CE_TYPE: &str = "ce-type";
/// CloudEvents `time`: when the event was recorded, RFC 3339.
pub const CE_TIME: &str = "ce-time";
/// CloudEvents `subject`: the stream id, `category-key`.
pub const CE_SUBJECT: &str = "ce-subject";
/// CloudEvents `dataschema`: `urn:minzheng:schema:<type>:v<schema version>`. It resolves through
/// the producing service's gRPC reflection: `FileContainingSymbol(<type>)` serves the descriptor
/// of the file that defines the message (`tests/tests/dataschema.rs`).
pub const CE_DATASCHEMA: &str = "ce-dataschema";
/// Extension: the payload's schema version.
pub const CE_SCHEMAVERSION: &str = "ce-schemaversion";
/// Extension: the event's version within its stream.
pub const CE_STREAMVERSION: &str = "ce-streamversion";
/// Extension: the event's store-wide position.
pub const CE_POSITION: &str = "ce-position";
/// Extension: the correlation id, when there is one.
pub const CE_CORRELATIONID: &str = "ce-correlationid";
/// Extension: the causation id, when there is one.
pub const CE_CAUSATIONID: &str = "ce-causationid";
/// The payload's media type.
pub const CONTENT_TYPE: &str = "content-type";
/// W3C trace context of the span that appended the event.
pub const TRACEPARENT: &str = "traceparent";
/// W3C trace state, when there is one.
pub const TRACESTATE: &str = "tracestate";

/// The CloudEvents version this module writes and accepts.
pub const SPEC_VERSION: &str = "1.0";
/// The `content-type` of every event payload.
pub const PROTOBUF: &str = "application/protobuf";

/// A message ready to publish.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub subject: String,
    pub headers: HeaderMap,
    pub payload: Bytes,
}

/// A stored event that cannot be put on the bus.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("event {event_id}: its type cannot be a header value (control characters)")]
    InvalidEventType { event_id: Uuid },
    #[error("event {event_id}: shared, but its stream's key is not an agency code")]
    InvalidAgency { event_id: Uuid },
}

/// A message that is not an event this bus wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("message has no headers")]
    NoHeaders,
    #[error("message lacks header {0}")]
    MissingHeader(&'static str),
    #[error("header {header} is malformed: {reason}")]
    InvalidHeader {
        header: &'static str,
        reason: String,
    },
    #[error("unsupported CloudEvents spec version {0:?}")]
    UnsupportedSpecVersion(String),
}

/// The message for `event` under `naming`.
pub fn encode(naming: &BusNaming, event: &RecordedEvent) -> Result<Envelope, EncodeError> {
    encode_on(
        naming,
        event,
        naming.subject(&event.stream, &event.event_type),
    )
}

/// The message for `event` under `naming`, published on `subject` rather than the event's own
/// (a shared copy, `ShareNaming::subject`).
pub fn encode_on(
    naming: &BusNaming,
    event: &RecordedEvent,
    subject: String,
) -> Result<Envelope, EncodeError> {
    let mut headers = HeaderMap::new();
    let id = event.id.to_string();
    let event_type: HeaderValue = event
        .event_type
        .parse()
        .map_err(|_| EncodeError::InvalidEventType { event_id: event.id })?;
    headers.insert(NATS_MESSAGE_ID, id.as_str());
    headers.insert(CE_SPECVERSION, SPEC_VERSION);
    headers.insert(CE_ID, id.as_str());
    headers.insert(CE_SOURCE, naming.source());
    headers.insert(CE_TYPE, event_type);
    // A recorded time outside RFC 3339's years (0-9999) cannot come from a real clock; leaving
    // `time` out (it is optional in CloudEvents) beats refusing to publish the event.
    // `to_offset` would panic where the UTC date leaves the supported years.
    if let Some(time) = event
        .recorded_at
        .checked_to_offset(UtcOffset::UTC)
        .and_then(|utc| utc.format(&Rfc3339).ok())
    {
        headers.insert(CE_TIME, time);
    }
    headers.insert(CE_SUBJECT, event.stream.to_string());
    // The event type was checked above; the schema is made only of it and a number.
    if let Ok(schema) = format!(
        "urn:minzheng:schema:{}:v{}",
        event.event_type, event.schema_version
    )
    .parse::<HeaderValue>()
    {
        headers.insert(CE_DATASCHEMA, schema);
    }
    headers.insert(CE_SCHEMAVERSION, event.schema_version.to_string());
    headers.insert(CE_STREAMVERSION, event.stream_version.to_string());
    headers.insert(CE_POSITION, event.position.to_string());
    if let Some(correlation) = event.metadata.correlation_id {
        headers.insert(CE_CORRELATIONID, correlation.to_string());
    }
    if let Some(causation) = event.metadata.causation_id {
        headers.insert(CE_CAUSATIONID, causation.to_string());
    }
    headers.insert(CONTENT_TYPE, PROTOBUF);
    // A malformed stored trace context only loses the trace link; it must not stop the event.
    for (name, value) in [
        (TRACEPARENT, &event.metadata.traceparent),
        (TRACESTATE, &event.metadata.tracestate),
    ] {
        if let Some(value) = value.as_deref().and_then(|v| v.parse::<HeaderValue>().ok()) {
            headers.insert(name, value);
        }
    }
    Ok(Envelope {
        subject,
        headers,
        payload: event.payload.clone(),
    })
}

/// The event a NATS message carries (a JetStream message dereferences to one).
pub fn decode_message(message: &async_nats::Message) -> Result<RecordedEvent, DecodeError> {
    decode(message.headers.as_ref(), &message.payload)
}

/// The event carried by a message's headers and payload (e.g. of a `StreamMessage` read
/// directly from a stream).
pub fn decode(headers: Option<&HeaderMap>, payload: &Bytes) -> Result<RecordedEvent, DecodeError> {
    let headers = headers.ok_or(DecodeError::NoHeaders)?;
    let spec = required(headers, CE_SPECVERSION)?;
    if spec != SPEC_VERSION {
        return Err(DecodeError::UnsupportedSpecVersion(spec.to_owned()));
    }
    let id = parse_uuid(CE_ID, required(headers, CE_ID)?)?;
    let stream = StreamId::parse(required(headers, CE_SUBJECT)?).map_err(|e| {
        DecodeError::InvalidHeader {
            header: CE_SUBJECT,
            reason: e.to_string(),
        }
    })?;
    let stream_version = parse_number(CE_STREAMVERSION, required(headers, CE_STREAMVERSION)?)?;
    let position = parse_number(CE_POSITION, required(headers, CE_POSITION)?)?;
    let schema_version = parse_number(CE_SCHEMAVERSION, required(headers, CE_SCHEMAVERSION)?)?;
    let recorded_at = parse_time(required(headers, CE_TIME)?)?;
    let metadata = Metadata {
        correlation_id: optional(headers, CE_CORRELATIONID)
            .map(|v| parse_uuid(CE_CORRELATIONID, v))
            .transpose()?,
        causation_id: optional(headers, CE_CAUSATIONID)
            .map(|v| parse_uuid(CE_CAUSATIONID, v))
            .transpose()?,
        actor: None,
        traceparent: optional(headers, TRACEPARENT).map(str::to_owned),
        tracestate: optional(headers, TRACESTATE).map(str::to_owned),
        idempotency_key: None,
    };
    Ok(RecordedEvent {
        id,
        stream,
        stream_version,
        position,
        cursor: Cursor { tx: 0, position },
        event_type: required(headers, CE_TYPE)?.to_owned(),
        schema_version,
        payload: payload.clone(),
        metadata,
        recorded_at,
    })
}

fn optional<'h>(headers: &'h HeaderMap, name: &'static str) -> Option<&'h str> {
    headers.get(name).map(HeaderValue::as_str)
}

fn required<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, DecodeError> {
    optional(headers, name).ok_or(DecodeError::MissingHeader(name))
}

/// An RFC 3339 time that is also one in UTC, as `encode` writes it: `9999-12-31T23:30:00-01:00`
/// is RFC 3339, but its UTC date (year 10000) is not, so no event of this bus has it and it
/// could not be published again.
fn parse_time(value: &str) -> Result<OffsetDateTime, DecodeError> {
    let invalid = |reason: String| DecodeError::InvalidHeader {
        header: CE_TIME,
        reason,
    };
    let time = OffsetDateTime::parse(value, &Rfc3339).map_err(|e| invalid(e.to_string()))?;
    time.checked_to_offset(UtcOffset::UTC)
        .filter(|utc| (0..=9999).contains(&utc.year()))
        .ok_or_else(|| invalid("its UTC date is outside the years 0000 to 9999".to_owned()))?;
    Ok(time)
}

fn parse_uuid(header: &'static str, value: &str) -> Result<Uuid, DecodeError> {
    value
        .parse()
        .map_err(|e: uuid::Error| DecodeError::InvalidHeader {
            header,
            reason: e.to_string(),
        })
}

fn parse_number<T>(header: &'static str, value: &str) -> Result<T, DecodeError>
where
    T: std::str::FromStr<Err = std::num::ParseIntError>,
{
    value
        .parse()
        .map_err(|e: std::num::ParseIntError| DecodeError::InvalidHeader {
            header,
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sample() -> RecordedEvent {
        RecordedEvent {
            id: Uuid::now_v7(),
            stream: StreamId::new("widget", "w-0042").expect("valid stream"),
            stream_version: 3,
            position: 42,
            cursor: Cursor {
                tx: 0,
                position: 42,
            },
            event_type: "minzheng.widgets.v1.WidgetRenamed".to_owned(),
            schema_version: 2,
            payload: Bytes::from_static(b"\x0a\x03abc"),
            metadata: Metadata {
                correlation_id: Some(Uuid::new_v4()),
                causation_id: Some(Uuid::new_v4()),
                actor: None,
                traceparent: Some(
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
                ),
                tracestate: Some("vendor=1".to_owned()),
                idempotency_key: None,
            },
            recorded_at: datetime!(2024-05-06 07:08:09.123456789 +08:00),
        }
    }

    #[test]
    fn round_trip_rebuilds_the_event() {
        let naming = BusNaming::new("widgets").expect("valid naming");
        let event = sample();
        let envelope = encode(&naming, &event).expect("encodes");
        assert_eq!(envelope.subject, "minzheng.widgets.widget.renamed");
        let decoded = decode(Some(&envelope.headers), &envelope.payload).expect("decodes");
        assert_eq!(decoded, event);
    }

    #[test]
    fn headers_carry_cloudevents_attributes_but_no_actor() {
        let naming = BusNaming::new("widgets").expect("valid naming");
        let mut event = sample();
        event.metadata.actor = Some("staff:officer-17".to_owned());
        event.metadata.idempotency_key = Some("client-key-1".to_owned());
        let envelope = encode(&naming, &event).expect("encodes");
        let h = |name: &str| envelope.headers.get(name).map(|v| v.as_str().to_owned());
        let id = event.id.to_string();
        assert_eq!(h(NATS_MESSAGE_ID.as_ref()).as_deref(), Some(id.as_str()));
        assert_eq!(h(CE_ID).as_deref(), Some(id.as_str()));
        assert_eq!(h(CE_SPECVERSION).as_deref(), Some("1.0"));
        assert_eq!(h(CE_SOURCE).as_deref(), Some("/minzheng/widgets"));
        assert_eq!(
            h(CE_TYPE).as_deref(),
            Some("minzheng.widgets.v1.WidgetRenamed")
        );
        assert_eq!(
            h(CE_TIME).as_deref(),
            Some("2024-05-05T23:08:09.123456789Z")
        );
        assert_eq!(h(CE_SUBJECT).as_deref(), Some("widget-w-0042"));
        assert_eq!(
            h(CE_DATASCHEMA).as_deref(),
            Some("urn:minzheng:schema:minzheng.widgets.v1.WidgetRenamed:v2")
        );
        assert_eq!(h(CE_SCHEMAVERSION).as_deref(), Some("2"));
        assert_eq!(h(CE_STREAMVERSION).as_deref(), Some("3"));
        assert_eq!(h(CE_POSITION).as_deref(), Some("42"));
        assert_eq!(h(CONTENT_TYPE).as_deref(), Some("application/protobuf"));
        assert_eq!(h(TRACESTATE).as_deref(), Some("vendor=1"));
        for (_, values) in envelope.headers.iter() {
            for value in values {
                assert!(!value.as_str().contains("officer-17"), "actor leaked");
                assert!(!value.as_str().contains("client-key-1"), "key leaked");
            }
        }
        // Without an actor and key, decoding gives back the rest of the event.
        let decoded = decode(Some(&envelope.headers), &envelope.payload).expect("decodes");
        event.metadata.actor = None;
        event.metadata.idempotency_key = None;
        assert_eq!(decoded, event);
    }

    #[test]
    fn optional_metadata_stays_absent() {
        let naming = BusNaming::new("widgets").expect("valid naming");
        let mut event = sample();
        event.metadata = Metadata::default();
        let envelope = encode(&naming, &event).expect("encodes");
        assert!(envelope.headers.get(CE_CORRELATIONID).is_none());
        assert!(envelope.headers.get(TRACEPARENT).is_none());
        let decoded = decode(Some(&envelope.headers), &envelope.payload).expect("decodes");
        assert_eq!(decoded, event);
    }

    #[test]
    fn a_bad_stored_trace_context_is_dropped_not_fatal() {
        let naming = BusNaming::new("widgets").expect("valid naming");
        let mut event = sample();
        event.metadata.traceparent = Some("broken\r\nheader".to_owned());
        let envelope = encode(&naming, &event).expect("still encodes");
        assert!(envelope.headers.get(TRACEPARENT).is_none());
    }

    #[test]
    fn an_event_type_with_control_characters_is_refused() {
        let naming = BusNaming::new("widgets").expect("valid naming");
        let mut event = sample();
        event.event_type = "bad\ntype".to_owned();
        assert_eq!(
            encode(&naming, &event).err(),
            Some(EncodeError::InvalidEventType { event_id: event.id })
        );
    }

    #[test]
    fn foreign_messages_are_refused() {
        let payload = Bytes::new();
        assert_eq!(decode(None, &payload), Err(DecodeError::NoHeaders));
        let mut headers = HeaderMap::new();
        headers.insert(CE_SPECVERSION, "0.3");
        assert_eq!(
            decode(Some(&headers), &payload),
            Err(DecodeError::UnsupportedSpecVersion("0.3".to_owned()))
        );
        headers.insert(CE_SPECVERSION, "1.0");
        assert_eq!(
            decode(Some(&headers), &payload),
            Err(DecodeError::MissingHeader(CE_ID))
        );
        let naming = BusNaming::new("widgets").expect("valid naming");
        let mut envelope = encode(&naming, &sample()).expect("encodes");
        envelope.headers.insert(CE_POSITION, "minus one");
        assert!(matches!(
            decode(Some(&envelope.headers), &envelope.payload),
            Err(DecodeError::InvalidHeader {
                header: CE_POSITION,
                ..
            })
        ));
    }

    /// Found by the envelope fuzz target: RFC 3339 allows 9999-12-31T23:30:00-01:00, whose UTC
    /// date is in year 10000.
    #[test]
    fn a_recorded_time_beyond_the_utc_years_is_left_out_not_a_panic() {
        let naming = BusNaming::new("widgets").expect("valid naming");
        let mut event = sample();
        event.recorded_at = datetime!(9999-12-31 23:30:00 -01:00);
        let envelope = encode(&naming, &event).expect("encodes");
        assert!(envelope.headers.get(CE_TIME).is_none());
    }

    /// Found by the envelope fuzz target: a time this bus could not have written (its UTC date
    /// outside the years 0000 to 9999) is refused, so every decoded event encodes back to itself.
    #[test]
    fn a_time_outside_the_utc_years_is_refused() {
        let naming = BusNaming::new("widgets").expect("valid naming");
        let mut envelope = encode(&naming, &sample()).expect("encodes");
        for time in ["9999-12-31T23:30:00-01:00", "0000-01-01T00:30:00+01:00"] {
            envelope.headers.insert(CE_TIME, time);
            assert!(
                matches!(
                    decode(Some(&envelope.headers), &envelope.payload),
                    Err(DecodeError::InvalidHeader {
                        header: CE_TIME,
                        ..
                    })
                ),
                "{time}"
            );
        }
        envelope
            .headers
            .insert(CE_TIME, "0000-01-01T00:30:00-01:00");
        assert!(decode(Some(&envelope.headers), &envelope.payload).is_ok());
    }
}
