//! The bus's OpenTelemetry instruments, made once per relay or consumer from
//! `minzheng_telemetry::meter()` (a no-op until telemetry is initialised with an exporter).
//!
//! Attributes are names of streams and consumers only, never event contents.

use opentelemetry::{
    KeyValue,
    metrics::{Counter, Gauge, Histogram},
};

#[derive(Debug, Clone)]
pub(crate) struct RelayMetrics {
    pub published: Counter<u64>,
    pub resyncs: Counter<u64>,
    pub batches: Counter<u64>,
    pub errors: Counter<u64>,
    pub lag: Histogram<f64>,
    stream: KeyValue,
}

impl RelayMetrics {
    pub fn new(stream: &str) -> Self {
        let meter = minzheng_telemetry::meter();
        Self {
            published: meter
                .u64_counter("minzheng.relay.events_published")
                .with_unit("{event}")
                .with_description("events the relay published and JetStream acknowledged")
                .build(),
            resyncs: meter
                .u64_counter("minzheng.relay.resyncs")
                .with_unit("{resync}")
                .with_description(
                    "times the relay found the stream ending elsewhere than its checkpoint and \
                     continued from the stream's end",
                )
                .build(),
            batches: meter
                .u64_counter("minzheng.relay.batches")
                .with_unit("{batch}")
                .with_description("batches the relay published and checkpointed")
                .build(),
            errors: meter
                .u64_counter("minzheng.relay.errors")
                .with_unit("{error}")
                .with_description("relay failures, by kind (store, nats, encode, lease)")
                .build(),
            lag: meter
                .f64_histogram("minzheng.relay.lag")
                .with_unit("s")
                .with_description("time from recording an event to its publish being acknowledged")
                .build(),
            stream: KeyValue::new("stream", stream.to_owned()),
        }
    }

    pub fn attrs(&self) -> [KeyValue; 1] {
        [self.stream.clone()]
    }

    pub fn error(&self, kind: &'static str) {
        self.errors
            .add(1, &[self.stream.clone(), KeyValue::new("kind", kind)]);
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ConsumerMetrics {
    pub applied: Counter<u64>,
    pub redelivered: Counter<u64>,
    pub ignored: Counter<u64>,
    pub parked: Counter<u64>,
    pub batches: Counter<u64>,
    pub errors: Counter<u64>,
    /// Messages of the JetStream consumer not yet delivered, as its last delivery said.
    pending: Gauge<u64>,
    consumer: KeyValue,
}

impl ConsumerMetrics {
    pub fn new(consumer: &str) -> Self {
        let meter = minzheng_telemetry::meter();
        Self {
            applied: meter
                .u64_counter("minzheng.consumer.events_applied")
                .with_unit("{event}")
                .with_description("events a consumer's projection applied")
                .build(),
            redelivered: meter
                .u64_counter("minzheng.consumer.events_redelivered")
                .with_unit("{event}")
                .with_description("events skipped because the inbox had them already")
                .build(),
            ignored: meter
                .u64_counter("minzheng.consumer.events_ignored")
                .with_unit("{event}")
                .with_description(
                    "events a consumer's projection does not handle, acknowledged untouched",
                )
                .build(),
            parked: meter
                .u64_counter("minzheng.consumer.events_parked")
                .with_unit("{event}")
                .with_description("events that kept failing and were parked (dead-lettered)")
                .build(),
            batches: meter
                .u64_counter("minzheng.consumer.batches")
                .with_unit("{batch}")
                .with_description("batches a consumer committed")
                .build(),
            errors: meter
                .u64_counter("minzheng.consumer.errors")
                .with_unit("{error}")
                .with_description("consumer failures, by kind (handler, database, source)")
                .build(),
            pending: meter
                .u64_gauge("minzheng.consumer.pending")
                .with_unit("{message}")
                .with_description(
                    "messages of a consumer's JetStream stream not yet delivered to it, as of its \
                     last delivery",
                )
                .build(),
            consumer: KeyValue::new("consumer", consumer.to_owned()),
        }
    }

    pub fn attrs(&self) -> [KeyValue; 1] {
        [self.consumer.clone()]
    }

    /// Records how many messages wait behind the last one delivered.
    pub fn pending(&self, messages: u64) {
        self.pending.record(messages, &self.attrs());
    }

    pub fn error(&self, kind: &'static str) {
        self.errors
            .add(1, &[self.consumer.clone(), KeyValue::new("kind", kind)]);
    }
}
