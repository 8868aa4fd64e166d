//! Forgetting what a consumer applied, so that it applies its producer's events again from the
//! first (a projection rebuilt from zero): its inbox rows, its embedded feed's cursor and its
//! parked events in its own database, and its durable JetStream consumer. Run while the consumer
//! is stopped: the next start delivers everything again.

use sqlx::AnyPool;

use crate::naming::{BusNaming, feed_checkpoint};

/// Forgets, in the consumer's database, which events `consumer` applied and parked and where its
/// feed stood.
pub async fn forget_consumer(db: &AnyPool, consumer: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM mz_inbox WHERE consumer = $1")
        .bind(consumer.to_owned())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM mz_parked WHERE consumer = $1")
        .bind(consumer.to_owned())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM mz_checkpoints WHERE name = $1")
        .bind(feed_checkpoint(consumer))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Deletes the durable consumer `consumer` of `naming`'s stream, so that the next start creates
/// it again from the stream's first message; nothing when there is no such stream or consumer.
pub async fn delete_durable(
    client: &async_nats::Client,
    naming: &BusNaming,
    consumer: &str,
) -> Result<(), async_nats::Error> {
    use async_nats::jetstream::{ErrorCode, context::GetStreamErrorKind};
    let js = async_nats::jetstream::new(client.clone());
    let stream = match js.get_stream(naming.stream_name()).await {
        Ok(stream) => stream,
        Err(error) => {
            return match error.kind() {
                GetStreamErrorKind::JetStream(e)
                    if e.error_code() == ErrorCode::STREAM_NOT_FOUND =>
                {
                    Ok(())
                }
                _ => Err(error.into()),
            };
        }
    };
    match stream.delete_consumer(consumer).await {
        Ok(_) => Ok(()),
        Err(error) => {
            use async_nats::jetstream::stream::ConsumerErrorKind;
            match error.kind() {
                ConsumerErrorKind::JetStream(e)
                    if e.error_code() == ErrorCode::CONSUMER_NOT_FOUND =>
                {
                    Ok(())
                }
                _ => Err(error.into()),
            }
        }
    }
}
