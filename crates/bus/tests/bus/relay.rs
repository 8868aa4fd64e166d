//! The relay against real PostgreSQL and NATS: order, subjects and headers on the wire,
//! crashes at either side of a publish, the lease between two relays, and a NATS outage.

use std::{collections::HashSet, sync::Arc, time::Duration};

use async_nats::{
    header::NATS_MESSAGE_ID,
    jetstream::{self},
};
use minzheng_bus::{
    BusNaming, PgAdvisoryLease, Relay, RelayConfig, RelayError, RelayFault, SoleRelay, envelope,
    lease::Lease,
};
use minzheng_eventstore::{Cursor, EventStore, SharedStore, postgres::PostgresStore};
use minzheng_testkit::nats_server::NatsServer;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(20);

/// Waits until the relay's checkpoint passed the event at `last` (a position).
async fn wait_relayed(
    store: &dyn EventStore,
    relay: &tokio::sync::watch::Receiver<minzheng_bus::RelayState>,
    last: u64,
) {
    wait_visible(store, last).await;
    let head = store.head().await.expect("head");
    eventually("the relay to reach the head", WAIT, || {
        let state = relay.borrow().clone();
        async move { state.checkpoint >= head }
    })
    .await;
}

/// Runs a fresh relay (the restart after a crash) until it has published everything up to
/// position `last`, then stops it gracefully.
async fn relay_through(
    store: &Arc<PostgresStore>,
    client: &async_nats::Client,
    naming: &BusNaming,
    last: u64,
) {
    relay_through_with(store, client, naming, last, fast_relay()).await;
}

/// [`relay_through`] with a relay configured as `config`.
async fn relay_through_with(
    store: &Arc<PostgresStore>,
    client: &async_nats::Client,
    naming: &BusNaming,
    last: u64,
    config: RelayConfig,
) {
    let relay =
        Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay).with_config(config);
    let state = relay.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(relay.run(cancel.clone()));
    wait_relayed(&**store, &state, last).await;
    cancel.cancel();
    task.await.expect("relay task").expect("graceful stop");
}

