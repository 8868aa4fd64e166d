//! Raw JetStream baselines: plain async publishes and plain pull + ack, with no relay or
//! consumer logic, on a stream of the same configuration the relay creates.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, stream};
use futures::StreamExt;

use super::{payload, timed};

/// Creates a file-backed stream capturing `<prefix>.>`.
pub async fn prepare(js: &jetstream::Context, name: &str, prefix: &str) -> anyhow::Result<()> {
    js.get_or_create_stream(stream::Config {
        name: name.to_owned(),
        subjects: vec![format!("{prefix}.>")],
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    })
    .await?;
    Ok(())
}

/// `count` async publishes with `Nats-Msg-Id`, pipelined (send all, then await the acks);
/// messages per second.
pub async fn publish(js: &jetstream::Context, prefix: &str, count: usize) -> anyhow::Result<f64> {
    timed(|| async {
        const WINDOW: usize = 1_000;
        let mut sent = 0;
        while sent < count {
            let end = (sent + WINDOW).min(count);
            let mut acks = Vec::with_capacity(end - sent);
            for i in sent..end {
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", uuid::Uuid::now_v7().to_string().as_str());
                acks.push(
                    js.publish_with_headers(
                        format!("{prefix}.bench.happened"),
                        headers,
                        payload(i as u64),
                    )
                    .await?,
                );
            }
            for ack in acks {
                ack.await?;
            }
            sent = end;
        }
        Ok(count)
    })
    .await
}

/// Pulls and acks `count` messages from the stream with a durable consumer, in batches;
/// messages per second.
pub async fn pull_and_ack(
    js: &jetstream::Context,
    stream_name: &str,
    count: usize,
    batch: usize,
) -> anyhow::Result<f64> {
    let stream = js.get_stream(stream_name).await?;
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some("bench-plain".to_owned()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await?;
    timed(|| async {
        let mut done = 0;
        while done < count {
            let mut messages = consumer
                .fetch()
                .max_messages(batch)
                .expires(Duration::from_millis(500))
                .messages()
                .await?;
            while let Some(message) = messages.next().await {
                message
                    .map_err(anyhow::Error::msg)?
                    .ack()
                    .await
                    .map_err(anyhow::Error::msg)?;
                done += 1;
            }
        }
        Ok(done)
    })
    .await
}
