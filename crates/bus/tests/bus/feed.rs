//! The embedded feed: the same projection read straight from a producer's store, with the
//! cursor in the consumer's database, restarts that reapply nothing, and poison events parked.

use std::{sync::Arc, time::Duration};

use async_nats::jetstream;
use minzheng_bus::{Consumer, ConsumerError, FeedSource, JetStreamSource, Relay, SoleRelay};
use minzheng_eventstore::{EventStore, SharedStore};
use minzheng_testkit::{TestDatabase, TestSqlite};
use sqlx::AnyPool;
use tokio_util::sync::CancellationToken;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(30);

fn feed(store: SharedStore) -> FeedSource {
    FeedSource {
        poll_interval: Duration::from_millis(2),
        max_poll_interval: Duration::from_millis(20),
        ..FeedSource::new(store)
    }
}

/// The projection's rows without row order: (event id, stream, version, payload).
async fn rows(pool: &AnyPool) -> Vec<(String, String, i64, String)> {
    sqlx::query_as(
        "SELECT event_id, stream_id, stream_version, payload FROM projected ORDER BY event_id",
    )
    .fetch_all(pool)
    .await
    .expect("read the projection")
}

#[tokio::test]
async fn the_feed_and_jetstream_build_the_same_projection() {
    let (_db, store) = pg_store().await;
    append_many(&*store, 40).await;
    let last = append(&*store, &widget("w9"), &[b"x", b"y", b"z"]).await;
    wait_visible(&*store, last.last_position).await;

    // Through the bus into PostgreSQL.
    let client = minzheng_testkit::nats().await;
    let js = jetstream::new(client.clone());
    let naming = naming();
    let relay_cancel = CancellationToken::new();
    let relay = tokio::spawn(
        Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay)
            .with_config(fast_relay())
            .run(relay_cancel.clone()),
    );
    let bus_db = TestDatabase::create().await;
    let bus_pool = consumer_db(&bus_db.url).await;
    let consumer = Consumer::new(
        Recorder::new("same_result"),
        bus_pool.clone(),
        JetStreamSource::new(client.clone(), naming.clone()),
    )
    .expect("valid consumer")
    .with_settings(fast_consumer());
    let cancel = CancellationToken::new();
    let task = tokio::spawn(consumer.run(cancel.clone()));

    // Straight from the store into SQLite.
    let feed_db = TestSqlite::create();
    let feed_pool = consumer_db(&feed_db.url).await;
    let feed_consumer = Consumer::new(
        Recorder::new("same_result"),
        feed_pool.clone(),
        feed(store.clone()),
    )
    .expect("valid consumer")
    .with_settings(fast_consumer());
    assert_eq!(feed_consumer.catch_up().await.expect("catch up"), 43);

    eventually("the bus projection to catch up", WAIT, || async {
        projected(&bus_pool).await.len() == 43
    })
    .await;
    cancel.cancel();
    task.await.expect("consumer task").expect("graceful stop");
    relay_cancel.cancel();
    relay.await.expect("relay task").expect("relay stops");

    let from_feed = rows(&feed_pool).await;
    assert_eq!(from_feed.len(), 43);
    assert_eq!(from_feed, rows(&bus_pool).await, "same rows either way");
    delete_streams(&js, &naming).await;
}

#[tokio::test]
async fn the_feed_survives_a_restart_without_reapplying() {
    let (_producer, store) = sqlite_store().await;
    let consumer_file = TestSqlite::create();
    let pool = consumer_db(&consumer_file.url).await;
    append_many(&*store, 30).await;

    let first = Consumer::new(
        Recorder::new("restartable"),
        pool.clone(),
        feed(store.clone()),
    )
    .expect("valid consumer")
    .with_settings(fast_consumer());
    let first_state = first.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(first.run(cancel.clone()));
    eventually("the feed to apply the first events", WAIT, || async {
        projected(&pool).await.len() == 30
    })
    .await;
    cancel.cancel();
    task.await.expect("feed task").expect("graceful stop");
    assert_eq!(first_state.borrow().applied, 30);

    append_many(&*store, 12).await;
    let second = Consumer::new(
        Recorder::new("restartable"),
        pool.clone(),
        feed(store.clone()),
    )
    .expect("valid consumer")
    .with_settings(fast_consumer());
    let state = second.watch();
    assert_eq!(
        second.catch_up().await.expect("catch up"),
        12,
        "the cursor resumes after the last committed batch"
    );
    assert_eq!(state.borrow().applied, 12);
    assert_eq!(state.borrow().redelivered, 0);
    assert_eq!(projected(&pool).await.len(), 42);
    assert_eq!(projected_rows(&pool).await, 42);

    let (tx, position): (i64, i64) =
        sqlx::query_as("SELECT tx, position FROM mz_checkpoints WHERE name = $1")
            .bind("feed:restartable")
            .fetch_one(&pool)
            .await
            .expect("the feed's cursor is in the consumer's database");
    let head = store.head().await.expect("head");
    assert_eq!((tx as u64, position as u64), (head.tx, head.position));
}