#[tokio::test]
async fn relay_publishes_in_store_order_with_contract_subjects_and_headers() {
    let (_db, store) = pg_store().await;
    let client = minzheng_testkit::nats().await;
    let js = jetstream::new(client.clone());
    let naming = naming();
    append(&*store, &widget("w1"), &[b"a", b"b"]).await;
    append(&*store, &widget("w2"), &[b"c"]).await;
    let last = append(&*store, &widget("w1"), &[b"d"]).await.last_position;

    let relay = Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay)
        .with_config(fast_relay());
    let state = relay.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(relay.run(cancel.clone()));
    wait_relayed(&*store, &state, last).await;

    let expected = all_events(&*store).await;
    let messages = stream_messages(&js, naming.stream_name()).await;
    assert_eq!(messages.len(), expected.len(), "one message per event");
    for (message, event) in messages.iter().zip(&expected) {
        assert_eq!(
            message.subject.as_str(),
            format!("{}.widgets.widget.created", naming.prefix())
        );
        let h = |name: &str| message.headers.get(name).map(|v| v.as_str().to_owned());
        let id = event.id.to_string();
        assert_eq!(
            message.headers.get(NATS_MESSAGE_ID).map(|v| v.as_str()),
            Some(id.as_str())
        );
        assert_eq!(h("ce-specversion").as_deref(), Some("1.0"));
        assert_eq!(h("ce-id").as_deref(), Some(id.as_str()));
        assert_eq!(
            h("ce-source"),
            Some(format!("/{}/widgets", naming.prefix()))
        );
        assert_eq!(h("ce-type").as_deref(), Some(EVENT_TYPE));
        assert!(h("ce-time").is_some_and(|t| t.ends_with('Z')));
        assert_eq!(h("ce-subject"), Some(event.stream.to_string()));
        assert_eq!(
            h("ce-dataschema"),
            Some(format!("urn:minzheng:schema:{EVENT_TYPE}:v1"))
        );
        assert_eq!(h("ce-schemaversion").as_deref(), Some("1"));
        assert_eq!(
            h("ce-streamversion"),
            Some(event.stream_version.to_string())
        );
        assert_eq!(h("ce-position"), Some(event.position.to_string()));
        assert_eq!(
            h("ce-correlationid"),
            event.metadata.correlation_id.map(|u| u.to_string())
        );
        assert_eq!(
            h("ce-causationid"),
            event.metadata.causation_id.map(|u| u.to_string())
        );
        assert_eq!(h("content-type").as_deref(), Some("application/protobuf"));
        assert_eq!(h("traceparent").as_deref(), Some(TRACEPARENT));
        for (_, values) in message.headers.iter() {
            assert!(
                values.iter().all(|v| !v.as_str().contains("staff:tester")),
                "the actor must not be on the bus"
            );
        }
        assert_eq!(message.payload, event.payload);
        let mut names: Vec<String> = message.headers.iter().map(|(n, _)| n.to_string()).collect();
        names.sort();
        // Every message carries the relay's ordering guard, the sequence it must follow.
        let contract = vec![
            "Nats-Expected-Last-Sequence",
            "Nats-Msg-Id",
            "ce-causationid",
            "ce-correlationid",
            "ce-dataschema",
            "ce-id",
            "ce-position",
            "ce-schemaversion",
            "ce-source",
            "ce-specversion",
            "ce-streamversion",
            "ce-subject",
            "ce-time",
            "ce-type",
            "content-type",
            "traceparent",
        ];
        assert_eq!(names, contract, "exactly the contract's headers");

        let mut decoded = envelope::decode(Some(&message.headers), &message.payload)
            .expect("a relayed message decodes");
        assert_eq!(decoded.cursor.position, event.position);
        decoded.cursor = event.cursor;
        let mut stored = event.clone();
        stored.metadata.actor = None;
        assert_eq!(decoded, stored, "decoding rebuilds the stored event");
    }

    cancel.cancel();
    task.await.expect("relay task").expect("graceful stop");
    let checkpoint = store
        .load_checkpoint(&naming.relay_checkpoint())
        .await
        .expect("checkpoint");
    assert_eq!(checkpoint, store.head().await.expect("head"));
    delete_streams(&js, &naming).await;
}

#[tokio::test]
async fn a_crash_between_publish_and_checkpoint_publishes_nothing_twice() {
    let (_db, store) = pg_store().await;
    let client = minzheng_testkit::nats().await;
    let js = jetstream::new(client.clone());
    let naming = naming();
    append_many(&*store, 30).await;

    let crashing = Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay)
        .with_config(fast_relay())
        .inject_fault(RelayFault::StopAfterPublish);
    let result = crashing.run(CancellationToken::new()).await;
    assert_eq!(
        result,
        Err(RelayError::InjectedFault(RelayFault::StopAfterPublish))
    );
    assert_eq!(
        store
            .load_checkpoint(&naming.relay_checkpoint())
            .await
            .expect("checkpoint"),
        Cursor::START,
        "the crash came before the checkpoint"
    );
    // Parallel tests' transactions elsewhere in the cluster may hide some of the 30 from the
    // first read; whatever it read was published.
    assert!(
        stream_count(&js, naming.stream_name()).await > 0,
        "the batch was published"
    );

    let last = append_many(&*store, 5).await;
    relay_through(&store, &client, &naming, last).await;

    let ids = stream_event_ids(&js, naming.stream_name()).await;
    let expected: Vec<Uuid> = all_events(&*store).await.iter().map(|e| e.id).collect();
    assert_eq!(ids, expected, "every event exactly once, in store order");
    delete_streams(&js, &naming).await;
}

