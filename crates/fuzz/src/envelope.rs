//! The bus envelope decoder over arbitrary messages: what a consumer does with every message
//! it pulls, whoever published it on the subjects it reads.

use std::str::FromStr;

use async_nats::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;
use minzheng_bus::{BusNaming, envelope};

/// Reads `data` as a message: header lines `name: value` up to the first empty line, then the
/// payload (lines that are not valid headers are skipped, as a NATS client would not deliver
/// them). A message that decodes to an event encodes back to a message that decodes to the same
/// event, on a subject that is a valid NATS subject (no empty tokens, wildcards or spaces,
/// whatever the event type says).
pub fn run(data: &[u8]) {
    let (head, payload) = split(data);
    let headers = headers(&String::from_utf8_lossy(head));
    let payload = Bytes::copy_from_slice(payload);
    let Ok(event) = envelope::decode(Some(&headers), &payload) else {
        return;
    };
    let naming = BusNaming::new("fuzz").expect("a valid service name");
    let message = envelope::encode(&naming, &event)
        .unwrap_or_else(|error| panic!("a decoded event encodes again: {error}"));
    assert!(
        message
            .subject
            .split('.')
            .all(|token| !token.is_empty() && !token.contains(['*', '>', ' ', '\t', '\r', '\n'])),
        "subject {:?} is a valid NATS subject",
        message.subject
    );
    let again = envelope::decode(Some(&message.headers), &message.payload)
        .unwrap_or_else(|error| panic!("a re-encoded event decodes: {error}"));
    assert_eq!(
        again, event,
        "an event changed in an encode/decode round trip"
    );
}

/// The input that gives `run` these headers and payload.
pub fn input(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    for (name, value) in headers {
        data.extend_from_slice(format!("{name}: {value}\n").as_bytes());
    }
    data.push(b'\n');
    data.extend_from_slice(payload);
    data
}

fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.windows(2).position(|w| w == b"\n\n") {
        Some(end) => (&data[..end], &data[end + 2..]),
        None => (data, &[]),
    }
}

fn headers(head: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.strip_prefix(' ').unwrap_or(value);
        if let (Ok(name), Ok(value)) = (HeaderName::from_str(name), HeaderValue::from_str(value)) {
            headers.append(name, value);
        }
    }
    headers
}