#[tokio::test]
async fn a_lost_cursor_is_absorbed_by_the_inbox() {
    let (_producer, store) = sqlite_store().await;
    let consumer_file = TestSqlite::create();
    let pool = consumer_db(&consumer_file.url).await;
    append_many(&*store, 9).await;
    let first = Consumer::new(
        Recorder::new("forgetful"),
        pool.clone(),
        feed(store.clone()),
    )
    .expect("valid consumer");
    first.catch_up().await.expect("catch up");

    sqlx::query("DELETE FROM mz_checkpoints WHERE name = $1")
        .bind("feed:forgetful")
        .execute(&pool)
        .await
        .expect("forget the cursor");
    let again = Consumer::new(
        Recorder::new("forgetful"),
        pool.clone(),
        feed(store.clone()),
    )
    .expect("valid consumer");
    let state = again.watch();
    assert_eq!(
        again.catch_up().await.expect("catch up"),
        9,
        "re-reads everything"
    );
    assert_eq!(state.borrow().redelivered, 9);
    assert_eq!(state.borrow().applied, 0);
    assert_eq!(projected_rows(&pool).await, 9);
}

#[tokio::test]
async fn the_feed_parks_a_poison_event_and_moves_on() {
    let (_producer, store) = sqlite_store().await;
    let consumer_file = TestSqlite::create();
    let pool = consumer_db(&consumer_file.url).await;
    append_many(&*store, 3).await;
    let poison = append(&*store, &widget("w7"), &[POISON]).await;
    append_many(&*store, 4).await;

    let consumer = Consumer::new(
        Recorder::new("feed_poison"),
        pool.clone(),
        feed(store.clone()),
    )
    .expect("valid consumer")
    .with_settings(fast_consumer());
    let state = consumer.watch();
    assert_eq!(consumer.catch_up().await.expect("catch up"), 8);
    assert_eq!(state.borrow().parked, 1);
    assert_eq!(projected(&pool).await.len(), 7);
    let parked: Vec<(String, i64)> = sqlx::query_as(
        "SELECT event_id, CAST(attempts AS BIGINT) FROM mz_parked WHERE consumer = $1",
    )
    .bind("feed_poison")
    .fetch_all(&pool)
    .await
    .expect("read mz_parked");
    assert_eq!(parked, vec![(poison.event_ids[0].to_string(), 3)]);

    // The cursor moved past the parked event: a restart neither retries nor re-applies.
    let again = Consumer::new(
        Recorder::new("feed_poison"),
        pool.clone(),
        feed(store.clone()),
    )
    .expect("valid consumer")
    .with_settings(fast_consumer());
    assert_eq!(again.catch_up().await.expect("catch up"), 0);
}

#[tokio::test]
async fn catch_up_needs_a_feed() {
    let consumer_file = TestSqlite::create();
    let pool = consumer_db(&consumer_file.url).await;
    let client = minzheng_testkit::nats().await;
    let consumer = Consumer::new(
        Recorder::new("not_a_feed"),
        pool,
        JetStreamSource::new(client, naming()),
    )
    .expect("valid consumer");
    assert!(matches!(
        consumer.catch_up().await,
        Err(ConsumerError::NotAFeed)
    ));
}

#[tokio::test]
async fn an_invalid_consumer_name_is_refused() {
    let (_producer, store) = sqlite_store().await;
    let consumer_file = TestSqlite::create();
    let pool = consumer_db(&consumer_file.url).await;
    let result = Consumer::new(
        Recorder::new("Not.Valid"),
        pool,
        feed(store as Arc<dyn EventStore>),
    );
    assert!(matches!(result, Err(ConsumerError::InvalidName(_))));
}