#[tokio::test]
async fn a_crash_between_append_and_publish_loses_nothing() {
    let (_db, store) = pg_store().await;
    let client = minzheng_testkit::nats().await;
    let js = jetstream::new(client.clone());
    let naming = naming();
    let last = append_many(&*store, 7).await;

    let crashing = Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay)
        .with_config(fast_relay())
        .inject_fault(RelayFault::StopAfterRead);
    assert_eq!(
        crashing.run(CancellationToken::new()).await,
        Err(RelayError::InjectedFault(RelayFault::StopAfterRead))
    );
    assert_eq!(stream_count(&js, naming.stream_name()).await, 0);

    relay_through(&store, &client, &naming, last).await;

    let ids = stream_event_ids(&js, naming.stream_name()).await;
    let expected: Vec<Uuid> = all_events(&*store).await.iter().map(|e| e.id).collect();
    assert_eq!(ids, expected);
    delete_streams(&js, &naming).await;
}

#[tokio::test]
async fn graceful_shutdown_flushes_up_to_the_head() {
    let (_db, store) = pg_store().await;
    let client = minzheng_testkit::nats().await;
    let js = jetstream::new(client.clone());
    let naming = naming();
    let relay = Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay)
        .with_config(fast_relay());
    let mut state = relay.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(relay.run(cancel.clone()));
    state
        .wait_for(|s| s.leader)
        .await
        .expect("relay takes the lease");
    // Appended and cancelled at once: the relay must still publish them before returning.
    let last = append_many(&*store, 120).await;
    wait_visible(&*store, last).await;
    cancel.cancel();
    task.await.expect("relay task").expect("graceful stop");
    assert_eq!(stream_count(&js, naming.stream_name()).await, 120);
    assert_eq!(
        store
            .load_checkpoint(&naming.relay_checkpoint())
            .await
            .expect("checkpoint"),
        store.head().await.expect("head")
    );
    delete_streams(&js, &naming).await;
}

#[tokio::test]
async fn an_idle_relay_publishes_an_append_of_its_process_without_waiting_for_its_poll() {
    let (_db, store) = pg_store().await;
    let client = minzheng_testkit::nats().await;
    let js = jetstream::new(client.clone());
    let naming = naming();
    // Polls so rare that only the store's signal can explain a publish within the test.
    let config = RelayConfig {
        idle_poll: Duration::from_secs(3_600),
        max_idle_poll: Duration::from_secs(3_600),
        lease_check_interval: Duration::from_secs(3_600),
        ..fast_relay()
    };
    let relay =
        Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay).with_config(config);
    let mut state = relay.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(relay.run(cancel.clone()));
    state
        .wait_for(|s| s.leader)
        .await
        .expect("relay takes the lease");
    // Let it find the store empty and settle into its (hour-long) idle wait.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let last = append_many(&*store, 1).await;
    wait_relayed(&*store, &state, last).await;
    assert_eq!(stream_count(&js, naming.stream_name()).await, 1);
    cancel.cancel();
    task.await.expect("relay task").expect("graceful stop");
    delete_streams(&js, &naming).await;
}

/// A busy relay stores its checkpoint at most every `checkpoint_interval`; one that goes idle
/// stores it at once, so the stored checkpoint reaches the head without waiting for the
/// interval (here an hour) or a stop.
#[tokio::test]
async fn an_idle_relay_stores_its_checkpoint_at_once_whatever_the_interval() {
    let (_db, store) = pg_store().await;
    let client = minzheng_testkit::nats().await;
    let js = jetstream::new(client.clone());
    let naming = naming();
    let config = RelayConfig {
        checkpoint_interval: Duration::from_secs(3_600),
        ..fast_relay()
    };
    let relay =
        Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay).with_config(config);
    let state = relay.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(relay.run(cancel.clone()));
    // More than one batch (fast_relay reads 50 at a time).
    let last = append_many(&*store, 120).await;
    wait_relayed(&*store, &state, last).await;
    let head = store.head().await.expect("head");
    eventually("the stored checkpoint to reach the head", WAIT, || {
        let (store, checkpoint) = (store.clone(), naming.relay_checkpoint());
        async move { store.load_checkpoint(&checkpoint).await.ok() == Some(head) }
    })
    .await;
    assert_eq!(stream_count(&js, naming.stream_name()).await, 120);
    cancel.cancel();
    task.await.expect("relay task").expect("graceful stop");
    delete_streams(&js, &naming).await;
}

#[tokio::test]
async fn advisory_lease_admits_one_holder_at_a_time() {
    let (_db, store) = pg_store().await;
    let mut first = PgAdvisoryLease::new(store.pool().clone(), "relay:X");
    let mut second = PgAdvisoryLease::new(store.pool().clone(), "relay:X");
    let mut other = PgAdvisoryLease::new(store.pool().clone(), "relay:Y");
    assert!(first.try_acquire().await.expect("ask"));
    assert!(
        first.try_acquire().await.expect("ask again"),
        "re-entrant for its holder"
    );
    assert!(!second.try_acquire().await.expect("ask"));
    assert!(!second.is_held().await);
    assert!(
        other.try_acquire().await.expect("ask"),
        "other names are independent"
    );
    first.release().await;
    assert!(!first.is_held().await);
    assert!(second.try_acquire().await.expect("ask"));
    assert!(second.is_held().await);
    drop(second);
    // Dropping the holder closes its session, which frees the lock.
    eventually("the dropped holder's lock to be freed", WAIT, || {
        let mut lease = PgAdvisoryLease::new(store.pool().clone(), "relay:X");
        async move { lease.try_acquire().await.unwrap_or(false) }
    })
    .await;
}

#[tokio::test]
async fn only_the_lease_holder_publishes_and_a_standby_takes_over() {
    let (_db, store) = pg_store().await;
    let client = minzheng_testkit::nats().await;
    let js = jetstream::new(client.clone());
    let naming = naming();
    let shared: SharedStore = store.clone();
    let lease = || PgAdvisoryLease::new(store.pool().clone(), naming.relay_checkpoint());

    let first = Relay::new(shared.clone(), client.clone(), naming.clone(), lease())
        .with_config(fast_relay());
    let mut first_state = first.watch();
    let first_cancel = CancellationToken::new();
    let first_task = tokio::spawn(first.run(first_cancel.clone()));
    first_state
        .wait_for(|s| s.leader)
        .await
        .expect("the first relay takes the lease");

    let second = Relay::new(shared.clone(), client.clone(), naming.clone(), lease())
        .with_config(fast_relay());
    let mut second_state = second.watch();
    let second_cancel = CancellationToken::new();
    let second_task = tokio::spawn(second.run(second_cancel.clone()));

    let last = append_many(&*store, 40).await;
    wait_relayed(&*store, &first_state, last).await;
    assert_eq!(
        second_state.borrow().published,
        0,
        "the standby publishes nothing"
    );
    assert!(!second_state.borrow().leader);

    // The leader's lock connection dies (as with a network partition): it must stop
    // publishing, and the standby takes over.
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks \
         WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .execute(store.pool())
    .await
    .expect("terminate the lock session");
    let published_as_leader = tokio::time::timeout(WAIT, first_state.wait_for(|s| !s.leader))
        .await
        .expect("the first relay notices it lost the lease in time")
        .expect("the first relay notices it lost the lease")
        .published;
    // The old leader, now a standby, could win the lease back in a race with the other; it
    // stops here, so that the other must take over.
    first_cancel.cancel();
    first_task.await.expect("first relay task").expect("stops");
    assert_eq!(
        first_state.borrow().published,
        published_as_leader,
        "the old leader published nothing after it lost the lease"
    );
    tokio::time::timeout(WAIT, second_state.wait_for(|s| s.leader))
        .await
        .expect("the standby takes the lease in time")
        .expect("the standby takes the lease");

    let last = append_many(&*store, 25).await;
    wait_relayed(&*store, &second_state, last).await;
    assert!(second_state.borrow().published >= 25);

    second_cancel.cancel();
    second_task
        .await
        .expect("second relay task")
        .expect("stops");
    let ids = stream_event_ids(&js, naming.stream_name()).await;
    let expected: Vec<Uuid> = all_events(&*store).await.iter().map(|e| e.id).collect();
    assert_eq!(ids, expected, "nothing duplicated or lost");
    delete_streams(&js, &naming).await;
}

#[tokio::test]
async fn a_nats_outage_does_not_block_appends_and_the_relay_catches_up() {
    let (_db, store) = pg_store().await;
    let mut server = NatsServer::start();
    let client = async_nats::ConnectOptions::new()
        .reconnect_delay_callback(|_| Duration::from_millis(50))
        .connect(server.url())
        .await
        .expect("connect to the private nats-server");
    let js = jetstream::new(client.clone());
    let naming = naming();
    let relay = Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay)
        .with_config(fast_relay());
    let state = relay.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(relay.run(cancel.clone()));

    let last = append_many(&*store, 10).await;
    wait_relayed(&*store, &state, last).await;

    server.stop();
    // Appends do not depend on the bus.
    let last = append_many(&*store, 20).await;
    wait_visible(&*store, last).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        state.borrow().checkpoint < store.head().await.expect("head"),
        "nothing can be published while NATS is down"
    );
    server.restart();

    wait_relayed(&*store, &state, last).await;
    cancel.cancel();
    task.await.expect("relay task").expect("graceful stop");
    let ids = stream_event_ids(&js, naming.stream_name()).await;
    let expected: Vec<Uuid> = all_events(&*store).await.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 30);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        30,
        "no duplicates"
    );
    assert_eq!(ids, expected, "store order survives the outage");
}

/// A whole number of seconds from the environment, for running a test at production scale by
/// hand (e.g. the default 120 s duplicate window and a 3-minute stall).
fn seconds_from_env(name: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

/// By hand at production scale: `MZ_TEST_DUPLICATE_WINDOW_SECS=120 MZ_TEST_STALL_SECS=180`.
#[tokio::test]
async fn a_stall_longer_than_the_duplicate_window_publishes_nothing_twice() {
    let (_db, store) = pg_store().await;
    let client = minzheng_testkit::nats().await;
    let js = jetstream::new(client.clone());
    let naming = naming();
    let mut config = fast_relay();
    config.stream.duplicate_window = seconds_from_env("MZ_TEST_DUPLICATE_WINDOW_SECS", 1);
    let stall = seconds_from_env("MZ_TEST_STALL_SECS", 3);
    append_many(&*store, 30).await;

    let crashing = Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay)
        .with_config(config.clone())
        .inject_fault(RelayFault::StopAfterPublish);
    assert_eq!(
        crashing.run(CancellationToken::new()).await,
        Err(RelayError::InjectedFault(RelayFault::StopAfterPublish))
    );
    let published = stream_count(&js, naming.stream_name()).await;
    assert!(
        published > 0,
        "the batch was published, its checkpoint not saved"
    );
    // The stall: JetStream forgets the batch's message ids once the window has passed (it
    // sweeps them on a timer of the window's length), so only the relay can avoid a repeat.
    tokio::time::sleep(stall).await;

    let last = append_many(&*store, 5).await;
    relay_through_with(&store, &client, &naming, last, config).await;

    let ids = stream_event_ids(&js, naming.stream_name()).await;
    let expected: Vec<Uuid> = all_events(&*store).await.iter().map(|e| e.id).collect();
    assert_eq!(ids, expected, "every event exactly once, in store order");
    println!(
        "after a {stall:?} stall with a {:?} window: {} events stored, {} messages in the stream, {} duplicated",
        config_window(&js, &naming).await,
        expected.len(),
        ids.len(),
        ids.len() - ids.iter().collect::<HashSet<_>>().len()
    );
    delete_streams(&js, &naming).await;
}

async fn config_window(js: &jetstream::Context, naming: &BusNaming) -> Duration {
    let mut stream = js.get_stream(naming.stream_name()).await.expect("stream");
    stream.info().await.expect("info").config.duplicate_window
}

/// A stream as an operator shaped it with the `nats` CLI: retention limits, replicas and
/// deny-delete that the platform must leave alone.
fn operator_stream(naming: &BusNaming) -> jetstream::stream::Config {
    jetstream::stream::Config {
        name: naming.stream_name().to_owned(),
        subjects: vec![naming.stream_subjects()],
        description: Some("kept by the records office".to_owned()),
        storage: jetstream::stream::StorageType::File,
        max_age: Duration::from_secs(400 * 86_400),
        max_bytes: 64 << 20,
        max_messages: 100_000,
        deny_delete: true,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    }
}

#[tokio::test]
async fn operator_stream_settings_survive_every_start() {
    let (_db, store) = pg_store().await;
    let client = minzheng_testkit::nats().await;
    let js = jetstream::new(client.clone());
    let naming = naming();
    js.create_stream(operator_stream(&naming))
        .await
        .expect("the operator creates the stream");

    let last = append_many(&*store, 5).await;
    relay_through(&store, &client, &naming, last).await;
    // A restart with another duplicate window configured updates that, and only that.
    let mut config = fast_relay();
    config.stream.duplicate_window = Duration::from_secs(300);
    config.stream.max_age = Some(Duration::from_secs(60));
    let last = append_many(&*store, 5).await;
    relay_through_with(&store, &client, &naming, last, config).await;

    let mut stream = js.get_stream(naming.stream_name()).await.expect("stream");
    let config = stream.info().await.expect("info").config.clone();
    let operator = operator_stream(&naming);
    assert_eq!(
        (
            config.max_age,
            config.max_bytes,
            config.max_messages,
            config.deny_delete,
            config.description,
        ),
        (
            operator.max_age,
            operator.max_bytes,
            operator.max_messages,
            true,
            operator.description,
        ),
        "the operator's retention and protection stay"
    );
    assert_eq!(config.duplicate_window, Duration::from_secs(300));
    assert_eq!(stream_count(&js, naming.stream_name()).await, 10);
    // deny_delete forbids deleting messages, not the stream.
    delete_streams(&js, &naming).await;
}

#[tokio::test]
async fn a_relay_that_cannot_publish_says_why_and_recovers_by_itself() {
    let (_db, store) = pg_store().await;
    let client = minzheng_testkit::nats().await;
    let js = jetstream::new(client.clone());
    let naming = naming();
    // An operator's limit the stream reaches: JetStream refuses every further message.
    let full = jetstream::stream::Config {
        max_messages: 4,
        discard: jetstream::stream::DiscardPolicy::New,
        deny_delete: false,
        ..operator_stream(&naming)
    };
    js.create_stream(full.clone()).await.expect("create");
    let last = append_many(&*store, 10).await;
    let mut config = fast_relay();
    config.unready_after = Duration::from_millis(200);
    let relay =
        Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay).with_config(config);
    let mut state = relay.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(relay.run(cancel.clone()));

    let trouble = tokio::time::timeout(WAIT, state.wait_for(|s| s.trouble.is_some()))
        .await
        .expect("the relay reports its trouble")
        .expect("relay running")
        .trouble
        .clone()
        .expect("trouble");
    assert!(
        trouble.contains("cannot publish") && trouble.contains("maximum messages"),
        "{trouble}"
    );
    assert_eq!(stream_count(&js, naming.stream_name()).await, 4);

    js.update_stream(jetstream::stream::Config {
        max_messages: -1,
        ..full
    })
    .await
    .expect("the operator lifts the limit");
    wait_relayed(&*store, &state, last).await;
    tokio::time::timeout(WAIT, state.wait_for(|s| s.trouble.is_none()))
        .await
        .expect("the trouble clears")
        .expect("relay running");
    cancel.cancel();
    task.await.expect("relay task").expect("graceful stop");
    let ids = stream_event_ids(&js, naming.stream_name()).await;
    let expected: Vec<Uuid> = all_events(&*store).await.iter().map(|e| e.id).collect();
    assert_eq!(ids, expected, "every event exactly once, in store order");
    delete_streams(&js, &naming).await;
}
